//! Read-only views of the node's network for `herald doctor` and for providers (their node
//! context's network): the main-table routes of both families and every interface with its
//! addresses and up state. Nothing here changes the kernel, and netlink
//! dumps need no privilege.
//!
//! [`lookup`] picks the route the kernel would use by longest-prefix match over the main table in
//! user space. Policy routing (`ip rule`, other tables, marks, TOS) is not considered: on the
//! nodes Herald runs on the main table decides, and a dump explains itself better than the
//! single answer of `ip route get`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use futures::TryStreamExt;
use ipnet::IpNet;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteType, RouteVia};
use rtnetlink::Handle;

use crate::error::NetError;
use crate::kernel::{self, KernelRoute};

/// What a route does with matching packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// Forwarded: directly on a link, or via a gateway.
    Unicast,
    /// Silently dropped (`blackhole`).
    Blackhole,
    /// Dropped with "host unreachable" (`unreachable`).
    Unreachable,
    /// Dropped with "administratively prohibited" (`prohibit`).
    Prohibit,
    /// Lookup continues in the next table (`throw`); with the main table only, no route.
    Throw,
    /// Any other type (`local`, `broadcast`, `multicast`, …), as the kernel numbers it.
    Other(u8),
}

impl RouteKind {
    /// True when packets matching the route leave the node.
    pub fn forwards(self) -> bool {
        self == Self::Unicast
    }

    fn from_netlink(kind: RouteType) -> Self {
        match kind {
            RouteType::Unicast => Self::Unicast,
            RouteType::BlackHole => Self::Blackhole,
            RouteType::Unreachable => Self::Unreachable,
            RouteType::Prohibit => Self::Prohibit,
            RouteType::Throw => Self::Throw,
            other => Self::Other(u8::from(other)),
        }
    }
}

impl std::fmt::Display for RouteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unicast => f.write_str("unicast"),
            Self::Blackhole => f.write_str("blackhole"),
            Self::Unreachable => f.write_str("unreachable"),
            Self::Prohibit => f.write_str("prohibit"),
            Self::Throw => f.write_str("throw"),
            Self::Other(n) => write!(f, "type {n}"),
        }
    }
}

/// One way out of a route: a gateway, an interface, or both (`via 192.0.2.1 dev bond0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// `None` for a directly connected destination.
    pub gateway: Option<IpAddr>,
    /// The output interface's name (its index when the name is unknown).
    pub interface: Option<String>,
}

/// One main-table route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `0.0.0.0/0` / `::/0` for a default route.
    pub destination: IpNet,
    pub kind: RouteKind,
    /// One entry for an ordinary route, several for ECMP, none for blackhole-like routes.
    pub next_hops: Vec<NextHop>,
    /// Preferred source (`src`), if the route sets one.
    pub source: Option<IpAddr>,
    /// `metric` (`RTA_PRIORITY`); 0 when unset. Lower wins between equal prefixes.
    pub metric: u32,
    /// `rtm_protocol` (`kernel` = 2, `boot` = 3, `static` = 4, Herald's = 72, …).
    pub protocol: u8,
}

impl RouteInfo {
    /// A unicast route with no gateway: the destination is on a link of this node.
    pub fn is_connected(&self) -> bool {
        self.kind.forwards() && self.next_hops.iter().all(|hop| hop.gateway.is_none())
    }
}

/// An interface and the addresses on it (each with its prefix length, as `ip addr` shows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: String,
    /// `IFF_UP` and `IFF_RUNNING`: administratively up and with carrier (`state UP` / `UNKNOWN`
    /// with `LOWER_UP` in `ip link`). False for an address-only entry whose link vanished.
    pub up: bool,
    pub addresses: Vec<IpNet>,
}

/// Routes and interfaces read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetSnapshot {
    pub routes: Vec<RouteInfo>,
    pub interfaces: Vec<InterfaceInfo>,
}

