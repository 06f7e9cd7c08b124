//! The Kubernetes side of the loop: connecting (retried: a static pod starts before the
//! apiserver), the watchers, the Lease elector, Service status writes and Events. Every write
//! runs in its own task, so an unreachable apiserver never stalls BGP or netlink.

use std::collections::HashSet;
use std::time::Duration;

use herald_kube::{
    EventKind, EventSink, KubeEvent, LeaderElector, LeaseConfig, ObjectKey, ServiceInfo,
    WatchConfig, WatchHandle, spawn_watchers, write_service_ingress,
};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::node_agent::backoff::Backoff;
use crate::node_agent::compute::StatusWrite;
use crate::node_agent::config::KubeSettings;
use crate::node_agent::status_queue::StatusQueue;

/// Kubernetes events are bursty (a relist of 10,000 Services): a deep queue keeps watchers busy
/// rather than blocked while the loop reconciles.
const EVENT_QUEUE: usize = 4096;

/// What the Kubernetes tasks tell the loop.
pub(crate) enum KubeMessage {
    Connected(herald_kube::Client),
    Event(KubeEvent),
    StatusWritten {
        write: StatusWrite,
        error: Option<String>,
    },
}

pub(crate) struct KubeSide {
    pub(crate) tx: mpsc::Sender<KubeMessage>,
    pub(crate) rx: mpsc::Receiver<KubeMessage>,
    client: Option<herald_kube::Client>,
    watchers: Option<WatchHandle>,
    elector: Option<LeaderElector>,
    pub(crate) leader: Option<watch::Receiver<bool>>,
    events: Option<EventSink>,
    statuses: StatusQueue,
    /// Problems already reported as Events: one Event per distinct problem, not one per reconcile.
    reported: HashSet<(ObjectKey, String)>,
    pub(crate) last_watch_error: Option<String>,
}

impl KubeSide {
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        Self {
            tx,
            rx,
            client: None,
            watchers: None,
            elector: None,
            leader: None,
            events: None,
            statuses: StatusQueue::default(),
            reported: HashSet::new(),
            last_watch_error: None,
        }
    }

    pub(crate) fn connected(&self) -> bool {
        self.client.is_some()
    }

    /// Connects in the background, retrying until it works.
    pub(crate) fn start_connecting(&self, settings: KubeSettings) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
            loop {
                match herald_kube::connect(settings.config_path.as_deref()).await {
                    Ok(client) => {
                        let _ = tx.send(KubeMessage::Connected(client)).await;
                        return;
                    }
                    Err(error) => {
                        let delay = backoff.next_delay();
                        warn!(%error, retry_in_s = delay.as_secs(), "no Kubernetes client yet; the VIPs that need no apiserver are served meanwhile");
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        });
    }

    /// Starts the watchers, the elector and the Event sink on a new client.
    pub(crate) fn on_connected(
        &mut self,
        client: herald_kube::Client,
        watch_config: WatchConfig,
        election: Option<&LeaseConfig>,
    ) {
        let node_name = watch_config.node_name.clone();
        info!(node = %node_name, services = watch_config.services, "Kubernetes client ready; watching");
        let (events_tx, mut events_rx) = mpsc::channel(EVENT_QUEUE);
        self.watchers = Some(spawn_watchers(client.clone(), watch_config, events_tx));
        let forward = self.tx.clone();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                if forward.send(KubeMessage::Event(event)).await.is_err() {
                    return;
                }
            }
        });
        if let Some(lease) = election {
            let elector = LeaderElector::spawn(client.clone(), lease.clone());
            self.leader = Some(elector.is_leader());
            self.elector = Some(elector);
        }
        self.events = Some(EventSink::new(client.clone(), &node_name));
        self.client = Some(client);
    }

    /// Queues the status writes the desired state needs and starts what the limit allows.
    pub(crate) fn write_statuses(&mut self, writes: &[StatusWrite]) {
        self.statuses.want(writes);
        self.pump_statuses();
    }

    /// Starts queued writes (also retries that are due); called on every tick too.
    pub(crate) fn pump_statuses(&mut self) {
        let Some(client) = &self.client else { return };
        let now = tokio::time::Instant::now();
        while let Some(write) = self.statuses.next_ready(now) {
            let (client, tx) = (client.clone(), self.tx.clone());
            tokio::spawn(async move {
                let result =
                    write_service_ingress(&client, &write.service, &write.addresses, &write.ports)
                        .await;
                let error = result.err().map(|error| error.to_string());
                let _ = tx.send(KubeMessage::StatusWritten { write, error }).await;
            });
        }
    }

    pub(crate) fn status_written(&mut self, write: StatusWrite, error: Option<String>) {
        let now = tokio::time::Instant::now();
        match &error {
            None => debug!(service = %write.service, "status.loadBalancer.ingress written"),
            Some(error) => {
                warn!(service = %write.service, %error, "writing the Service status failed; will retry");
            }
        }
        self.statuses.done(write, error.is_none(), now);
        self.pump_statuses();
    }

    /// An Event about the own Node (dropped when there is no client yet: the log has it).
    pub(crate) fn node_event(&self, kind: EventKind, reason: &'static str, note: String) {
        let Some(sink) = self.events.clone() else {
            return;
        };
        tokio::spawn(async move {
            if let Err(error) = sink.on_node(kind, reason, &note).await {
                debug!(%error, reason, "could not write an Event");
            }
        });
    }

    /// A Warning Event on a Service for a problem not reported before.
    pub(crate) fn service_problem(&mut self, service: &ServiceInfo, problem: &str) {
        if !self
            .reported
            .insert((service.key.clone(), problem.to_owned()))
        {
            return;
        }
        warn!(service = %service.key, problem, "ignoring invalid Service input");
        let Some(sink) = self.events.clone() else {
            return;
        };
        let (service, note) = (service.clone(), problem.to_owned());
        tokio::spawn(async move {
            if let Err(error) = sink
                .on_service(&service, EventKind::Warning, "InvalidServiceConfig", &note)
                .await
            {
                debug!(%error, "could not write an Event");
            }
        });
    }

    /// Forget reported problems of Services that are gone, so they are reported again if they return.
    pub(crate) fn forget_problems(&mut self, keep: impl Fn(&ObjectKey) -> bool) {
        self.reported.retain(|(key, _)| keep(key));
    }

    /// Stops the watchers and releases the Lease (after the withdrawals, so the next leader's
    /// announcement does not race ours).
    pub(crate) async fn shutdown(&mut self) {
        self.watchers = None;
        if let Some(elector) = self.elector.take() {
            elector.release().await;
        }
    }
}
