//! The provider against the metadata fixture, through a mock HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use equinix_metadata::{DEFAULT_METADATA_URL, EquinixMetadata};
use herald_sdk::metadata::{HostDeclaration, ProviderMetadata};
use herald_sdk::testing::MockHttp;
use herald_sdk::{
    BgpPeer, Config, Discovery, HttpError, NodeContext, Password, Provider, ProviderError,
};

const METADATA: &str = include_str!("fixtures/metadata.json");

fn node() -> NodeContext {
    NodeContext {
        node_name: "k8s-cp-1".into(),
        ..NodeContext::default()
    }
}

fn discover_with(
    config: &[(&str, &str)],
    http: &dyn herald_sdk::HttpClient,
) -> Result<Discovery, ProviderError> {
    let mut provider = EquinixMetadata::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    provider.discover(&node(), http)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn with_neighbors(neighbors: serde_json::Value) -> String {
    let mut document: serde_json::Value = serde_json::from_str(METADATA).unwrap();
    document["bgp_neighbors"] = neighbors;
    document.to_string()
}

#[test]
fn fixture_gives_every_peer_of_both_families() {
    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, METADATA);
    let found = discover_with(&[], &http).unwrap();

    let v4 = |address: &str| BgpPeer {
        source_address: Some(ip("10.70.17.9")),
        password: Some(Password::new("ExamplePass123")),
        multihop_ttl: Some(2),
        route_via: Some(ip("10.70.17.8")),
        ..BgpPeer::new(ip(address), 65530, 65000)
    };
    let v6 = |address: &str| BgpPeer {
        source_address: Some(ip("2001:db8:4d1:1800::3")),
        password: Some(Password::new("ExamplePass123")),
        multihop_ttl: Some(2),
        ..BgpPeer::new(ip(address), 65530, 65000)
    };
    assert_eq!(
        found.peers,
        vec![
            v4("169.254.255.1"),
            v4("169.254.255.2"),
            v6("fc00::e"),
            v6("fc00::f")
        ]
    );
    assert_eq!(found.refresh_after_seconds, Some(300));
    assert_eq!(
        found.peers[2].peer_address.to_string(),
        "fc00::e",
        "expanded IPv6 is normalised"
    );

    let requests = http.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].url.as_str()),
        ("GET", DEFAULT_METADATA_URL)
    );
}

#[test]
fn configured_url_is_used() {
    let url = "http://127.0.0.1:8080/metadata";
    let http = MockHttp::new().with_json(url, 200, METADATA);
    assert_eq!(
        discover_with(&[("metadata-url", url)], &http)
            .unwrap()
            .peers
            .len(),
        4
    );
    assert_eq!(http.urls(), [url]);
}

#[test]
fn nulls_and_disabled_md5() {
    let body = with_neighbors(serde_json::json!([{
        "address_family": 4, "customer_as": 65000, "customer_ip": null, "md5_enabled": false,
        "md5_password": null, "multihop": null, "peer_as": 65530, "peer_ips": ["10.99.40.130"],
        "routes_in": null, "routes_out": null
    }]));
    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, body);
    let peers = discover_with(&[], &http).unwrap().peers;
    assert_eq!(peers, vec![BgpPeer::new(ip("10.99.40.130"), 65530, 65000)]);
}

#[test]
fn missing_network_leaves_multihop_peers_without_route() {
    let mut document: serde_json::Value = serde_json::from_str(METADATA).unwrap();
    document["network"] = serde_json::Value::Null;
    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, document.to_string());
    let peers = discover_with(&[], &http).unwrap().peers;
    assert!(
        peers
            .iter()
            .all(|p| p.route_via.is_none() && p.multihop_ttl == Some(2))
    );
}

#[test]
fn no_neighbours_yet_is_not_ready() {
    for neighbors in [
        serde_json::json!([]),
        serde_json::Value::Null,
        serde_json::json!([{"address_family": 4, "peer_ips": []}]),
    ] {
        let http =
            MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, with_neighbors(neighbors.clone()));
        let err = discover_with(&[], &http).unwrap_err();
        assert!(
            matches!(&err, ProviderError::NotReady(m) if m.contains("no BGP neighbours")),
            "{neighbors}: {err}"
        );
    }
    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, r#"{"id":"x"}"#);
    assert!(matches!(
        discover_with(&[], &http),
        Err(ProviderError::NotReady(_))
    ));
}

