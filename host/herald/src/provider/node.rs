//! Reading a Node manifest (`kubectl get node -o yaml`) into the provider's node context.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use herald_runtime::{NodeContext, NodeNetwork};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Option<Metadata>,
    spec: Option<Spec>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(rename = "providerID")]
    provider_id: Option<String>,
}

pub fn read_node(path: &Path) -> anyhow::Result<NodeContext> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read node file {}", path.display()))?;
    parse_node(&text).with_context(|| format!("node file {}", path.display()))
}

pub fn parse_node(text: &str) -> anyhow::Result<NodeContext> {
    let manifest: Manifest = serde_yaml::from_str(text).context("not a YAML Kubernetes object")?;
    let kind = manifest.kind.as_deref().unwrap_or("<none>");
    if kind != "Node" {
        bail!("expected a Kubernetes Node (kind: Node), got kind: {kind}");
    }
    if let Some(api_version) = manifest.api_version.as_deref().filter(|v| *v != "v1") {
        bail!("expected apiVersion v1 for a Node, got {api_version}");
    }
    let metadata = manifest.metadata.context("Node has no metadata")?;
    let node_name = metadata
        .name
        .filter(|n| !n.is_empty())
        .context("Node has no metadata.name")?;
    Ok(NodeContext {
        node_name,
        provider_id: manifest.spec.and_then(|spec| spec.provider_id),
        annotations: metadata.annotations,
        labels: metadata.labels,
        // A manifest has none; the caller reads the kernel's (node_network).
        network: NodeNetwork::default(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_a_node() {
        let node = parse_node(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {a: b}\n  annotations: {x: y}\nspec:\n  providerID: equinixmetal://abc\n",
        )
        .unwrap();
        assert_eq!(node.node_name, "n1");
        assert_eq!(node.provider_id.as_deref(), Some("equinixmetal://abc"));
        assert_eq!(node.labels["a"], "b");
        assert_eq!(node.annotations["x"], "y");
    }

    #[test]
    fn rejects_other_objects() {
        let err = parse_node("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n").unwrap_err();
        assert!(format!("{err:#}").contains("kind: Pod"));
        assert!(parse_node("apiVersion: v1\nkind: Node\nmetadata: {}\n").is_err());
        assert!(parse_node("- just\n- a list\n").is_err());
    }
}
