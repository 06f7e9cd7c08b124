//! The difference between the applied state and the desired state, as ordered steps.

use std::net::IpAddr;

use herald_bgp::RouteAttributes;
use ipnet::IpNet;

use crate::config::PeerSpec;
use crate::desired::DesiredState;

/// What to change, in the order the reconciler applies it: routes to peers first (sessions need
/// them); addresses before announcing them; new sessions after the announcements, so a new session
/// (or one after a graceful restart) sends the whole table before its End-of-RIB; withdrawals
/// before removing the addresses; routes last (a withdrawal still has to reach the peer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// New routes and routes whose gateway changed (peer, gateway).
    pub routes_to_ensure: Vec<(IpAddr, IpAddr)>,
    /// Peers gone, or changed (removed and added again).
    pub peers_to_remove: Vec<IpAddr>,
    pub addresses_to_add: Vec<IpNet>,
    /// New prefixes and prefixes whose attributes changed.
    pub prefixes_to_announce: Vec<(IpNet, RouteAttributes)>,
    pub peers_to_add: Vec<PeerSpec>,
    pub prefixes_to_withdraw: Vec<IpNet>,
    pub addresses_to_remove: Vec<IpNet>,
    pub routes_to_remove: Vec<IpAddr>,
}

impl Plan {
    pub fn between(applied: &DesiredState, desired: &DesiredState) -> Self {
        let routes_to_ensure = desired
            .peer_routes
            .iter()
            .filter(|(peer, gateway)| applied.peer_routes.get(peer) != Some(gateway))
            .map(|(peer, gateway)| (*peer, *gateway))
            .collect();
        let routes_to_remove = applied
            .peer_routes
            .keys()
            .filter(|peer| !desired.peer_routes.contains_key(peer))
            .copied()
            .collect();
        let peers_to_remove = applied
            .peers
            .iter()
            .filter(|(address, spec)| desired.peers.get(address) != Some(spec))
            .map(|(address, _)| *address)
            .collect();
        let peers_to_add = desired
            .peers
            .iter()
            .filter(|(address, spec)| applied.peers.get(address) != Some(spec))
            .map(|(_, spec)| spec.clone())
            .collect();
        Self {
            routes_to_ensure,
            peers_to_remove,
            peers_to_add,
            addresses_to_add: desired
                .addresses
                .difference(&applied.addresses)
                .copied()
                .collect(),
            prefixes_to_announce: desired
                .prefixes
                .iter()
                .filter(|(prefix, attributes)| applied.prefixes.get(prefix) != Some(attributes))
                .map(|(prefix, attributes)| (*prefix, attributes.clone()))
                .collect(),
            prefixes_to_withdraw: applied
                .prefixes
                .keys()
                .filter(|prefix| !desired.prefixes.contains_key(prefix))
                .copied()
                .collect(),
            addresses_to_remove: applied
                .addresses
                .difference(&desired.addresses)
                .copied()
                .collect(),
            routes_to_remove,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(address: &str, asn: u32) -> PeerSpec {
        PeerSpec {
            address: address.parse().unwrap(),
            port: 179,
            asn,
            local_asn: None,
            password: None,
            multihop_ttl: None,
            source_address: None,
            route_via: None,
            hold_time: 30,
            keepalive: 10,
        }
    }

    fn state(peers: &[PeerSpec], prefixes: &[&str], routes: &[(&str, &str)]) -> DesiredState {
        DesiredState {
            peers: peers.iter().map(|p| (p.address, p.clone())).collect(),
            prefixes: prefixes
                .iter()
                .map(|p| (p.parse().unwrap(), RouteAttributes::default()))
                .collect(),
            addresses: prefixes.iter().map(|p| p.parse().unwrap()).collect(),
            peer_routes: routes
                .iter()
                .map(|(p, g)| (p.parse().unwrap(), g.parse().unwrap()))
                .collect(),
        }
    }

    #[test]
    fn from_nothing_everything_is_added() {
        let desired = state(
            &[peer("192.0.2.1", 65001)],
            &["203.0.113.1/32"],
            &[("169.254.255.1", "192.0.2.1")],
        );
        let plan = Plan::between(&DesiredState::default(), &desired);
        assert_eq!(plan.peers_to_add.len(), 1);
        assert_eq!(plan.prefixes_to_announce.len(), 1);
        assert_eq!(plan.addresses_to_add.len(), 1);
        assert_eq!(plan.routes_to_ensure.len(), 1);
        assert!(plan.peers_to_remove.is_empty() && plan.prefixes_to_withdraw.is_empty());
    }

    #[test]
    fn same_state_is_an_empty_plan() {
        let desired = state(&[peer("192.0.2.1", 65001)], &["203.0.113.1/32"], &[]);
        assert!(Plan::between(&desired, &desired).is_empty());
    }

    #[test]
    fn to_nothing_everything_is_removed() {
        let applied = state(
            &[peer("192.0.2.1", 65001)],
            &["203.0.113.1/32"],
            &[("169.254.255.1", "192.0.2.1")],
        );
        let plan = Plan::between(&applied, &DesiredState::default());
        assert_eq!(plan.peers_to_remove.len(), 1);
        assert_eq!(plan.prefixes_to_withdraw.len(), 1);
        assert_eq!(plan.addresses_to_remove.len(), 1);
        assert_eq!(plan.routes_to_remove.len(), 1);
    }

    #[test]
    fn changed_peer_is_replaced_and_changed_gateway_is_ensured() {
        let applied = state(
            &[peer("192.0.2.1", 65001)],
            &["203.0.113.1/32"],
            &[("169.254.255.1", "192.0.2.1")],
        );
        let desired = state(
            &[peer("192.0.2.1", 65002)],
            &["203.0.113.2/32"],
            &[("169.254.255.1", "192.0.2.3")],
        );
        let plan = Plan::between(&applied, &desired);
        assert_eq!(
            plan.peers_to_remove,
            vec!["192.0.2.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(plan.peers_to_add[0].asn, 65002);
        assert_eq!(plan.routes_to_ensure.len(), 1);
        assert!(plan.routes_to_remove.is_empty());
        assert_eq!(plan.prefixes_to_announce[0].0.to_string(), "203.0.113.2/32");
        assert_eq!(plan.prefixes_to_withdraw[0].to_string(), "203.0.113.1/32");
    }
}
