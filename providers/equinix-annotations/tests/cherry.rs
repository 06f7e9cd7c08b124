//! Cherry Servers nodes (`prefix=cherryservers.com`) against the fixtures copied from the Cherry
//! reference set: the CCM's bgp-peers-N layout without bgp-pass, with or without src-ip and
//! peer-multi-hop, public route servers that are always multihop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use equinix_annotations::EquinixAnnotations;
use herald_sdk::testing::{MockHttp, node_from_yaml};
use herald_sdk::{BgpPeer, Config, NodeContext, Provider, ProviderError};

const TWO_PEERS: &str = include_str!("fixtures/cherry/node-two-peers.yaml");
const ONE_PEER: &str = include_str!("fixtures/cherry/node-one-peer.yaml");
const PARTIAL: &str = include_str!("fixtures/cherry/node-partial-pre-v1.35.3.yaml");

const CHERRY: (&str, &str) = ("prefix", "cherryservers.com");

fn discover_with(
    config: &[(&str, &str)],
    node: &NodeContext,
) -> Result<Vec<BgpPeer>, ProviderError> {
    let mut provider = EquinixAnnotations::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    provider
        .discover(node, &MockHttp::new())
        .map(|found| found.peers)
}

fn cherry(yaml: &str) -> Result<Vec<BgpPeer>, ProviderError> {
    discover_with(&[CHERRY], &node_from_yaml(yaml).unwrap())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A Cherry peer: AS 16125, multihop with the default TTL, no password, no route, port 179.
fn cherry_peer(address: &str, local_asn: u32, source: Option<&str>) -> BgpPeer {
    BgpPeer {
        source_address: source.map(ip),
        multihop_ttl: Some(2),
        ..BgpPeer::new(ip(address), 16125, local_asn)
    }
}

#[test]
fn current_ccm_two_peers() {
    assert_eq!(
        cherry(TWO_PEERS).unwrap(),
        [
            cherry_peer("203.0.113.122", 65010, Some("198.51.100.17")),
            cherry_peer("203.0.113.123", 65010, Some("198.51.100.17")),
        ]
    );
}

#[test]
fn current_ccm_one_peer() {
    assert_eq!(
        cherry(ONE_PEER).unwrap(),
        [cherry_peer("203.0.113.130", 65011, Some("198.51.100.18"))]
    );
}

#[test]
fn older_ccm_without_src_ip_or_multi_hop_is_still_multihop() {
    assert_eq!(
        cherry(PARTIAL).unwrap(),
        [
            cherry_peer("203.0.113.122", 65012, None),
            cherry_peer("203.0.113.123", 65012, None),
        ]
    );
}

#[test]
fn multihop_ttl_applies_and_peer_multi_hop_false_turns_it_off() {
    let peers = discover_with(
        &[CHERRY, ("multihop-ttl", "50")],
        &node_from_yaml(TWO_PEERS).unwrap(),
    )
    .unwrap();
    assert!(peers.iter().all(|p| p.multihop_ttl == Some(50)));

    let mut node = node_from_yaml(TWO_PEERS).unwrap();
    node.annotations.insert(
        "cherryservers.com/bgp-peers-1-peer-multi-hop".into(),
        "false".into(),
    );
    let peers = discover_with(&[CHERRY], &node).unwrap();
    assert_eq!(
        (peers[0].multihop_ttl, peers[1].multihop_ttl),
        (Some(2), None)
    );
}

#[test]
fn other_multi_hop_values_are_invalid_input_naming_the_key() {
    for value in ["yes", "True", "1"] {
        let mut node = node_from_yaml(ONE_PEER).unwrap();
        node.annotations.insert(
            "cherryservers.com/bgp-peers-0-peer-multi-hop".into(),
            value.into(),
        );
        let err = discover_with(&[CHERRY], &node).unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains("cherryservers.com/bgp-peers-0-peer-multi-hop")),
            "{value}: {err}"
        );
    }
}

