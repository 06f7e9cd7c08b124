//! Watchers for the own Node, LoadBalancer Services and EndpointSlices, sending compact,
//! deduplicated [`KubeEvent`]s on a channel.
//!
//! No reflector of whole objects is kept: each watcher holds only a fingerprint per object
//! (see `track`), and the agent keeps the one copy of the compact values it was sent.

mod track;

use std::fmt::Debug;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::utils::ResetTimerBackoff;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::wire::{NodeWire, ServiceWire, SliceWire};
use crate::{NodeInfo, ObjectKey, ServiceInfo, SliceInfo};
use track::{NodeTrack, ServiceTrack, SliceTrack, Track};

/// What the watchers report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeEvent {
    /// The own Node, sent when first seen and then ONLY when annotations, labels or
    /// spec.providerID change (kubelet's status heartbeats and resourceVersion-only changes
    /// send nothing).
    Node(NodeInfo),
    /// Services of type LoadBalancer only (filtered client-side; a Service that stops being
    /// LoadBalancer yields ServiceDeleted). Sent only when the compact ServiceInfo changed.
    ServiceUpserted(ServiceInfo),
    ServiceDeleted(ObjectKey),
    /// A complete relist (initial list, or after 410 Gone/any watch restart): the full set
    /// replaces what the agent knew. Sorted by key.
    ServicesResynced(Vec<ServiceInfo>),
    /// EndpointSlices labelled `kubernetes.io/service-name`; same rules as Services.
    SliceUpserted(SliceInfo),
    SliceDeleted(ObjectKey),
    SlicesResynced(Vec<SliceInfo>),
    /// A watch failed (it retries by itself with backoff and relists); for logs/Events/metrics.
    /// Never carries secrets.
    WatchFailed {
        resource: &'static str,
        message: String,
    },
}

/// What to watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchConfig {
    /// The own Node (always watched, by field selector `metadata.name=<node_name>`).
    pub node_name: String,
    /// Watch Services (type LoadBalancer).
    pub services: bool,
    /// Watch EndpointSlices (for externalTrafficPolicy Local).
    pub endpoint_slices: bool,
    /// Namespace for Services and EndpointSlices; `None` = all namespaces.
    pub namespace: Option<String>,
}

/// The running watchers; dropping it aborts them.
#[derive(Debug)]
pub struct WatchHandle {
    tasks: Vec<JoinHandle<()>>,
}

