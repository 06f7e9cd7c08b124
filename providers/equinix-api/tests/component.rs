//! The built `equinix-api` component under the real runtime, against the Metal API fixtures
//! served on 127.0.0.1; and the same calls through Prism to prove every request (and the fixture
//! responses) match the Metal OpenAPI subset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_provider_testkit::{FixtureServer, Prism, Route, require_prism};
use herald_runtime::{
    CallError, DeclaredHost, Discovery, Grants, LoadedProvider, NodeContext, ProviderConfig,
    ProviderErrorKind, Runtime, RuntimeConfig,
};

const DEVICE: &str = include_str!("fixtures/api-device.json");
const LIST_PAGE_1: &str = include_str!("fixtures/api-device-list.json");
const LIST_PAGE_2: &str = include_str!("fixtures/api-device-list-page2.json");
const NEIGHBORS: &str = include_str!("fixtures/api-bgp-neighbors.json");
const ERROR_401: &str = include_str!("fixtures/api-error-401.json");
const ERROR_404: &str = include_str!("fixtures/api-error-404.json");
const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/metal-openapi-subset.yaml"
);

const TOKEN: &str = "FakeMetalApiTokenDoNotUse0000000";
const PROJECT: &str = "f7a5ff27-3f7e-40eb-a902-869ea8e8bab5";
const CP1: &str = "a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739";
const WORKER: &str = "02005a7b-2d91-4cbd-81c5-f1e5f02ff4e8";

fn provider() -> &'static LoadedProvider {
    static PROVIDER: OnceLock<LoadedProvider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        // Generous: requests may pass through Prism (Node) on a busy machine.
        let runtime = Runtime::new(RuntimeConfig {
            call_deadline: Duration::from_secs(60),
            ..RuntimeConfig::default()
        })
        .unwrap();
        runtime
            .load(Path::new(herald_artifacts::EQUINIX_API_COMPONENT))
            .unwrap()
    })
}

/// The Metal API under `/metal/v1`, as the fixtures describe it. `list_page_1` lets the Prism
/// test use a copy without the spec-violating `"previous": null`.
fn api_routes(list_page_1: &str) -> Vec<(String, Route)> {
    vec![
        (format!("/metal/v1/devices/{CP1}"), Route::json(200, DEVICE)),
        (
            format!("/metal/v1/devices/{CP1}/bgp/neighbors"),
            Route::json(200, NEIGHBORS),
        ),
        (
            format!("/metal/v1/devices/{WORKER}/bgp/neighbors"),
            Route::json(200, NEIGHBORS),
        ),
        (
            format!("/metal/v1/projects/{PROJECT}/devices?page=1"),
            Route::json(200, list_page_1),
        ),
        (
            format!("/metal/v1/projects/{PROJECT}/devices?page=2"),
            Route::json(200, LIST_PAGE_2),
        ),
    ]
}

fn node(name: &str, provider_id: Option<&str>) -> NodeContext {
    NodeContext {
        node_name: name.into(),
        provider_id: provider_id.map(str::to_owned),
        ..NodeContext::default()
    }
}

async fn discover(api_url: &str, grant: &str, node: &NodeContext) -> Result<Discovery, CallError> {
    let config = ProviderConfig::from_pairs([
        ("api-url", api_url),
        ("api-token", TOKEN),
        ("project-id", PROJECT),
    ]);
    provider()
        .discover(&config, &Grants::parse(&[grant.to_owned()]).unwrap(), node)
        .await
}

async fn discover_from(server: &FixtureServer, node: &NodeContext) -> Result<Discovery, CallError> {
    discover(
        &format!("{}/metal/v1", server.origin()),
        &server.grant(),
        node,
    )
    .await
}

fn provider_error(result: Result<Discovery, CallError>) -> (ProviderErrorKind, String) {
    match result {
        Err(CallError::Provider(error)) => (error.kind, error.message),
        other => panic!("expected a provider error, got {other:?}"),
    }
}

fn addresses(discovery: &Discovery) -> Vec<String> {
    discovery
        .peers
        .iter()
        .map(|p| p.peer_address.to_string())
        .collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn metadata_declares_the_api_url_and_secret_keys() {
    let metadata = provider().metadata();
    assert_eq!(metadata.name, "equinix-api");
    assert_eq!(
        metadata.hosts,
        vec![DeclaredHost::FromConfig {
            from_config: "api-url".into()
        }]
    );
    assert!(
        metadata.is_secret("api-token")
            && metadata.is_secret("cloud-sa-json")
            && !metadata.is_secret("project-id")
    );
}

#[tokio::test]
async fn device_by_provider_id() {
    let server = FixtureServer::start(api_routes(LIST_PAGE_1)).await.unwrap();
    let discovery = discover_from(
        &server,
        &node("k8s-cp-1", Some(&format!("equinixmetal://{CP1}"))),
    )
    .await
    .unwrap();
    assert_eq!(
        addresses(&discovery),
        ["169.254.255.1", "169.254.255.2", "fc00::e", "fc00::f"]
    );
    assert_eq!(discovery.peers[0].route_via, Some(ip("10.70.17.8")));
    assert_eq!(
        discovery.peers[0].password.as_ref().map(|p| p.expose()),
        Some("ExamplePass123")
    );
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    assert_eq!(
        paths,
        [
            format!("/metal/v1/devices/{CP1}"),
            format!("/metal/v1/devices/{CP1}/bgp/neighbors")
        ]
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method == "GET" && r.header("x-auth-token") == Some(TOKEN))
    );
}

