//! The node agent's loop: one task owns the inputs and the reconciler; watchers, provider calls,
//! the elector and Kubernetes writes run in their own tasks and report back through channels.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_kube::{EventKind, KubeEvent, WatchConfig};
use tokio::sync::{mpsc, watch};
use tracing::{debug, error, info, warn};

use crate::actuator::{BgpActuator, NetActuator};
use crate::config::{FlagSettings, SpeakerSettings};
use crate::node_agent::compute::{AttributeMemory, compute};
use crate::node_agent::config::NodeAgentConfig;
use crate::node_agent::heap::HeapTrimmer;
use crate::node_agent::inputs::{Change, Inputs};
use crate::node_agent::kube_side::{KubeMessage, KubeSide};
use crate::node_agent::provider::{ProviderDriver, ProviderOutcome, ProviderSetup, error_class};
use crate::observe::Observed;
use crate::observe::metrics::{PeerSample, ResourceLabels, ResultLabels};
use crate::observe::status::{Held, KubeReport, PeerReport, StatusReport, readiness};
use crate::reconciler::Reconciler;
use crate::runner::RunSummary;
use crate::session_log::SessionLog;

const TICK: Duration = Duration::from_millis(500);
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// Kubernetes events applied before one reconcile: a relist arrives as a burst.
const EVENT_BATCH: usize = 10_000;
const WATCH_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// Runs until `shutdown` completes, then withdraws everything and cleans up.
/// `start_bgp` starts the speaker once its identity is known (flags, or the first peers).
pub async fn run_node_agent<B, N, F>(
    config: NodeAgentConfig,
    provider: Option<ProviderSetup>,
    net: N,
    start_bgp: F,
    observed: Arc<Observed>,
    shutdown: impl Future<Output = ()>,
) -> RunSummary
where
    B: BgpActuator,
    N: NetActuator,
    F: FnOnce(&SpeakerSettings) -> B,
{
    let mut agent = Agent {
        flags: Arc::new(config.flags.clone()),
        inputs: Inputs::new(config.local_node.clone()),
        config,
        memory: AttributeMemory::new(),
        pending: Pending::Waiting { net, start_bgp },
        driver: provider.map(ProviderDriver::new),
        kube: KubeSide::new(),
        observed,
        sessions: SessionLog::default(),
        retry: RETRY_FIRST,
        next_reconcile: Some(tokio::time::Instant::now()),
        last_peer_set: None,
        last_provider_error: None,
        watch_warnings: HashMap::new(),
        heap: HeapTrimmer::new(),
    };
    if let Some(settings) = agent.config.kubernetes.clone() {
        agent.kube.start_connecting(settings);
    }
    let (provider_tx, mut provider_rx) = mpsc::channel(1);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);

    loop {
        let provider_due = agent.driver.as_ref().and_then(ProviderDriver::due);
        let reconcile_at = agent.next_reconcile;
        tokio::select! {
            () = &mut shutdown => break,
            Some(message) = agent.kube.rx.recv() => agent.on_kube(message),
            Some((outcome, took)) = provider_rx.recv() => agent.on_provider(outcome, took),
            () = sleep_until(provider_due) => {
                let node = agent.inputs.node.clone();
                if let Some(driver) = agent.driver.as_mut() {
                    driver.start_call(node, Arc::clone(&agent.flags), provider_tx.clone());
                }
            }
            () = leader_changed(agent.kube.leader.as_mut()) => agent.on_leadership(),
            () = sleep_until(reconcile_at) => agent.reconcile().await,
            _ = tick.tick() => agent.on_tick(),
        }
    }

    info!("shutdown requested");
    let summary = agent.shutdown().await;
    if summary.cleanup_failures == 0 {
        info!("shutdown complete: prefixes withdrawn, VIPs and routes removed");
    } else {
        warn!(
            cleanup_failures = summary.cleanup_failures,
            "shutdown finished with cleanup failures"
        );
    }
    summary
}

/// The reconciler is made once the speaker's identity is known.
enum Pending<B, N, F> {
    Waiting {
        net: N,
        start_bgp: F,
    },
    Running(Reconciler<B, N>),
    /// Transient while moving from `Waiting` to `Running`.
    Moving,
}

