//! Speaker and peer configuration.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Settings shared by every session of one speaker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeakerConfig {
    /// BGP identifier sent in OPEN.
    pub router_id: Ipv4Addr,
    /// Our ASN unless a peer overrides it with [`PeerConfig::local_asn`].
    pub local_asn: u32,
    /// Advertise the graceful-restart capability (RFC 4724) as a restarting speaker.
    pub graceful_restart: Option<GracefulRestartConfig>,
}

/// RFC 4724 settings. We always claim preserved forwarding state (the F bit) for the
/// families we announce: our "forwarding state" is the VIP on the node, which outlives
/// the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// Seconds the peer should keep our routes (stale) after the session drops.
    pub restart_time: u16,
}

impl Default for GracefulRestartConfig {
    fn default() -> Self {
        Self { restart_time: 120 }
    }
}

/// A TCP MD5 (RFC 2385) key: the secret type shared with the SDK, runtime and agent. It never
/// appears in Debug or Display output.
pub use herald_peer_rules::Secret as Password;

/// One BGP neighbour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// Address we connect to.
    pub address: IpAddr,
    /// TCP port of the peer (179 by default).
    pub port: u16,
    /// Expected ASN of the peer; equal to our ASN means iBGP.
    pub peer_asn: u32,
    /// Overrides [`SpeakerConfig::local_asn`] for this peer.
    pub local_asn: Option<u32>,
    /// Bind the socket to this address before connecting.
    pub source_address: Option<IpAddr>,
    /// TCP MD5 signature key.
    pub password: Option<Password>,
    /// IP TTL / hop limit for eBGP multihop. `None`: 1 for eBGP (directly connected),
    /// 64 for iBGP.
    pub multihop_ttl: Option<u8>,
    /// Hold time we offer in OPEN (0 or ≥ 3 seconds).
    pub hold_time: u16,
    /// Keepalive interval we use (capped at a third of the negotiated hold time).
    pub keepalive: u16,
    /// Next hop for IPv6 prefixes. Without it: the session's local address when the
    /// session is IPv6, otherwise a global IPv6 address of the interface that holds the
    /// session's local IPv4 address; without one, IPv6 prefixes are not sent to the peer.
    pub ipv6_next_hop: Option<Ipv6Addr>,
    /// Next hop for IPv4 prefixes. Without it: the session's local address when the
    /// session is IPv4; over an IPv6 session IPv4 prefixes then need this setting.
    pub ipv4_next_hop: Option<Ipv4Addr>,
}

/// Default TTL for iBGP sessions (the peer may be several hops away).
pub const IBGP_DEFAULT_TTL: u8 = 64;

impl PeerConfig {
    /// A peer on port 179 with hold 90 s, keepalive 30 s, no MD5, direct eBGP TTL.
    pub fn new(address: IpAddr, peer_asn: u32) -> Self {
        Self {
            address,
            port: 179,
            peer_asn,
            local_asn: None,
            source_address: None,
            password: None,
            multihop_ttl: None,
            hold_time: 90,
            keepalive: 30,
            ipv6_next_hop: None,
            ipv4_next_hop: None,
        }
    }

    /// The ASN we present to this peer.
    pub fn effective_local_asn(&self, speaker: &SpeakerConfig) -> u32 {
        self.local_asn.unwrap_or(speaker.local_asn)
    }

    /// The TTL our packets carry: the configured multihop TTL, else 1 for eBGP, 64 for iBGP.
    pub fn effective_ttl(&self, speaker: &SpeakerConfig) -> u8 {
        match self.multihop_ttl {
            Some(ttl) => ttl,
            None if self.peer_asn == self.effective_local_asn(speaker) => IBGP_DEFAULT_TTL,
            None => 1,
        }
    }
}

/// Attributes Herald attaches to one announced prefix.
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
pub struct RouteAttributes {
    /// RFC 1997 communities as `asn << 16 | value`.
    pub communities: Vec<u32>,
    /// RFC 8092 large communities.
    pub large_communities: Vec<(u32, u32, u32)>,
    /// LOCAL_PREF, sent to iBGP peers only (iBGP default 100).
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted() {
        let p = Password::new("s3cret");
        assert_eq!(format!("{p:?} {p}"), "Secret(<redacted>) <redacted>");
        let mut peer = PeerConfig::new("192.0.2.1".parse().unwrap(), 65000);
        peer.password = Some(p);
        assert!(!format!("{peer:?}").contains("s3cret"));
    }

    #[test]
    fn ttl_defaults() {
        let speaker = SpeakerConfig {
            router_id: Ipv4Addr::new(192, 0, 2, 2),
            local_asn: 65001,
            graceful_restart: None,
        };
        let mut peer = PeerConfig::new("192.0.2.1".parse().unwrap(), 65000);
        assert_eq!(peer.effective_ttl(&speaker), 1);
        peer.multihop_ttl = Some(2);
        assert_eq!(peer.effective_ttl(&speaker), 2);
        let ibgp = PeerConfig::new("192.0.2.1".parse().unwrap(), 65001);
        assert_eq!(ibgp.effective_ttl(&speaker), IBGP_DEFAULT_TTL);
    }
}
