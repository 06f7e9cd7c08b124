//! Turning watcher events into [`KubeEvent`]s: filtering, compacting and per-object dedup.
//!
//! Pure state machines (no I/O) so they are unit-tested without an apiserver.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use kube::runtime::watcher::Event;

use super::KubeEvent;
use crate::wire::{NodeWire, ServiceWire, SliceWire};
use crate::{NodeInfo, ObjectKey, ServiceInfo, SliceInfo};

/// One watched kind: what it decodes to and how its events become (at most one) [`KubeEvent`].
pub(super) trait Track {
    type Obj;
    fn on_event(&mut self, event: Event<Self::Obj>) -> Option<KubeEvent>;
}

/// The own Node: sent when first seen, then only when the compact view changes.
pub(super) struct NodeTrack {
    node_name: String,
    last: Option<NodeInfo>,
}

impl NodeTrack {
    pub(super) fn new(node_name: &str) -> Self {
        NodeTrack {
            node_name: node_name.to_string(),
            last: None,
        }
    }
}

impl Track for NodeTrack {
    type Obj = NodeWire;

    fn on_event(&mut self, event: Event<NodeWire>) -> Option<KubeEvent> {
        match event {
            // Also checked here: the field selector is the server's job, but cheap to re-check.
            Event::Apply(node) | Event::InitApply(node) if node.name() == self.node_name => {
                let info = node.into_info();
                if self.last.as_ref() == Some(&info) {
                    return None;
                }
                self.last = Some(info.clone());
                Some(KubeEvent::Node(info))
            }
            // Forget it, so a re-created Node is announced again even if identical.
            Event::Delete(node) if node.name() == self.node_name => {
                self.last = None;
                None
            }
            _ => None,
        }
    }
}

/// What a keyed kind sends for each change.
struct Emit<T> {
    upserted: fn(T) -> KubeEvent,
    deleted: fn(ObjectKey) -> KubeEvent,
    resynced: fn(Vec<T>) -> KubeEvent,
}

/// Per-key dedup for Services and EndpointSlices.
///
/// Only 64-bit fingerprints are kept, of the key and of the last value sent (not the value: the
/// agent holds that copy), so 10,000 Services cost ~30 bytes each here. A collision would need
/// two different values of one object, or two keys, to hash alike: 2^-64 per change.
struct Keyed<T> {
    sent: HashMap<u64, u64>,
    /// Between `Init` and `InitDone`: the relisted set, replacing `sent` when complete.
    relist: Option<(HashMap<u64, u64>, Vec<T>)>,
    emit: Emit<T>,
}

impl<T: Hash> Keyed<T> {
    fn new(emit: Emit<T>) -> Self {
        Keyed {
            sent: HashMap::new(),
            relist: None,
            emit,
        }
    }

    /// `info` is `None` when the object is not (or no longer) one Herald handles.
    fn on_event(
        &mut self,
        event: Event<(ObjectKey, Option<T>)>,
        key_of: fn(&T) -> &ObjectKey,
    ) -> Option<KubeEvent> {
        match event {
            Event::Init => {
                self.relist = Some((HashMap::new(), Vec::new()));
                None
            }
            Event::InitApply((key, Some(info))) => {
                let (seen, items) = self.relist.get_or_insert_with(Default::default);
                seen.insert(fingerprint(&key), fingerprint(&info));
                items.push(info);
                None
            }
            Event::InitApply((_, None)) => None,
            Event::InitDone => {
                let (seen, mut items) = self.relist.take().unwrap_or_default();
                self.sent = seen;
                items.sort_by(|a, b| key_of(a).cmp(key_of(b)));
                // Pushing grew it by doubling; the agent may keep this vector as is.
                items.shrink_to_fit();
                Some((self.emit.resynced)(items))
            }
            Event::Apply((key, Some(info))) => {
                let print = fingerprint(&info);
                if self.sent.insert(fingerprint(&key), print) == Some(print) {
                    None
                } else {
                    Some((self.emit.upserted)(info))
                }
            }
            // Deleted, or stopped being handled (e.g. no longer type LoadBalancer).
            Event::Apply((key, None)) | Event::Delete((key, _)) => self
                .sent
                .remove(&fingerprint(&key))
                .map(|_| (self.emit.deleted)(key)),
        }
    }
}

