//! Plain Rust mirrors of the WIT types in `herald:provider/types`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::NodeNetwork;

/// A TCP MD5 password: the secret type the host uses too. Its `Debug` never shows the value, so
/// it cannot leak through logs; `expose` hands it to the host.
pub use herald_peer_rules::Secret as Password;

/// One BGP neighbour the node should peer with. Addresses are typed, so the textual form the
/// host receives is always normalised (`fc00::e`, never `fc00:0000:…:000e`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpPeer {
    pub peer_address: IpAddr,
    pub peer_asn: u32,
    pub local_asn: u32,
    /// Address to source the session from (and the router id candidate).
    pub source_address: Option<IpAddr>,
    pub password: Option<Password>,
    /// eBGP multihop TTL; `None` = directly connected.
    pub multihop_ttl: Option<u8>,
    /// Gateway to install a host route to the peer through, if the peer needs one.
    pub route_via: Option<IpAddr>,
    pub hold_time_seconds: Option<u16>,
    pub port: Option<u16>,
    /// Seconds between KEEPALIVEs; `None` = a third of the hold time. At least 1, and below the
    /// hold time when one is set.
    pub keepalive_seconds: Option<u16>,
}

impl BgpPeer {
    /// A directly connected peer without password; set the other fields as needed.
    pub fn new(peer_address: IpAddr, peer_asn: u32, local_asn: u32) -> Self {
        Self {
            peer_address,
            peer_asn,
            local_asn,
            source_address: None,
            password: None,
            multihop_ttl: None,
            route_via: None,
            hold_time_seconds: None,
            port: None,
            keepalive_seconds: None,
        }
    }
}

/// What `discover` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub peers: Vec<BgpPeer>,
    /// When the host should ask again; `None` = only when the node context changes.
    pub refresh_after_seconds: Option<u32>,
}

/// What the host knows about the node the agent runs on: its Kubernetes Node (or flags), and its
/// network as the kernel reported it just before the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeContext {
    pub node_name: String,
    pub provider_id: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub network: NodeNetwork,
}

impl NodeContext {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

/// Why a provider produced no peers. The host keeps the last good peers in every case; the
/// variant decides how it retries and reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Inputs not there yet (e.g. the CCM has not annotated the node): retry, keep last good.
    #[error("not ready: {0}")]
    NotReady(String),
    /// Bad annotation, config or response body: report it, keep last good.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Network or API failure: retry with backoff.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// Credentials or permission refused: report clearly, no tight retry loop.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
}

impl ProviderError {
    pub fn message(&self) -> &str {
        match self {
            Self::NotReady(m)
            | Self::InvalidInput(m)
            | Self::Unreachable(m)
            | Self::Unauthorized(m) => m,
        }
    }

    /// Prefixes the message with what was being done, keeping the kind.
    #[must_use]
    pub fn context(self, what: impl fmt::Display) -> Self {
        let wrap = |m: String| format!("{what}: {m}");
        match self {
            Self::NotReady(m) => Self::NotReady(wrap(m)),
            Self::InvalidInput(m) => Self::InvalidInput(wrap(m)),
            Self::Unreachable(m) => Self::Unreachable(wrap(m)),
            Self::Unauthorized(m) => Self::Unauthorized(wrap(m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_debug_is_redacted() {
        let peer = BgpPeer {
            password: Some(Password::new("ExamplePass123")),
            ..BgpPeer::new("169.254.255.1".parse().unwrap(), 65530, 65000)
        };
        let shown = format!("{peer:?}");
        assert!(!shown.contains("ExamplePass123"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn context_keeps_kind() {
        let err = ProviderError::Unauthorized("bad token".into()).context("GET /devices/x");
        assert_eq!(
            err,
            ProviderError::Unauthorized("GET /devices/x: bad token".into())
        );
        assert_eq!(err.to_string(), "unauthorized: GET /devices/x: bad token");
    }
}
