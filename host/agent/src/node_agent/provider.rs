//! Calling the provider: when (start, Node change, refresh-after, backoff after an error), and
//! what its result means for the peers (a failure never replaces the last good answer).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use herald_runtime::{
    CallError, Grants, LoadedProvider, NodeContext, ProviderConfig, ProviderErrorKind,
};
use serde::Serialize;

use crate::config::{FlagSettings, PeerSpec};
use crate::discovered::peer_spec;
use crate::node_agent::backoff::Backoff;
use crate::node_network::read_node_network;

/// Retries after most failures: quick at first, since a CCM annotates within seconds.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// Refused credentials or a denied host will not fix themselves: ask rarely.
const SLOW_RETRY_FIRST: Duration = Duration::from_secs(60);
const SLOW_RETRY_MAX: Duration = Duration::from_secs(600);

/// A loaded provider with the operator's configuration and grants.
#[derive(Debug, Clone)]
pub struct ProviderSetup {
    pub provider: LoadedProvider,
    pub config: ProviderConfig,
    pub grants: Grants,
}

/// One call's result as the loop sees it.
#[derive(Debug)]
pub enum ProviderOutcome {
    Peers {
        peers: Vec<PeerSpec>,
        refresh_after: Option<Duration>,
    },
    Failed(CallError),
}

/// The provider's last result, for `/status` (messages come from the runtime and the provider,
/// which never quote secrets).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProviderReport {
    pub provider: String,
    /// "ok", or the error class ("not_ready", "unreachable", "timeout", …).
    pub result: String,
    pub peers: Option<usize>,
    pub error: Option<String>,
    pub at_unix_seconds: u64,
    pub calls: u64,
}

/// Scheduling state of the provider.
pub struct ProviderDriver {
    setup: Arc<ProviderSetup>,
    in_flight: bool,
    /// The node context changed during a call: call again when it returns.
    rerun: bool,
    next_call: Option<tokio::time::Instant>,
    fast: Backoff,
    slow: Backoff,
    report: Option<ProviderReport>,
    calls: u64,
}

/// The error class of a failed call: a metric label and how soon to retry.
pub fn error_class(error: &CallError) -> (&'static str, bool) {
    match error {
        CallError::Provider(provider) => match provider.kind {
            ProviderErrorKind::NotReady => ("not_ready", false),
            ProviderErrorKind::InvalidInput => ("invalid_input", false),
            ProviderErrorKind::Unreachable => ("unreachable", false),
            ProviderErrorKind::Unauthorized => ("unauthorized", true),
        },
        CallError::Denied { .. } => ("denied", true),
        CallError::Timeout { .. } => ("timeout", false),
        CallError::OutOfMemory { .. } | CallError::Trap { .. } => ("trap", false),
        CallError::InvalidOutput { .. } => ("invalid_output", false),
        CallError::Instantiate { .. } => ("instantiate", false),
        CallError::InvalidConfig { .. } => ("invalid_config", true),
    }
}

impl ProviderDriver {
    pub fn new(setup: ProviderSetup) -> Self {
        Self {
            setup: Arc::new(setup),
            in_flight: false,
            rerun: false,
            next_call: Some(tokio::time::Instant::now()),
            fast: Backoff::new(RETRY_FIRST, RETRY_MAX),
            slow: Backoff::new(SLOW_RETRY_FIRST, SLOW_RETRY_MAX),
            report: None,
            calls: 0,
        }
    }

    pub fn identity(&self) -> &str {
        self.setup.provider.identity()
    }

    pub fn report(&self) -> Option<&ProviderReport> {
        self.report.as_ref()
    }

    /// When the next call is due (`None` while one runs, or with nothing scheduled).
    pub fn due(&self) -> Option<tokio::time::Instant> {
        if self.in_flight { None } else { self.next_call }
    }

