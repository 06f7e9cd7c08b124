//! The `/status` document: what the agent holds right now. Peers say whether MD5 is set, never
//! the password.

use serde::Serialize;

use crate::actuator::PeerState;
use crate::config::PeerSpec;
use crate::desired::DesiredState;
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
    /// VIPs announced (prefixes) and held on the interface: the first [`LISTED`] of each, and
    /// how many in all (a page that lists 10,000 VIPs helps nobody and costs memory).
    pub announced: Vec<String>,
    pub announced_total: usize,
    pub addresses: Vec<String>,
    pub addresses_total: usize,
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
    /// The hold time offered and the keepalive interval configured (the session sends keepalives
    /// at most a third of the negotiated hold time apart).
    pub hold_time_seconds: Option<u16>,
    pub keepalive_seconds: Option<u16>,
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

impl PeerReport {
    /// A session's state with the configuration it runs with (if it is applied yet).
    pub fn new(state: &PeerState, spec: Option<&PeerSpec>) -> Self {
        Self {
            address: state.address.to_string(),
            port: spec.map_or(0, |spec| spec.port),
            asn: spec.map_or(0, |spec| spec.asn),
            local_asn: spec.and_then(|spec| spec.local_asn),
            md5: spec.is_some_and(|spec| spec.password.is_some()),
            multihop_ttl: spec.and_then(|spec| spec.multihop_ttl),
            source_address: spec
                .and_then(|spec| spec.source_address)
                .map(|a| a.to_string()),
            route_via: spec.and_then(|spec| spec.route_via).map(|a| a.to_string()),
            hold_time_seconds: spec.map(|spec| spec.hold_time),
            keepalive_seconds: spec.map(|spec| spec.keepalive),
            state: state.state.clone(),
            established: state.established,
            uptime_seconds: state.uptime.map(|uptime| uptime.as_secs()),
            prefixes_advertised: state.prefixes_advertised,
            last_error: state.last_error.clone(),
        }
    }
}

/// How many announced prefixes and addresses `/status` lists by name.
pub const LISTED: usize = 256;

/// What the node holds: announced prefixes, addresses on the interface, routes to peers.
#[derive(Default)]
pub struct Held {
    pub announced: Vec<String>,
    pub announced_total: usize,
    pub addresses: Vec<String>,
    pub addresses_total: usize,
    pub routes: Vec<RouteReport>,
}

impl Held {
    pub fn of(applied: Option<&DesiredState>) -> Self {
        let Some(applied) = applied else {
            return Self::default();
        };
        Self {
            announced: applied
                .prefixes
                .keys()
                .take(LISTED)
                .map(ToString::to_string)
                .collect(),
            announced_total: applied.prefixes.len(),
            addresses: applied
                .addresses
                .iter()
                .take(LISTED)
                .map(ToString::to_string)
                .collect(),
            addresses_total: applied.addresses.len(),
            routes: applied
                .peer_routes
                .iter()
                .map(|(peer, via)| RouteReport {
                    peer: peer.to_string(),
                    via: via.to_string(),
                })
                .collect(),
        }
    }
}

/// `/readyz`: ready once the peers are known (the provider answered, or static peers) and one
/// session is Established; otherwise why not.
pub fn readiness(peers_known: bool, established: bool) -> (bool, String) {
    match (peers_known, established) {
        (true, true) => (true, String::new()),
        (false, _) => (
            false,
            "the provider has not answered yet and there are no static peers".into(),
        ),
        (true, false) => (false, "no BGP session is Established yet".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_known_peers_and_a_session() {
        assert!(readiness(true, true).0);
        assert!(readiness(false, true).1.contains("provider"));
        assert!(readiness(true, false).1.contains("Established"));
    }

    #[test]
    fn a_peer_report_says_md5_but_never_the_password() {
        let state = PeerState {
            address: "192.0.2.1".parse().unwrap(),
            established: true,
            state: "Established".into(),
            last_error: None,
            uptime: Some(std::time::Duration::from_secs(7)),
            prefixes_advertised: 2,
        };
        let spec = PeerSpec {
            address: state.address,
            port: 179,
            asn: 65530,
            local_asn: Some(65000),
            password: Some(crate::Secret::new("s3cret-md5")),
            multihop_ttl: Some(2),
            source_address: None,
            route_via: None,
            hold_time: 30,
            keepalive: 10,
        };
        let report = PeerReport::new(&state, Some(&spec));
        let json = serde_json::to_string(&report).unwrap();
        assert!(report.md5 && !json.contains("s3cret-md5"), "{json}");
        assert_eq!(report.uptime_seconds, Some(7));
        assert_eq!(
            (report.hold_time_seconds, report.keepalive_seconds),
            (Some(30), Some(10))
        );
    }
}
