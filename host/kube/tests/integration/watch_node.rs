//! The own Node: first sight, then only annotation/label/providerID changes.

use herald_kube::KubeEvent;
use serde_json::json;

use crate::common::{cluster, watch};

fn node(name: &str, heartbeat: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name},
            "annotations": {"metal.equinix.com/bgp-peers-0-node-asn": "65000"}},
        "spec": {"providerID": format!("equinixmetal://{name}")},
        "status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": heartbeat}]}
    })
}

fn expect_node(e: KubeEvent) -> herald_kube::NodeInfo {
    match e {
        KubeEvent::Node(n) => n,
        other => panic!("expected Node, got {other:?}"),
    }
}

#[tokio::test]
async fn node_first_seen_then_only_meaningful_changes() {
    let c = cluster().await;
    c.fake.upsert(node("n1", "2026-01-01T00:00:00Z"));
    c.fake.upsert(node("n2", "2026-01-01T00:00:00Z"));
    let mut ev = watch(&c, "n1", false, false);

    let first = expect_node(ev.next().await);
    assert_eq!(first.name, "n1");
    assert_eq!(first.provider_id.as_deref(), Some("equinixmetal://n1"));
    assert_eq!(first.labels["kubernetes.io/hostname"], "n1");
    assert_eq!(
        first.annotations["metal.equinix.com/bgp-peers-0-node-asn"],
        "65000"
    );
    ev.assert_quiet().await;

    // Annotating (as the CCM does): one event carrying the new annotation.
    c.fake
        .merge_patch("v1", "Node", None, "n1", json!({"metadata": {"annotations": {"metal.equinix.com/bgp-peers-0-peer-asn": "65530"}}}))
        .unwrap();
    let annotated = expect_node(ev.next().await);
    assert_eq!(
        annotated.annotations["metal.equinix.com/bgp-peers-0-peer-asn"],
        "65530"
    );
    assert_eq!(annotated.annotations.len(), 2);
    ev.assert_quiet().await;

    // kubelet heartbeat: the whole object replaced with a new status only → nothing.
    let mut beat = c.fake.get("v1", "Node", None, "n1").unwrap();
    beat["status"]["conditions"][0]["lastHeartbeatTime"] = json!("2026-01-01T00:00:10Z");
    c.fake.upsert(beat);
    ev.assert_quiet().await;

    // A label change → event.
    c.fake
        .merge_patch(
            "v1",
            "Node",
            None,
            "n1",
            json!({"metadata": {"labels": {"topology.kubernetes.io/zone": "da11"}}}),
        )
        .unwrap();
    let labelled = expect_node(ev.next().await);
    assert_eq!(labelled.labels["topology.kubernetes.io/zone"], "da11");

    // A providerID change → event.
    c.fake
        .merge_patch(
            "v1",
            "Node",
            None,
            "n1",
            json!({"spec": {"providerID": "equinixmetal://other"}}),
        )
        .unwrap();
    let moved = expect_node(ev.next().await);
    assert_eq!(moved.provider_id.as_deref(), Some("equinixmetal://other"));

    // Another node's change → nothing.
    c.fake
        .merge_patch(
            "v1",
            "Node",
            None,
            "n2",
            json!({"metadata": {"annotations": {"x": "y"}}}),
        )
        .unwrap();
    ev.assert_quiet().await;
}

#[tokio::test]
async fn node_watch_uses_a_field_selector() {
    let c = cluster().await;
    c.fake.upsert(node("n1", "2026-01-01T00:00:00Z"));
    let mut ev = watch(&c, "n1", false, false);
    expect_node(ev.next().await);
    let requests = c.fake.requests();
    let node_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/api/v1/nodes")
        .collect();
    assert!(!node_requests.is_empty());
    for r in node_requests {
        assert!(
            r.query.contains("fieldSelector=metadata.name%3Dn1"),
            "node request without the field selector: {}",
            r.query
        );
    }
}