impl NetSnapshot {
    /// The interface that holds `address`, if any.
    pub fn interface_with(&self, address: IpAddr) -> Option<&InterfaceInfo> {
        self.interfaces
            .iter()
            .find(|interface| interface.addresses.iter().any(|net| net.addr() == address))
    }
}

/// Reads the main-table routes and every interface's addresses in the network namespace of the
/// calling thread, over a netlink connection of its own (spawned on the current tokio runtime).
pub async fn snapshot() -> Result<NetSnapshot, NetError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(NetError::Connection)?;
    let connection = tokio::spawn(connection);
    let result = read(&handle).await;
    connection.abort();
    result
}

async fn read(handle: &Handle) -> Result<NetSnapshot, NetError> {
    let links = links(handle).await?;
    let name_of = |index: u32| {
        links
            .get(&index)
            .map(|link| link.name.clone())
            .unwrap_or_else(|| format!("if{index}"))
    };
    let routes = kernel::main_routes(handle)
        .await?
        .iter()
        .filter_map(|route| route_info(route, &name_of))
        .collect();
    let mut by_index: BTreeMap<u32, Vec<IpNet>> =
        links.keys().map(|index| (*index, Vec::new())).collect();
    for address in kernel::addresses(handle, None).await? {
        if let Ok(net) = IpNet::new(address.address, address.prefix_len) {
            by_index
                .entry(address.message.header.index)
                .or_default()
                .push(net);
        }
    }
    let interfaces = by_index
        .into_iter()
        .map(|(index, addresses)| InterfaceInfo {
            name: name_of(index),
            up: links.get(&index).is_some_and(|link| link.up),
            addresses,
        })
        .collect();
    Ok(NetSnapshot { routes, interfaces })
}

/// A link's name and whether it is up, from one `RTM_GETLINK` dump.
struct Link {
    name: String,
    up: bool,
}

async fn links(handle: &Handle) -> Result<BTreeMap<u32, Link>, NetError> {
    let links: Vec<LinkMessage> = handle
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|e| NetError::netlink("list interfaces", e))?;
    Ok(links
        .iter()
        .filter_map(|link| {
            let name = link.attributes.iter().find_map(|attr| match attr {
                LinkAttribute::IfName(name) => Some(name.clone()),
                _ => None,
            })?;
            let up = link
                .header
                .flags
                .contains(LinkFlags::Up | LinkFlags::Running);
            Some((link.header.index, Link { name, up }))
        })
        .collect())
}

fn route_info(route: &KernelRoute, name_of: &impl Fn(u32) -> String) -> Option<RouteInfo> {
    let header = &route.message.header;
    let destination = match (route.destination, header.address_family) {
        (Some(address), _) => address,
        (None, AddressFamily::Inet) => IpAddr::from([0u8; 4]),
        (None, AddressFamily::Inet6) => IpAddr::from([0u8; 16]),
        (None, _) => return None,
    };
    let destination = IpNet::new(destination, route.prefix_len).ok()?;
    let attributes = &route.message.attributes;
    let mut single = NextHop {
        gateway: gateway_in(attributes),
        interface: None,
    };
    let mut next_hops = Vec::new();
    let mut source = None;
    let mut metric = 0;
    for attr in attributes {
        match attr {
            RouteAttribute::Oif(index) => single.interface = Some(name_of(*index)),
            RouteAttribute::PrefSource(address) => source = address_of(address),
            RouteAttribute::Priority(priority) => metric = *priority,
            RouteAttribute::MultiPath(hops) => next_hops.extend(hops.iter().map(|hop| NextHop {
                gateway: gateway_in(&hop.attributes),
                interface: Some(name_of(hop.interface_index)),
            })),
            _ => {}
        }
    }
    if next_hops.is_empty() && (single.gateway.is_some() || single.interface.is_some()) {
        next_hops.push(single);
    }
    Some(RouteInfo {
        destination,
        kind: RouteKind::from_netlink(header.kind),
        next_hops,
        source,
        metric,
        protocol: route.protocol,
    })
}

