//! Does the kernel route a peer the way the provider asked?
//!
//! A peer with `route_via` (Equinix's 169.254.255.1/2 behind the private gateway) is fine only
//! when the route the kernel picks for it goes via exactly that gateway. The classic trap is a
//! node whose only route is the default route via the *public* gateway: the peer looks
//! "routed", the session never comes up. A peer without `route_via` is fine with any route that
//! forwards. Routes are matched from the main table by longest prefix ([`herald_net::inspect::lookup`]).

use std::fmt::Write as _;
use std::net::IpAddr;

use herald_net::inspect::{self, RouteInfo};
use ipnet::IpNet;
use serde::Serialize;

use crate::status::Status;

/// What the route check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteFinding {
    /// Routed as it should be.
    Ok,
    /// No route covers the peer.
    Missing,
    /// The chosen route goes via another gateway (often: the default route).
    WrongGateway,
    /// The chosen route is directly connected, but the peer needs the gateway.
    Direct,
    /// The chosen route drops packets (blackhole, unreachable, prohibit, throw).
    NotForwarding,
    /// The provider's gateway is of the other address family.
    FamilyMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextHopView {
    pub gateway: Option<String>,
    pub interface: Option<String>,
}

/// The kernel's route as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelRouteView {
    pub destination: String,
    pub kind: String,
    pub next_hops: Vec<NextHopView>,
    pub source: Option<String>,
    /// The same in `ip route` words: `default via 203.0.113.1 dev bond0`.
    pub text: String,
}

