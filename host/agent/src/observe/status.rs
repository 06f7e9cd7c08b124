//! The `/status` document: what the agent holds right now. Peers say whether MD5 is set, never
//! the password.

use serde::Serialize;

use crate::node_agent::provider::ProviderReport;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StatusReport {
    pub node: String,
    pub ready: bool,
    /// Why not ready, in words (empty when ready).
    pub not_ready_reason: String,
    pub provider: Option<ProviderReport>,
    pub kubernetes: Option<KubeReport>,
    pub peers: Vec<PeerReport>,
    /// VIPs announced (prefixes) and held on the interface.
    pub announced: Vec<String>,
    pub addresses: Vec<String>,
    pub routes: Vec<RouteReport>,
    pub services_announced: usize,
    /// `Some` with election on: whether this node holds the control-plane Lease.
    pub leader: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct KubeReport {
    pub connected: bool,
    pub node_seen: bool,
    pub services: usize,
    pub last_watch_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerReport {
    pub address: String,
    pub port: u16,
    pub asn: u32,
    pub local_asn: Option<u32>,
    pub md5: bool,
    pub multihop_ttl: Option<u8>,
    pub source_address: Option<String>,
    pub route_via: Option<String>,
    pub state: String,
    pub established: bool,
    pub uptime_seconds: Option<u64>,
    pub prefixes_advertised: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RouteReport {
    pub peer: String,
    pub via: String,
}