#[test]
fn non_json_body_is_invalid_input_naming_the_url() {
    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, "<html>not metadata</html>");
    let err = discover_with(&[], &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains(DEFAULT_METADATA_URL)),
        "{err}"
    );
}

#[test]
fn bad_neighbour_is_invalid_input_naming_the_field() {
    let body = with_neighbors(
        serde_json::json!([{"address_family": 6, "customer_as": 65000, "peer_as": 65530, "peer_ips": ["fc00::zz"]}]),
    );
    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, body);
    let err = discover_with(&[], &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("bgp_neighbors[0].peer_ips[0]")),
        "{err}"
    );
}

#[test]
fn http_failures_map_to_kinds() {
    let http = MockHttp::new().with_json(
        DEFAULT_METADATA_URL,
        404,
        r#"{"message":"resource not found"}"#,
    );
    let err = discover_with(&[], &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("404") && m.contains("resource not found")),
        "{err}"
    );

    let http = MockHttp::new().with_json(DEFAULT_METADATA_URL, 503, "");
    assert!(matches!(
        discover_with(&[], &http),
        Err(ProviderError::Unreachable(_))
    ));

    let http = MockHttp::new().with_error(
        DEFAULT_METADATA_URL,
        HttpError::Transport("connection refused".into()),
    );
    assert!(matches!(
        discover_with(&[], &http),
        Err(ProviderError::Unreachable(_))
    ));

    let denied = HttpError::Denied {
        authority: "metadata.platformequinix.com:443".into(),
        detail: "not granted".into(),
    };
    let http = MockHttp::new().with_error(DEFAULT_METADATA_URL, denied);
    let err = discover_with(&[], &http).unwrap_err();
    assert!(err.to_string().contains("denied by host"), "{err}");
}

#[test]
fn bad_config_is_invalid_input() {
    for config in [
        [("metadata-url", "ftp://x")],
        [("multihop-ttl", "x")],
        [("api-url", "https://x")],
    ] {
        let err = EquinixMetadata::default()
            .configure(&Config::from_pairs(config))
            .unwrap_err();
        assert!(
            matches!(err, ProviderError::InvalidInput(_)),
            "{config:?}: {err}"
        );
    }
}

#[test]
fn metadata_declares_the_metadata_url_host() {
    let metadata =
        ProviderMetadata::parse(equinix_metadata::PROVIDER_METADATA_JSON.as_bytes()).unwrap();
    assert_eq!(metadata.name, "equinix-metadata");
    assert_eq!(
        metadata.hosts,
        vec![HostDeclaration::FromConfig("metadata-url".into())]
    );
    assert_eq!(
        metadata.config[0].default.as_deref(),
        Some(DEFAULT_METADATA_URL)
    );
}

/// `recorded-run.json` was written by a real run of the component:
/// `herald provider run equinix-metadata --node <node> --config metadata-url=http://127.0.0.1:18093/metadata
/// --allow-host 127.0.0.1:18093 --record recorded-run.json` against `python3 -m http.server` serving
/// `metadata.json`. The SDK's `Replay` answers the native provider from the same file.
#[test]
fn a_host_recording_replays_in_native_tests() {
    let http = herald_sdk::testing::Replay::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/recorded-run.json"
    ))
    .unwrap();
    let replayed = discover_with(
        &[("metadata-url", "http://127.0.0.1:18093/metadata")],
        &http,
    )
    .unwrap();
    let canned = MockHttp::new().with_json(DEFAULT_METADATA_URL, 200, METADATA);
    assert_eq!(replayed, discover_with(&[], &canned).unwrap());
    assert_eq!(http.requests().len(), 1);

    let err =
        discover_with(&[("metadata-url", "http://127.0.0.1:18093/other")], &http).unwrap_err();
    assert!(
        err.to_string()
            .contains("no recorded exchange for GET http://127.0.0.1:18093/other"),
        "{err}"
    );
}