#[tokio::test]
async fn device_by_hostname_over_all_pages() {
    let server = FixtureServer::start(api_routes(LIST_PAGE_1)).await.unwrap();
    let discovery = discover_from(&server, &node("k8s-worker-1", None))
        .await
        .unwrap();
    assert_eq!(discovery.peers.len(), 4);
    assert_eq!(
        discovery.peers[0].route_via,
        Some(ip("10.70.17.10")),
        "the worker's own private gateway"
    );
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    assert_eq!(
        paths,
        [
            format!(
                "/metal/v1/projects/{PROJECT}/devices?hostname=k8s-worker-1&page=1&per_page=100"
            ),
            format!(
                "/metal/v1/projects/{PROJECT}/devices?hostname=k8s-worker-1&page=2&per_page=100"
            ),
            format!("/metal/v1/devices/{WORKER}/bgp/neighbors"),
        ]
    );
}

#[tokio::test]
async fn unauthorized_and_not_found_are_clear() {
    let server = FixtureServer::start(vec![
        (
            format!("/metal/v1/devices/{CP1}"),
            Route::json(401, ERROR_401),
        ),
        (
            format!("/metal/v1/projects/{PROJECT}/devices"),
            Route::json(404, ERROR_404),
        ),
    ])
    .await
    .unwrap();
    let (kind, message) =
        provider_error(discover_from(&server, &node("k8s-cp-1", Some(CP1))).await);
    assert_eq!(kind, ProviderErrorKind::Unauthorized);
    assert!(
        message.contains("Invalid authentication token") && !message.contains(TOKEN),
        "{message}"
    );

    let (kind, message) = provider_error(discover_from(&server, &node("k8s-cp-1", None)).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains("404") && message.contains("Not found") && message.contains(PROJECT),
        "{message}"
    );
}

#[tokio::test]
async fn non_json_body_is_invalid_input() {
    let server = FixtureServer::start(vec![(
        format!("/metal/v1/devices/{CP1}"),
        Route::text(200, "<html>maintenance</html>"),
    )])
    .await
    .unwrap();
    let (kind, message) =
        provider_error(discover_from(&server, &node("k8s-cp-1", Some(CP1))).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains(&format!("/metal/v1/devices/{CP1}")),
        "{message}"
    );
}

/// Every request the provider sends, by providerID and by hostname over both pages, passes
/// `prism proxy --errors` against the Metal OpenAPI subset (which also checks the fixture
/// responses), and Prism logs no violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_valid_against_the_openapi_spec() {
    let Some(prism_binary) = require_prism() else {
        return;
    };
    // The spec does not allow `"previous": null` (real responses carry it): drop it upstream.
    let mut page_1: serde_json::Value = serde_json::from_str(LIST_PAGE_1).unwrap();
    page_1["meta"].as_object_mut().unwrap().remove("previous");
    let upstream = FixtureServer::start(api_routes(&page_1.to_string()))
        .await
        .unwrap();
    let prism = Prism::start(
        &prism_binary,
        Path::new(SPEC),
        &format!("{}/metal/v1", upstream.origin()),
    )
    .await
    .unwrap();

    for node in [
        node("k8s-cp-1", Some(&format!("equinixmetal://{CP1}"))),
        node("k8s-cp-1", None),
    ] {
        let discovery = discover(&prism.origin(), &prism.grant(), &node).await;
        let discovery = discovery
            .unwrap_or_else(|err| panic!("through Prism: {err}\nPrism log:\n{}", prism.log()));
        assert_eq!(discovery.peers.len(), 4);
    }
    assert_eq!(
        upstream.requests().len(),
        5,
        "device, neighbours, 2 list pages, neighbours"
    );
    assert!(
        prism.problems().is_empty(),
        "Prism reported problems:\n{}",
        prism.problems().join("\n")
    );

    // The check can fail: a request outside the spec (wrong base path) is refused and logged.
    let wrong_base = format!("{}/metal/v1", prism.origin());
    let refused = discover(&wrong_base, &prism.grant(), &node("k8s-cp-1", Some(CP1))).await;
    assert!(
        refused.is_err(),
        "Prism passed a request the spec does not describe"
    );
    assert!(
        !prism
            .wait_for_problems(std::time::Duration::from_secs(10))
            .await
            .is_empty(),
        "Prism logged nothing for a refused request:\n{}",
        prism.log()
    );
    assert_eq!(
        upstream.requests().len(),
        5,
        "the refused request never reached the upstream"
    );
}
