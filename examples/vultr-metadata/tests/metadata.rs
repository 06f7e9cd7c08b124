//! The provider natively against the Vultr metadata fixtures (copied from the reference set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use herald_sdk::http::HttpError;
use herald_sdk::metadata::{HostDeclaration, ProviderMetadata};
use herald_sdk::testing::{MockHttp, node_from_yaml};
use herald_sdk::{BgpPeer, Config, Discovery, NodeContext, Password, Provider, ProviderError};
use vultr_metadata::VultrMetadata;

const V4_ONLY: &str = include_str!("fixtures/metadata-v4-only.json");
const V4_V6: &str = include_str!("fixtures/metadata-v4-v6.json");
const NO_BGP: &str = include_str!("fixtures/metadata-no-bgp.json");
const BGP_EMPTY: &str = include_str!("fixtures/metadata-bgp-empty.json");
const NODE: &str = include_str!("fixtures/node-k8s-w-2.yaml");

const URL: &str = "http://169.254.169.254/v1.json";
const PASSWORD: &str = "ExampleVultrBgpPass";

fn node() -> NodeContext {
    NodeContext {
        node_name: "k8s-w-1".into(),
        ..NodeContext::default()
    }
}

fn discover_with(
    config: &[(&str, &str)],
    node: &NodeContext,
    http: &MockHttp,
) -> Result<Discovery, ProviderError> {
    let mut provider = VultrMetadata::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    provider.discover(node, http)
}

fn discover(body: &str) -> Result<Discovery, ProviderError> {
    discover_with(&[], &node(), &MockHttp::new().with_json(URL, 200, body))
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn vultr_peer(address: &str, local_asn: u32, source: &str) -> BgpPeer {
    BgpPeer {
        source_address: Some(ip(source)),
        multihop_ttl: Some(2),
        ..BgpPeer::new(ip(address), 64515, local_asn)
    }
}

#[test]
fn ipv4_only_fixture_gives_one_peer() {
    let http = MockHttp::new().with_json(URL, 200, V4_ONLY);
    let found = discover_with(&[], &node(), &http).unwrap();
    assert_eq!(
        found,
        Discovery {
            peers: vec![vultr_peer("169.254.169.254", 65512, "192.0.2.20")],
            refresh_after_seconds: Some(300),
        }
    );
    let requests = http.requests();
    assert_eq!(http.urls(), [URL]);
    assert_eq!(requests[0].header("accept"), Some("application/json"));
}

#[test]
fn dual_stack_fixture_gives_two_peers_with_normalised_ipv6() {
    let peers = discover(V4_V6).unwrap().peers;
    assert_eq!(
        peers,
        [
            vultr_peer("169.254.169.254", 65513, "192.0.2.21"),
            vultr_peer(
                "2001:19f0:ffff::1",
                65513,
                "2001:db8:5400:1c2b:5400:4ff:fe6b:6f2b"
            ),
        ]
    );
    // Printed normalised, whatever Vultr wrote.
    assert_eq!(
        peers[1].source_address.unwrap().to_string(),
        "2001:db8:5400:1c2b:5400:4ff:fe6b:6f2b"
    );
}

#[test]
fn bgp_off_is_not_ready() {
    for body in [NO_BGP, BGP_EMPTY] {
        let err = discover(body).unwrap_err();
        assert!(
            matches!(&err, ProviderError::NotReady(m) if m.contains("BGP is not enabled")),
            "{err}"
        );
    }
}

#[test]
fn password_and_ttl_come_from_config() {
    let http = MockHttp::new().with_json(URL, 200, V4_V6);
    let peers = discover_with(
        &[("password", PASSWORD), ("multihop-ttl", "5")],
        &node(),
        &http,
    )
    .unwrap()
    .peers;
    assert!(
        peers
            .iter()
            .all(|p| p.password == Some(Password::new(PASSWORD)) && p.multihop_ttl == Some(5))
    );
    assert!(!format!("{peers:?}").contains(PASSWORD));
}

#[test]
fn metadata_url_is_configurable() {
    let mirror = "http://127.0.0.1:8080/v1.json";
    let http = MockHttp::new().with_json(mirror, 200, V4_ONLY);
    assert_eq!(
        discover_with(&[("metadata-url", mirror)], &node(), &http)
            .unwrap()
            .peers
            .len(),
        1
    );
    assert_eq!(http.urls(), [mirror]);
}

#[test]
fn bad_config_is_invalid_input_without_the_secret() {
    let long = "x".repeat(81);
    for config in [
        vec![("multihop-ttl", "0")],
        vec![("multihop-ttl", "256")],
        vec![("metadata-url", "169.254.169.254/v1.json")],
        vec![("passwrd", "x")],
        vec![("password", long.as_str())],
    ] {
        let mut provider = VultrMetadata::default();
        let err = provider
            .configure(&Config::from_pairs(config.clone()))
            .unwrap_err();
        assert!(
            matches!(err, ProviderError::InvalidInput(_)),
            "{config:?}: {err}"
        );
        assert!(!err.to_string().contains(&long), "{err}");
    }
    let mut provider = VultrMetadata::default();
    let exactly_80 = "y".repeat(80);
    provider
        .configure(&Config::from_pairs([("password", exactly_80.as_str())]))
        .unwrap();
}

#[test]
fn http_outcomes_map_to_kinds() {
    // 404: likely another cloud's metadata service, never "BGP off".
    let http = MockHttp::new().with_json(URL, 404, "Not Found");
    let err = discover_with(&[], &node(), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("404") && m.contains("Vultr")),
        "{err}"
    );
    for status in [500, 503] {
        let http = MockHttp::new().with_json(URL, status, "");
        let err = discover_with(&[], &node(), &http).unwrap_err();
        assert!(matches!(err, ProviderError::Unreachable(_)), "{err}");
    }
    let http = MockHttp::new().with_json(URL, 405, "");
    assert!(matches!(
        discover_with(&[], &node(), &http),
        Err(ProviderError::InvalidInput(_))
    ));
    let err = discover("<html>captive portal</html>").unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains(URL)),
        "{err}"
    );
    let denied = MockHttp::new().with_error(
        URL,
        HttpError::Denied {
            authority: "169.254.169.254:80".into(),
            detail: "not granted".into(),
        },
    );
    assert!(matches!(
        discover_with(&[], &node(), &denied),
        Err(ProviderError::Unauthorized(_))
    ));
    let down = MockHttp::new(); // transport error
    assert!(matches!(
        discover_with(&[], &node(), &down),
        Err(ProviderError::Unreachable(_))
    ));
}