fn fingerprint<T: Hash>(value: &T) -> u64 {
    // DefaultHasher::new() has fixed keys: stable for the life of the process, which is enough.
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Services of type LoadBalancer.
pub(super) struct ServiceTrack(Keyed<ServiceInfo>);

impl ServiceTrack {
    pub(super) fn new() -> Self {
        ServiceTrack(Keyed::new(Emit {
            upserted: KubeEvent::ServiceUpserted,
            deleted: KubeEvent::ServiceDeleted,
            resynced: KubeEvent::ServicesResynced,
        }))
    }
}

impl Track for ServiceTrack {
    type Obj = ServiceWire;

    fn on_event(&mut self, event: Event<ServiceWire>) -> Option<KubeEvent> {
        self.0
            .on_event(map_event(event, ServiceWire::into_info), |s| &s.key)
    }
}

/// EndpointSlices that belong to a Service.
pub(super) struct SliceTrack {
    node_name: String,
    keyed: Keyed<SliceInfo>,
}

impl SliceTrack {
    pub(super) fn new(node_name: &str) -> Self {
        SliceTrack {
            node_name: node_name.to_string(),
            keyed: Keyed::new(Emit {
                upserted: KubeEvent::SliceUpserted,
                deleted: KubeEvent::SliceDeleted,
                resynced: KubeEvent::SlicesResynced,
            }),
        }
    }
}

impl Track for SliceTrack {
    type Obj = SliceWire;

    fn on_event(&mut self, event: Event<SliceWire>) -> Option<KubeEvent> {
        let node = self.node_name.as_str();
        let event = map_event(event, |s| s.into_info(node));
        self.keyed.on_event(event, |s| &s.key)
    }
}

fn map_event<K, V>(event: Event<K>, mut f: impl FnMut(K) -> V) -> Event<V> {
    match event {
        Event::Apply(o) => Event::Apply(f(o)),
        Event::Delete(o) => Event::Delete(f(o)),
        Event::InitApply(o) => Event::InitApply(f(o)),
        Event::Init => Event::Init,
        Event::InitDone => Event::InitDone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, ty: &str, ip: &str) -> ServiceWire {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "1"},
            "spec": {"type": ty, "loadBalancerIP": ip, "ports": [{"port": 80, "protocol": "TCP"}]}
        }))
        .unwrap()
    }

    fn node(name: &str, annotations: serde_json::Value, heartbeat: &str) -> NodeWire {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "annotations": annotations, "resourceVersion": heartbeat},
            "spec": {"providerID": "equinixmetal://x"},
            "status": {"conditions": [{"type": "Ready", "lastHeartbeatTime": heartbeat}]}
        }))
        .unwrap()
    }

    #[test]
    fn node_is_sent_once_then_only_on_change() {
        let mut t = NodeTrack::new("n1");
        let first = t.on_event(Event::InitApply(node("n1", serde_json::json!({}), "1")));
        assert!(matches!(first, Some(KubeEvent::Node(ref n)) if n.name == "n1"));
        assert_eq!(t.on_event(Event::InitDone), None);
        // Heartbeat: status and resourceVersion change only.
        assert_eq!(
            t.on_event(Event::Apply(node("n1", serde_json::json!({}), "2"))),
            None
        );
        let changed = t.on_event(Event::Apply(node("n1", serde_json::json!({"a": "b"}), "3")));
        assert!(matches!(changed, Some(KubeEvent::Node(ref n)) if n.annotations["a"] == "b"));
        // Another node (if the server ignored the field selector): nothing.
        assert_eq!(
            t.on_event(Event::Apply(node("n2", serde_json::json!({"x": "y"}), "4"))),
            None
        );
        // A relist with the same content: nothing.
        assert_eq!(t.on_event(Event::Init), None);
        assert_eq!(
            t.on_event(Event::InitApply(node(
                "n1",
                serde_json::json!({"a": "b"}),
                "5"
            ))),
            None
        );
    }

    #[test]
    fn services_resync_then_dedup_upsert_and_delete() {
        let mut t = ServiceTrack::new();
        assert_eq!(t.on_event(Event::Init), None);
        assert_eq!(
            t.on_event(Event::InitApply(service("b", "LoadBalancer", "1.1.1.2"))),
            None
        );
        assert_eq!(
            t.on_event(Event::InitApply(service("c", "ClusterIP", ""))),
            None
        );
        assert_eq!(
            t.on_event(Event::InitApply(service("a", "LoadBalancer", "1.1.1.1"))),
            None
        );
        let Some(KubeEvent::ServicesResynced(all)) = t.on_event(Event::InitDone) else {
            panic!("expected a resync");
        };
        let names: Vec<_> = all.iter().map(|s| s.key.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);

        // Unchanged apply (e.g. a resourceVersion bump): nothing.
        assert_eq!(
            t.on_event(Event::Apply(service("a", "LoadBalancer", "1.1.1.1"))),
            None
        );
        let changed = t.on_event(Event::Apply(service("a", "LoadBalancer", "1.1.1.9")));
        assert!(
            matches!(changed, Some(KubeEvent::ServiceUpserted(ref s)) if s.load_balancer_ip.as_deref() == Some("1.1.1.9"))
        );
        // Type changed away: deleted; again: nothing more.
        let gone = t.on_event(Event::Apply(service("a", "ClusterIP", "")));
        assert_eq!(
            gone,
            Some(KubeEvent::ServiceDeleted(ObjectKey::new("default", "a")))
        );
        assert_eq!(
            t.on_event(Event::Apply(service("a", "ClusterIP", ""))),
            None
        );
        // ClusterIP Service deleted: never sent, so nothing.
        assert_eq!(
            t.on_event(Event::Delete(service("c", "ClusterIP", ""))),
            None
        );
        let deleted = t.on_event(Event::Delete(service("b", "LoadBalancer", "1.1.1.2")));
        assert_eq!(
            deleted,
            Some(KubeEvent::ServiceDeleted(ObjectKey::new("default", "b")))
        );
    }

    #[test]
    fn relist_replaces_the_known_set() {
        let mut t = ServiceTrack::new();
        t.on_event(Event::Init);
        t.on_event(Event::InitApply(service("a", "LoadBalancer", "1.1.1.1")));
        t.on_event(Event::InitDone);
        // Relist without "a": the resync is empty, and a later delete of "a" sends nothing.
        t.on_event(Event::Init);
        assert_eq!(
            t.on_event(Event::InitDone),
            Some(KubeEvent::ServicesResynced(vec![]))
        );
        assert_eq!(
            t.on_event(Event::Delete(service("a", "LoadBalancer", "1.1.1.1"))),
            None
        );
        // And "a" reappearing is news again.
        assert!(
            t.on_event(Event::Apply(service("a", "LoadBalancer", "1.1.1.1")))
                .is_some()
        );
    }

    #[test]
    fn slices_track_readiness_on_this_node() {
        let slice = |ready: bool| -> SliceWire {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "web-1", "namespace": "default",
                    "labels": {"kubernetes.io/service-name": "web"}},
                "endpoints": [{"nodeName": "n1", "conditions": {"ready": ready}}]
            }))
            .unwrap()
        };
        let mut t = SliceTrack::new("n1");
        let up = t.on_event(Event::Apply(slice(true)));
        assert!(
            matches!(up, Some(KubeEvent::SliceUpserted(ref s)) if s.ready_on_node && s.service == "web")
        );
        assert_eq!(t.on_event(Event::Apply(slice(true))), None);
        let down = t.on_event(Event::Apply(slice(false)));
        assert!(matches!(down, Some(KubeEvent::SliceUpserted(ref s)) if !s.ready_on_node));
    }
}
