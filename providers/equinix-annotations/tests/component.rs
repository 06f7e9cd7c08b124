//! The built `equinix-annotations` component under the real runtime, on the fixture nodes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_runtime::{
    BgpPeer, CallError, Grants, LoadedProvider, NodeContext, Password, ProviderConfig,
    ProviderErrorKind, Runtime, RuntimeConfig,
};

const LEGACY: &str = include_str!("fixtures/node-annotations-legacy.yaml");
const V3_3: &str = include_str!("fixtures/node-annotations-v3.3.yaml");
const MIXED: &str = include_str!("fixtures/node-annotations-upgraded-mixed.yaml");
const PACKET_V1: &str = include_str!("fixtures/node-annotations-packet-v1.yaml");
const CHERRY_TWO_PEERS: &str = include_str!("fixtures/cherry/node-two-peers.yaml");
const CHERRY_ONE_PEER: &str = include_str!("fixtures/cherry/node-one-peer.yaml");
const CHERRY_PARTIAL: &str = include_str!("fixtures/cherry/node-partial-pre-v1.35.3.yaml");

/// One compiled component per test binary.
fn provider() -> &'static LoadedProvider {
    static PROVIDER: OnceLock<LoadedProvider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        // A generous deadline: the machine running the tests may be busy; limits are tested elsewhere.
        let runtime = Runtime::new(RuntimeConfig {
            call_deadline: Duration::from_secs(10),
            ..RuntimeConfig::default()
        })
        .unwrap();
        runtime
            .load(Path::new(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT))
            .unwrap()
    })
}

fn node(yaml: &str) -> NodeContext {
    let node = herald_sdk::testing::node_from_yaml(yaml).unwrap();
    NodeContext {
        node_name: node.node_name,
        provider_id: node.provider_id,
        annotations: node.annotations,
        labels: node.labels,
        ..NodeContext::default()
    }
}