#[test]
fn field_errors_name_the_field_and_the_url() {
    let numeric_asn = V4_ONLY.replace(r#""my-asn": "65512""#, r#""my-asn": 65512"#);
    let half_ipv6 = V4_V6.replace(
        r#""my-address": "2001:0db8:5400:1c2b:5400:04ff:fe6b:6f2b""#,
        r#""my-address": """#,
    );
    let bad_peer = V4_ONLY.replace(r#""peer-asn": "64515""#, r#""peer-asn": "AS64515""#);
    for (body, field) in [
        (numeric_asn, "bgp.ipv4.my-asn"),
        (half_ipv6, "bgp.ipv6.my-address"),
        (bad_peer, "bgp.ipv4.peer-asn"),
    ] {
        let err = discover(&body).unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains(field) && m.contains(URL)),
            "{field}: {err}"
        );
    }
}

#[test]
fn provider_id_must_name_the_metadata_instance() {
    let node = node_from_yaml(NODE).unwrap();
    let http = MockHttp::new().with_json(URL, 200, V4_V6);
    assert_eq!(discover_with(&[], &node, &http).unwrap().peers.len(), 2);

    // Same Node, metadata of another instance (instanceid and hostname do not count).
    let http = MockHttp::new().with_json(URL, 200, V4_ONLY);
    let err = discover_with(&[], &node, &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("instance-v2-id")),
        "{err}"
    );

    // Upper-case UUIDs and non-Vultr providerIDs are fine.
    let mut upper = node.clone();
    upper.provider_id = node.provider_id.as_deref().map(str::to_uppercase);
    upper.provider_id = upper
        .provider_id
        .map(|id| id.replace("VULTR://", "vultr://"));
    let http = MockHttp::new().with_json(URL, 200, V4_V6);
    assert!(discover_with(&[], &upper, &http).is_ok());
    let mut other = node;
    other.provider_id = Some("kind://docker/kind/k8s-w-2".into());
    let http = MockHttp::new().with_json(URL, 200, V4_ONLY);
    assert!(discover_with(&[], &other, &http).is_ok());
}

#[test]
fn metadata_declares_the_metadata_url_and_a_secret_password() {
    let metadata =
        ProviderMetadata::parse(vultr_metadata::PROVIDER_METADATA_JSON.as_bytes()).unwrap();
    assert_eq!(metadata.name, "vultr-metadata");
    assert_eq!(
        metadata.hosts,
        vec![HostDeclaration::FromConfig("metadata-url".into())]
    );
    let keys: Vec<(&str, bool, Option<&str>)> = metadata
        .config
        .iter()
        .map(|k| (k.key.as_str(), k.secret, k.default.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            (
                "metadata-url",
                false,
                Some("http://169.254.169.254/v1.json")
            ),
            ("password", true, None),
            ("multihop-ttl", false, Some("2")),
        ]
    );
}
