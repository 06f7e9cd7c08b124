//! The provider against the CCM annotation fixtures (copied from the reference set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use equinix_annotations::EquinixAnnotations;
use herald_sdk::metadata::{HostDeclaration, ProviderMetadata};
use herald_sdk::testing::{MockHttp, node_from_yaml};
use herald_sdk::{BgpPeer, Config, Discovery, NodeContext, Password, Provider, ProviderError};

const LEGACY: &str = include_str!("fixtures/node-annotations-legacy.yaml");
const V3_3: &str = include_str!("fixtures/node-annotations-v3.3.yaml");
const MIXED: &str = include_str!("fixtures/node-annotations-upgraded-mixed.yaml");
const PACKET_V1: &str = include_str!("fixtures/node-annotations-packet-v1.yaml");

fn discover_with(config: &[(&str, &str)], node: &NodeContext) -> Result<Discovery, ProviderError> {
    let mut provider = EquinixAnnotations::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    let http = MockHttp::new();
    let found = provider.discover(node, &http);
    assert!(
        http.requests().is_empty(),
        "the annotations provider never uses the network"
    );
    found
}

fn discover(yaml: &str) -> Result<Discovery, ProviderError> {
    discover_with(&[], &node_from_yaml(yaml).unwrap())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn equinix_peer(
    address: &str,
    source: Option<&str>,
    password: Option<&str>,
    route_via: Option<&str>,
) -> BgpPeer {
    BgpPeer {
        source_address: source.map(ip),
        password: password.map(Password::new),
        multihop_ttl: Some(2),
        route_via: route_via.map(ip),
        ..BgpPeer::new(ip(address), 65530, 65000)
    }
}

fn node(annotations: &[(&str, &str)]) -> NodeContext {
    NodeContext {
        node_name: "n1".into(),
        annotations: annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..NodeContext::default()
    }
}

#[test]
fn legacy_fixture() {
    let expected = vec![
        equinix_peer(
            "169.254.255.1",
            Some("10.70.17.9"),
            Some("ExamplePass123"),
            Some("10.70.17.8"),
        ),
        equinix_peer(
            "169.254.255.2",
            Some("10.70.17.9"),
            Some("ExamplePass123"),
            Some("10.70.17.8"),
        ),
    ];
    assert_eq!(
        discover(LEGACY).unwrap(),
        Discovery {
            peers: expected,
            refresh_after_seconds: None
        }
    );
}

#[test]
fn v3_3_fixture() {
    let expected = vec![
        equinix_peer(
            "169.254.255.1",
            Some("10.70.17.9"),
            Some("ExamplePass123"),
            Some("10.70.17.8"),
        ),
        equinix_peer(
            "169.254.255.2",
            Some("10.70.17.9"),
            Some("ExamplePass123"),
            Some("10.70.17.8"),
        ),
    ];
    assert_eq!(discover(V3_3).unwrap().peers, expected);
}

#[test]
fn upgraded_mixed_fixture_uses_bgp_peers_n_once_without_password() {
    let expected = vec![
        equinix_peer(
            "169.254.255.1",
            Some("10.70.17.11"),
            None,
            Some("10.70.17.10"),
        ),
        equinix_peer(
            "169.254.255.2",
            Some("10.70.17.11"),
            None,
            Some("10.70.17.10"),
        ),
    ];
    assert_eq!(discover(MIXED).unwrap().peers, expected);
}

#[test]
fn bgp_peers_n_wins_over_legacy_values() {
    let mut node = node_from_yaml(MIXED).unwrap();
    // A stale legacy list must not add peers next to the bgp-peers-N set.
    node.annotations.insert(
        "metal.equinix.com/peer-ip".into(),
        "169.254.255.1,169.254.255.9".into(),
    );
    let peers = discover_with(&[], &node).unwrap().peers;
    let addresses: Vec<String> = peers.iter().map(|p| p.peer_address.to_string()).collect();
    assert_eq!(addresses, ["169.254.255.1", "169.254.255.2"]);
}

#[test]
fn packet_v1_fixture() {
    // No src-ip in this format: no gateway can be derived without `private-gateway`.
    let expected = vec![
        equinix_peer("169.254.255.1", None, None, None),
        equinix_peer("169.254.255.2", None, None, None),
    ];
    assert_eq!(discover(PACKET_V1).unwrap().peers, expected);

    let with_gateway = discover_with(
        &[("private-gateway", "10.99.0.2")],
        &node_from_yaml(PACKET_V1).unwrap(),
    )
    .unwrap();
    assert!(
        with_gateway
            .peers
            .iter()
            .all(|p| p.route_via == Some(ip("10.99.0.2")))
    );
}

#[test]
fn packet_prefix_is_fixed_even_with_a_custom_prefix() {
    let found = discover_with(
        &[("prefix", "example.net")],
        &node_from_yaml(PACKET_V1).unwrap(),
    )
    .unwrap();
    assert_eq!(found.peers.len(), 2);
}

#[test]
fn custom_prefix() {
    let node = node(&[
        ("example.net/bgp-peers-0-node-asn", "4200000001"),
        ("example.net/bgp-peers-0-peer-asn", "65530"),
        ("example.net/bgp-peers-0-peer-ip", "169.254.255.1"),
        ("example.net/bgp-peers-0-src-ip", "10.70.17.9"),
        ("example.net/network-4-private", "10.70.17.0/25"),
    ]);
    let peers = discover_with(&[("prefix", "example.net")], &node)
        .unwrap()
        .peers;
    assert_eq!(peers.len(), 1);
    assert_eq!(
        (peers[0].local_asn, peers[0].route_via),
        (4_200_000_001, Some(ip("10.70.17.8")))
    );

    let err = discover_with(&[], &node).unwrap_err();
    assert!(
        matches!(err, ProviderError::NotReady(_)),
        "default prefix does not see example.net keys: {err}"
    );
}

#[test]
fn directly_connected_peers_get_no_multihop_or_route() {
    let node = node(&[
        ("metal.equinix.com/node-asn", "65000"),
        ("metal.equinix.com/peer-asn", "65530"),
        ("metal.equinix.com/peer-ip", "10.99.40.130"),
        ("metal.equinix.com/src-ip", "10.99.40.131"),
    ]);
    let peers = discover_with(&[], &node).unwrap().peers;
    assert_eq!((peers[0].multihop_ttl, peers[0].route_via), (None, None));
}

#[test]
fn multihop_ttl_is_configurable() {
    let peers = discover_with(&[("multihop-ttl", "8")], &node_from_yaml(V3_3).unwrap())
        .unwrap()
        .peers;
    assert!(peers.iter().all(|p| p.multihop_ttl == Some(8)));
}

#[test]
fn missing_keys_are_not_ready() {
    let err = discover_with(&[], &node(&[])).unwrap_err();
    assert!(
        matches!(&err, ProviderError::NotReady(m) if m.contains("no BGP annotations")),
        "{err}"
    );

    let only_network = node(&[("metal.equinix.com/network-4-private", "10.70.17.0/25")]);
    assert!(matches!(
        discover_with(&[], &only_network),
        Err(ProviderError::NotReady(_))
    ));

    let partial = node(&[
        ("metal.equinix.com/bgp-peers-0-peer-asn", "65530"),
        ("metal.equinix.com/bgp-peers-0-peer-ip", "169.254.255.1"),
    ]);
    let err = discover_with(&[], &partial).unwrap_err();
    assert!(
        matches!(&err, ProviderError::NotReady(m) if m.contains("metal.equinix.com/bgp-peers-0-node-asn")),
        "{err}"
    );

    let legacy_without_peers = node(&[
        ("metal.equinix.com/node-asn", "65000"),
        ("metal.equinix.com/peer-ip", ""),
    ]);
    let err = discover_with(&[], &legacy_without_peers).unwrap_err();
    assert!(
        matches!(&err, ProviderError::NotReady(m) if m.contains("metal.equinix.com/peer-asn")),
        "{err}"
    );
}

#[test]
fn bad_values_are_invalid_input_naming_the_key() {
    let cases = [
        (
            "metal.equinix.com/bgp-peers-1-node-asn",
            "65x00",
            "metal.equinix.com/bgp-peers-1-node-asn",
        ),
        (
            "metal.equinix.com/bgp-peers-0-peer-asn",
            "0",
            "metal.equinix.com/bgp-peers-0-peer-asn",
        ),
        (
            "metal.equinix.com/bgp-peers-1-peer-ip",
            "169.254.255.300",
            "metal.equinix.com/bgp-peers-1-peer-ip",
        ),
        (
            "metal.equinix.com/bgp-peers-0-src-ip",
            "ten.seventy",
            "metal.equinix.com/bgp-peers-0-src-ip",
        ),
        (
            "metal.equinix.com/bgp-peers-0-bgp-pass",
            "not base64!",
            "metal.equinix.com/bgp-peers-0-bgp-pass",
        ),
        (
            "metal.equinix.com/network-4-private",
            "10.70.17.0",
            "metal.equinix.com/network-4-private",
        ),
    ];
    for (key, value, named) in cases {
        let mut node = node_from_yaml(V3_3).unwrap();
        node.annotations.insert(key.into(), value.into());
        let err = discover_with(&[], &node).unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains(named)),
            "{key}={value}: {err}"
        );
    }
}

