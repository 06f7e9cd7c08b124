//! The provider against the Metal API fixtures, through a mock HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use equinix_api::{DEFAULT_API_URL, EquinixApi, MAX_PAGES};
use herald_sdk::metadata::{HostDeclaration, ProviderMetadata};
use herald_sdk::testing::MockHttp;
use herald_sdk::{
    BgpPeer, Config, Discovery, HttpError, NodeContext, Password, Provider, ProviderError,
};

const DEVICE: &str = include_str!("fixtures/api-device.json");
const LIST_PAGE_1: &str = include_str!("fixtures/api-device-list.json");
const LIST_PAGE_2: &str = include_str!("fixtures/api-device-list-page2.json");
const NEIGHBORS: &str = include_str!("fixtures/api-bgp-neighbors.json");
const NEIGHBORS_LEGACY: &str = include_str!("fixtures/api-bgp-neighbors-legacy-facility.json");
const ERROR_401: &str = include_str!("fixtures/api-error-401.json");
const ERROR_404: &str = include_str!("fixtures/api-error-404.json");
const CLOUD_SA: &str = include_str!("fixtures/cloud-sa.json");
const CLOUD_SA_FULL: &str = include_str!("fixtures/cloud-sa-full.json");

const TOKEN: &str = "FakeMetalApiTokenDoNotUse0000000";
const PROJECT: &str = "f7a5ff27-3f7e-40eb-a902-869ea8e8bab5";
const CP1: &str = "a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739";
const CP2: &str = "0ae3f642-b419-48d5-baf0-f490deb98fb3";
const WORKER: &str = "02005a7b-2d91-4cbd-81c5-f1e5f02ff4e8";

fn url(path: &str) -> String {
    format!("{DEFAULT_API_URL}{path}")
}

fn list_url(hostname: &str, page: u32) -> String {
    url(&format!(
        "/projects/{PROJECT}/devices?hostname={hostname}&page={page}&per_page=100"
    ))
}

fn neighbors_url(device: &str) -> String {
    url(&format!("/devices/{device}/bgp/neighbors"))
}

fn node(name: &str, provider_id: Option<&str>) -> NodeContext {
    NodeContext {
        node_name: name.into(),
        provider_id: provider_id.map(str::to_owned),
        ..NodeContext::default()
    }
}

fn config() -> Vec<(&'static str, &'static str)> {
    vec![("api-token", TOKEN), ("project-id", PROJECT)]
}

