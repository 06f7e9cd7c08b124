//! Everything the desired state is computed from, as last known. Inputs only ever get replaced by
//! newer valid information: an apiserver outage or a failed provider call leaves them as they are.

use std::collections::BTreeMap;

use herald_kube::{KubeEvent, NodeInfo, ObjectKey, ServiceInfo, SliceInfo};
use herald_runtime::{NodeContext, NodeNetwork};

use crate::config::PeerSpec;

#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// What the provider is given: local knowledge until the Node has been read.
    pub node: NodeContext,
    /// True once the Node came from the apiserver.
    pub node_from_apiserver: bool,
    /// The provider's last good answer; `None` until it has answered once.
    pub discovered: Option<Vec<PeerSpec>>,
    pub services: BTreeMap<ObjectKey, ServiceInfo>,
    pub slices: BTreeMap<ObjectKey, SliceInfo>,
    /// Holder of the control-plane Lease (meaningful only with election on).
    pub leader: bool,
}

/// What an event changed, so the loop knows whether to call the provider again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    None,
    /// Annotations, labels or providerID of the own Node changed.
    Node,
    /// Services or EndpointSlices changed.
    Services,
}

impl Inputs {
    pub fn new(local_node: NodeContext) -> Self {
        Self {
            node: local_node,
            ..Self::default()
        }
    }

    pub fn apply(&mut self, event: KubeEvent) -> Change {
        match event {
            KubeEvent::Node(node) => self.set_node(node),
            KubeEvent::ServiceUpserted(service) => {
                self.services.insert(service.key.clone(), service);
                Change::Services
            }
            KubeEvent::ServiceDeleted(key) => {
                self.services.remove(&key);
                Change::Services
            }
            KubeEvent::ServicesResynced(services) => {
                self.services = services.into_iter().map(|s| (s.key.clone(), s)).collect();
                Change::Services
            }
            KubeEvent::SliceUpserted(slice) => {
                self.slices.insert(slice.key.clone(), slice);
                Change::Services
            }
            KubeEvent::SliceDeleted(key) => {
                self.slices.remove(&key);
                Change::Services
            }
            KubeEvent::SlicesResynced(slices) => {
                self.slices = slices.into_iter().map(|s| (s.key.clone(), s)).collect();
                Change::Services
            }
            KubeEvent::WatchFailed { .. } => Change::None,
        }
    }

    fn set_node(&mut self, node: NodeInfo) -> Change {
        let context = NodeContext {
            node_name: node.name,
            provider_id: node.provider_id,
            annotations: node.annotations,
            labels: node.labels,
            // Read afresh before every provider call (node_agent/provider.rs), not watched.
            network: NodeNetwork::default(),
        };
        let changed = !self.node_from_apiserver || context != self.node;
        self.node = context;
        self.node_from_apiserver = true;
        if changed { Change::Node } else { Change::None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::service;

    fn node(annotation: &str) -> NodeInfo {
        NodeInfo {
            name: "n1".into(),
            provider_id: None,
            annotations: [("a".to_owned(), annotation.to_owned())].into(),
            labels: BTreeMap::new(),
        }
    }

    #[test]
    fn the_node_replaces_local_knowledge_once_and_then_only_on_change() {
        let mut inputs = Inputs::new(NodeContext {
            node_name: "n1".into(),
            ..NodeContext::default()
        });
        assert_eq!(inputs.apply(KubeEvent::Node(node("x"))), Change::Node);
        assert_eq!(inputs.apply(KubeEvent::Node(node("x"))), Change::None);
        assert_eq!(inputs.apply(KubeEvent::Node(node("y"))), Change::Node);
        assert_eq!(inputs.node.annotations["a"], "y");
    }

    #[test]
    fn a_resync_replaces_the_services() {
        let mut inputs = Inputs::default();
        inputs.apply(KubeEvent::ServiceUpserted(service("old")));
        inputs.apply(KubeEvent::ServicesResynced(vec![service("new")]));
        let names: Vec<&str> = inputs.services.keys().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["new"]);
        assert_eq!(
            inputs.apply(KubeEvent::WatchFailed {
                resource: "services",
                message: "x".into()
            }),
            Change::None
        );
        assert_eq!(inputs.services.len(), 1, "a failed watch forgets nothing");
    }
}
