//! Values passed to and returned from providers, in host types (addresses parsed, secrets wrapped).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// What the host knows about the node (from its Kubernetes Node object or from flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeContext {
    pub node_name: String,
    pub provider_id: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub peers: Vec<BgpPeer>,
    /// When to ask again; `None` = only when the node context changes.
    pub refresh_after: Option<Duration>,
}

/// One BGP neighbour, validated by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpPeer {
    pub peer_address: IpAddr,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub source_address: Option<IpAddr>,
    pub password: Option<Password>,
    pub multihop_ttl: Option<u8>,
    pub route_via: Option<IpAddr>,
    pub hold_time_seconds: Option<u16>,
    pub port: Option<u16>,
}

/// A TCP MD5 password: the secret type shared with the SDK, the agent and the BGP speaker.
/// `Debug` and `Display` never show it; only the BGP layer calls `expose`.
pub use herald_peer_rules::Secret as Password;
