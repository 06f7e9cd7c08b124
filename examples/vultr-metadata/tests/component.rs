//! The built `vultr-metadata` component under the real runtime, against the metadata fixtures
//! served on 127.0.0.1, and the link-local grant rule for 169.254.169.254.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_provider_testkit::{FixtureServer, Route};
use herald_runtime::{
    BgpPeer, CallError, Discovery, Grants, HostPort, LoadedProvider, NodeContext, Password,
    ProviderConfig, ProviderErrorKind, Runtime, RuntimeConfig,
};

const V4_ONLY: &str = include_str!("fixtures/metadata-v4-only.json");
const V4_V6: &str = include_str!("fixtures/metadata-v4-v6.json");
const NO_BGP: &str = include_str!("fixtures/metadata-no-bgp.json");
const BGP_EMPTY: &str = include_str!("fixtures/metadata-bgp-empty.json");

const PASSWORD: &str = "ExampleVultrBgpPass";

fn provider() -> &'static LoadedProvider {
    static PROVIDER: OnceLock<LoadedProvider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let path = Path::new(herald_artifacts::VULTR_METADATA_COMPONENT);
        assert!(
            path.is_file(),
            "{} is missing: vultr-metadata did not build for wasm32-wasip2 (see the herald-artifacts warnings)",
            path.display()
        );
        // A generous deadline: the machine running the tests may be busy.
        let runtime = Runtime::new(RuntimeConfig {
            call_deadline: Duration::from_secs(10),
            ..RuntimeConfig::default()
        })
        .unwrap();
        runtime.load(path).unwrap()
    })
}

fn node() -> NodeContext {
    NodeContext {
        node_name: "k8s-w-1".into(),
        ..NodeContext::default()
    }
}

async fn serve(status: u16, body: &str) -> FixtureServer {
    FixtureServer::start(vec![("/v1.json".into(), Route::json(status, body))])
        .await
        .unwrap()
}

async fn discover_from(
    server: &FixtureServer,
    extra: &[(&str, &str)],
) -> Result<Discovery, CallError> {
    let mut pairs = vec![(
        "metadata-url".to_owned(),
        format!("{}/v1.json", server.origin()),
    )];
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let grants = Grants::parse(&[server.grant()]).unwrap();
    provider()
        .discover(&ProviderConfig::from_pairs(pairs), &grants, &node())
        .await
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

fn vultr_peer(address: &str, local_asn: u32, source: &str, password: Option<&str>) -> BgpPeer {
    BgpPeer {
        peer_address: ip(address),
        peer_asn: 64515,
        local_asn,
        source_address: Some(ip(source)),
        password: password.map(Password::new),
        multihop_ttl: Some(2),
        route_via: None,
        hold_time_seconds: None,
        port: None,
        keepalive_seconds: None,
    }
}

#[test]
fn default_config_declares_the_link_local_metadata_address_itself() {
    let metadata = provider().metadata();
    assert_eq!(metadata.name, "vultr-metadata");
    assert!(metadata.is_secret("password"));
    assert_eq!(
        metadata.declared_hosts(&ProviderConfig::default()).unwrap(),
        [HostPort::new("169.254.169.254", 80)]
    );
    // The grant the README tells operators to give covers both checks: the origin, and the
    // resolved address (link-local, so only reachable when this exact IP is granted).
    let grants = Grants::parse(&["169.254.169.254".to_owned()]).unwrap();
    assert!(grants.is_granted(&HostPort::new("169.254.169.254", 80)));
    assert!(grants.is_ip_granted(ip("169.254.169.254"), 80));
}

#[tokio::test]
async fn fixture_documents_give_their_peers() {
    let server = serve(200, V4_ONLY).await;
    let discovery = discover_from(&server, &[]).await.unwrap();
    assert_eq!(
        discovery.peers,
        [vultr_peer("169.254.169.254", 65512, "192.0.2.20", None)]
    );
    assert_eq!(discovery.refresh_after, Some(Duration::from_secs(300)));
    let requests = server.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path()),
        ("GET", "/v1.json")
    );
    assert_eq!(requests[0].header("accept"), Some("application/json"));

    let server = serve(200, V4_V6).await;
    let peers = discover_from(&server, &[("password", PASSWORD)])
        .await
        .unwrap()
        .peers;
    assert_eq!(
        peers,
        [
            vultr_peer("169.254.169.254", 65513, "192.0.2.21", Some(PASSWORD)),
            vultr_peer(
                "2001:19f0:ffff::1",
                65513,
                "2001:db8:5400:1c2b:5400:4ff:fe6b:6f2b",
                Some(PASSWORD)
            ),
        ]
    );
}

