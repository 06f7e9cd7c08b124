//! The provider's logic on network facts built with the SDK's `NetworkBuilder`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use default_gateway::{DefaultGatewayProvider, REFRESH_AFTER_SECONDS};
use herald_sdk::metadata::ProviderMetadata;
use herald_sdk::testing::{MockHttp, NetworkBuilder};
use herald_sdk::{BgpPeer, Config, Discovery, NodeContext, Password, Provider, ProviderError};

const BASE: &[(&str, &str)] = &[("peer-asn", "65530"), ("local-asn", "65000")];
const BOTH: &[(&str, &str)] = &[
    ("peer-asn", "65530"),
    ("local-asn", "65000"),
    ("families", "ipv4,ipv6"),
];

fn configure(config: &[(&str, &str)]) -> Result<DefaultGatewayProvider, ProviderError> {
    let mut provider = DefaultGatewayProvider::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    Ok(provider)
}

fn discover_with(config: &[(&str, &str)], node: &NodeContext) -> Result<Discovery, ProviderError> {
    let http = MockHttp::new();
    let found = configure(config)?.discover(node, &http);
    assert!(
        http.requests().is_empty(),
        "default-gateway never uses HTTP"
    );
    found
}

fn peers(config: &[(&str, &str)], node: &NodeContext) -> Vec<BgpPeer> {
    discover_with(config, node).unwrap().peers
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn peer(address: &str, source: Option<&str>) -> BgpPeer {
    BgpPeer {
        source_address: source.map(ip),
        ..BgpPeer::new(ip(address), 65530, 65000)
    }
}

/// A node on 192.0.2.0/24 and 2001:db8:1::/64 behind .1 / ::1, as a plain dual-stack host.
fn dual_stack() -> NetworkBuilder {
    NetworkBuilder::new()
        .interface("lo", &["127.0.0.1/8", "::1/128"])
        .interface("eth0", &["192.0.2.2/24", "2001:db8:1::2/64", "fe80::2/64"])
        .default_route("192.0.2.1", "eth0", 0)
        .default_route("2001:db8:1::1", "eth0", 1024)
}

fn invalid_input(config: &[(&str, &str)]) -> String {
    match configure(config) {
        Err(ProviderError::InvalidInput(message)) => message,
        other => panic!("expected invalid-input for {config:?}, got {other:?}"),
    }
}

#[test]
fn ipv4_is_the_default_family() {
    let found = discover_with(BASE, &dual_stack().node("n1")).unwrap();
    assert_eq!(found.peers, vec![peer("192.0.2.1", Some("192.0.2.2"))]);
    assert_eq!(found.refresh_after_seconds, Some(REFRESH_AFTER_SECONDS));
    assert_eq!(REFRESH_AFTER_SECONDS, 30);
    let peer = &found.peers[0];
    assert_eq!((peer.multihop_ttl, peer.route_via), (None, None), "on-link");
}

#[test]
fn both_families_give_a_peer_each_in_the_configured_order() {
    assert_eq!(
        peers(BOTH, &dual_stack().node("n1")),
        vec![
            peer("192.0.2.1", Some("192.0.2.2")),
            peer("2001:db8:1::1", Some("2001:db8:1::2")),
        ]
    );
    let v6_first = [
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", " IPv6 , ipv4,ipv6 "),
    ];
    assert_eq!(
        peers(&v6_first, &dual_stack().node("n1")),
        vec![
            peer("2001:db8:1::1", Some("2001:db8:1::2")),
            peer("192.0.2.1", Some("192.0.2.2")),
        ]
    );
}

#[test]
fn ipv6_only() {
    let config = [
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", "ipv6"),
    ];
    assert_eq!(
        peers(&config, &dual_stack().node("n1")),
        vec![peer("2001:db8:1::1", Some("2001:db8:1::2"))]
    );
}

#[test]
fn every_ecmp_next_hop_is_a_peer_sourced_from_its_own_interface() {
    let node = NetworkBuilder::new()
        .interface("eth0", &["192.0.2.2/24"])
        .interface("eth1", &["198.51.100.2/24"])
        .default_route("192.0.2.1", "eth0", 100)
        .default_route("198.51.100.1", "eth1", 100)
        // The same gateway again over a second link: one session is enough.
        .default_route("192.0.2.1", "eth1", 100)
        .node("n1");
    assert_eq!(
        peers(BASE, &node),
        vec![
            peer("192.0.2.1", Some("192.0.2.2")),
            peer("198.51.100.1", Some("198.51.100.2")),
        ]
    );
}

#[test]
fn only_the_lowest_metric_routes_count() {
    let node = NetworkBuilder::new()
        .interface("eth0", &["192.0.2.2/24"])
        .interface("eth1", &["198.51.100.2/24"])
        .default_route("192.0.2.1", "eth0", 600)
        .default_route("198.51.100.1", "eth1", 100)
        .node("n1");
    assert_eq!(
        peers(BASE, &node),
        vec![peer("198.51.100.1", Some("198.51.100.2"))]
    );
    // Even when the host's list is not in metric order.
    let mut unordered = node.clone();
    unordered.network.default_gateways.reverse();
    assert_eq!(peers(BASE, &unordered), peers(BASE, &node));
}

#[test]
fn the_source_is_the_address_whose_prefix_holds_the_gateway() {
    let node = NetworkBuilder::new()
        .interface(
            "eth0",
            &[
                "198.51.100.7/32",
                "192.0.2.2/24",
                "2001:db8:9::2/64",
                "2001:db8:1::2/64",
            ],
        )
        .default_route("192.0.2.1", "eth0", 0)
        .default_route("2001:db8:1::1", "eth0", 0)
        .node("n1");
    assert_eq!(
        peers(BOTH, &node),
        vec![
            peer("192.0.2.1", Some("192.0.2.2")),
            peer("2001:db8:1::1", Some("2001:db8:1::2")),
        ]
    );
    // A gateway outside every prefix (e.g. an onlink route): the interface's first address.
    let onlink = NetworkBuilder::new()
        .interface("eth0", &["198.51.100.7/32", "192.0.2.2/24"])
        .default_route("203.0.113.1", "eth0", 0)
        .node("n1");
    assert_eq!(
        peers(BASE, &onlink),
        vec![peer("203.0.113.1", Some("198.51.100.7"))]
    );
}

#[test]
fn a_link_local_ipv6_gateway_is_skipped() {
    let node = NetworkBuilder::new()
        .interface("eth0", &["192.0.2.2/24", "2001:db8:1::2/64", "fe80::2/64"])
        .default_route("192.0.2.1", "eth0", 0)
        .default_route("fe80::1", "eth0", 1024)
        .node("n1");
    // ipv4 still gives its peer; the ipv6 gap is only a warning.
    assert_eq!(
        peers(BOTH, &node),
        vec![peer("192.0.2.1", Some("192.0.2.2"))]
    );
    let v6 = [
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", "ipv6"),
    ];
    match discover_with(&v6, &node) {
        Err(ProviderError::NotReady(message)) => {
            assert!(
                message.contains("fe80::1 via eth0") && message.contains("link-local"),
                "{message}"
            );
        }
        other => panic!("expected not-ready, got {other:?}"),
    }
    // Next to a global gateway of the same metric, only the global one is a peer.
    let mixed = NetworkBuilder::new()
        .interface("eth0", &["2001:db8:1::2/64"])
        .default_route("fe80::1", "eth0", 1024)
        .default_route("2001:db8:1::1", "eth0", 1024)
        .node("n1");
    assert_eq!(
        peers(&v6, &mixed),
        vec![peer("2001:db8:1::1", Some("2001:db8:1::2"))]
    );
}

#[test]
fn link_local_addresses_are_never_the_source() {
    let node = NetworkBuilder::new()
        .interface("eth0", &["fe80::2/64", "169.254.7.2/16"])
        .default_route("2001:db8:1::1", "eth0", 0)
        .default_route("192.0.2.1", "eth0", 0)
        .node("n1");
    assert_eq!(
        peers(BOTH, &node),
        vec![peer("192.0.2.1", None), peer("2001:db8:1::1", None)]
    );
}

#[test]
fn a_down_interfaces_address_is_not_the_source() {
    let node = NetworkBuilder::new()
        .down_interface("eth0", &["192.0.2.2/24"])
        .interface("eth1", &["192.0.2.3/24"])
        .default_route("192.0.2.1", "eth0", 0)
        .node("n1");
    assert_eq!(peers(BASE, &node), vec![peer("192.0.2.1", None)]);
    // A route the kernel names no interface for: an up interface on the gateway's link.
    let unnamed = NetworkBuilder::new()
        .down_interface("eth0", &["192.0.2.2/24"])
        .interface("eth1", &["198.51.100.2/24", "192.0.2.3/24"])
        .default_route_without_interface("192.0.2.1", 0)
        .node("n1");
    assert_eq!(
        peers(BASE, &unnamed),
        vec![peer("192.0.2.1", Some("192.0.2.3"))]
    );
}

#[test]
fn no_default_route_is_not_ready_naming_the_families() {
    let no_v6 = NetworkBuilder::new()
        .interface("eth0", &["192.0.2.2/24", "2001:db8:1::2/64"])
        .default_route("192.0.2.1", "eth0", 0)
        .node("n1");
    let v6 = [
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", "ipv6"),
    ];
    assert_eq!(
        discover_with(&v6, &no_v6),
        Err(ProviderError::NotReady(
            "no default route for ipv6 in this node's network namespace".into()
        ))
    );
    let nothing = NetworkBuilder::new()
        .interface("eth0", &["192.0.2.2/24"])
        .node("n1");
    assert_eq!(
        discover_with(BASE, &nothing),
        Err(ProviderError::NotReady(
            "no default route for ipv4 in this node's network namespace".into()
        ))
    );
    assert_eq!(
        discover_with(BOTH, &nothing),
        Err(ProviderError::NotReady(
            "no default route for ipv4 or ipv6 in this node's network namespace".into()
        ))
    );
    // One family missing while the other has a gateway: the found ones, and a warning.
    assert_eq!(
        peers(BOTH, &no_v6),
        vec![peer("192.0.2.1", Some("192.0.2.2"))]
    );
}

#[test]
fn bad_config_is_invalid_input_naming_key_and_value() {
    let missing = invalid_input(&[("local-asn", "65000")]);
    assert!(
        missing.contains("`peer-asn`") && missing.contains("required"),
        "{missing}"
    );
    let missing = invalid_input(&[("peer-asn", "65530")]);
    assert!(missing.contains("`local-asn`"), "{missing}");

    let bad = invalid_input(&[("peer-asn", "AS65530"), ("local-asn", "65000")]);
    assert!(
        bad.contains("`peer-asn`") && bad.contains("\"AS65530\""),
        "{bad}"
    );
    let bad = invalid_input(&[("peer-asn", "65530"), ("local-asn", "4294967296")]);
    assert!(
        bad.contains("`local-asn`") && bad.contains("4294967296"),
        "{bad}"
    );
    let reserved = invalid_input(&[("peer-asn", "23456"), ("local-asn", "65000")]);
    assert!(
        reserved.contains("`peer-asn`") && reserved.contains("23456"),
        "{reserved}"
    );

    let family = invalid_input(&[BASE[0], BASE[1], ("families", "ipv4,ipx")]);
    assert!(
        family.contains("`families`") && family.contains("\"ipx\""),
        "{family}"
    );
    for empty in ["", " , ", ","] {
        let message = invalid_input(&[BASE[0], BASE[1], ("families", empty)]);
        assert!(
            message.contains("`families`") && message.contains("no family"),
            "{message}"
        );
    }

    let unknown = invalid_input(&[BASE[0], BASE[1], ("famlies", "ipv6")]);
    assert!(unknown.contains("`famlies`"), "{unknown}");
}

#[test]
fn a_bad_password_is_refused_without_quoting_it() {
    let long = "x".repeat(81);
    let message = invalid_input(&[BASE[0], BASE[1], ("password", &long)]);
    assert!(
        message.contains("`password`") && !message.contains(&long),
        "{message}"
    );
}

#[test]
fn the_password_goes_to_every_peer_and_never_into_debug() {
    const SECRET: &str = "Gateway-MD5-Secret-7";
    let config = [BOTH[0], BOTH[1], BOTH[2], ("password", SECRET)];
    let provider = configure(&config).unwrap();
    let found = provider
        .discover(&dual_stack().node("n1"), &MockHttp::new())
        .unwrap();
    assert_eq!(found.peers.len(), 2);
    for peer in &found.peers {
        assert_eq!(peer.password, Some(Password::new(SECRET)));
    }
    for shown in [format!("{provider:?}"), format!("{found:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

#[test]
fn metadata_declares_no_hosts_and_a_secret_password() {
    let metadata =
        ProviderMetadata::parse(default_gateway::PROVIDER_METADATA_JSON.as_bytes()).unwrap();
    assert_eq!(metadata.name, "default-gateway");
    assert_eq!(metadata.wit_version, herald_sdk::WIT_VERSION);
    assert!(metadata.hosts.is_empty());
    let key = |name: &str| {
        metadata
            .config
            .iter()
            .find(|k| k.key == name)
            .unwrap_or_else(|| panic!("no key {name}"))
    };
    assert!(key("password").secret && !key("password").required);
    assert!(key("peer-asn").required && key("local-asn").required);
    assert!(!key("peer-asn").secret && !key("families").secret);
    assert_eq!(key("families").default.as_deref(), Some("ipv4"));
}