async fn discover(config: &[(&str, &str)], node: &NodeContext) -> Result<Vec<BgpPeer>, CallError> {
    let config = ProviderConfig::from_pairs(config.iter().copied());
    provider()
        .discover(&config, &Grants::none(), node)
        .await
        .map(|d| d.peers)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn peer(
    address: &str,
    source: Option<&str>,
    password: Option<&str>,
    route_via: Option<&str>,
) -> BgpPeer {
    BgpPeer {
        peer_address: ip(address),
        peer_asn: 65530,
        local_asn: 65000,
        source_address: source.map(ip),
        password: password.map(Password::new),
        multihop_ttl: Some(2),
        route_via: route_via.map(ip),
        hold_time_seconds: None,
        port: None,
        keepalive_seconds: None,
    }
}

fn provider_error(result: Result<Vec<BgpPeer>, CallError>) -> (ProviderErrorKind, String) {
    match result {
        Err(CallError::Provider(error)) => (error.kind, error.message),
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[test]
fn metadata_is_readable_from_the_component() {
    let metadata = provider().metadata();
    assert_eq!(metadata.name, "equinix-annotations");
    assert_eq!(metadata.wit_version, herald_sdk::WIT_VERSION);
    assert!(metadata.hosts.is_empty());
    assert_eq!(
        metadata
            .config_key("prefix")
            .and_then(|k| k.default.as_deref()),
        Some("metal.equinix.com")
    );
}

#[tokio::test]
async fn every_fixture_node_gives_its_peers() {
    let cp1 = |address| {
        peer(
            address,
            Some("10.70.17.9"),
            Some("ExamplePass123"),
            Some("10.70.17.8"),
        )
    };
    let cp2 = |address| peer(address, Some("10.70.17.11"), None, Some("10.70.17.10"));
    let worker = |address| peer(address, None, None, None);
    let cases = [
        (LEGACY, vec![cp1("169.254.255.1"), cp1("169.254.255.2")]),
        (V3_3, vec![cp1("169.254.255.1"), cp1("169.254.255.2")]),
        (MIXED, vec![cp2("169.254.255.1"), cp2("169.254.255.2")]),
        (
            PACKET_V1,
            vec![worker("169.254.255.1"), worker("169.254.255.2")],
        ),
    ];
    for (yaml, expected) in cases {
        let node = node(yaml);
        assert_eq!(
            discover(&[], &node).await.unwrap(),
            expected,
            "node {}",
            node.node_name
        );
    }
}

#[tokio::test]
async fn config_reaches_the_provider() {
    let peers = discover(
        &[("private-gateway", "10.99.0.2"), ("multihop-ttl", "4")],
        &node(PACKET_V1),
    )
    .await
    .unwrap();
    assert!(
        peers
            .iter()
            .all(|p| p.route_via == Some(ip("10.99.0.2")) && p.multihop_ttl == Some(4))
    );

    let mut custom = node(V3_3);
    custom.annotations = custom
        .annotations
        .into_iter()
        .map(|(k, v)| (k.replace("metal.equinix.com/", "example.net/"), v))
        .collect();
    assert_eq!(
        discover(&[("prefix", "example.net")], &custom)
            .await
            .unwrap()
            .len(),
        2
    );
    let (kind, _) = provider_error(discover(&[], &custom).await);
    assert_eq!(kind, ProviderErrorKind::NotReady);
}

#[tokio::test]
async fn missing_keys_are_not_ready() {
    let mut partial = node(V3_3);
    partial
        .annotations
        .remove("metal.equinix.com/bgp-peers-1-peer-asn");
    let (kind, message) = provider_error(discover(&[], &partial).await);
    assert_eq!(kind, ProviderErrorKind::NotReady);
    assert!(
        message.contains("metal.equinix.com/bgp-peers-1-peer-asn"),
        "{message}"
    );

    let bare = NodeContext {
        node_name: "bare".into(),
        ..NodeContext::default()
    };
    assert!(discover(&[], &bare).await.unwrap_err().is_not_ready());
}

#[tokio::test]
async fn bad_values_are_invalid_input_naming_the_key() {
    for (key, value) in [
        ("metal.equinix.com/bgp-peers-0-node-asn", "sixty-five"),
        ("metal.equinix.com/bgp-peers-0-peer-ip", "169.254.255"),
        ("metal.equinix.com/bgp-peers-0-bgp-pass", "***"),
    ] {
        let mut bad = node(V3_3);
        bad.annotations.insert(key.into(), value.into());
        let (kind, message) = provider_error(discover(&[], &bad).await);
        assert_eq!(kind, ProviderErrorKind::InvalidInput, "{key}");
        assert!(message.contains(key), "{message}");
    }
}

#[tokio::test]
async fn bad_config_is_rejected() {
    let err = discover(&[("multihop-ttl", "0")], &node(V3_3))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Provider(e) if e.kind == ProviderErrorKind::InvalidInput),
        "{err}"
    );
}

#[tokio::test]
async fn cherry_servers_nodes_give_multihop_peers() {
    let cherry = |address: &str, local_asn: u32, source: Option<&str>| BgpPeer {
        peer_address: ip(address),
        peer_asn: 16125,
        local_asn,
        source_address: source.map(ip),
        password: None,
        multihop_ttl: Some(2),
        route_via: None,
        hold_time_seconds: None,
        port: None,
        keepalive_seconds: None,
    };
    let cases = [
        (
            CHERRY_TWO_PEERS,
            vec![
                cherry("203.0.113.122", 65010, Some("198.51.100.17")),
                cherry("203.0.113.123", 65010, Some("198.51.100.17")),
            ],
        ),
        (
            CHERRY_ONE_PEER,
            vec![cherry("203.0.113.130", 65011, Some("198.51.100.18"))],
        ),
        // Older CCM: no src-ip, no peer-multi-hop; still multihop.
        (
            CHERRY_PARTIAL,
            vec![
                cherry("203.0.113.122", 65012, None),
                cherry("203.0.113.123", 65012, None),
            ],
        ),
    ];
    for (yaml, expected) in cases {
        let node = node(yaml);
        assert_eq!(
            discover(&[("prefix", "cherryservers.com")], &node)
                .await
                .unwrap(),
            expected,
            "node {}",
            node.node_name
        );
    }

    let mut bad = node(CHERRY_ONE_PEER);
    bad.annotations.insert(
        "cherryservers.com/bgp-peers-0-peer-multi-hop".into(),
        "maybe".into(),
    );
    let (kind, message) = provider_error(discover(&[("prefix", "cherryservers.com")], &bad).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains("cherryservers.com/bgp-peers-0-peer-multi-hop"),
        "{message}"
    );
}
