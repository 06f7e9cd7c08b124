//! events.k8s.io/v1 Events about the own Node and Services.

use herald_kube::{EventKind, EventSink, ObjectKey, ServiceInfo};

use crate::common::cluster;

fn events(c: &crate::common::Cluster) -> Vec<serde_json::Value> {
    c.fake.list("events.k8s.io/v1", "Event")
}

#[tokio::test]
async fn node_and_service_events_carry_regarding_reason_note_type() {
    let c = cluster().await;
    let sink = EventSink::new(c.client.clone(), "n1");

    sink.on_node(
        EventKind::Warning,
        "PeerDiscoveryFailed",
        "metadata unreachable",
    )
    .await
    .unwrap();
    let all = events(&c);
    assert_eq!(all.len(), 1, "{all:?}");
    let e = &all[0];
    assert_eq!(e["metadata"]["namespace"], "default");
    assert_eq!(e["regarding"]["kind"], "Node");
    assert_eq!(e["regarding"]["apiVersion"], "v1");
    assert_eq!(e["regarding"]["name"], "n1");
    assert_eq!(e["reason"], "PeerDiscoveryFailed");
    assert_eq!(e["note"], "metadata unreachable");
    assert_eq!(e["type"], "Warning");
    assert_eq!(e["reportingController"], "herald");
    assert_eq!(e["reportingInstance"], "n1");
    assert!(e["eventTime"].is_string());

    let service = ServiceInfo {
        key: ObjectKey::new("prod", "web"),
        uid: "uid-web".into(),
        load_balancer_class: None,
        load_balancer_ip: None,
        ingress: vec![],
        external_traffic_policy_local: false,
        ports: vec![],
        annotations: Default::default(),
    };
    sink.on_service(
        &service,
        EventKind::Normal,
        "Announced",
        "198.51.100.10 announced to 2 peers",
    )
    .await
    .unwrap();
    let all = events(&c);
    let e = all
        .iter()
        .find(|e| e["reason"] == "Announced")
        .expect("service event");
    assert_eq!(e["metadata"]["namespace"], "prod");
    assert_eq!(e["regarding"]["kind"], "Service");
    assert_eq!(e["regarding"]["namespace"], "prod");
    assert_eq!(e["regarding"]["name"], "web");
    assert_eq!(e["regarding"]["uid"], "uid-web");
    assert_eq!(e["note"], "198.51.100.10 announced to 2 peers");
    assert_eq!(e["type"], "Normal");

    // A repeat folds into a series on the same Event (the Recorder's dedup), not a new object.
    sink.on_node(
        EventKind::Warning,
        "PeerDiscoveryFailed",
        "metadata unreachable",
    )
    .await
    .unwrap();
    let node_events: Vec<_> = events(&c)
        .into_iter()
        .filter(|e| e["regarding"]["kind"] == "Node")
        .collect();
    assert_eq!(node_events.len(), 1);
    assert_eq!(node_events[0]["series"]["count"], 2);
}