impl WatchHandle {
    /// Stops the watchers now (dropping the handle does the same).
    pub fn abort(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Spawns the watchers (own Node via fieldSelector metadata.name=<node>; Services;
/// EndpointSlices) on the current tokio runtime; they send on `tx` until it is closed or the
/// handle is dropped/aborted. Watch errors back off ([`watch_backoff`]) and
/// relist, 410 Gone included.
///
/// # Panics
/// Outside a tokio runtime (as `tokio::spawn` does).
pub fn spawn_watchers(
    client: kube::Client,
    config: WatchConfig,
    tx: mpsc::Sender<KubeEvent>,
) -> WatchHandle {
    let mut tasks = Vec::with_capacity(3);
    let by_name = watcher::Config::default().fields(&format!("metadata.name={}", config.node_name));
    tasks.push(tokio::spawn(run(
        Api::<NodeWire>::all(client.clone()),
        by_name,
        "nodes",
        NodeTrack::new(&config.node_name),
        tx.clone(),
    )));
    let namespace = config.namespace.as_deref();
    if config.services {
        tasks.push(tokio::spawn(run(
            scoped::<ServiceWire>(&client, namespace),
            watcher::Config::default(),
            "services",
            ServiceTrack::new(),
            tx.clone(),
        )));
    }
    if config.endpoint_slices {
        tasks.push(tokio::spawn(run(
            scoped::<SliceWire>(&client, namespace),
            watcher::Config::default(),
            "endpointslices",
            SliceTrack::new(&config.node_name),
            tx,
        )));
    }
    WatchHandle { tasks }
}

/// One namespace, or all of them.
fn scoped<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// One watcher loop: decode, track, send; stops when the receiver is gone.
async fn run<T>(
    api: Api<T::Obj>,
    config: watcher::Config,
    resource: &'static str,
    mut track: T,
    tx: mpsc::Sender<KubeEvent>,
) where
    T: Track,
    T::Obj: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
{
    loop {
        let mut stream =
            std::pin::pin!(watcher(api.clone(), config.clone()).backoff(watch_backoff()));
        loop {
            let item = tokio::select! {
                item = stream.next() => item,
                () = tx.closed() => return,
            };
            // A watcher stream never ends by itself; if it does, start a fresh one.
            let Some(item) = item else { break };
            let (event, restart) = match item {
                Ok(event) => (track.on_event(event), false),
                Err(error) => {
                    // Debug only: the agent logs the WatchFailed it receives.
                    tracing::debug!(resource, %error, "watch failed; retrying with backoff");
                    let restart = is_gone_on_watch_start(&error);
                    let message = error.to_string();
                    (Some(KubeEvent::WatchFailed { resource, message }), restart)
                }
            };
            if let Some(event) = event
                && tx.send(event).await.is_err()
            {
                return;
            }
            if restart {
                break;
            }
        }
        // Backoff state went with the old stream: pause as its first step would.
        tokio::select! {
            () = tokio::time::sleep(RESTART_DELAY) => {}
            () = tx.closed() => return,
        }
    }
}

/// The first step of [`watch_backoff`].
const RESTART_DELAY: Duration = Duration::from_millis(800);

/// Longest pause between two attempts before jitter (which adds up to as much again).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(10);

/// client-go's reflector backoff (800 ms doubling, jitter, reset after 2 min idle) but capped at
/// 10 s instead of 30 s: with 30 s (up to 60 s with jitter) an agent noticed a Service changed
/// during a half-minute apiserver restart up to a minute after the apiserver was back. Three
/// watches per node every 10-20 s is still gentle on an apiserver that is coming back.
fn watch_backoff() -> ResetTimerBackoff<watcher::ExponentialBackoff> {
    let steps = backon::ExponentialBuilder::default()
        .with_min_delay(RESTART_DELAY)
        .with_max_delay(MAX_RETRY_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times();
    ResetTimerBackoff::new(steps.into(), Duration::from_secs(120))
}

/// kube-runtime relists on a 410 sent as a watch *event* (what kube-apiserver does), but retries
/// the same resourceVersion forever if the watch *request* itself is answered 410; a fresh
/// watcher relists instead.
fn is_gone_on_watch_start(error: &watcher::Error) -> bool {
    matches!(error, watcher::Error::WatchStartFailed(kube::Error::Api(s)) if s.code == 410)
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(
            Status::failure("too old resource version", "Expired")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn only_a_410_answer_to_the_watch_request_restarts_the_watcher() {
        assert!(is_gone_on_watch_start(&watcher::Error::WatchStartFailed(
            api_error(410)
        )));
        assert!(!is_gone_on_watch_start(&watcher::Error::WatchStartFailed(
            api_error(500)
        )));
        // As a watch event kube-runtime relists by itself.
        let event = Status::failure("gone", "Expired").with_code(410).boxed();
        assert!(!is_gone_on_watch_start(&watcher::Error::WatchError(event)));
        assert!(!is_gone_on_watch_start(&watcher::Error::InitialListFailed(
            api_error(410)
        )));
    }

    /// After a 30 s outage the next attempt comes within 20 s (kube-runtime's default: 60 s).
    #[tokio::test]
    async fn retries_grow_from_800_ms_and_stay_under_twice_the_cap() {
        let delays: Vec<Duration> = watch_backoff().take(40).collect();
        assert_eq!(delays.len(), 40, "never gives up");
        assert!((RESTART_DELAY..=2 * RESTART_DELAY).contains(&delays[0]));
        assert!(
            delays.iter().all(|d| *d <= 2 * MAX_RETRY_DELAY),
            "{delays:?}"
        );
        assert!(
            delays[10..].iter().all(|d| *d >= MAX_RETRY_DELAY),
            "{delays:?}"
        );
    }
}