struct Agent<B, N, F> {
    config: NodeAgentConfig,
    flags: Arc<FlagSettings>,
    inputs: Inputs,
    memory: AttributeMemory,
    pending: Pending<B, N, F>,
    driver: Option<ProviderDriver>,
    kube: KubeSide,
    observed: Arc<Observed>,
    sessions: SessionLog,
    retry: Duration,
    next_reconcile: Option<tokio::time::Instant>,
    /// Peer addresses of the last good provider answer (for "peers changed" Events).
    last_peer_set: Option<BTreeSet<IpAddr>>,
    /// The last provider error reported as an Event: each distinct error is reported once.
    last_provider_error: Option<String>,
    /// Last watch failure logged at warn level, per resource.
    watch_warnings: HashMap<&'static str, (String, Instant)>,
    heap: HeapTrimmer,
}

impl<B, N, F> Agent<B, N, F>
where
    B: BgpActuator,
    N: NetActuator,
    F: FnOnce(&SpeakerSettings) -> B,
{
    fn mark_dirty(&mut self) {
        self.next_reconcile = Some(tokio::time::Instant::now());
    }

    fn on_kube(&mut self, message: KubeMessage) {
        match message {
            KubeMessage::Connected(client) => {
                let watch_config = WatchConfig {
                    node_name: self.config.node_name().to_owned(),
                    services: self.config.services,
                    endpoint_slices: self.config.services,
                    namespace: self
                        .config
                        .kubernetes
                        .as_ref()
                        .and_then(|kube| kube.services_namespace.clone()),
                };
                self.kube
                    .on_connected(client, watch_config, self.config.election.as_ref());
            }
            KubeMessage::Event(event) => {
                let mut change = self.apply(event);
                // Drain the burst: one reconcile for a whole relist, not one per Service.
                for _ in 0..EVENT_BATCH {
                    match self.kube.rx.try_recv() {
                        Ok(KubeMessage::Event(event)) => {
                            change = merge_change(change, self.apply(event))
                        }
                        Ok(other) => {
                            self.on_kube(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if change == Change::Node
                    && let Some(driver) = self.driver.as_mut()
                {
                    driver.node_changed();
                }
                if change != Change::None {
                    self.mark_dirty();
                }
            }
            KubeMessage::StatusWritten { write, error } => self.kube.status_written(write, error),
        }
    }

    fn apply(&mut self, event: KubeEvent) -> Change {
        if let KubeEvent::WatchFailed { resource, message } = &event {
            // A watch retries every second or so while the apiserver is down: say it once a
            // minute per resource and error, not on every attempt.
            let now = Instant::now();
            let repeated = self.watch_warnings.get(resource).is_some_and(|(last, at)| {
                last == message && now.duration_since(*at) < WATCH_WARNING_INTERVAL
            });
            if repeated {
                debug!(resource, error = %message, "Kubernetes watch failed again; retrying");
            } else {
                warn!(resource, error = %message, "Kubernetes watch failed; retrying (nothing is withdrawn)");
                self.watch_warnings.insert(resource, (message.clone(), now));
            }
            self.observed
                .metrics
                .watch_failures
                .get_or_create(&ResourceLabels {
                    resource: (*resource).to_owned(),
                })
                .inc();
            self.kube.last_watch_error = Some(format!("{resource}: {message}"));
        }
        self.inputs.apply(event)
    }

    fn on_provider(&mut self, outcome: ProviderOutcome, took: Duration) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        driver.finished(&outcome);
        let identity = driver.identity().to_owned();
        let metrics = &self.observed.metrics;
        metrics.provider_call_seconds.observe(took.as_secs_f64());
        match outcome {
            ProviderOutcome::Peers {
                peers,
                refresh_after,
            } => {
                metrics
                    .provider_calls
                    .get_or_create(&ResultLabels {
                        result: "ok".into(),
                    })
                    .inc();
                let addresses: BTreeSet<IpAddr> = peers.iter().map(|peer| peer.address).collect();
                if self.last_peer_set.as_ref() != Some(&addresses) {
                    let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
                    info!(provider = %identity, peers = ?list, refresh_after_s = refresh_after.map(|d| d.as_secs()), "provider found peers");
                    // The Event recorder folds repeats of one reason into a series that keeps
                    // the first note: a later change gets its own reason so its note shows.
                    let reason = if self.last_peer_set.is_none() {
                        "PeersDiscovered"
                    } else {
                        "PeersChanged"
                    };
                    self.kube.node_event(
                        EventKind::Normal,
                        reason,
                        format!(
                            "{identity} found {} BGP peer(s): {}",
                            list.len(),
                            list.join(", ")
                        ),
                    );
                    self.last_peer_set = Some(addresses);
                }
                if self.last_provider_error.take().is_some() {
                    info!(provider = %identity, "provider recovered");
                }
                self.inputs.discovered = Some(peers);
                self.mark_dirty();
            }
            ProviderOutcome::Failed(error) => {
                let (class, slow) = error_class(&error);
                metrics
                    .provider_calls
                    .get_or_create(&ResultLabels {
                        result: class.into(),
                    })
                    .inc();
                let kept = self.inputs.discovered.as_ref().map_or(0, Vec::len);
                let message = error.to_string();
                let advice = if class == "unauthorized" {
                    " — the credential is wrong or lacks access; fix it (retrying slowly)"
                } else if slow {
                    " (retrying slowly)"
                } else {
                    ""
                };
                if error.is_not_ready() {
                    info!(provider = %identity, error = %message, kept_peers = kept, "provider not ready yet; will retry");
                } else {
                    warn!(provider = %identity, error = %message, kept_peers = kept, "provider call failed; keeping the last good peers{advice}");
                }
                if self.last_provider_error.as_deref() != Some(message.as_str()) {
                    let reason = failure_reason(class);
                    let kind = if error.is_not_ready() {
                        EventKind::Normal
                    } else {
                        EventKind::Warning
                    };
                    self.kube.node_event(
                        kind,
                        reason,
                        format!("{message}; keeping the last good peers ({kept}){advice}"),
                    );
                    self.last_provider_error = Some(message);
                }
            }
        }
        self.publish();
    }

    fn on_leadership(&mut self) {
        let leader = self.kube.leader.as_ref().is_some_and(|rx| *rx.borrow());
        if leader != self.inputs.leader {
            info!(
                leader,
                "control-plane Lease {}",
                if leader { "acquired" } else { "lost" }
            );
            self.inputs.leader = leader;
            self.mark_dirty();
        }
    }

    fn on_tick(&mut self) {
        self.kube.pump_statuses();
        self.heap.maybe_trim();
        if let Pending::Running(reconciler) = &self.pending {
            self.sessions.log(&reconciler.bgp().peer_states());
        }
        self.publish();
    }

    async fn reconcile(&mut self) {
        let started = Instant::now();
        self.heap.note_work();
        let computed = compute(&self.config, &self.inputs, &mut self.memory);
        for (service, problem) in &computed.problems {
            self.kube.service_problem(service, problem);
        }
        let services = &self.inputs.services;
        self.kube.forget_problems(|key| services.contains_key(key));
        self.kube.write_statuses(&computed.status_writes);
        self.observed
            .metrics
            .services_announced
            .set(i64::try_from(computed.services_announced).unwrap_or(i64::MAX));

        if matches!(self.pending, Pending::Waiting { .. }) {
            if computed.desired.peers.is_empty() {
                self.next_reconcile = None;
                return;
            }
            match self.flags.speaker(computed.desired.peers.values()) {
                Ok(settings) => self.start_speaker(&settings),
                Err(problem) => {
                    error!(error = %problem, "cannot start the BGP speaker");
                    self.next_reconcile = None;
                    return;
                }
            }
        }
        let Pending::Running(reconciler) = &mut self.pending else {
            return;
        };
        let outcome = reconciler.reconcile(&computed.desired).await;
        let metrics = &self.observed.metrics;
        metrics.reconciles.inc();
        metrics
            .reconcile_seconds
            .observe(started.elapsed().as_secs_f64());
        if outcome.converged() {
            self.next_reconcile = None;
            self.retry = RETRY_FIRST;
        } else {
            warn!(
                failures = outcome.failures,
                retry_in_s = self.retry.as_secs(),
                "desired state not fully applied"
            );
            self.next_reconcile = Some(tokio::time::Instant::now() + self.retry);
            self.retry = (self.retry * 2).min(RETRY_MAX);
        }
        self.publish();
    }

    fn start_speaker(&mut self, settings: &SpeakerSettings) {
        let Pending::Waiting { net, start_bgp } =
            std::mem::replace(&mut self.pending, Pending::Moving)
        else {
            return;
        };
        info!(router_id = %settings.router_id, local_asn = settings.local_asn, "starting the BGP speaker");
        self.pending = Pending::Running(Reconciler::new(start_bgp(settings), net));
    }

    fn publish(&self) {
        let (peers, applied) = match &self.pending {
            Pending::Running(reconciler) => {
                (reconciler.bgp().peer_states(), Some(reconciler.applied()))
            }
            _ => (Vec::new(), None),
        };
        let metrics = &self.observed.metrics;
        metrics.set_peers(
            &peers
                .iter()
                .map(|state| PeerSample {
                    peer: state.address.to_string(),
                    up: state.established,
                    prefixes: state.prefixes_advertised,
                })
                .collect::<Vec<_>>(),
        );
        let reports = peers
            .iter()
            .map(|state| PeerReport::new(state, applied.and_then(|a| a.peers.get(&state.address))))
            .collect();
        let inputs_ready =
            self.inputs.discovered.is_some() || !self.config.flags.static_peers.is_empty();
        let (ready, not_ready_reason) =
            readiness(inputs_ready, peers.iter().any(|peer| peer.established));
        let held = Held::of(applied);
        let report = StatusReport {
            node: self.inputs.node.node_name.clone(),
            ready,
            not_ready_reason,
            provider: self
                .driver
                .as_ref()
                .and_then(|driver| driver.report().cloned()),
            kubernetes: self.config.kubernetes.as_ref().map(|_| KubeReport {
                connected: self.kube.connected(),
                node_seen: self.inputs.node_from_apiserver,
                services: self.inputs.services.len(),
                last_watch_error: self.kube.last_watch_error.clone(),
            }),
            peers: reports,
            announced: held.announced,
            announced_total: held.announced_total,
            addresses: held.addresses,
            addresses_total: held.addresses_total,
            routes: held.routes,
            services_announced: usize::try_from(metrics.services_announced.get()).unwrap_or(0),
            leader: self.config.election.as_ref().map(|_| self.inputs.leader),
        };
        self.observed.publish(report);
    }

    async fn shutdown(mut self) -> RunSummary {
        let cleanup_failures = match &mut self.pending {
            Pending::Running(reconciler) => {
                reconciler
                    .shutdown(self.config.flags.shutdown_timeout)
                    .await
            }
            _ => 0,
        };
        self.kube.shutdown().await;
        RunSummary { cleanup_failures }
    }
}

/// One Event reason per error class: the recorder folds repeats of a reason into one series
/// (keeping its first note), so a trap followed by a timeout must not share a reason.
fn failure_reason(class: &str) -> &'static str {
    match class {
        "not_ready" => "ProviderNotReady",
        "invalid_input" => "ProviderInvalidInput",
        "unreachable" => "ProviderUnreachable",
        "unauthorized" => "ProviderUnauthorized",
        "denied" => "ProviderDenied",
        "timeout" => "ProviderTimeout",
        "trap" => "ProviderTrapped",
        "invalid_output" => "ProviderInvalidOutput",
        _ => "ProviderFailed",
    }
}

fn merge_change(a: Change, b: Change) -> Change {
    match (a, b) {
        (Change::Node, _) | (_, Change::Node) => Change::Node,
        (Change::Services, _) | (_, Change::Services) => Change::Services,
        _ => Change::None,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Completes when leadership changes; never while there is no elector (or it has stopped).
async fn leader_changed(leader: Option<&mut watch::Receiver<bool>>) {
    match leader {
        Some(rx) => {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}
