//! Desired state: what the node should look like, computed from the inputs.
//!
//! Static mode computes it once from the flags; providers and Kubernetes watches will compute it
//! again on every event, and the reconciler applies only the difference.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use herald_bgp::RouteAttributes;
use ipnet::IpNet;

use crate::config::{AgentConfig, PeerSpec};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredState {
    /// One session per peer address.
    pub peers: BTreeMap<IpAddr, PeerSpec>,
    /// Prefixes announced to every peer, with their attributes.
    pub prefixes: BTreeMap<IpNet, RouteAttributes>,
    /// Addresses on the VIP interface.
    pub addresses: BTreeSet<IpNet>,
    /// Host routes to peers: peer address → gateway.
    pub peer_routes: BTreeMap<IpAddr, IpAddr>,
}

impl DesiredState {
    pub fn from_config(config: &AgentConfig) -> Self {
        let peers: BTreeMap<IpAddr, PeerSpec> = config
            .peers
            .iter()
            .map(|peer| (peer.address, peer.clone()))
            .collect();
        let peer_routes = peers
            .values()
            .filter_map(|peer| peer.route_via.map(|gateway| (peer.address, gateway)))
            .collect();
        let prefixes = config
            .vips
            .iter()
            .map(|vip| (vip.trunc(), RouteAttributes::default()))
            .collect();
        let addresses = if config.vip_addresses {
            config.vips.iter().copied().collect()
        } else {
            BTreeSet::new()
        };
        Self {
            peers,
            prefixes,
            addresses,
            peer_routes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
            && self.prefixes.is_empty()
            && self.addresses.is_empty()
            && self.peer_routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::config::SpeakerSettings;

    fn config(vip_addresses: bool) -> AgentConfig {
        AgentConfig {
            speaker: SpeakerSettings {
                router_id: Ipv4Addr::new(192, 0, 2, 2),
                local_asn: 65000,
                graceful_restart_time: None,
            },
            peers: vec![PeerSpec {
                address: "169.254.255.1".parse().unwrap(),
                port: 179,
                asn: 65530,
                local_asn: None,
                password: None,
                multihop_ttl: Some(2),
                source_address: None,
                route_via: Some("192.0.2.1".parse().unwrap()),
                hold_time: 30,
                keepalive: 10,
            }],
            vips: vec![
                "203.0.113.10/32".parse().unwrap(),
                "198.51.100.7/24".parse().unwrap(),
            ],
            interface: "lo".to_owned(),
            vip_addresses,
            shutdown_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn prefixes_are_networks_and_addresses_keep_the_host_part() {
        let desired = DesiredState::from_config(&config(true));
        let prefixes: Vec<String> = desired.prefixes.keys().map(ToString::to_string).collect();
        assert_eq!(prefixes, ["198.51.100.0/24", "203.0.113.10/32"]);
        let addresses: Vec<String> = desired.addresses.iter().map(ToString::to_string).collect();
        assert_eq!(addresses, ["198.51.100.7/24", "203.0.113.10/32"]);
        assert_eq!(desired.peer_routes.len(), 1);
    }

    #[test]
    fn announce_only_puts_nothing_on_the_interface() {
        let desired = DesiredState::from_config(&config(false));
        assert!(desired.addresses.is_empty());
        assert_eq!(desired.prefixes.len(), 2);
    }
}
