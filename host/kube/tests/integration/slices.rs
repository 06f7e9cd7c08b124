//! EndpointSlices: is there a ready endpoint on this node?

use herald_kube::{KubeEvent, ObjectKey};
use serde_json::json;

use crate::common::{cluster, watch};

fn slice(name: &str, node: &str, ready: Option<bool>) -> serde_json::Value {
    let conditions = match ready {
        Some(r) => json!({"ready": r}),
        None => json!({}),
    };
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": "default",
            "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": node, "conditions": conditions}],
        "ports": [{"port": 8080, "protocol": "TCP"}]
    })
}

fn expect_slice(e: KubeEvent) -> herald_kube::SliceInfo {
    match e {
        KubeEvent::SliceUpserted(s) => s,
        other => panic!("expected SliceUpserted, got {other:?}"),
    }
}

#[tokio::test]
async fn readiness_on_this_node() {
    let c = cluster().await;
    let mut ev = watch(&c, "n1", false, true);
    assert_eq!(ev.next().await, KubeEvent::SlicesResynced(vec![]));

    c.fake.upsert(slice("web-a", "n1", Some(true)));
    let a = expect_slice(ev.next().await);
    assert_eq!(a.key, ObjectKey::new("default", "web-a"));
    assert_eq!(a.service, "web");
    assert!(a.ready_on_node);

    c.fake.upsert(slice("web-b", "n2", Some(true)));
    assert!(!expect_slice(ev.next().await).ready_on_node);

    c.fake.upsert(slice("web-a", "n1", Some(false)));
    assert!(!expect_slice(ev.next().await).ready_on_node);

    // Unknown readiness counts as ready.
    c.fake.upsert(slice("web-a", "n1", None));
    assert!(expect_slice(ev.next().await).ready_on_node);

    assert!(c.fake.delete(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        Some("default"),
        "web-b"
    ));
    assert_eq!(
        ev.next().await,
        KubeEvent::SliceDeleted(ObjectKey::new("default", "web-b"))
    );
}