#[tokio::test]
async fn bgp_off_is_not_ready() {
    for body in [NO_BGP, BGP_EMPTY] {
        let (kind, message) = provider_error(discover_from(&serve(200, body).await, &[]).await);
        assert_eq!(kind, ProviderErrorKind::NotReady, "{message}");
        assert!(message.contains("BGP is not enabled"), "{message}");
    }
}

#[tokio::test]
async fn traps_map_to_kinds_naming_the_field() {
    let numeric = V4_ONLY.replace(r#""peer-asn": "64515""#, r#""peer-asn": 64515"#);
    let (kind, message) = provider_error(discover_from(&serve(200, &numeric).await, &[]).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(message.contains("bgp.ipv4.peer-asn"), "{message}");

    let (kind, message) = provider_error(discover_from(&serve(404, "").await, &[]).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains("not Vultr's metadata service"),
        "{message}"
    );

    let (kind, _) = provider_error(discover_from(&serve(503, "").await, &[]).await);
    assert_eq!(kind, ProviderErrorKind::Unreachable);
}

#[tokio::test]
async fn the_metadata_address_needs_its_own_grant() {
    // Default config, nothing granted: refused before any connection is made.
    let err = provider()
        .discover(&ProviderConfig::default(), &Grants::none(), &node())
        .await
        .unwrap_err();
    match &err {
        CallError::Denied { host, reason, .. } => {
            assert_eq!(host, "169.254.169.254:80");
            assert!(
                reason.contains("--allow-host 169.254.169.254:80"),
                "{reason}"
            );
        }
        other => panic!("expected a denial, got {other}"),
    }

    // Granting a *name* that resolves to a restricted address is not enough: the same rule
    // that guards 169.254.169.254 (link-local) guards 127.0.0.1 (loopback), shown here on the
    // fixture server.
    let server = serve(200, V4_ONLY).await;
    let by_name = ProviderConfig::from_pairs([(
        "metadata-url",
        format!("http://localhost:{}/v1.json", server.port()),
    )]);
    let name_only = Grants::parse(&[format!("localhost:{}", server.port())]).unwrap();
    let err = provider()
        .discover(&by_name, &name_only, &node())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Denied { reason, .. } if reason.contains("loopback")),
        "{err}"
    );
    assert!(server.requests().is_empty());
    let name_and_ip =
        Grants::parse(&[format!("localhost:{}", server.port()), server.grant()]).unwrap();
    let discovery = provider()
        .discover(&by_name, &name_and_ip, &node())
        .await
        .unwrap();
    assert_eq!(discovery.peers.len(), 1);
}

#[tokio::test]
async fn bad_config_is_rejected_without_the_secret() {
    let server = serve(200, V4_ONLY).await;
    let long = "p".repeat(81);
    let (kind, message) = provider_error(discover_from(&server, &[("password", &long)]).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
    assert!(
        message.contains("`password`") && !message.contains(&long),
        "{message}"
    );
    let (kind, _) = provider_error(discover_from(&server, &[("multihop-ttl", "0")]).await);
    assert_eq!(kind, ProviderErrorKind::InvalidInput);
}
