//! 410 Gone and outages: the watchers come back by themselves and relist.

use std::time::Duration;

use herald_kube::{KubeEvent, ObjectKey};

use crate::common::{cluster, watch};
use crate::services::lb_service;

#[tokio::test]
async fn compaction_and_outage_lead_to_a_relist_with_changes_made_meanwhile() {
    let c = cluster().await;
    c.fake.upsert(lb_service("default", "web", "198.51.100.10"));
    let mut ev = watch(&c, "n1", true, false);
    let KubeEvent::ServicesResynced(all) = ev.next().await else {
        panic!("expected the initial resync");
    };
    assert_eq!(all.len(), 1);

    // Changes made while the watch is down, then compaction: the watcher's resourceVersion is
    // now older than the retained history, so resuming gets 410 Expired.
    c.fake.outage(Duration::from_secs(2));
    c.fake.upsert(lb_service("default", "web", "198.51.100.99"));
    c.fake.upsert(lb_service("default", "new", "198.51.100.20"));
    c.fake.compact();

    let failed = ev
        .next_where(|e| {
            matches!(
                e,
                KubeEvent::WatchFailed {
                    resource: "services",
                    ..
                }
            )
        })
        .await;
    let KubeEvent::WatchFailed { resource, message } = failed else {
        unreachable!()
    };
    assert_eq!(resource, "services");
    assert!(!message.is_empty());
    assert!(!message.contains("fake-apiserver-token"), "{message}");

    // Back: the changes arrive as a resync, since the old resourceVersion is gone.
    let KubeEvent::ServicesResynced(all) = ev.next().await else {
        panic!("expected ServicesResynced after 410");
    };
    let web = all
        .iter()
        .find(|s| s.key == ObjectKey::new("default", "web"))
        .unwrap();
    assert_eq!(web.ingress, ["198.51.100.99"]);
    assert!(all.iter().any(|s| s.key.name == "new"));
    // Then live again: a later change is an ordinary upsert.
    c.fake.upsert(lb_service("default", "new", "198.51.100.21"));
    let KubeEvent::ServiceUpserted(new) = ev.next().await else {
        panic!("expected ServiceUpserted");
    };
    assert_eq!(new.ingress, ["198.51.100.21"]);
    // The 410 made the watcher list again (a plain resume would only watch).
    let lists = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/services" && !r.query.contains("watch"))
        .count();
    assert!(lists >= 2, "expected a relist, saw {lists} list(s)");
}

#[tokio::test]
async fn node_watch_survives_an_outage_without_repeating_itself() {
    let c = cluster().await;
    c.fake.upsert_yaml(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  annotations:\n    a: b\n",
    );
    let mut ev = watch(&c, "n1", false, false);
    assert!(matches!(ev.next().await, KubeEvent::Node(_)));
    c.fake.outage(Duration::from_secs(2));
    c.fake.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        serde_json::json!({"status": {"phase": "x"}}),
    );
    c.fake.compact();
    ev.next_where(|e| {
        matches!(
            e,
            KubeEvent::WatchFailed {
                resource: "nodes",
                ..
            }
        )
    })
    .await;
    // The relisted node is unchanged: no Node event; a change after that is delivered.
    tokio::time::sleep(Duration::from_secs(2)).await;
    ev.assert_quiet().await;
    // Give the watcher time to be back (its backoff may run a few seconds past the outage).
    let deadline = tokio::time::Instant::now() + crate::common::SOON;
    let mut n = 0;
    loop {
        n += 1;
        c.fake.merge_patch(
            "v1",
            "Node",
            None,
            "n1",
            serde_json::json!({"metadata": {"annotations": {"a": format!("c{n}")}}}),
        );
        let got = tokio::time::timeout(Duration::from_secs(1), ev.rx.recv()).await;
        if let Ok(Some(KubeEvent::Node(node))) = got {
            assert!(node.annotations["a"].starts_with('c'));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node changes never arrived"
        );
    }
}
