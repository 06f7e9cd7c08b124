//! Shared test fixtures: a fake apiserver with a connected client, and bounded event waits.

use std::time::Duration;

use herald_fake_apiserver::FakeApiServer;
use herald_kube::{KubeEvent, WatchConfig, WatchHandle, spawn_watchers};
use tokio::sync::mpsc;

/// Upper bound for anything that should happen "soon" (watch delivery, relist after backoff).
pub const SOON: Duration = Duration::from_secs(20);
/// How long "nothing arrives" is observed.
pub const QUIET: Duration = Duration::from_secs(1);

pub struct Cluster {
    pub fake: FakeApiServer,
    pub client: kube::Client,
    _dir: tempfile::TempDir,
}

pub async fn cluster() -> Cluster {
    let fake = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&path).unwrap();
    let client = herald_kube::connect(Some(&path)).await.unwrap();
    Cluster {
        fake,
        client,
        _dir: dir,
    }
}

pub struct Events {
    pub rx: mpsc::Receiver<KubeEvent>,
    pub _handle: WatchHandle,
}

pub fn watch(c: &Cluster, node: &str, services: bool, endpoint_slices: bool) -> Events {
    let (tx, rx) = mpsc::channel(64);
    let config = WatchConfig {
        node_name: node.to_string(),
        services,
        endpoint_slices,
        namespace: None,
    };
    let handle = spawn_watchers(c.client.clone(), config, tx);
    Events {
        rx,
        _handle: handle,
    }
}

impl Events {
    /// The next event that is not a `WatchFailed`, within [`SOON`].
    pub async fn next(&mut self) -> KubeEvent {
        self.next_where(|e| !matches!(e, KubeEvent::WatchFailed { .. }))
            .await
    }

    /// The next event matching `pred` (others are skipped), within [`SOON`].
    pub async fn next_where(&mut self, mut pred: impl FnMut(&KubeEvent) -> bool) -> KubeEvent {
        let wait = async {
            loop {
                let e = self.rx.recv().await.expect("watchers stopped");
                if pred(&e) {
                    return e;
                }
            }
        };
        tokio::time::timeout(SOON, wait)
            .await
            .expect("no matching event in time")
    }

    /// Asserts that no event other than `WatchFailed` arrives within [`QUIET`].
    pub async fn assert_quiet(&mut self) {
        let wait = async {
            loop {
                match self.rx.recv().await {
                    Some(KubeEvent::WatchFailed { .. }) => continue,
                    other => return other,
                }
            }
        };
        if let Ok(e) = tokio::time::timeout(QUIET, wait).await {
            panic!("expected no event, got {e:?}");
        }
    }
}

/// Polls `cond` every 50 ms until it holds, panicking after `within`.
pub async fn eventually(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
