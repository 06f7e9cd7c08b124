//! The static-mode run loop: reconcile until converged (retrying with backoff), log session
//! changes, and on the shutdown signal withdraw everything and clean up.

use std::future::Future;
use std::time::Duration;

use tracing::{info, warn};

use crate::actuator::{BgpActuator, NetActuator};
use crate::config::AgentConfig;
use crate::desired::DesiredState;
use crate::reconciler::Reconciler;
use crate::session_log::SessionLog;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);
const SESSION_POLL: Duration = Duration::from_millis(500);

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Cleanup steps that failed during shutdown (0 = the node is clean).
    pub cleanup_failures: usize,
}

/// Runs the agent on a fixed configuration until `shutdown` completes.
pub async fn run_static<B, N>(
    config: &AgentConfig,
    mut reconciler: Reconciler<B, N>,
    shutdown: impl Future<Output = ()>,
) -> RunSummary
where
    B: BgpActuator,
    N: NetActuator,
{
    let desired = DesiredState::from_config(config);
    info!(
        peers = desired.peers.len(),
        prefixes = desired.prefixes.len(),
        addresses = desired.addresses.len(),
        peer_routes = desired.peer_routes.len(),
        interface = %config.interface,
        "desired state computed"
    );
    let mut sessions = SessionLog::default();
    let mut retry = FIRST_RETRY;
    let mut next_reconcile = Some(tokio::time::Instant::now());
    let mut poll = tokio::time::interval(SESSION_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);

    loop {
        let reconcile_at = next_reconcile;
        tokio::select! {
            () = &mut shutdown => break,
            () = sleep_until(reconcile_at) => {
                let outcome = reconciler.reconcile(&desired).await;
                if outcome.converged() {
                    info!("desired state applied");
                    next_reconcile = None;
                    retry = FIRST_RETRY;
                } else {
                    warn!(failures = outcome.failures, retry_in_s = retry.as_secs(), "desired state not fully applied");
                    next_reconcile = Some(tokio::time::Instant::now() + retry);
                    retry = (retry * 2).min(MAX_RETRY);
                }
            }
            _ = poll.tick() => sessions.log(&reconciler.bgp().peer_states()),
        }
    }

    info!("shutdown requested");
    let cleanup_failures = reconciler.shutdown(config.shutdown_timeout).await;
    if cleanup_failures == 0 {
        info!("shutdown complete: prefixes withdrawn, VIPs and routes removed");
    } else {
        warn!(cleanup_failures, "shutdown finished with cleanup failures");
    }
    RunSummary { cleanup_failures }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
