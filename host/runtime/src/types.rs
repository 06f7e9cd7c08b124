//! Values passed to and returned from providers, in host types (addresses parsed, secrets wrapped).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// What the host knows about the node (from its Kubernetes Node object or from flags, and its
/// network from the kernel).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeContext {
    pub node_name: String,
    pub provider_id: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Passed to providers built for WIT 0.2.0 or later; older ones never see it.
    pub network: NodeNetwork,
}

/// The node's interfaces and default gateways, read just before a call (empty = unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeNetwork {
    pub interfaces: Vec<NetworkInterface>,
    /// Main-table default routes of both families, lowest metric first.
    pub default_gateways: Vec<DefaultGateway>,
}

/// One interface and the addresses on it (with their prefix lengths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInterface {
    pub name: String,
    /// Administratively up and with carrier (`IFF_UP` and `IFF_RUNNING`).
    pub up: bool,
    pub addresses: Vec<IpNet>,
}

/// One next hop of a default route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultGateway {
    pub family: AddressFamily,
    pub gateway: IpAddr,
    /// The interface the route leaves through, if the kernel names one.
    pub interface: Option<String>,
    /// Lower wins; 0 when unset.
    pub metric: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressFamily {
    Ipv4,
    Ipv6,
}

impl AddressFamily {
    /// The family of `address`.
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Self::Ipv4,
            IpAddr::V6(_) => Self::Ipv6,
        }
    }
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
    /// Seconds between KEEPALIVEs (WIT 0.2.0 and later); `None` = the host's default.
    pub keepalive_seconds: Option<u16>,
}

/// A TCP MD5 password: the secret type shared with the SDK, the agent and the BGP speaker.
/// `Debug` and `Display` never show it; only the BGP layer calls `expose`.
pub use herald_peer_rules::Secret as Password;
