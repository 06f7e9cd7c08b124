//! Leader election on a `coordination.k8s.io/v1` Lease with client-go `leaderelection`
//! semantics (what kube-vip uses): acquire when the lease is missing, free or expired; renew
//! every `retry_period`; give up when renewal has not succeeded for `renew_deadline`;
//! release on stop (`ReleaseOnCancel`).
//!
//! Unlike client-go, a candidate that loses leadership keeps competing (the agent decides
//! whether to exit, as kube-vip does), and a leader that sees another holder steps down at
//! once instead of waiting out its renew deadline.

mod elector;
mod lock;

use std::hash::BuildHasher;
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use elector::{Attempt, Elector};
use lock::LeaseLock;

/// Which Lease, who we are, and the timings (kube-vip's defaults: 15/10/2 s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// Our `holderIdentity` (kube-vip: the node name).
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// kube-vip's defaults: lease 15 s, renew deadline 10 s, retry 2 s.
    pub fn new(namespace: &str, name: &str, identity: &str) -> Self {
        LeaseConfig {
            namespace: namespace.to_string(),
            name: name.to_string(),
            identity: identity.to_string(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// A running candidate. Dropping it stops the task without releasing the lease (as if the
/// process died: others take over after the lease duration); [`LeaderElector::release`] hands
/// it over at once.
pub struct LeaderElector {
    leader: watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    release_bound: Duration,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("leader", &*self.leader.borrow())
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// Starts trying at once, on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn spawn(client: kube::Client, config: LeaseConfig) -> LeaderElector {
        let (leader_tx, leader) = watch::channel(false);
        let (stop, stop_rx) = oneshot::channel();
        let lock = LeaseLock::new(client, &config.namespace, &config.name);
        // Releasing makes two requests (read, write), each bounded like a renewal.
        let release_bound = config.renew_deadline.saturating_mul(2);
        let elector = Elector::new(config, lock);
        let task = tokio::spawn(run(elector, LeaderFlag(leader_tx), stop_rx));
        LeaderElector {
            leader,
            stop: Some(stop),
            task: Some(task),
            release_bound,
        }
    }

    /// `true` while we lead. Goes `false` on loss, on release, and if the task ends.
    pub fn is_leader(&self) -> watch::Receiver<bool> {
        self.leader.clone()
    }

    /// Stop; if leading, release the lease (client-go ReleaseOnCancel: empty holderIdentity,
    /// leaseDurationSeconds 1) so another node takes over at once.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // Bounded: an unreachable apiserver must not hold up shutdown.
            let abort = task.abort_handle();
            if tokio::time::timeout(self.release_bound, task)
                .await
                .is_err()
            {
                tracing::warn!("releasing the lease timed out");
                abort.abort();
            }
        }
    }
}

impl Drop for LeaderElector {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Sends `false` when dropped, so an aborted or finished task never leaves `true` behind.
struct LeaderFlag(watch::Sender<bool>);

impl LeaderFlag {
    fn set(&self, leading: bool) {
        self.0
            .send_if_modified(|v| std::mem::replace(v, leading) != leading);
    }
}

impl Drop for LeaderFlag {
    fn drop(&mut self) {
        self.set(false);
    }
}

async fn run(mut elector: Elector, flag: LeaderFlag, mut stop: oneshot::Receiver<()>) {
    let retry = elector.config.retry_period;
    let deadline = elector.config.renew_deadline;
    loop {
        // Acquire: one attempt per (jittered) retry period until we hold the lease.
        let mut renewed_at = loop {
            let started = Instant::now();
            if attempt(&mut elector, deadline).await == Some(Attempt::Held) {
                break started;
            }
            tokio::select! {
                () = tokio::time::sleep(jittered(retry)) => {}
                _ = &mut stop => return release(&mut elector, &flag, deadline).await,
            }
        };
        flag.set(true);
        tracing::info!(identity = %elector.config.identity, lease = %elector.lock.describe(), "became leader");
        // Renew every retry period; lost when no renewal succeeded for `renew_deadline`
        // (measured from when the last good request was sent, so we stop before anyone else
        // may take over) or when someone else holds it.
        let lost = loop {
            tokio::select! {
                () = tokio::time::sleep(retry) => {}
                _ = &mut stop => return release(&mut elector, &flag, deadline).await,
            }
            let started = Instant::now();
            let left = (renewed_at + deadline).saturating_duration_since(started);
            if left.is_zero() {
                break "renew deadline passed".to_string();
            }
            match attempt(&mut elector, left).await {
                Some(Attempt::Held) => renewed_at = started,
                Some(Attempt::HeldBy(other)) => break format!("lease taken by {other}"),
                Some(Attempt::Contended) | None => {
                    if Instant::now() >= renewed_at + deadline {
                        break "renew deadline passed".to_string();
                    }
                }
            }
        };
        flag.set(false);
        tracing::warn!(identity = %elector.config.identity, lease = %elector.lock.describe(), reason = %lost, "lost leadership");
    }
}

/// One bounded attempt; errors are logged and count as "not held".
async fn attempt(elector: &mut Elector, bound: Duration) -> Option<Attempt> {
    match tokio::time::timeout(bound, elector.try_acquire_or_renew()).await {
        Ok(Ok(outcome)) => Some(outcome),
        Ok(Err(error)) => {
            tracing::debug!(%error, "lease attempt failed");
            None
        }
        Err(_) => {
            tracing::debug!(lease = %elector.lock.describe(), "lease attempt timed out");
            None
        }
    }
}

async fn release(elector: &mut Elector, flag: &LeaderFlag, bound: Duration) {
    // Stop announcing before anyone else can start.
    flag.set(false);
    match tokio::time::timeout(bound, elector.release()).await {
        Ok(Ok(true)) => {
            tracing::info!(lease = %elector.lock.describe(), "released the lease");
        }
        Ok(Ok(false)) => {}
        Ok(Err(error)) => tracing::warn!(%error, "releasing the lease failed"),
        Err(_) => tracing::warn!(lease = %elector.lock.describe(), "releasing the lease timed out"),
    }
}

/// `period` plus up to 20 % jitter, so candidates started together do not write in lockstep.
/// (client-go jitters by up to 120 %; less keeps take-over within about one period.)
fn jittered(period: Duration) -> Duration {
    // RandomState is seeded randomly per instance: enough randomness, no extra dependency.
    let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    let fraction = (random % 1000) as f64 / 1000.0 * 0.2;
    period.mul_f64(1.0 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let period = Duration::from_millis(500);
        for _ in 0..100 {
            let d = jittered(period);
            assert!(d >= period && d <= period.mul_f64(1.2), "{d:?}");
        }
    }

    #[test]
    fn defaults_are_kube_vips() {
        let c = LeaseConfig::new("kube-system", "plndr-cp-lock", "n1");
        assert_eq!(
            (c.lease_duration, c.renew_deadline, c.retry_period),
            (
                Duration::from_secs(15),
                Duration::from_secs(10),
                Duration::from_secs(2)
            )
        );
    }
}
