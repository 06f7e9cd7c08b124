//! The built `equinix-metadata` component under the real runtime, against the metadata fixture
//! served on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_provider_testkit::{FixtureServer, Route};
use herald_runtime::{
    BgpPeer, CallError, DeclaredHost, Discovery, Grants, LoadedProvider, NodeContext, Password,
    ProviderConfig, ProviderErrorKind, Runtime, RuntimeConfig,
};

const METADATA: &str = include_str!("fixtures/metadata.json");

fn provider() -> &'static LoadedProvider {
    static PROVIDER: OnceLock<LoadedProvider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let runtime = Runtime::new(RuntimeConfig {
            call_deadline: Duration::from_secs(10),
            ..RuntimeConfig::default()
        })
        .unwrap();
        runtime
            .load(Path::new(herald_artifacts::EQUINIX_METADATA_COMPONENT))
            .unwrap()
    })
}

fn node() -> NodeContext {
    NodeContext {
        node_name: "k8s-cp-1".into(),
        ..NodeContext::default()
    }
}

async fn serve(status: u16, body: &str) -> FixtureServer {
    FixtureServer::start(vec![("/metadata".into(), Route::json(status, body))])
        .await
        .unwrap()
}

async fn discover_from(server: &FixtureServer) -> Result<Discovery, CallError> {
    let config =
        ProviderConfig::from_pairs([("metadata-url", format!("{}/metadata", server.origin()))]);
    let grants = Grants::parse(&[server.grant()]).unwrap();
    provider().discover(&config, &grants, &node()).await
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn provider_error(result: Result<Discovery, CallError>) -> (ProviderErrorKind, String) {
    match result {
        Err(CallError::Provider(error)) => (error.kind, error.message),
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[test]
fn metadata_declares_the_metadata_url() {
    let metadata = provider().metadata();
    assert_eq!(metadata.name, "equinix-metadata");
    assert_eq!(
        metadata.hosts,
        vec![DeclaredHost::FromConfig {
            from_config: "metadata-url".into()
        }]
    );
}

#[tokio::test]
async fn fixture_document_gives_every_peer() {
    let server = serve(200, METADATA).await;
    let discovery = discover_from(&server).await.unwrap();
    let peer = |address: &str, source: &str, route_via: Option<&str>| BgpPeer {
        peer_address: ip(address),
        peer_asn: 65530,
        local_asn: 65000,
        source_address: Some(ip(source)),
        password: Some(Password::new("ExamplePass123")),
        multihop_ttl: Some(2),
        route_via: route_via.map(ip),
        hold_time_seconds: None,
        port: None,
        keepalive_seconds: None,
    };
    assert_eq!(
        discovery.peers,
        vec![
            peer("169.254.255.1", "10.70.17.9", Some("10.70.17.8")),
            peer("169.254.255.2", "10.70.17.9", Some("10.70.17.8")),
            peer("fc00::e", "2001:db8:4d1:1800::3", None),
            peer("fc00::f", "2001:db8:4d1:1800::3", None),
        ]
    );
    assert_eq!(discovery.refresh_after, Some(Duration::from_secs(300)));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (
            requests[0].method.as_str(),
            requests[0].path_and_query.as_str()
        ),
        ("GET", "/metadata")
    );
    assert_eq!(requests[0].header("accept"), Some("application/json"));
}

#[tokio::test]
async fn http_errors_and_bad_bodies_map_to_kinds() {
    let (kind, message) = provider_error(
        discover_from(&serve(404, r#"{"message":"resource not found"}"#).await).await,
    );
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains("404") && message.contains("resource not found"),
        "{message}"
    );

    let (kind, _) = provider_error(discover_from(&serve(503, "").await).await);
    assert_eq!(kind, ProviderErrorKind::Unreachable);

    let server = serve(200, "<html>not metadata</html>").await;
    let (kind, message) = provider_error(discover_from(&server).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains(&format!("{}/metadata", server.origin())),
        "{message}"
    );

    let (kind, _) =
        provider_error(discover_from(&serve(200, r#"{"bgp_neighbors":[]}"#).await).await);
    assert_eq!(kind, ProviderErrorKind::NotReady);
}

#[tokio::test]
async fn ungranted_metadata_host_is_denied() {
    let server = serve(200, METADATA).await;
    let config =
        ProviderConfig::from_pairs([("metadata-url", format!("{}/metadata", server.origin()))]);
    let err = provider()
        .discover(&config, &Grants::none(), &node())
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Denied { .. }), "{err}");
    assert!(server.requests().is_empty());
}