fn discover_with(
    config: &[(&str, &str)],
    node: &NodeContext,
    http: &MockHttp,
) -> Result<Discovery, ProviderError> {
    let mut provider = EquinixApi::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    provider.discover(node, http)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn fixture_peers(route_via: &str) -> Vec<BgpPeer> {
    let v4 = |address: &str| BgpPeer {
        source_address: Some(ip("10.70.17.9")),
        password: Some(Password::new("ExamplePass123")),
        multihop_ttl: Some(2),
        route_via: Some(ip(route_via)),
        ..BgpPeer::new(ip(address), 65530, 65000)
    };
    let v6 = |address: &str| BgpPeer {
        source_address: Some(ip("2001:db8:4d1:1800::3")),
        password: Some(Password::new("ExamplePass123")),
        multihop_ttl: Some(2),
        ..BgpPeer::new(ip(address), 65530, 65000)
    };
    vec![
        v4("169.254.255.1"),
        v4("169.254.255.2"),
        v6("fc00::e"),
        v6("fc00::f"),
    ]
}

fn by_id_http(device: &str) -> MockHttp {
    MockHttp::new()
        .with_json(&url(&format!("/devices/{device}")), 200, DEVICE)
        .with_json(&neighbors_url(device), 200, NEIGHBORS)
}

fn paged_http() -> MockHttp {
    MockHttp::new()
        .with_json(&list_url("k8s-cp-1", 1), 200, LIST_PAGE_1)
        .with_json(&list_url("k8s-cp-1", 2), 200, LIST_PAGE_2)
        .with_json(&list_url("k8s-worker-1", 1), 200, LIST_PAGE_1)
        .with_json(&list_url("k8s-worker-1", 2), 200, LIST_PAGE_2)
        .with_json(&neighbors_url(CP1), 200, NEIGHBORS)
        .with_json(&neighbors_url(WORKER), 200, NEIGHBORS)
}

#[test]
fn device_by_provider_id_then_every_neighbour() {
    for provider_id in [
        format!("equinixmetal://{CP1}"),
        format!("packet://{CP1}"),
        CP1.to_owned(),
    ] {
        let http = by_id_http(CP1);
        let found = discover_with(&config(), &node("k8s-cp-1", Some(&provider_id)), &http).unwrap();
        assert_eq!(found.peers, fixture_peers("10.70.17.8"), "{provider_id}");
        assert_eq!(found.refresh_after_seconds, Some(600));
        assert_eq!(
            http.urls(),
            [url(&format!("/devices/{CP1}")), neighbors_url(CP1)]
        );
        for request in http.requests() {
            assert_eq!(request.method, "GET");
            assert_eq!(request.header("X-Auth-Token"), Some(TOKEN));
            assert_eq!(request.header("Accept"), Some("application/json"));
        }
    }
}

#[test]
fn device_id_config_overrides_provider_id() {
    let http = by_id_http(CP1);
    let mut config = config();
    config.push(("device-id", CP1));
    discover_with(
        &config,
        &node("other", Some(&format!("equinixmetal://{CP2}"))),
        &http,
    )
    .unwrap();
    assert_eq!(http.urls()[0], url(&format!("/devices/{CP1}")));
}

#[test]
fn hostname_lookup_reads_all_pages() {
    let http = paged_http();
    let found = discover_with(&config(), &node("k8s-cp-1", None), &http).unwrap();
    assert_eq!(found.peers, fixture_peers("10.70.17.8"));
    assert_eq!(
        http.urls(),
        [
            list_url("k8s-cp-1", 1),
            list_url("k8s-cp-1", 2),
            neighbors_url(CP1)
        ]
    );
}

#[test]
fn hostname_lookup_finds_a_device_on_the_last_page() {
    let http = paged_http();
    let found = discover_with(&config(), &node("k8s-worker-1", None), &http).unwrap();
    // The worker's private /31 is 10.70.17.10/31: its own gateway, not the fixture device's.
    assert!(
        found.peers[..2]
            .iter()
            .all(|p| p.route_via == Some(ip("10.70.17.10")))
    );
    assert_eq!(http.urls().last().unwrap(), &neighbors_url(WORKER));
}

#[test]
fn foreign_provider_id_falls_back_to_the_hostname() {
    let http = paged_http();
    discover_with(
        &config(),
        &node("k8s-cp-1", Some("kind://docker/kind/k8s-cp-1")),
        &http,
    )
    .unwrap();
    assert_eq!(http.urls()[0], list_url("k8s-cp-1", 1));
}

#[test]
fn hostname_must_match_exactly_and_once() {
    let http = MockHttp::new()
        .with_json(&list_url("k8s-cp", 1), 200, LIST_PAGE_1)
        .with_json(&list_url("k8s-cp", 2), 200, LIST_PAGE_2);
    let err = discover_with(&config(), &node("k8s-cp", None), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("no device has that hostname")),
        "{err}"
    );

    let both_pages_say_cp1 = MockHttp::new()
        .with_json(&list_url("k8s-cp-1", 1), 200, LIST_PAGE_1)
        .with_json(
            &list_url("k8s-cp-1", 2),
            200,
            LIST_PAGE_1.replace("\"current_page\": 1", "\"current_page\": 2"),
        );
    let err = discover_with(&config(), &node("k8s-cp-1", None), &both_pages_say_cp1).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("2 devices")),
        "{err}"
    );
}

#[test]
fn pagination_is_bounded() {
    let endless = LIST_PAGE_1.replace("\"last_page\": 2", "\"last_page\": 100000");
    let mut http = MockHttp::new();
    for page in 1..=MAX_PAGES + 5 {
        let body = endless.replace("\"current_page\": 1", &format!("\"current_page\": {page}"));
        http = http.with_json(&list_url("nobody", page), 200, body);
    }
    let err = discover_with(&config(), &node("nobody", None), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("more than")),
        "{err}"
    );
    assert_eq!(http.requests().len(), MAX_PAGES as usize);
}

#[test]
fn unauthorized_is_clear_and_never_shows_the_token() {
    let http = MockHttp::new().with_json(&url(&format!("/devices/{CP1}")), 401, ERROR_401);
    let err = discover_with(&config(), &node("k8s-cp-1", Some(CP1)), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::Unauthorized(m) if m.contains("Invalid authentication token")),
        "{err}"
    );
    assert!(!err.to_string().contains(TOKEN));

    let http = MockHttp::new().with_json(
        &list_url("k8s-cp-1", 1),
        403,
        r#"{"error":"Access denied"}"#,
    );
    assert!(matches!(
        discover_with(&config(), &node("k8s-cp-1", None), &http),
        Err(ProviderError::Unauthorized(_))
    ));
}

#[test]
fn not_found_is_clear() {
    let http = MockHttp::new().with_json(&url(&format!("/devices/{CP2}")), 404, ERROR_404);
    let err = discover_with(
        &config(),
        &node("k8s-cp-2", Some(&format!("equinixmetal://{CP2}"))),
        &http,
    )
    .unwrap_err();
    let ProviderError::InvalidInput(message) = &err else {
        panic!("{err}")
    };
    assert!(
        message.contains("404") && message.contains("Not found") && message.contains(CP2),
        "{message}"
    );

    let http = MockHttp::new().with_json(
        &list_url("k8s-cp-1", 1),
        404,
        r#"{"error":"Project not found"}"#,
    );
    let err = discover_with(&config(), &node("k8s-cp-1", None), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("Project not found") && m.contains(PROJECT)),
        "{err}"
    );
}

