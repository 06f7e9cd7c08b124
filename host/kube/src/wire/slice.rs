//! EndpointSlices: the owning Service's name and, per endpoint, node and readiness.

use serde::Deserialize;

use super::meta::{Meta, MetaFilter};
use super::{take_key, wire_resource};
use crate::{ObjectKey, SliceInfo};

/// The label tying a slice to its Service.
pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

#[derive(Clone, Debug, Default)]
pub(crate) struct SliceKeep;

impl MetaFilter for SliceKeep {
    fn keep_label(key: &str) -> bool {
        key == SERVICE_NAME_LABEL
    }
    fn keep_annotation(_: &str) -> bool {
        false
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct SliceWire {
    #[serde(default)]
    pub(crate) metadata: Meta<SliceKeep>,
    #[serde(default)]
    endpoints: Option<Vec<EndpointWire>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndpointWire {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    conditions: Option<ConditionsWire>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct ConditionsWire {
    #[serde(default)]
    ready: Option<bool>,
}

wire_resource!(SliceWire, k8s_openapi::NamespaceResourceScope,
    group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices");

impl SliceWire {
    /// The key, and the compact view if the slice belongs to a Service (else `None`).
    pub(crate) fn into_info(mut self, node_name: &str) -> (ObjectKey, Option<SliceInfo>) {
        let key = take_key(&mut self.metadata.inner);
        let service = self
            .metadata
            .inner
            .labels
            .and_then(|mut l| l.remove(SERVICE_NAME_LABEL));
        let Some(service) = service else {
            return (key, None);
        };
        // An unknown readiness counts as ready, as the EndpointSlice API documents.
        let ready_on_node = self.endpoints.unwrap_or_default().iter().any(|e| {
            e.node_name.as_deref() == Some(node_name)
                && e.conditions.as_ref().and_then(|c| c.ready) != Some(false)
        });
        let info = SliceInfo {
            key: key.clone(),
            service,
            ready_on_node,
        };
        (key, Some(info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(endpoints: serde_json::Value) -> SliceWire {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-abc", "namespace": "prod",
                "labels": {SERVICE_NAME_LABEL: "web", "endpointslice.kubernetes.io/managed-by": "x"}},
            "addressType": "IPv4",
            "endpoints": endpoints
        }))
        .unwrap()
    }

    #[test]
    fn ready_endpoint_on_this_node_counts() {
        let s = slice(serde_json::json!([
            {"addresses": ["10.0.0.1"], "nodeName": "other", "conditions": {"ready": true}},
            {"addresses": ["10.0.0.2"], "nodeName": "n1", "conditions": {"ready": true}}
        ]));
        let (key, info) = s.into_info("n1");
        assert_eq!(key, ObjectKey::new("prod", "web-abc"));
        let info = info.unwrap();
        assert_eq!(info.service, "web");
        assert!(info.ready_on_node);
    }

    #[test]
    fn unknown_readiness_counts_as_ready() {
        let s = slice(
            serde_json::json!([{"addresses": ["10.0.0.2"], "nodeName": "n1", "conditions": {}}]),
        );
        assert!(s.into_info("n1").1.unwrap().ready_on_node);
        let s = slice(serde_json::json!([{"addresses": ["10.0.0.2"], "nodeName": "n1"}]));
        assert!(s.into_info("n1").1.unwrap().ready_on_node);
    }

    #[test]
    fn not_ready_or_other_node_or_empty_does_not_count() {
        let s = slice(serde_json::json!([{"nodeName": "n1", "conditions": {"ready": false}}]));
        assert!(!s.into_info("n1").1.unwrap().ready_on_node);
        let s = slice(serde_json::json!([{"nodeName": "n2", "conditions": {"ready": true}}]));
        assert!(!s.into_info("n1").1.unwrap().ready_on_node);
        let s = slice(serde_json::Value::Null);
        assert!(!s.into_info("n1").1.unwrap().ready_on_node);
    }

    #[test]
    fn slice_without_service_label_gives_no_info() {
        let s: SliceWire = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x", "namespace": "y", "labels": {"a": "b"}}
        }))
        .unwrap();
        assert!(s.into_info("n1").1.is_none());
    }
}
