//! The public handle: peers, the announced table, status, shutdown.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::IpNet;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{PeerConfig, RouteAttributes, SpeakerConfig};
use crate::error::BgpError;
use crate::message;
use crate::rib_out::Rib;
use crate::session::{self, Command, SessionParts};
use crate::status::{PeerStatus, SessionState, StatusCell};

/// How long `remove_peer` waits for the withdrawal and Cease to go out.
const REMOVE_DEADLINE: Duration = Duration::from_secs(5);

struct PeerEntry {
    config: PeerConfig,
    commands: mpsc::UnboundedSender<Command>,
    status: Arc<Mutex<StatusCell>>,
    state: watch::Receiver<SessionState>,
    task: JoinHandle<()>,
}

struct Inner {
    config: Arc<SpeakerConfig>,
    rib: Arc<Rib>,
    peers: Mutex<HashMap<IpAddr, PeerEntry>>,
    runtime: Option<Handle>,
    shut_down: AtomicBool,
}

/// A BGP speaker: announces one table to many peers. Cheap to clone.
///
/// Dropping every handle without [`Speaker::shutdown`] ends the sessions without a
/// NOTIFICATION (like a crash): graceful-restart peers keep our routes as stale until a
/// new speaker re-announces them and sends End-of-RIB.
#[derive(Clone)]
pub struct Speaker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Speaker {
    /// Creates a speaker whose sessions run on the current tokio runtime (or, if there
    /// is none now, on the one current when `add_peer` is called).
    pub fn start(cfg: SpeakerConfig) -> Speaker {
        Speaker {
            inner: Arc::new(Inner {
                config: Arc::new(cfg),
                rib: Arc::new(Rib::default()),
                peers: Mutex::new(HashMap::new()),
                runtime: Handle::try_current().ok(),
                shut_down: AtomicBool::new(false),
            }),
        }
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, PeerEntry>> {
        self.inner
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a peer and starts connecting. The same address again with a changed
    /// configuration replaces the session: the old TCP connection is dropped without a
    /// NOTIFICATION, so a graceful-restart peer keeps our routes until the new session
    /// re-announces them and sends End-of-RIB. The same configuration again is a no-op.
    pub fn add_peer(&self, cfg: PeerConfig) -> Result<(), BgpError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(BgpError::ShutDown);
        }
        validate(&cfg)?;
        let router_id = self.inner.config.router_id;
        if router_id.is_unspecified() || router_id.is_multicast() || router_id.is_broadcast() {
            // netgauze (and so possibly other peers' parsers) rejects non-unicast identifiers.
            return Err(BgpError::InvalidConfig {
                address: cfg.address,
                reason: format!("router id {router_id} must be a unicast IPv4 address"),
            });
        }
        let runtime = self
            .inner
            .runtime
            .clone()
            .or_else(|| Handle::try_current().ok())
            .ok_or(BgpError::NoRuntime)?;
        let mut peers = self.peers();
        if let Some(existing) = peers.get(&cfg.address) {
            if existing.config == cfg {
                return Ok(());
            }
            existing.task.abort();
        }
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let status = Arc::new(Mutex::new(StatusCell::new(cfg.address, cfg.port)));
        let (state_tx, state_rx) = watch::channel(SessionState::Idle);
        let parts = SessionParts {
            speaker: self.inner.config.clone(),
            peer: cfg.clone(),
            rib: self.inner.rib.clone(),
            status: status.clone(),
            state: state_tx,
            commands: commands_rx,
        };
        let task = runtime.spawn(session::run(parts));
        peers.insert(
            cfg.address,
            PeerEntry {
                config: cfg,
                commands: commands_tx,
                status,
                state: state_rx,
                task,
            },
        );
        Ok(())
    }

    /// Withdraws our routes from the peer, sends Cease/Peer De-configured, and forgets it.
    pub async fn remove_peer(&self, address: IpAddr) -> Result<(), BgpError> {
        let entry = self
            .peers()
            .remove(&address)
            .ok_or(BgpError::UnknownPeer(address))?;
        stop_peer(
            entry,
            message::peer_deconfigured("peer removed from Herald's configuration"),
            REMOVE_DEADLINE,
        )
        .await;
        Ok(())
    }

    /// Announces `prefix` to all peers (idempotent; new attributes replace old ones).
    pub fn announce(&self, prefix: IpNet, attrs: RouteAttributes) {
        self.announce_many([(prefix, attrs)]);
    }