impl From<&RouteInfo> for KernelRouteView {
    fn from(route: &RouteInfo) -> Self {
        Self {
            destination: route.destination.to_string(),
            kind: route.kind.to_string(),
            next_hops: route
                .next_hops
                .iter()
                .map(|hop| NextHopView {
                    gateway: hop.gateway.map(|g| g.to_string()),
                    interface: hop.interface.clone(),
                })
                .collect(),
            source: route.source.map(|s| s.to_string()),
            text: describe(route),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteCheck {
    pub status: Status,
    pub finding: RouteFinding,
    /// The gateway the provider asked for (`route_via`).
    pub expected_via: Option<String>,
    /// The route the kernel uses for the peer.
    pub kernel_route: Option<KernelRouteView>,
    /// One sentence for people (free text: do not parse).
    pub summary: String,
    /// The command that fixes the problem, when there is one.
    pub fix: Option<String>,
    /// Anything else worth knowing (free text).
    pub note: Option<String>,
}

/// Checks the route to `peer` in `routes` (the main table) against the provider's `route_via`.
pub fn route_check(peer: IpAddr, route_via: Option<IpAddr>, routes: &[RouteInfo]) -> RouteCheck {
    let chosen = inspect::lookup(routes, peer);
    let mut check = RouteCheck {
        status: Status::Fail,
        finding: RouteFinding::Missing,
        expected_via: route_via.map(|g| g.to_string()),
        kernel_route: chosen.map(KernelRouteView::from),
        summary: String::new(),
        fix: None,
        note: None,
    };
    match route_via {
        Some(gateway) if gateway.is_ipv4() != peer.is_ipv4() => {
            check.finding = RouteFinding::FamilyMismatch;
            check.summary = format!(
                "the provider's gateway {gateway} for {peer} is of the other address family: no route can be installed"
            );
        }
        Some(gateway) => with_gateway(&mut check, peer, gateway, chosen, routes),
        None => without_gateway(&mut check, peer, chosen),
    }
    check
}

fn with_gateway(
    check: &mut RouteCheck,
    peer: IpAddr,
    gateway: IpAddr,
    chosen: Option<&RouteInfo>,
    routes: &[RouteInfo],
) {
    let host = host_net(peer);
    let (finding, summary) = match chosen {
        Some(route) if goes_via(route, gateway) => {
            check.status = Status::Ok;
            check.finding = RouteFinding::Ok;
            check.summary = format!("{peer} is routed via {gateway} ({})", describe(route));
            return;
        }
        None => (
            RouteFinding::Missing,
            format!("no route to {peer}: it must go via {gateway}"),
        ),
        Some(route) if !route.kind.forwards() => (
            RouteFinding::NotForwarding,
            format!(
                "{peer} matches `{}`: packets are dropped; it must go via {gateway}",
                describe(route)
            ),
        ),
        Some(route) if route.is_connected() => (
            RouteFinding::Direct,
            format!(
                "{peer} is sent directly on the link (`{}`), not via {gateway}",
                describe(route)
            ),
        ),
        Some(route) => (
            RouteFinding::WrongGateway,
            format!(
                "{peer} is routed by `{}`{}, not via {gateway}",
                describe(route),
                if route.destination.prefix_len() == 0 {
                    " (the default route)"
                } else {
                    ""
                }
            ),
        ),
    };
    check.finding = finding;
    check.summary = summary;
    // `add` fails with "File exists" when a host route is already there: replace that one.
    let verb = if chosen.is_some_and(|route| route.destination == host) {
        "replace"
    } else {
        "add"
    };
    check.fix = Some(format!("ip route {verb} {host} via {gateway}"));
    if !inspect::lookup(routes, gateway).is_some_and(RouteInfo::is_connected) {
        check.note = Some(format!(
            "the gateway {gateway} is not on a directly connected network of this node, so the fix fails \
             (\"Nexthop has invalid gateway\") until the private interface has its address"
        ));
    }
}

fn without_gateway(check: &mut RouteCheck, peer: IpAddr, chosen: Option<&RouteInfo>) {
    match chosen {
        Some(route) if route.kind.forwards() => {
            check.status = Status::Ok;
            check.finding = RouteFinding::Ok;
            let how = if route.is_connected() {
                "directly connected"
            } else {
                "routed"
            };
            check.summary = format!("{peer} is {how} ({})", describe(route));
        }
        Some(route) => {
            check.finding = RouteFinding::NotForwarding;
            check.summary = format!("{peer} matches `{}`: packets are dropped", describe(route));
        }
        None => {
            check.summary = format!("no route to {peer}");
            check.note = Some(format!(
                "the provider names no gateway for this peer; add a route: ip route add {} via <gateway>",
                host_net(peer)
            ));
        }
    }
}

/// Every next hop of a forwarding route goes via `gateway` (one ECMP leg elsewhere is enough to
/// lose the session now and then).
fn goes_via(route: &RouteInfo, gateway: IpAddr) -> bool {
    route.kind.forwards()
        && !route.next_hops.is_empty()
        && route
            .next_hops
            .iter()
            .all(|hop| hop.gateway == Some(gateway))
}

/// `peer/32` or `peer/128`.
fn host_net(peer: IpAddr) -> IpNet {
    IpNet::from(peer)
}

/// A route in `ip route` words: `default via 203.0.113.1 dev bond0 src 203.0.113.11`.
pub fn describe(route: &RouteInfo) -> String {
    let mut out = String::new();
    if !route.kind.forwards() {
        write!(out, "{} ", route.kind).ok();
    }
    if route.destination.prefix_len() == 0 {
        out.push_str("default");
    } else {
        write!(out, "{}", route.destination).ok();
    }
    let multipath = route.next_hops.len() > 1;
    for hop in &route.next_hops {
        if multipath {
            out.push_str(" nexthop");
        }
        if let Some(gateway) = hop.gateway {
            write!(out, " via {gateway}").ok();
        }
        if let Some(interface) = &hop.interface {
            write!(out, " dev {interface}").ok();
        }
    }
    if let Some(source) = route.source {
        write!(out, " src {source}").ok();
    }
    if route.metric != 0 {
        write!(out, " metric {}", route.metric).ok();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use herald_net::inspect::{NextHop, RouteKind};

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn route(destination: &str, gateway: Option<&str>, dev: &str) -> RouteInfo {
        RouteInfo {
            destination: destination.parse().unwrap(),
            kind: RouteKind::Unicast,
            next_hops: vec![NextHop {
                gateway: gateway.map(ip),
                interface: Some(dev.into()),
            }],
            source: None,
            metric: 0,
            protocol: 4,
        }
    }

    /// An Equinix node: public /31 with the default route, private /31 (a documentation range here) towards 192.0.2.8.
    fn equinix() -> Vec<RouteInfo> {
        vec![
            route("0.0.0.0/0", Some("203.0.113.10"), "bond0"),
            route("203.0.113.10/31", None, "bond0"),
            route("192.0.2.8/31", None, "bond0"),
        ]
    }

    #[test]
    fn a_missing_peer_route_gets_the_exact_fix() {
        let routes = vec![route("192.0.2.8/31", None, "bond0")];
        let check = route_check(ip("169.254.255.1"), Some(ip("192.0.2.8")), &routes);
        assert_eq!(
            (check.status, check.finding),
            (Status::Fail, RouteFinding::Missing)
        );
        assert_eq!(
            check.fix.as_deref(),
            Some("ip route add 169.254.255.1/32 via 192.0.2.8")
        );
        assert!(check.note.is_none(), "the gateway is connected");
        assert!(check.kernel_route.is_none());
    }

    #[test]
    fn the_default_route_via_the_public_gateway_is_the_trap() {
        let check = route_check(ip("169.254.255.1"), Some(ip("192.0.2.8")), &equinix());
        assert_eq!(check.finding, RouteFinding::WrongGateway);
        assert!(
            check.summary.contains("the default route"),
            "{}",
            check.summary
        );
        assert!(check.summary.contains("default via 203.0.113.10 dev bond0"));
        assert_eq!(
            check.fix.as_deref(),
            Some("ip route add 169.254.255.1/32 via 192.0.2.8")
        );
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["kernel_route"]["destination"], "0.0.0.0/0");
        assert_eq!(
            json["kernel_route"]["next_hops"][0]["gateway"],
            "203.0.113.10"
        );
        assert_eq!(json["finding"], "wrong_gateway");
    }

    #[test]
    fn the_right_gateway_is_ok_and_a_wrong_host_route_is_replaced() {
        let mut routes = equinix();
        routes.push(route("169.254.255.1/32", Some("192.0.2.8"), "bond0"));
        routes.push(route("169.254.255.2/32", Some("203.0.113.10"), "bond0"));
        let ok = route_check(ip("169.254.255.1"), Some(ip("192.0.2.8")), &routes);
        assert_eq!((ok.status, ok.finding), (Status::Ok, RouteFinding::Ok));
        assert!(ok.fix.is_none());
        let wrong = route_check(ip("169.254.255.2"), Some(ip("192.0.2.8")), &routes);
        assert_eq!(
            wrong.fix.as_deref(),
            Some("ip route replace 169.254.255.2/32 via 192.0.2.8")
        );
    }

    #[test]
    fn blackholes_direct_routes_and_unreachable_gateways_are_explained() {
        let mut blackhole = route("169.254.255.0/24", None, "lo");
        blackhole.kind = RouteKind::Blackhole;
        blackhole.next_hops.clear();
        let mut routes = equinix();
        routes.push(blackhole);
        let check = route_check(ip("169.254.255.1"), Some(ip("192.0.2.8")), &routes);
        assert_eq!(check.finding, RouteFinding::NotForwarding);
        assert!(
            check.summary.contains("blackhole 169.254.255.0/24"),
            "{}",
            check.summary
        );

        let direct = [route("169.254.0.0/16", None, "eth1")];
        let check = route_check(ip("169.254.255.1"), Some(ip("192.0.2.8")), &direct);
        assert_eq!(check.finding, RouteFinding::Direct);
        assert!(
            check
                .note
                .unwrap()
                .contains("not on a directly connected network")
        );

        let check = route_check(ip("169.254.255.1"), Some(ip("fc00::1")), &routes);
        assert_eq!(check.finding, RouteFinding::FamilyMismatch);
        assert!(check.fix.is_none());
    }

    #[test]
    fn ecmp_with_one_leg_elsewhere_is_wrong() {
        let mut ecmp = route("169.254.255.1/32", Some("192.0.2.8"), "bond0");
        ecmp.next_hops.push(NextHop {
            gateway: Some(ip("203.0.113.10")),
            interface: Some("bond0".into()),
        });
        let check = route_check(ip("169.254.255.1"), Some(ip("192.0.2.8")), &[ecmp]);
        assert_eq!(check.finding, RouteFinding::WrongGateway);
        assert!(
            check
                .summary
                .contains("nexthop via 192.0.2.8 dev bond0 nexthop via")
        );
    }

    #[test]
    fn without_route_via_any_forwarding_route_will_do() {
        let check = route_check(
            ip("192.0.2.1"),
            None,
            &[route("192.0.2.0/24", None, "eth0")],
        );
        assert_eq!(check.status, Status::Ok);
        assert!(
            check
                .summary
                .contains("directly connected (192.0.2.0/24 dev eth0)")
        );
        let check = route_check(ip("198.51.100.1"), None, &equinix());
        assert_eq!(check.status, Status::Ok);
        let check = route_check(ip("2001:db8::1"), None, &equinix());
        assert_eq!(
            (check.status, check.finding),
            (Status::Fail, RouteFinding::Missing)
        );
        assert!(check.fix.is_none());
        assert!(check.note.unwrap().contains("2001:db8::1/128"));
    }
}
