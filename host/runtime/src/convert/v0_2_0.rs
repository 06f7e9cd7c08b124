//! `herald:provider@0.2.0` ↔ host types: 0.1.0 plus the node's network and a per-peer keepalive.

use super::{RawPeer, pairs};
use crate::bindings::since_v0_2_0::herald::provider::types as wit;
use crate::errors::{CallError, ProviderErrorKind};
use crate::types::{AddressFamily, Discovery, NodeContext, NodeNetwork};

pub(crate) fn node_to_wit(node: &NodeContext) -> wit::NodeContext {
    wit::NodeContext {
        node_name: node.node_name.clone(),
        provider_id: node.provider_id.clone(),
        annotations: pairs(&node.annotations),
        labels: pairs(&node.labels),
        network: network_to_wit(&node.network),
    }
}

fn network_to_wit(network: &NodeNetwork) -> wit::NodeNetwork {
    wit::NodeNetwork {
        interfaces: network
            .interfaces
            .iter()
            .map(|interface| wit::NetworkInterface {
                name: interface.name.clone(),
                up: interface.up,
                addresses: interface
                    .addresses
                    .iter()
                    .map(|net| wit::InterfaceAddress {
                        address: net.addr().to_string(),
                        prefix_length: net.prefix_len(),
                    })
                    .collect(),
            })
            .collect(),
        default_gateways: network
            .default_gateways
            .iter()
            .map(|gateway| wit::DefaultGateway {
                family: match gateway.family {
                    AddressFamily::Ipv4 => wit::AddressFamily::Ipv4,
                    AddressFamily::Ipv6 => wit::AddressFamily::Ipv6,
                },
                gateway: gateway.gateway.to_string(),
                interface: gateway.interface.clone(),
                metric: gateway.metric,
            })
            .collect(),
    }
}

same_errors_and_discovery!();

impl From<wit::BgpPeer> for RawPeer {
    fn from(peer: wit::BgpPeer) -> Self {
        Self {
            peer_address: peer.peer_address,
            peer_asn: peer.peer_asn,
            local_asn: peer.local_asn,
            source_address: peer.source_address,
            password: peer.password,
            multihop_ttl: peer.multihop_ttl,
            route_via: peer.route_via,
            hold_time_seconds: peer.hold_time_seconds,
            port: peer.port,
            keepalive_seconds: peer.keepalive_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::types::{DefaultGateway, NetworkInterface};

    fn peer(address: &str) -> wit::BgpPeer {
        wit::BgpPeer {
            peer_address: address.into(),
            peer_asn: 65530,
            local_asn: 65000,
            source_address: None,
            password: None,
            multihop_ttl: None,
            route_via: None,
            hold_time_seconds: None,
            port: None,
            keepalive_seconds: None,
        }
    }

    fn discover(peers: Vec<wit::BgpPeer>) -> Result<Discovery, CallError> {
        discovery_from_wit(
            "provider \"p\" 0.2.0",
            wit::Discovery {
                peers,
                refresh_after_seconds: Some(60),
            },
        )
    }

    #[test]
    fn a_keepalive_below_the_hold_time_is_kept() {
        let mut with_hold = peer("192.0.2.1");
        with_hold.hold_time_seconds = Some(9);
        with_hold.keepalive_seconds = Some(3);
        let mut without_hold = peer("192.0.2.2");
        without_hold.keepalive_seconds = Some(20);
        let discovery = discover(vec![with_hold, without_hold, peer("192.0.2.3")]).unwrap();
        let keepalives: Vec<_> = discovery
            .peers
            .iter()
            .map(|p| p.keepalive_seconds)
            .collect();
        assert_eq!(keepalives, [Some(3), Some(20), None]);
        assert_eq!(discovery.peers[0].hold_time_seconds, Some(9));
    }

    #[test]
    fn a_keepalive_not_below_the_hold_time_names_the_peer_and_field() {
        for (keepalive, hold) in [(90, Some(90)), (0, None)] {
            let mut bad = peer("192.0.2.2");
            bad.hold_time_seconds = hold;
            bad.keepalive_seconds = Some(keepalive);
            match discover(vec![peer("192.0.2.1"), bad]).unwrap_err() {
                CallError::InvalidOutput {
                    peer_index, field, ..
                } => assert_eq!((peer_index, field), (1, "keepalive_seconds")),
                other => panic!("expected InvalidOutput, got {other}"),
            }
        }
    }

    #[test]
    fn the_network_reaches_the_guest_as_text() {
        let node = NodeContext {
            node_name: "node-a".into(),
            network: NodeNetwork {
                interfaces: vec![NetworkInterface {
                    name: "eth0".into(),
                    up: true,
                    addresses: vec![
                        "192.0.2.2/24".parse().unwrap(),
                        "2001:db8::2/64".parse().unwrap(),
                    ],
                }],
                default_gateways: vec![DefaultGateway {
                    family: AddressFamily::Ipv6,
                    gateway: "2001:db8::1".parse().unwrap(),
                    interface: None,
                    metric: 1024,
                }],
            },
            ..NodeContext::default()
        };
        let wit_node = node_to_wit(&node);
        let interface = &wit_node.network.interfaces[0];
        assert_eq!((interface.name.as_str(), interface.up), ("eth0", true));
        let addresses: Vec<_> = interface
            .addresses
            .iter()
            .map(|a| (a.address.as_str(), a.prefix_length))
            .collect();
        assert_eq!(addresses, [("192.0.2.2", 24), ("2001:db8::2", 64)]);
        let gateway = &wit_node.network.default_gateways[0];
        assert!(matches!(gateway.family, wit::AddressFamily::Ipv6));
        assert_eq!(
            (gateway.gateway.as_str(), gateway.metric),
            ("2001:db8::1", 1024)
        );
        assert_eq!(gateway.interface, None);
    }
}
