//! The Kubernetes side of the loop: connecting (retried: a static pod starts before the
//! apiserver), the watchers, the Lease elector, Service status writes and Events. Every write
//! runs in its own task, so an unreachable apiserver never stalls BGP or netlink.

use std::collections::{HashMap, HashSet};
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

/// Kubernetes events are bursty (a relist of 10,000 Services): a deep queue keeps watchers busy
/// rather than blocked while the loop reconciles.
const EVENT_QUEUE: usize = 4096;
/// A failed status write is retried no sooner than this.
const WRITE_RETRY: Duration = Duration::from_secs(5);

/// What the Kubernetes tasks tell the loop.
pub(crate) enum KubeMessage {
    Connected(herald_kube::Client),
    Event(KubeEvent),
    StatusWritten {
        service: ObjectKey,
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
    writes_in_flight: HashSet<ObjectKey>,
    write_not_before: HashMap<ObjectKey, tokio::time::Instant>,
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
            writes_in_flight: HashSet::new(),
            write_not_before: HashMap::new(),
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

    /// Writes the status of every Service that needs it and has no write running or pending retry.
    pub(crate) fn write_statuses(&mut self, writes: &[StatusWrite]) {
        let Some(client) = &self.client else { return };
        let now = tokio::time::Instant::now();
        for write in writes {
            if self.writes_in_flight.contains(&write.service)
                || self
                    .write_not_before
                    .get(&write.service)
                    .is_some_and(|at| *at > now)
            {
                continue;
            }
            self.writes_in_flight.insert(write.service.clone());
            let (client, tx, write) = (client.clone(), self.tx.clone(), write.clone());
            tokio::spawn(async move {
                let result =
                    write_service_ingress(&client, &write.service, &write.addresses, &write.ports)
                        .await;
                let error = result.err().map(|error| error.to_string());
                let _ = tx
                    .send(KubeMessage::StatusWritten {
                        service: write.service,
                        error,
                    })
                    .await;
            });
        }
    }

    pub(crate) fn status_written(&mut self, service: ObjectKey, error: Option<String>) {
        self.writes_in_flight.remove(&service);
        match error {
            None => {
                debug!(service = %service, "status.loadBalancer.ingress written");
                self.write_not_before.remove(&service);
            }
            Some(error) => {
                warn!(service = %service, %error, "writing the Service status failed; will retry");
                self.write_not_before
                    .insert(service, tokio::time::Instant::now() + WRITE_RETRY);
            }
        }
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
