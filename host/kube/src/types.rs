//! Compact, owned views of the objects Herald reads: only the fields it uses.
//!
//! The agent may hold 10,000 Services; these types keep a Service well under 2 KB (no
//! managedFields, no spec it does not read, only Herald's annotations).

use std::collections::BTreeMap;
use std::fmt;

/// Annotation prefixes Herald reads on Services; all others are dropped while parsing.
pub const SERVICE_ANNOTATION_PREFIXES: [&str; 2] = ["kube-vip.io/", "bgp.herald.dev/"];

/// The own Node as providers see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    /// `spec.providerID`, e.g. `equinixmetal://<uuid>`.
    pub provider_id: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// Namespace and name of a namespaced object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One `spec.ports[]` entry: what the ingress status repeats.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServicePort {
    pub port: i32,
    /// `TCP`, `UDP` or `SCTP` (the apiserver defaults it to `TCP`).
    pub protocol: String,
}

/// A Service of type LoadBalancer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceInfo {
    pub key: ObjectKey,
    pub uid: String,
    pub load_balancer_class: Option<String>,
    /// `spec.loadBalancerIP`, raw text (deprecated upstream, still used by CCMs).
    pub load_balancer_ip: Option<String>,
    /// `status.loadBalancer.ingress[].ip`, raw text, in order; entries without an IP are skipped.
    pub ingress: Vec<String>,
    /// `spec.externalTrafficPolicy == "Local"`.
    pub external_traffic_policy_local: bool,
    pub ports: Vec<ServicePort>,
    /// Only keys starting with one of [`SERVICE_ANNOTATION_PREFIXES`].
    pub annotations: BTreeMap<String, String>,
}

/// An EndpointSlice reduced to the one question Herald asks of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SliceInfo {
    pub key: ObjectKey,
    /// Label `kubernetes.io/service-name`: the Service (same namespace) it belongs to.
    pub service: String,
    /// Some endpoint has `nodeName` == this node and `conditions.ready` is not `false`.
    pub ready_on_node: bool,
}

/// True for annotation keys Herald reads on Services.
pub fn is_herald_service_annotation(key: &str) -> bool {
    SERVICE_ANNOTATION_PREFIXES
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_key_displays_as_namespace_slash_name() {
        assert_eq!(ObjectKey::new("default", "web").to_string(), "default/web");
    }

    #[test]
    fn only_herald_prefixes_are_kept() {
        assert!(is_herald_service_annotation("kube-vip.io/loadbalancerIPs"));
        assert!(is_herald_service_annotation("bgp.herald.dev/communities"));
        assert!(!is_herald_service_annotation(
            "kubectl.kubernetes.io/last-applied-configuration"
        ));
        assert!(!is_herald_service_annotation("kube-vip.io")); // no slash: not the prefix
        assert!(!is_herald_service_annotation(
            "metallb.universe.tf/address-pool"
        ));
    }
}
