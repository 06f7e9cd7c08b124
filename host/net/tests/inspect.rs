//! `herald_net::inspect` against the real kernel, inside a namespace the test creates: what it
//! reads must match what `ip` configured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use herald_net::inspect::{self, NetSnapshot, RouteKind};
use herald_testbed::{Lab, Netns};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn snapshot_in(ns: &Netns) -> NetSnapshot {
    ns.run(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(inspect::snapshot())
            .unwrap()
    })
}

#[test]
fn routes_and_addresses_are_read_as_configured() {
    let Some(lab) = Lab::for_test("net_inspect") else {
        return;
    };
    let node = lab.namespace("node");
    let router = lab.namespace("router");
    let link = lab.link(
        &node,
        &["192.0.2.2/24", "2001:db8:ff::2/64"],
        &router,
        &["192.0.2.1/24", "2001:db8:ff::1/64"],
    );
    node.add_address_lo("203.0.113.10/32").unwrap();
    for spec in [
        "default via 192.0.2.1 metric 100",
        "169.254.255.1/32 via 192.0.2.1 src 192.0.2.2",
        "2001:db8:ffff::1/128 via 2001:db8:ff::1",
    ] {
        node.route(spec).unwrap();
    }
    node.ip(&["route", "add", "blackhole", "198.51.100.0/24"])
        .unwrap();

    let snapshot = snapshot_in(&node);

    let peer = inspect::lookup(&snapshot.routes, ip("169.254.255.1")).unwrap();
    assert_eq!(peer.destination.to_string(), "169.254.255.1/32");
    assert_eq!(peer.next_hops.len(), 1, "{peer:?}");
    assert_eq!(peer.next_hops[0].gateway, Some(ip("192.0.2.1")));
    assert_eq!(peer.next_hops[0].interface.as_deref(), Some(&*link.a_if));
    assert_eq!(peer.source, Some(ip("192.0.2.2")));

    let other = inspect::lookup(&snapshot.routes, ip("169.254.255.2")).unwrap();
    assert_eq!(other.destination.to_string(), "0.0.0.0/0");
    assert_eq!(other.metric, 100);

    let connected = inspect::lookup(&snapshot.routes, ip("192.0.2.1")).unwrap();
    assert!(connected.is_connected(), "{connected:?}");
    assert_eq!(connected.destination.to_string(), "192.0.2.0/24");

    let dropped = inspect::lookup(&snapshot.routes, ip("198.51.100.7")).unwrap();
    assert_eq!(dropped.kind, RouteKind::Blackhole);

    let v6 = inspect::lookup(&snapshot.routes, ip("2001:db8:ffff::1")).unwrap();
    assert_eq!(v6.next_hops[0].gateway, Some(ip("2001:db8:ff::1")));
    assert!(inspect::lookup(&snapshot.routes, ip("2001:db8:eeee::1")).is_none());

    assert_eq!(
        snapshot.interface_with(ip("192.0.2.2")).unwrap().name,
        link.a_if
    );
    assert_eq!(
        snapshot.interface_with(ip("203.0.113.10")).unwrap().name,
        "lo"
    );
    let node_if = snapshot
        .interfaces
        .iter()
        .find(|i| i.name == link.a_if)
        .unwrap();
    assert!(
        node_if
            .addresses
            .iter()
            .any(|a| a.to_string() == "2001:db8:ff::2/64"),
        "{node_if:?}"
    );
    assert!(snapshot.interface_with(ip("192.0.2.1")).is_none());
}

#[test]
fn a_namespace_without_routes_has_none_to_anywhere() {
    let Some(lab) = Lab::for_test("net_inspect_empty") else {
        return;
    };
    let node = lab.namespace("node");
    let snapshot = snapshot_in(&node);
    assert!(inspect::lookup(&snapshot.routes, ip("169.254.255.1")).is_none());
    assert!(snapshot.interface_with(ip("127.0.0.1")).is_some());
}

#[test]
fn default_routes_of_both_families_and_link_state_are_read() {
    let Some(lab) = Lab::for_test("net_inspect_defaults") else {
        return;
    };
    let node = lab.namespace("node");
    let router = lab.namespace("router");
    let link = lab.link(
        &node,
        &["192.0.2.2/24", "2001:db8::2/64"],
        &router,
        &["192.0.2.1/24", "2001:db8::1/64"],
    );
    node.route("default via 192.0.2.1").unwrap();
    node.ip(&["-6", "route", "add", "default", "via", "2001:db8::1"])
        .unwrap();
    // Never set up (a veth pair, as dummy interfaces need a module CI may lack).
    node.ip(&[
        "link", "add", "hb-down0", "type", "veth", "peer", "name", "hb-down1",
    ])
    .unwrap();

    let snapshot = snapshot_in(&node);

    let mut gateways: Vec<(String, Option<IpAddr>, Option<String>)> = snapshot
        .routes
        .iter()
        .filter(|route| route.destination.prefix_len() == 0 && route.kind == RouteKind::Unicast)
        .flat_map(|route| {
            route.next_hops.iter().map(|hop| {
                (
                    route.destination.to_string(),
                    hop.gateway,
                    hop.interface.clone(),
                )
            })
        })
        .collect();
    gateways.sort();
    assert_eq!(
        gateways,
        [
            (
                "0.0.0.0/0".to_string(),
                Some(ip("192.0.2.1")),
                Some(link.a_if.clone())
            ),
            (
                "::/0".to_string(),
                Some(ip("2001:db8::1")),
                Some(link.a_if.clone())
            ),
        ]
    );
    let up = |name: &str| {
        snapshot
            .interfaces
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{name} missing: {snapshot:?}"))
            .up
    };
    assert!(up(&link.a_if), "the veth end is up with carrier");
    assert!(!up("hb-down0"), "a link never set up is not up");
}
