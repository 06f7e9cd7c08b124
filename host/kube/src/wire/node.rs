//! The own Node: all labels and annotations (providers read them), `spec.providerID`;
//! `status` (images, conditions, heartbeats) is never parsed.

use serde::Deserialize;

use super::meta::{Meta, MetaFilter};
use super::wire_resource;
use crate::NodeInfo;

#[derive(Clone, Debug, Default)]
pub(crate) struct NodeKeep;

impl MetaFilter for NodeKeep {
    fn keep_label(_: &str) -> bool {
        true
    }
    fn keep_annotation(_: &str) -> bool {
        true
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct NodeWire {
    #[serde(default)]
    pub(crate) metadata: Meta<NodeKeep>,
    #[serde(default)]
    spec: Option<NodeSpecWire>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct NodeSpecWire {
    #[serde(default, rename = "providerID")]
    provider_id: Option<String>,
}

wire_resource!(NodeWire, k8s_openapi::ClusterResourceScope,
    group: "", version: "v1", kind: "Node", plural: "nodes");

impl NodeWire {
    pub(crate) fn name(&self) -> &str {
        self.metadata.inner.name.as_deref().unwrap_or_default()
    }

    pub(crate) fn into_info(self) -> NodeInfo {
        let meta = self.metadata.inner;
        NodeInfo {
            name: meta.name.unwrap_or_default(),
            provider_id: self.spec.and_then(|s| s.provider_id),
            annotations: meta.annotations.unwrap_or_default(),
            labels: meta.labels.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_keeps_all_annotations_labels_and_provider_id_but_not_status() {
        let node: NodeWire = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "resourceVersion": "7",
                "labels": {"kubernetes.io/hostname": "n1"},
                "annotations": {"metal.equinix.com/bgp-peers-0-peer-asn": "65530"}},
            "spec": {"providerID": "equinixmetal://abc", "podCIDR": "10.0.0.0/24"},
            "status": {"conditions": [{"type": "Ready", "lastHeartbeatTime": "2026-01-01T00:00:00Z"}]}
        }))
        .unwrap();
        assert_eq!(node.name(), "n1");
        let info = node.into_info();
        assert_eq!(info.name, "n1");
        assert_eq!(info.provider_id.as_deref(), Some("equinixmetal://abc"));
        assert_eq!(info.labels["kubernetes.io/hostname"], "n1");
        assert_eq!(
            info.annotations["metal.equinix.com/bgp-peers-0-peer-asn"],
            "65530"
        );
    }

    #[test]
    fn node_without_spec_or_maps_is_fine() {
        let node: NodeWire =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "n2"}, "spec": null}))
                .unwrap();
        assert_eq!(
            node.into_info(),
            NodeInfo {
                name: "n2".into(),
                ..NodeInfo::default()
            }
        );
    }
}
