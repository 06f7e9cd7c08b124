//! The built `kube-router-annotations` component under the real runtime, on the fixture nodes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_runtime::{
    BgpPeer, CallError, Grants, LoadedProvider, NodeContext, Password, ProviderConfig,
    ProviderErrorKind, Runtime, RuntimeConfig,
};

const PEERS: &str = include_str!("fixtures/node-peers-annotation.yaml");
const DEPRECATED: &str = include_str!("fixtures/node-deprecated-annotations.yaml");
const BOTH: &str = include_str!("fixtures/node-both-formats.yaml");
const INVALID_ASN: &str = include_str!("fixtures/node-invalid-asn.yaml");

fn provider() -> &'static LoadedProvider {
    static PROVIDER: OnceLock<LoadedProvider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let path = Path::new(herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT);
        assert!(
            path.is_file(),
            "{} is missing: kube-router-annotations did not build for wasm32-wasip2 (see the herald-artifacts warnings)",
            path.display()
        );
        let runtime = Runtime::new(RuntimeConfig {
            call_deadline: Duration::from_secs(10),
            ..RuntimeConfig::default()
        })
        .unwrap();
        runtime.load(path).unwrap()
    })
}

/// The fixture as the host passes it (the SDK's loader reads `kubectl get node -o yaml`).
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

fn peer(address: &str, asn: u32) -> BgpPeer {
    BgpPeer {
        peer_address: ip(address),
        peer_asn: asn,
        local_asn: 65100,
        source_address: None,
        password: None,
        multihop_ttl: None,
        route_via: None,
        hold_time_seconds: None,
        port: None,
        keepalive_seconds: None,
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn metadata_is_readable_from_the_component() {
    let metadata = provider().metadata();
    assert_eq!(metadata.name, "kube-router-annotations");
    assert!(metadata.hosts.is_empty());
    assert_eq!(
        metadata
            .config_key("cluster-asn")
            .and_then(|k| k.default.as_deref()),
        Some("64512")
    );
}

#[tokio::test]
async fn every_fixture_node_gives_its_peers() {
    let password = Some(Password::new("ExamplePass123"));
    let cases = [
        (
            PEERS,
            vec![
                BgpPeer {
                    source_address: Some(ip("192.0.2.10")),
                    password: password.clone(),
                    ..peer("192.0.2.1", 65000)
                },
                BgpPeer {
                    port: Some(1790),
                    ..peer("192.0.2.2", 65000)
                },
            ],
        ),
        (
            DEPRECATED,
            vec![
                BgpPeer {
                    source_address: Some(ip("192.0.2.11")),
                    password,
                    port: Some(179),
                    ..peer("192.0.2.1", 65000)
                },
                BgpPeer {
                    port: Some(1790),
                    ..peer("192.0.2.2", 65000)
                },
            ],
        ),
        (BOTH, vec![peer("192.0.2.5", 65005)]),
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
async fn a_reserved_asn_is_invalid_input_naming_the_annotation() {
    match discover(&[], &node(INVALID_ASN)).await {
        Err(CallError::Provider(error)) => {
            assert_eq!(error.kind, ProviderErrorKind::InvalidInput);
            assert!(
                error.message.contains("kube-router.io/peers[1].remoteasn")
                    && error.message.contains("64500"),
                "{}",
                error.message
            );
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_annotations_are_not_ready_and_config_applies() {
    let bare = NodeContext {
        node_name: "bare".into(),
        ..NodeContext::default()
    };
    assert!(discover(&[], &bare).await.unwrap_err().is_not_ready());

    let mut without_asn = node(BOTH);
    without_asn.annotations.remove("kube-router.io/node.asn");
    let peers = discover(
        &[
            ("cluster-asn", "65010"),
            ("multihop-ttl", "3"),
            ("hold-time-seconds", "9"),
        ],
        &without_asn,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            peers[0].local_asn,
            peers[0].multihop_ttl,
            peers[0].hold_time_seconds
        ),
        (65010, Some(3), Some(9))
    );
}
