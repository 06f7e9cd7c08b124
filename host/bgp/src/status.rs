//! Observable session state and counters (for metrics and `herald doctor`).

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// RFC 4271 §8.2.2 session states. We only connect out: `Active` means waiting for
/// the connect-retry (backoff) timer after a failed or dropped connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Not started, or stopped.
    Idle,
    /// TCP connect in progress.
    Connect,
    /// Waiting to retry the connection.
    Active,
    /// OPEN sent, waiting for the peer's OPEN.
    OpenSent,
    /// OPEN received, waiting for KEEPALIVE.
    OpenConfirm,
    /// Session up; routes are exchanged.
    Established,
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Idle => "Idle",
            Self::Connect => "Connect",
            Self::Active => "Active",
            Self::OpenSent => "OpenSent",
            Self::OpenConfirm => "OpenConfirm",
            Self::Established => "Established",
        };
        f.write_str(name)
    }
}

/// Message and route counters of one peer, cumulative over the speaker's life.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCounters {
    /// All BGP messages received.
    pub messages_in: u64,
    /// All BGP messages sent.
    pub messages_out: u64,
    /// UPDATE messages received.
    pub updates_in: u64,
    /// UPDATE messages sent.
    pub updates_out: u64,
    /// Prefixes currently advertised to the peer (0 while down).
    pub prefixes_advertised: u64,
    /// Received UPDATEs handled as "treat-as-withdraw" (RFC 7606).
    pub updates_treated_as_withdraw: u64,
    /// Received attributes dropped by "attribute discard" (RFC 7606).
    pub attributes_discarded: u64,
    /// Times the session reached Established.
    pub established_transitions: u64,
    /// ROUTE-REFRESH requests answered.
    pub route_refreshes_answered: u64,
}

/// Snapshot of one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    /// Peer address.
    pub address: IpAddr,
    /// Peer port.
    pub port: u16,
    /// Current FSM state.
    pub state: SessionState,
    /// Time since the session became Established, if it is.
    pub uptime: Option<Duration>,
    /// Counters.
    pub counters: PeerCounters,
    /// Last error (connection, protocol, or a NOTIFICATION) in words.
    pub last_error: Option<String>,
    /// Last NOTIFICATION we sent, in words.
    pub last_notification_sent: Option<String>,
    /// Last NOTIFICATION the peer sent, in words.
    pub last_notification_received: Option<String>,
    /// Hold time negotiated on the current session.
    pub negotiated_hold_time: Option<u16>,
    /// The peer's BGP identifier on the current session.
    pub peer_router_id: Option<std::net::Ipv4Addr>,
}

/// Mutable status owned by a session task, read by [`crate::Speaker::peer_status`].
#[derive(Debug)]
pub(crate) struct StatusCell {
    pub(crate) status: PeerStatus,
    pub(crate) established_at: Option<Instant>,
}

impl StatusCell {
    pub(crate) fn new(address: IpAddr, port: u16) -> Self {
        Self {
            status: PeerStatus {
                address,
                port,
                state: SessionState::Idle,
                uptime: None,
                counters: PeerCounters::default(),
                last_error: None,
                last_notification_sent: None,
                last_notification_received: None,
                negotiated_hold_time: None,
                peer_router_id: None,
            },
            established_at: None,
        }
    }

    pub(crate) fn snapshot(&self) -> PeerStatus {
        let mut status = self.status.clone();
        status.uptime = self.established_at.map(|at| at.elapsed());
        status
    }
}
