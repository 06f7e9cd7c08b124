//! The built `default-gateway` component under the real runtime: the network facts in the node
//! context reach it through WIT 0.2.0, and its peers and errors come back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_runtime::{
    AddressFamily, BgpPeer, CallError, DefaultGateway, Grants, LoadedProvider, NetworkInterface,
    NodeContext, NodeNetwork, Password, ProviderConfig, ProviderErrorKind, Runtime, RuntimeConfig,
};

const PASSWORD: &str = "Gateway-MD5-Secret-7";

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
            .load(Path::new(herald_artifacts::DEFAULT_GATEWAY_COMPONENT))
            .unwrap()
    })
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn gateway(address: &str, interface: &str, metric: u32) -> DefaultGateway {
    DefaultGateway {
        family: AddressFamily::of(ip(address)),
        gateway: ip(address),
        interface: Some(interface.into()),
        metric,
    }
}

/// A dual-stack node: eth0 with 192.0.2.2/24 and 2001:db8:1::2/64 behind .1 and ::1.
fn node(default_gateways: Vec<DefaultGateway>) -> NodeContext {
    NodeContext {
        node_name: "k8s-node-1".into(),
        network: NodeNetwork {
            interfaces: vec![NetworkInterface {
                name: "eth0".into(),
                up: true,
                addresses: ["192.0.2.2/24", "2001:db8:1::2/64", "fe80::2/64"]
                    .iter()
                    .map(|cidr| cidr.parse().unwrap())
                    .collect(),
            }],
            default_gateways,
        },
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

fn peer(address: &str, source: &str) -> BgpPeer {
    BgpPeer {
        peer_address: ip(address),
        peer_asn: 65530,
        local_asn: 65000,
        source_address: Some(ip(source)),
        password: Some(Password::new(PASSWORD)),
        multihop_ttl: None,
        route_via: None,
        hold_time_seconds: None,
        port: None,
        keepalive_seconds: None,
    }
}

#[test]
fn metadata_is_readable_from_the_component() {
    let metadata = provider().metadata();
    assert_eq!(metadata.name, "default-gateway");
    assert_eq!(metadata.wit_version, herald_sdk::WIT_VERSION);
    assert!(metadata.hosts.is_empty());
    assert!(metadata.config_key("password").is_some_and(|k| k.secret));
    assert!(metadata.config_key("peer-asn").is_some_and(|k| k.required));
}

#[tokio::test]
async fn the_default_gateways_of_both_families_are_the_peers() {
    let config = [
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", "ipv4,ipv6"),
        ("password", PASSWORD),
    ];
    let node = node(vec![
        gateway("192.0.2.1", "eth0", 0),
        gateway("2001:db8:1::1", "eth0", 1024),
    ]);
    let found = provider()
        .discover(
            &ProviderConfig::from_pairs(config.iter().copied()),
            &Grants::none(),
            &node,
        )
        .await
        .unwrap();
    assert_eq!(
        found.peers,
        vec![
            peer("192.0.2.1", "192.0.2.2"),
            peer("2001:db8:1::1", "2001:db8:1::2")
        ]
    );
    assert_eq!(found.refresh_after, Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn no_default_route_is_not_ready() {
    let config = [
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", "ipv6"),
    ];
    let node = node(vec![gateway("192.0.2.1", "eth0", 0)]);
    match discover(&config, &node).await {
        Err(CallError::Provider(error)) => {
            assert_eq!(error.kind, ProviderErrorKind::NotReady);
            assert!(
                error
                    .message
                    .contains("no default route for ipv6 in this node's network namespace"),
                "{}",
                error.message
            );
        }
        other => panic!("expected not-ready, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_asn_is_invalid_input() {
    let node = node(vec![gateway("192.0.2.1", "eth0", 0)]);
    match discover(&[("peer-asn", "AS1"), ("local-asn", "65000")], &node).await {
        Err(CallError::Provider(error)) => {
            assert_eq!(error.kind, ProviderErrorKind::InvalidInput);
            assert!(error.message.contains("`peer-asn`"), "{}", error.message);
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
}