#[test]
fn non_json_body_is_invalid_input_naming_the_url() {
    let http = by_id_http(CP1).with_json(&neighbors_url(CP1), 200, "<html>maintenance</html>");
    let err = discover_with(&config(), &node("k8s-cp-1", Some(CP1)), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains(&neighbors_url(CP1))),
        "{err}"
    );
}

#[test]
fn legacy_facility_neighbours_with_nulls() {
    let http = by_id_http(CP1).with_json(&neighbors_url(CP1), 200, NEIGHBORS_LEGACY);
    let peers = discover_with(&config(), &node("k8s-cp-1", Some(CP1)), &http)
        .unwrap()
        .peers;
    let expected = BgpPeer {
        source_address: Some(ip("10.99.40.131")),
        ..BgpPeer::new(ip("10.99.40.130"), 65530, 65000)
    };
    assert_eq!(peers, vec![expected]);
}

#[test]
fn null_device_fields_are_tolerated() {
    let device = format!(r#"{{"id":"{CP1}","hostname":null,"ip_addresses":null,"plan":null}}"#);
    let http = by_id_http(CP1).with_json(&url(&format!("/devices/{CP1}")), 200, device);
    let peers = discover_with(&config(), &node("k8s-cp-1", Some(CP1)), &http)
        .unwrap()
        .peers;
    assert!(
        peers.iter().all(|p| p.route_via.is_none()),
        "no addresses: no gateway"
    );
}

#[test]
fn no_neighbours_is_not_ready() {
    let http = by_id_http(CP1).with_json(&neighbors_url(CP1), 200, r#"{"bgp_neighbors":[]}"#);
    let err = discover_with(&config(), &node("k8s-cp-1", Some(CP1)), &http).unwrap_err();
    assert!(
        matches!(&err, ProviderError::NotReady(m) if m.contains(CP1)),
        "{err}"
    );
}

#[test]
fn transport_failures() {
    let http = MockHttp::new().with_error(
        &url(&format!("/devices/{CP1}")),
        HttpError::Transport("connection refused".into()),
    );
    assert!(matches!(
        discover_with(&config(), &node("x", Some(CP1)), &http),
        Err(ProviderError::Unreachable(_))
    ));
    let http = MockHttp::new().with_json(&url(&format!("/devices/{CP1}")), 502, "");
    assert!(matches!(
        discover_with(&config(), &node("x", Some(CP1)), &http),
        Err(ProviderError::Unreachable(_))
    ));
}

#[test]
fn cloud_sa_json_fixtures_as_credentials() {
    for cloud_sa in [CLOUD_SA, CLOUD_SA_FULL] {
        let http = paged_http();
        discover_with(
            &[("cloud-sa-json", cloud_sa)],
            &node("k8s-cp-1", None),
            &http,
        )
        .unwrap();
        assert!(
            http.requests()
                .iter()
                .all(|r| r.header("x-auth-token") == Some(TOKEN))
        );
    }
    let lower_case_keys = CLOUD_SA
        .replace("apiKey", "apikey")
        .replace("projectID", "projectId");
    let http = paged_http();
    discover_with(
        &[("cloud-sa-json", &lower_case_keys)],
        &node("k8s-cp-1", None),
        &http,
    )
    .unwrap();
}

#[test]
fn configured_api_url_is_used() {
    let base = "http://127.0.0.1:9/metal/v1";
    let http = MockHttp::new()
        .with_json(&format!("{base}/devices/{CP1}"), 200, DEVICE)
        .with_json(
            &format!("{base}/devices/{CP1}/bgp/neighbors"),
            200,
            NEIGHBORS,
        );
    let mut config = config();
    config.push(("api-url", "http://127.0.0.1:9/metal/v1/"));
    discover_with(&config, &node("k8s-cp-1", Some(CP1)), &http).unwrap();
}

#[test]
fn missing_credentials_or_project_are_invalid_input() {
    let err = EquinixApi::default()
        .configure(&Config::from_pairs([("project-id", PROJECT)]))
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("api-token")),
        "{err}"
    );
    let err = discover_with(
        &[("api-token", TOKEN)],
        &node("k8s-cp-1", None),
        &MockHttp::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("project")),
        "{err}"
    );
    let err = discover_with(
        &config(),
        &node("k8s-cp-1", Some("equinixmetal://zzz")),
        &MockHttp::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidInput(m) if m.contains("providerID")),
        "{err}"
    );
}

#[test]
fn metadata_declares_the_api_url_host_and_secret_keys() {
    let metadata = ProviderMetadata::parse(equinix_api::PROVIDER_METADATA_JSON.as_bytes()).unwrap();
    assert_eq!(metadata.name, "equinix-api");
    assert_eq!(
        metadata.hosts,
        vec![HostDeclaration::FromConfig("api-url".into())]
    );
    let secret: Vec<&str> = metadata
        .config
        .iter()
        .filter(|k| k.secret)
        .map(|k| k.key.as_str())
        .collect();
    assert_eq!(secret, ["api-token", "cloud-sa-json"]);
}