    /// The node context changed: call now (or right after the running call).
    pub fn node_changed(&mut self) {
        if self.in_flight {
            self.rerun = true;
        } else {
            self.next_call = Some(tokio::time::Instant::now());
        }
    }

    /// Starts a call in a task; its outcome arrives through `done`. The node's network is read
    /// in that task just before the call, so a provider that asks to be called again (refresh
    /// after) sees a gateway that changed meanwhile; a failed read gives it an empty network.
    pub fn start_call(
        &mut self,
        mut node: NodeContext,
        flags: Arc<FlagSettings>,
        done: tokio::sync::mpsc::Sender<(ProviderOutcome, Duration)>,
    ) {
        self.in_flight = true;
        self.next_call = None;
        self.calls += 1;
        let setup = Arc::clone(&self.setup);
        tokio::spawn(async move {
            let started = Instant::now();
            node.network = read_node_network().await;
            let outcome = match setup
                .provider
                .discover(&setup.config, &setup.grants, &node)
                .await
            {
                Ok(discovery) => ProviderOutcome::Peers {
                    peers: discovery
                        .peers
                        .iter()
                        .map(|peer| peer_spec(peer, &flags))
                        .collect(),
                    refresh_after: discovery.refresh_after,
                },
                Err(error) => ProviderOutcome::Failed(error),
            };
            // The loop has gone away only while shutting down: nothing left to tell.
            let _ = done.send((outcome, started.elapsed())).await;
        });
    }

    /// Records a finished call and schedules the next one.
    pub fn finished(&mut self, outcome: &ProviderOutcome) {
        self.in_flight = false;
        let now = tokio::time::Instant::now();
        let at_unix_seconds = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let provider = self.identity().to_owned();
        match outcome {
            ProviderOutcome::Peers {
                peers,
                refresh_after,
            } => {
                self.fast.reset();
                self.slow.reset();
                self.next_call = refresh_after.map(|after| now + after);
                self.report = Some(ProviderReport {
                    provider,
                    result: "ok".into(),
                    peers: Some(peers.len()),
                    error: None,
                    at_unix_seconds,
                    calls: self.calls,
                });
            }
            ProviderOutcome::Failed(error) => {
                let (class, slow) = error_class(error);
                let delay = if slow {
                    self.slow.next_delay()
                } else {
                    self.fast.next_delay()
                };
                self.next_call = Some(now + delay);
                self.report = Some(ProviderReport {
                    provider,
                    result: class.into(),
                    peers: None,
                    error: Some(error.to_string()),
                    at_unix_seconds,
                    calls: self.calls,
                });
            }
        }
        if std::mem::take(&mut self.rerun) {
            self.next_call = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use herald_runtime::ProviderError;

    use super::*;

    fn provider_error(kind: ProviderErrorKind) -> CallError {
        CallError::Provider(ProviderError {
            kind,
            message: "m".into(),
            provider: "provider \"p\" 0.1.0".into(),
        })
    }

    #[test]
    fn wrong_credentials_and_denials_retry_slowly_the_rest_quickly() {
        assert_eq!(
            error_class(&provider_error(ProviderErrorKind::Unauthorized)),
            ("unauthorized", true)
        );
        assert_eq!(
            error_class(&provider_error(ProviderErrorKind::NotReady)),
            ("not_ready", false)
        );
        assert_eq!(
            error_class(&provider_error(ProviderErrorKind::Unreachable)),
            ("unreachable", false)
        );
        let denied = CallError::Denied {
            provider: "p".into(),
            host: "h".into(),
            reason: "r".into(),
        };
        assert_eq!(error_class(&denied), ("denied", true));
        let timeout = CallError::Timeout {
            provider: "p".into(),
            deadline: Duration::from_secs(2),
        };
        assert_eq!(error_class(&timeout), ("timeout", false));
        let trap = CallError::Trap {
            provider: "p".into(),
            message: "unreachable".into(),
        };
        assert_eq!(error_class(&trap), ("trap", false));
    }
}
