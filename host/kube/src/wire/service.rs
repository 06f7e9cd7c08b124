//! Services: type, class, loadBalancerIP, externalTrafficPolicy, ports, ingress IPs and
//! Herald's annotations; nothing else is parsed.

use serde::Deserialize;

use super::meta::{Meta, MetaFilter};
use super::{take_key, wire_resource};
use crate::{ObjectKey, ServiceInfo, ServicePort, is_herald_service_annotation};

#[derive(Clone, Debug, Default)]
pub(crate) struct ServiceKeep;

impl MetaFilter for ServiceKeep {
    fn keep_label(_: &str) -> bool {
        false
    }
    fn keep_annotation(key: &str) -> bool {
        is_herald_service_annotation(key)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct ServiceWire {
    #[serde(default)]
    pub(crate) metadata: Meta<ServiceKeep>,
    #[serde(default)]
    spec: Option<SpecWire>,
    #[serde(default)]
    status: Option<StatusWire>,
}

// Every field optional: one odd object must not fail the whole watch event.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecWire {
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    load_balancer_class: Option<String>,
    #[serde(default, rename = "loadBalancerIP")]
    load_balancer_ip: Option<String>,
    #[serde(default)]
    external_traffic_policy: Option<String>,
    #[serde(default)]
    ports: Option<Vec<PortWire>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct PortWire {
    #[serde(default)]
    port: Option<i32>,
    #[serde(default)]
    protocol: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusWire {
    #[serde(default)]
    load_balancer: Option<LoadBalancerWire>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct LoadBalancerWire {
    #[serde(default)]
    ingress: Option<Vec<IngressWire>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct IngressWire {
    #[serde(default)]
    ip: Option<String>,
}

wire_resource!(ServiceWire, k8s_openapi::NamespaceResourceScope,
    group: "", version: "v1", kind: "Service", plural: "services");

impl ServiceWire {
    /// The key, and the compact view if this is a `LoadBalancer` Service (else `None`).
    pub(crate) fn into_info(mut self) -> (ObjectKey, Option<ServiceInfo>) {
        let key = take_key(&mut self.metadata.inner);
        let spec = self.spec.unwrap_or_default();
        if spec.type_.as_deref() != Some("LoadBalancer") {
            return (key, None);
        }
        let meta = self.metadata.inner;
        let ingress = self
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|lb| lb.ingress)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.ip)
            .collect();
        let ports = spec
            .ports
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                Some(ServicePort {
                    port: p.port?,
                    // The apiserver defaults it; a missing value means the same.
                    protocol: p.protocol.unwrap_or_else(|| "TCP".to_string()),
                })
            })
            .collect();
        let info = ServiceInfo {
            key: key.clone(),
            uid: meta.uid.unwrap_or_default(),
            load_balancer_class: spec.load_balancer_class,
            load_balancer_ip: spec.load_balancer_ip.filter(|ip| !ip.is_empty()),
            ingress,
            external_traffic_policy_local: spec.external_traffic_policy.as_deref() == Some("Local"),
            ports,
            annotations: meta.annotations.unwrap_or_default(),
        };
        (key, Some(info))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn parse(v: serde_json::Value) -> (ObjectKey, Option<ServiceInfo>) {
        serde_json::from_value::<ServiceWire>(v)
            .unwrap()
            .into_info()
    }

    #[test]
    fn load_balancer_service_becomes_compact_info() {
        let (key, info) = parse(serde_json::json!({
            "metadata": {"name": "web", "namespace": "prod", "uid": "u-1",
                "labels": {"app": "web"},
                "annotations": {
                    "kube-vip.io/loadbalancerIPs": "198.51.100.10",
                    "bgp.herald.dev/communities": "65000:1",
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"huge\": true}"
                },
                "managedFields": [{"manager": "kubectl"}]},
            "spec": {"type": "LoadBalancer", "loadBalancerClass": "kube-vip.io/kube-vip-class",
                "loadBalancerIP": "198.51.100.10", "externalTrafficPolicy": "Local",
                "clusterIP": "10.96.0.10",
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}, {"port": 53}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.10"}, {"hostname": "x.example"}, {"ip": "2001:db8::1"}]}}
        }));
        assert_eq!(key, ObjectKey::new("prod", "web"));
        let info = info.unwrap();
        assert_eq!(info.key, key);
        assert_eq!(info.uid, "u-1");
        assert_eq!(
            info.load_balancer_class.as_deref(),
            Some("kube-vip.io/kube-vip-class")
        );
        assert_eq!(info.load_balancer_ip.as_deref(), Some("198.51.100.10"));
        assert_eq!(info.ingress, ["198.51.100.10", "2001:db8::1"]);
        assert!(info.external_traffic_policy_local);
        assert_eq!(
            info.ports,
            [
                ServicePort {
                    port: 80,
                    protocol: "TCP".into()
                },
                ServicePort {
                    port: 53,
                    protocol: "TCP".into()
                }
            ]
        );
        let keys: Vec<_> = info.annotations.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["bgp.herald.dev/communities", "kube-vip.io/loadbalancerIPs"]
        );
    }

    #[test]
    fn other_types_give_no_info() {
        for ty in ["ClusterIP", "NodePort", "ExternalName"] {
            let (key, info) = parse(serde_json::json!({
                "metadata": {"name": "a", "namespace": "b"}, "spec": {"type": ty}
            }));
            assert_eq!(key, ObjectKey::new("b", "a"));
            assert!(info.is_none(), "{ty}");
        }
        let (_, info) = parse(serde_json::json!({"metadata": {"name": "a", "namespace": "b"}}));
        assert!(info.is_none());
    }

    #[test]
    fn minimal_load_balancer_has_empty_fields() {
        let (_, info) = parse(serde_json::json!({
            "metadata": {"name": "a", "namespace": "b", "uid": "u"},
            "spec": {"type": "LoadBalancer", "loadBalancerIP": "", "externalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}
        }));
        let info = info.unwrap();
        assert_eq!(info.load_balancer_class, None);
        assert_eq!(info.load_balancer_ip, None);
        assert!(info.ingress.is_empty() && info.ports.is_empty());
        assert!(!info.external_traffic_policy_local);
        assert_eq!(info.annotations, BTreeMap::new());
    }
}
