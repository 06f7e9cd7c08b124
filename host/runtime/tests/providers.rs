//! Herald's own providers load in this runtime and describe themselves; the annotations provider
//! finds the fixture node's peers. (Their behaviour is tested with the SDK; this is the host side.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::runtime;
use herald_runtime::{DeclaredHost, Grants, NodeContext, ProviderConfig};

#[test]
fn shipped_providers_load_with_their_metadata() {
    for (path, name) in [
        (
            herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
            "equinix-annotations",
        ),
        (
            herald_artifacts::EQUINIX_METADATA_COMPONENT,
            "equinix-metadata",
        ),
        (herald_artifacts::EQUINIX_API_COMPONENT, "equinix-api"),
    ] {
        let provider = runtime().load(Path::new(path)).unwrap();
        assert_eq!(provider.metadata().name, name);
        assert_eq!(provider.metadata().wit_version, "0.2.0");
        let installed = Path::new(herald_artifacts::PROVIDER_DIR).join(format!("{name}.wasm"));
        assert!(installed.is_file(), "{} missing", installed.display());
    }
}

#[test]
fn network_providers_declare_their_hosts() {
    let metadata = runtime()
        .load(Path::new(herald_artifacts::EQUINIX_METADATA_COMPONENT))
        .unwrap();
    assert!(!metadata.metadata().hosts.is_empty());
    let annotations = runtime()
        .load(Path::new(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT))
        .unwrap();
    assert!(
        annotations
            .metadata()
            .hosts
            .iter()
            .all(|h| !matches!(h, DeclaredHost::Url { .. }))
    );
}

#[tokio::test]
async fn annotations_provider_finds_the_fixture_peers() {
    let provider = runtime()
        .load(Path::new(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT))
        .unwrap();
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "metal.equinix.com/network-4-private".to_string(),
        "10.70.17.0/25".to_string(),
    );
    for (n, peer) in ["169.254.255.1", "169.254.255.2"].iter().enumerate() {
        let key = |suffix: &str| format!("metal.equinix.com/bgp-peers-{n}-{suffix}");
        annotations.insert(key("node-asn"), "65000".into());
        annotations.insert(key("peer-asn"), "65530".into());
        annotations.insert(key("peer-ip"), (*peer).into());
        annotations.insert(key("src-ip"), "10.70.17.9".into());
        annotations.insert(key("bgp-pass"), "RXhhbXBsZVBhc3MxMjM=".into());
    }
    let node = NodeContext {
        node_name: "k8s-cp-1".into(),
        annotations,
        ..NodeContext::default()
    };
    let discovery = provider
        .discover(&ProviderConfig::default(), &Grants::none(), &node)
        .await
        .unwrap();
    let addresses: Vec<String> = discovery
        .peers
        .iter()
        .map(|p| p.peer_address.to_string())
        .collect();
    assert_eq!(addresses, ["169.254.255.1", "169.254.255.2"]);
    assert_eq!(
        discovery.peers[0].password.as_ref().unwrap().expose(),
        "ExamplePass123"
    );
    assert_eq!(
        format!("{:?}", discovery.peers[0].password),
        "Some(Secret(<redacted>))"
    );
}
