//! The node's network as providers see it (`node-context.network`, WIT 0.2.0): interfaces and
//! default gateways read over netlink just before a call. Here rather than in herald-runtime so
//! the runtime needs no netlink, and shared by the agent, `herald provider run` and `herald doctor`.

use herald_net::inspect::{NetSnapshot, RouteKind};
use herald_runtime::{AddressFamily, DefaultGateway, NetworkInterface, NodeNetwork};
use tracing::warn;

/// Reads the network of the calling thread's namespace. A failed read is logged and gives an
/// empty network: a provider call must never wait on, or fail for, netlink.
pub async fn read_node_network() -> NodeNetwork {
    match herald_net::inspect::snapshot().await {
        Ok(snapshot) => node_network(&snapshot),
        Err(error) => {
            warn!(%error, "cannot read the node's interfaces and routes; the provider gets no network facts");
            NodeNetwork::default()
        }
    }
}

/// Every interface as read, and one default gateway per next hop (with a gateway) of each unicast
/// main-table route to `0.0.0.0/0` or `::/0`, lowest metric first (kernel order between equals).
pub fn node_network(snapshot: &NetSnapshot) -> NodeNetwork {
    let interfaces = snapshot
        .interfaces
        .iter()
        .map(|interface| NetworkInterface {
            name: interface.name.clone(),
            up: interface.up,
            addresses: interface.addresses.clone(),
        })
        .collect();
    let mut default_gateways: Vec<DefaultGateway> = snapshot
        .routes
        .iter()
        .filter(|route| route.kind == RouteKind::Unicast && route.destination.prefix_len() == 0)
        .flat_map(|route| {
            // The route's family, not the gateway's: an IPv4 default via an IPv6 next hop
            // (RFC 5549) is still the IPv4 default.
            let family = AddressFamily::of(route.destination.addr());
            route.next_hops.iter().filter_map(move |hop| {
                Some(DefaultGateway {
                    family,
                    gateway: hop.gateway?,
                    interface: hop.interface.clone(),
                    metric: route.metric,
                })
            })
        })
        .collect();
    default_gateways.sort_by_key(|gateway| gateway.metric);
    NodeNetwork {
        interfaces,
        default_gateways,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use herald_net::inspect::{InterfaceInfo, NextHop, RouteInfo};

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn hop(gateway: Option<&str>, interface: &str) -> NextHop {
        NextHop {
            gateway: gateway.map(ip),
            interface: Some(interface.into()),
        }
    }

    fn route(
        destination: &str,
        kind: RouteKind,
        next_hops: Vec<NextHop>,
        metric: u32,
    ) -> RouteInfo {
        RouteInfo {
            destination: destination.parse().unwrap(),
            kind,
            next_hops,
            source: None,
            metric,
            protocol: 4,
        }
    }

    fn snapshot() -> NetSnapshot {
        NetSnapshot {
            routes: vec![
                route(
                    "192.0.2.0/24",
                    RouteKind::Unicast,
                    vec![hop(None, "eth0")],
                    0,
                ),
                route(
                    "0.0.0.0/0",
                    RouteKind::Unicast,
                    vec![hop(Some("192.0.2.1"), "eth0")],
                    200,
                ),
                // ECMP: one gateway per next hop.
                route(
                    "0.0.0.0/0",
                    RouteKind::Unicast,
                    vec![
                        hop(Some("198.51.100.1"), "bond0"),
                        hop(Some("198.51.100.2"), "bond0"),
                    ],
                    100,
                ),
                route(
                    "::/0",
                    RouteKind::Unicast,
                    vec![hop(Some("2001:db8::1"), "eth0")],
                    1024,
                ),
                // Not a gateway: a default straight onto a link, and a blackhole default.
                route("::/0", RouteKind::Unicast, vec![hop(None, "wg0")], 50),
                route("0.0.0.0/0", RouteKind::Blackhole, Vec::new(), 10),
                route(
                    "203.0.113.0/24",
                    RouteKind::Unicast,
                    vec![hop(Some("192.0.2.9"), "eth0")],
                    0,
                ),
            ],
            interfaces: vec![
                InterfaceInfo {
                    name: "lo".into(),
                    up: true,
                    addresses: vec!["127.0.0.1/8".parse().unwrap()],
                },
                InterfaceInfo {
                    name: "eth0".into(),
                    up: false,
                    addresses: vec![
                        "192.0.2.2/24".parse().unwrap(),
                        "2001:db8::2/64".parse().unwrap(),
                    ],
                },
            ],
        }
    }

    #[test]
    fn default_gateways_are_every_gatewayed_next_hop_lowest_metric_first() {
        let network = node_network(&snapshot());
        let gateways: Vec<_> = network
            .default_gateways
            .iter()
            .map(|g| (g.family, g.gateway, g.interface.as_deref(), g.metric))
            .collect();
        assert_eq!(
            gateways,
            [
                (AddressFamily::Ipv4, ip("198.51.100.1"), Some("bond0"), 100),
                (AddressFamily::Ipv4, ip("198.51.100.2"), Some("bond0"), 100),
                (AddressFamily::Ipv4, ip("192.0.2.1"), Some("eth0"), 200),
                (AddressFamily::Ipv6, ip("2001:db8::1"), Some("eth0"), 1024),
            ]
        );
    }

    #[test]
    fn interfaces_keep_their_state_and_addresses() {
        let network = node_network(&snapshot());
        assert_eq!(network.interfaces.len(), 2);
        let eth0 = &network.interfaces[1];
        assert_eq!((eth0.name.as_str(), eth0.up), ("eth0", false));
        assert_eq!(eth0.addresses[1].to_string(), "2001:db8::2/64");
        assert!(network.interfaces[0].up);
    }

    #[test]
    fn an_ipv4_default_via_an_ipv6_next_hop_is_an_ipv4_gateway() {
        let snapshot = NetSnapshot {
            routes: vec![route(
                "0.0.0.0/0",
                RouteKind::Unicast,
                vec![hop(Some("2001:db8::1"), "eth0")],
                0,
            )],
            interfaces: Vec::new(),
        };
        let network = node_network(&snapshot);
        assert_eq!(network.default_gateways[0].family, AddressFamily::Ipv4);
        assert_eq!(network.default_gateways[0].gateway, ip("2001:db8::1"));
    }

    #[test]
    fn an_empty_snapshot_is_an_empty_network() {
        assert_eq!(
            node_network(&NetSnapshot::default()),
            NodeNetwork::default()
        );
    }
}