#[test]
fn every_index_is_read_and_stale_duplicates_count_once() {
    // A region that shrank leaves a stale set behind (the CCM never removes keys); indices are
    // not contiguous either: 0 and 2 here.
    let mut node = node_from_yaml(PARTIAL).unwrap();
    for (field, value) in [
        ("node-asn", "65012"),
        ("peer-asn", "16125"),
        ("peer-ip", "203.0.113.9"),
    ] {
        node.annotations.insert(
            format!("cherryservers.com/bgp-peers-2-{field}"),
            value.into(),
        );
    }
    for (field, value) in [
        ("node-asn", "65012"),
        ("peer-asn", "16125"),
        ("peer-ip", "203.0.113.122"),
    ] {
        node.annotations.insert(
            format!("cherryservers.com/bgp-peers-3-{field}"),
            value.into(),
        );
    }
    node.annotations
        .retain(|k, _| !k.starts_with("cherryservers.com/bgp-peers-1-"));
    let addresses: Vec<String> = discover_with(&[CHERRY], &node)
        .unwrap()
        .iter()
        .map(|p| p.peer_address.to_string())
        .collect();
    assert_eq!(addresses, ["203.0.113.122", "203.0.113.9"]);
}

#[test]
fn admin_added_bgp_pass_is_decoded_and_bad_values_name_the_key() {
    let mut node = node_from_yaml(ONE_PEER).unwrap();
    node.annotations.insert(
        "cherryservers.com/bgp-peers-0-bgp-pass".into(),
        "RXhhbXBsZVBhc3MxMjM=".into(),
    );
    let peers = discover_with(&[CHERRY], &node).unwrap();
    assert_eq!(
        peers[0].password.as_ref().map(|p| p.expose()),
        Some("ExamplePass123")
    );
    for (key, value) in [
        ("cherryservers.com/bgp-peers-0-bgp-pass", "not base64!"),
        ("cherryservers.com/bgp-peers-0-src-ip", "198.51.100"),
        ("cherryservers.com/bgp-peers-0-peer-asn", "AS16125"),
    ] {
        let mut bad = node_from_yaml(ONE_PEER).unwrap();
        bad.annotations.insert(key.into(), value.into());
        let err = discover_with(&[CHERRY], &bad).unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains(key)),
            "{key}: {err}"
        );
    }
}

#[test]
fn unannotated_or_half_annotated_nodes_are_not_ready() {
    let mut bare = node_from_yaml(ONE_PEER).unwrap();
    bare.annotations
        .retain(|k, _| !k.starts_with("cherryservers.com/"));
    assert!(matches!(
        discover_with(&[CHERRY], &bare),
        Err(ProviderError::NotReady(_))
    ));
    let mut partial = node_from_yaml(ONE_PEER).unwrap();
    partial
        .annotations
        .remove("cherryservers.com/bgp-peers-0-node-asn");
    let err = discover_with(&[CHERRY], &partial).unwrap_err();
    assert!(
        matches!(&err, ProviderError::NotReady(m) if m.contains("cherryservers.com/bgp-peers-0-node-asn")),
        "{err}"
    );
}

#[test]
fn the_default_prefix_does_not_read_cherry_keys() {
    assert!(matches!(
        discover_with(&[], &node_from_yaml(TWO_PEERS).unwrap()),
        Err(ProviderError::NotReady(_))
    ));
}

#[test]
fn peer_multi_hop_is_honoured_with_any_prefix() {
    // Equinix's CCM never writes it, but an explicit value wins over the address rule.
    let node = NodeContext {
        node_name: "n1".into(),
        annotations: [
            ("metal.equinix.com/bgp-peers-0-node-asn", "65000"),
            ("metal.equinix.com/bgp-peers-0-peer-asn", "65530"),
            ("metal.equinix.com/bgp-peers-0-peer-ip", "10.99.40.130"),
            ("metal.equinix.com/bgp-peers-0-peer-multi-hop", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        ..NodeContext::default()
    };
    let peers = discover_with(&[], &node).unwrap();
    assert_eq!((peers[0].multihop_ttl, peers[0].route_via), (Some(2), None));
}
