//! One host, two contracts: the frozen `herald:provider@0.1.0` builds in `fixtures/wit-0.1.0`
//! (providers somebody built once and never rebuilt) and today's builds (WIT 0.2.0) load in the
//! same `Runtime`, and answer the same node the same way, called interleaved.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::runtime;
use herald_runtime::{
    BgpPeer, CallError, Grants, LoadedProvider, NodeContext, NodeNetwork, ProviderConfig,
};

/// Every provider frozen at 0.1.0, with today's build of the same provider.
const PROVIDERS: &[(&str, &str)] = &[
    (
        "equinix-annotations",
        herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
    ),
    (
        "equinix-metadata",
        herald_artifacts::EQUINIX_METADATA_COMPONENT,
    ),
    ("equinix-api", herald_artifacts::EQUINIX_API_COMPONENT),
    ("vultr-metadata", herald_artifacts::VULTR_METADATA_COMPONENT),
    (
        "kube-router-annotations",
        herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT,
    ),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn frozen(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wit-0.1.0")
        .join(format!("{name}.wasm"))
}

fn load(path: &Path) -> LoadedProvider {
    runtime()
        .load(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A Node fixture (`kubectl get node -o yaml`) as the host's node context.
fn node_from_yaml(relative: &str) -> NodeContext {
    let path = repo().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let document: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let map = |value: &serde_yaml::Value| -> BTreeMap<String, String> {
        value
            .as_mapping()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
                    .collect()
            })
            .unwrap_or_default()
    };
    NodeContext {
        node_name: document["metadata"]["name"].as_str().unwrap().into(),
        provider_id: document["spec"]["providerID"].as_str().map(Into::into),
        annotations: map(&document["metadata"]["annotations"]),
        labels: map(&document["metadata"]["labels"]),
        network: NodeNetwork::default(),
    }
}

/// The peers, or the error's kind and message (without the provider's identity, which differs).
async fn answer(provider: &LoadedProvider, node: &NodeContext) -> Result<Vec<BgpPeer>, String> {
    match provider
        .discover(&ProviderConfig::default(), &Grants::none(), node)
        .await
    {
        Ok(discovery) => Ok(discovery.peers),
        Err(CallError::Provider(error)) => Err(format!("{}: {}", error.kind, error.message)),
        Err(other) => panic!("{}: {other}", provider.identity()),
    }
}

#[test]
fn frozen_and_current_builds_load_side_by_side_with_their_wit_versions() {
    for (name, current) in PROVIDERS {
        let old = load(&frozen(name));
        let new = load(Path::new(current));
        assert_eq!(old.metadata().name, *name);
        assert_eq!(new.metadata().name, *name);
        assert_eq!(old.metadata().wit_version, "0.1.0", "frozen {name}");
        assert_eq!(new.metadata().wit_version, "0.2.0", "current {name}");
    }
}

#[tokio::test]
async fn equinix_annotations_answers_the_same_under_both_versions() {
    let old = load(&frozen("equinix-annotations"));
    let new = load(Path::new(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT));
    let fixtures = [
        "node-annotations-v3.3.yaml",
        "node-annotations-legacy.yaml",
        "node-annotations-packet-v1.yaml",
        "node-annotations-upgraded-mixed.yaml",
    ];
    let mut found_peers = false;
    // Interleaved, twice: neither version's calls disturb the other's in one runtime.
    for round in 0..2 {
        for fixture in fixtures {
            let node = node_from_yaml(&format!(
                "providers/equinix-annotations/tests/fixtures/{fixture}"
            ));
            let before = answer(&old, &node).await;
            let current = answer(&new, &node).await;
            let after = answer(&old, &node).await;
            assert_eq!(before, after, "{fixture}, round {round}: 0.1.0 changed");
            assert_eq!(before, current, "{fixture}, round {round}: 0.1.0 vs 0.2.0");
            if let Ok(peers) = &current {
                found_peers |= !peers.is_empty();
                assert!(peers.iter().all(|peer| peer.keepalive_seconds.is_none()));
            }
        }
    }
    assert!(
        found_peers,
        "no fixture produced peers: the comparison proved nothing"
    );
}

#[tokio::test]
async fn a_frozen_call_still_answers_as_it_did() {
    // The 0.1.0 build never sees the network; giving the node one changes nothing for it.
    let old = load(&frozen("equinix-annotations"));
    let mut node =
        node_from_yaml("providers/equinix-annotations/tests/fixtures/node-annotations-v3.3.yaml");
    let bare = answer(&old, &node).await.unwrap();
    node.network
        .interfaces
        .push(herald_runtime::NetworkInterface {
            name: "bond0".into(),
            up: true,
            addresses: vec!["192.0.2.9/24".parse().unwrap()],
        });
    assert_eq!(answer(&old, &node).await.unwrap(), bare);
    let addresses: Vec<String> = bare.iter().map(|p| p.peer_address.to_string()).collect();
    assert_eq!(addresses, ["169.254.255.1", "169.254.255.2"]);
    assert_eq!(bare[0].peer_asn, 65530);
    assert_eq!(bare[0].local_asn, 65000);
    assert_eq!(
        bare[0].password.as_ref().unwrap().expose(),
        "ExamplePass123"
    );
    assert_eq!(bare[0].keepalive_seconds, None);
}

#[tokio::test]
async fn kube_router_annotations_answers_the_same_under_both_versions() {
    let old = load(&frozen("kube-router-annotations"));
    let new = load(Path::new(
        herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT,
    ));
    for fixture in [
        "node-peers-annotation.yaml",
        "node-deprecated-annotations.yaml",
        "node-both-formats.yaml",
        "node-invalid-asn.yaml",
    ] {
        let node = node_from_yaml(&format!(
            "examples/kube-router-annotations/tests/fixtures/{fixture}"
        ));
        assert_eq!(
            answer(&old, &node).await,
            answer(&new, &node).await,
            "{fixture}"
        );
    }
}
