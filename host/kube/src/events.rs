//! events.k8s.io/v1 Events through kube-runtime's `Recorder` (reporting controller `herald`,
//! instance = node name). The Recorder folds repeats of one (type, reason, object) into an
//! `EventSeries` within 6 minutes, as client-go does; the first note is the one kept.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::{KubeError, ServiceInfo};

/// The Event `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Normal,
    Warning,
}

/// Publishes Events about the own Node and Services.
#[derive(Clone)]
pub struct EventSink {
    recorder: Recorder,
    node: ObjectReference,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("node", &self.node.name)
            .finish_non_exhaustive()
    }
}

impl EventSink {
    pub fn new(client: kube::Client, node_name: &str) -> EventSink {
        let reporter = Reporter {
            controller: "herald".to_string(),
            instance: Some(node_name.to_string()),
        };
        let node = ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("Node".to_string()),
            name: Some(node_name.to_string()),
            // kubelet's convention for Node events (uid = node name); `kubectl describe node`
            // searches for exactly that.
            uid: Some(node_name.to_string()),
            ..ObjectReference::default()
        };
        EventSink {
            recorder: Recorder::new(client, reporter),
            node,
        }
    }

    /// An Event regarding the own Node (stored in namespace `default`, as kubelet's are).
    pub async fn on_node(
        &self,
        kind: EventKind,
        reason: &str,
        note: &str,
    ) -> Result<(), KubeError> {
        self.publish(&self.node, kind, reason, note)
            .await
            .map_err(|e| {
                KubeError::api(
                    format!("publishing Event {reason} on Node {}", self.node_name()),
                    e,
                )
            })
    }

    /// An Event regarding a Service (stored in the Service's namespace).
    pub async fn on_service(
        &self,
        service: &ServiceInfo,
        kind: EventKind,
        reason: &str,
        note: &str,
    ) -> Result<(), KubeError> {
        let regarding = ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("Service".to_string()),
            name: Some(service.key.name.clone()),
            namespace: Some(service.key.namespace.clone()),
            uid: Some(service.uid.clone()).filter(|u| !u.is_empty()),
            ..ObjectReference::default()
        };
        self.publish(&regarding, kind, reason, note)
            .await
            .map_err(|e| {
                KubeError::api(
                    format!("publishing Event {reason} on Service {}", service.key),
                    e,
                )
            })
    }

    fn node_name(&self) -> &str {
        self.node.name.as_deref().unwrap_or_default()
    }

    async fn publish(
        &self,
        regarding: &ObjectReference,
        kind: EventKind,
        reason: &str,
        note: &str,
    ) -> Result<(), kube::Error> {
        let event = Event {
            type_: match kind {
                EventKind::Normal => EventType::Normal,
                EventKind::Warning => EventType::Warning,
            },
            reason: reason.to_string(),
            // events.k8s.io requires a note of at most 1 kB.
            note: Some(truncate(note, MAX_NOTE_BYTES).to_string()),
            // Required by events.k8s.io/v1; Herald's reasons already say what was done.
            action: reason.to_string(),
            secondary: None,
        };
        self.recorder.publish(&event, regarding).await
    }
}

/// The apiserver rejects longer notes.
const MAX_NOTE_BYTES: usize = 1024;

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a"); // é is two bytes
    }
}