    /// Announces many prefixes at once; they go out packed in as few UPDATEs as possible.
    pub fn announce_many(&self, prefixes: impl IntoIterator<Item = (IpNet, RouteAttributes)>) {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return;
        }
        self.inner.rib.announce_many(prefixes);
    }

    /// Withdraws `prefix` from all peers (no-op if not announced).
    pub fn withdraw(&self, prefix: IpNet) {
        self.inner.rib.withdraw(prefix);
    }

    /// Withdraws many prefixes at once; they go out packed in as few UPDATEs as possible.
    pub fn withdraw_many(&self, prefixes: impl IntoIterator<Item = IpNet>) {
        self.inner.rib.withdraw_many(prefixes);
    }

    /// The prefixes currently announced.
    pub fn announced(&self) -> Vec<(IpNet, RouteAttributes)> {
        self.inner
            .rib
            .snapshot()
            .iter()
            .map(|(p, a)| (*p, a.clone()))
            .collect()
    }

    /// State and counters of every peer, sorted by address.
    pub fn peer_status(&self) -> Vec<PeerStatus> {
        let mut out: Vec<_> = self
            .peers()
            .values()
            .map(|p| {
                p.status
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .snapshot()
            })
            .collect();
        out.sort_by_key(|s| s.address);
        out
    }

    /// Waits until the session with `address` is Established.
    pub async fn wait_established(
        &self,
        address: IpAddr,
        timeout: Duration,
    ) -> Result<(), BgpError> {
        let mut state = self
            .peers()
            .get(&address)
            .map(|p| p.state.clone())
            .ok_or(BgpError::UnknownPeer(address))?;
        let started = std::time::Instant::now();
        let reached =
            tokio::time::timeout(timeout, state.wait_for(|s| *s == SessionState::Established))
                .await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => {
                let status = self
                    .peer_status()
                    .into_iter()
                    .find(|s| s.address == address);
                Err(BgpError::NotEstablished {
                    address,
                    waited_ms: started.elapsed().as_millis(),
                    state: status.as_ref().map_or(SessionState::Idle, |s| s.state),
                    last_error: status
                        .and_then(|s| s.last_error)
                        .unwrap_or_else(|| "none".into()),
                })
            }
        }
    }

    /// Withdraws everything from every peer, sends Cease/Administrative Shutdown with
    /// `communication` (RFC 8203, cut to 255 bytes), and closes, all within `deadline`.
    /// Sessions still busy at the deadline are dropped.
    pub async fn shutdown(&self, communication: &str, deadline: Duration) {
        self.inner.shut_down.store(true, Ordering::SeqCst);
        let entries: Vec<PeerEntry> = self.peers().drain().map(|(_, e)| e).collect();
        let stops = entries.into_iter().map(|entry| {
            stop_peer(
                entry,
                message::administrative_shutdown(communication),
                deadline,
            )
        });
        futures_join_all(stops).await;
        self.inner.rib.clear();
    }
}

/// Asks a session to stop and waits (bounded) for it.
async fn stop_peer(
    entry: PeerEntry,
    notification: netgauze_bgp_pkt::notification::BgpNotificationMessage,
    deadline: Duration,
) {
    let (done_tx, done_rx) = oneshot::channel();
    if entry
        .commands
        .send(Command::Stop {
            notification,
            done: done_tx,
        })
        .is_ok()
    {
        let _ = tokio::time::timeout(deadline, done_rx).await;
    }
    entry.task.abort();
}

/// Runs futures concurrently on the current task (no extra dependency for join_all).
async fn futures_join_all<F: std::future::Future<Output = ()>>(
    futures: impl IntoIterator<Item = F>,
) {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

fn validate(cfg: &PeerConfig) -> Result<(), BgpError> {
    let invalid = |reason: &str| BgpError::InvalidConfig {
        address: cfg.address,
        reason: reason.into(),
    };
    herald_peer_rules::check_hold_time(cfg.hold_time).map_err(|reason| invalid(&reason))?;
    if cfg.port == 0 {
        return Err(invalid("port must not be 0"));
    }
    if cfg.multihop_ttl == Some(0) {
        return Err(invalid("multihop TTL must be at least 1"));
    }
    if cfg.peer_asn == 0 {
        return Err(invalid("peer ASN must not be 0"));
    }
    if let Some(source) = cfg.source_address
        && source.is_ipv4() != cfg.address.is_ipv4()
    {
        return Err(invalid(
            "source address family differs from the peer address family",
        ));
    }
    Ok(())
}