/// `RTA_GATEWAY`, or `RTA_VIA` (an IPv6 next hop of an IPv4 route, RFC 5549).
fn gateway_in(attributes: &[RouteAttribute]) -> Option<IpAddr> {
    attributes.iter().find_map(|attr| match attr {
        RouteAttribute::Gateway(address) => address_of(address),
        RouteAttribute::Via(RouteVia::Inet(v4)) => Some(IpAddr::V4(*v4)),
        RouteAttribute::Via(RouteVia::Inet6(v6)) => Some(IpAddr::V6(*v6)),
        _ => None,
    })
}

fn address_of(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// The route the kernel uses for `destination` from the main table: the longest matching prefix,
/// the lowest metric between equal prefixes. Blackhole-like routes count (they do match);
/// policy routing is not considered (see the module docs).
pub fn lookup(routes: &[RouteInfo], destination: IpAddr) -> Option<&RouteInfo> {
    routes
        .iter()
        .filter(|route| route.destination.contains(&destination))
        .min_by_key(|route| {
            (
                std::cmp::Reverse(route.destination.prefix_len()),
                route.metric,
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn route(destination: &str, gateway: Option<&str>, metric: u32) -> RouteInfo {
        RouteInfo {
            destination: destination.parse().unwrap(),
            kind: RouteKind::Unicast,
            next_hops: vec![NextHop {
                gateway: gateway.map(|g| g.parse().unwrap()),
                interface: Some("eth0".into()),
            }],
            source: None,
            metric,
            protocol: 4,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_longest_prefix_wins_then_the_lowest_metric() {
        let routes = [
            route("0.0.0.0/0", Some("203.0.113.1"), 0),
            route("169.254.255.0/24", Some("192.0.2.9"), 0),
            route("169.254.255.1/32", Some("192.0.2.1"), 200),
            route("169.254.255.1/32", Some("192.0.2.3"), 100),
            route("::/0", Some("2001:db8::1"), 0),
        ];
        let gateway = |dst| lookup(&routes, ip(dst)).unwrap().next_hops[0].gateway;
        assert_eq!(gateway("169.254.255.1"), Some(ip("192.0.2.3")));
        assert_eq!(gateway("169.254.255.2"), Some(ip("192.0.2.9")));
        assert_eq!(gateway("198.51.100.1"), Some(ip("203.0.113.1")));
        assert_eq!(gateway("2001:db8:ffff::1"), Some(ip("2001:db8::1")));
    }

    #[test]
    fn no_route_and_families_do_not_mix() {
        let routes = [route("192.0.2.0/24", None, 0)];
        assert!(lookup(&routes, ip("169.254.255.1")).is_none());
        assert!(lookup(&routes, ip("::ffff:192.0.2.1")).is_none());
        assert!(lookup(&routes, ip("192.0.2.7")).unwrap().is_connected());
    }

    #[test]
    fn blackholes_match_but_do_not_forward() {
        let mut blackhole = route("169.254.255.0/24", None, 0);
        blackhole.kind = RouteKind::Blackhole;
        blackhole.next_hops.clear();
        let routes = [route("0.0.0.0/0", Some("203.0.113.1"), 0), blackhole];
        let found = lookup(&routes, ip("169.254.255.1")).unwrap();
        assert_eq!(found.kind, RouteKind::Blackhole);
        assert!(!found.kind.forwards() && !found.is_connected());
    }

    #[test]
    fn the_interface_holding_an_address_is_found() {
        let snapshot = NetSnapshot {
            routes: Vec::new(),
            interfaces: vec![
                InterfaceInfo {
                    name: "lo".into(),
                    up: true,
                    addresses: vec!["127.0.0.1/8".parse().unwrap()],
                },
                InterfaceInfo {
                    name: "bond0".into(),
                    up: true,
                    addresses: vec!["10.70.17.9/31".parse().unwrap()],
                },
            ],
        };
        assert_eq!(
            snapshot.interface_with(ip("10.70.17.9")).unwrap().name,
            "bond0"
        );
        assert!(snapshot.interface_with(ip("10.70.17.8")).is_none());
    }
}