#[test]
fn bad_legacy_and_packet_values_name_the_key() {
    let mut legacy = node_from_yaml(LEGACY).unwrap();
    legacy.annotations.insert(
        "metal.equinix.com/peer-ip".into(),
        "169.254.255.1,bogus".into(),
    );
    let err = discover_with(&[], &legacy).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("metal.equinix.com/peer-ip")),
        "{err}"
    );

    let mut packet = node_from_yaml(PACKET_V1).unwrap();
    packet
        .annotations
        .insert("packet.com/peer.asns".into(), "65530,65531,65532".into());
    let err = discover_with(&[], &packet).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("packet.com/peer.asns")),
        "{err}"
    );
}

#[test]
fn password_errors_never_quote_the_value() {
    let mut node = node_from_yaml(V3_3).unwrap();
    node.annotations
        .insert("metal.equinix.com/bgp-pass".into(), "x".into()); // legacy key, ignored
    node.annotations.insert(
        "metal.equinix.com/bgp-peers-0-bgp-pass".into(),
        "U2VjcmV0!".into(),
    );
    let err = discover_with(&[], &node).unwrap_err();
    assert!(!err.to_string().contains("U2VjcmV0"), "{err}");
}

#[test]
fn bad_config_is_invalid_input() {
    for config in [
        [("prefix", "a b")],
        [("private-gateway", "gw")],
        [("multihop-ttl", "0")],
        [("prefixx", "x")],
    ] {
        let mut provider = EquinixAnnotations::default();
        let err = provider.configure(&Config::from_pairs(config)).unwrap_err();
        assert!(
            matches!(err, ProviderError::InvalidInput(_)),
            "{config:?}: {err}"
        );
    }
}

#[test]
fn source_outside_private_block_is_invalid_input() {
    let mut node = node_from_yaml(V3_3).unwrap();
    node.annotations.insert(
        "metal.equinix.com/network-4-private".into(),
        "10.80.0.0/25".into(),
    );
    let err = discover_with(&[], &node).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("network-4-private")),
        "{err}"
    );
}

#[test]
fn metadata_declares_no_hosts_and_the_config_keys() {
    let metadata =
        ProviderMetadata::parse(equinix_annotations::PROVIDER_METADATA_JSON.as_bytes()).unwrap();
    assert_eq!(metadata.name, "equinix-annotations");
    assert_eq!(metadata.hosts, Vec::<HostDeclaration>::new());
    let keys: Vec<&str> = metadata.config.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, ["prefix", "private-gateway", "multihop-ttl"]);
    assert_eq!(
        metadata.config[0].default.as_deref(),
        Some("metal.equinix.com")
    );
}
