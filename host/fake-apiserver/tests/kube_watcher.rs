//! kube-rs's `watcher` and raw watches against the fake: events from side-channel changes,
//! recovery from compaction and outages by relisting, bookmarks, selector transitions, volume.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant, SystemTime};

use futures::{Stream, StreamExt, TryStreamExt};
use herald_fake_apiserver::{FakeApiServer, WatchEventType};
use k8s_openapi::api::core::v1::{Node, Service};
use kube::api::{Api, WatchEvent, WatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

fn node_json(name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
}

/// The next watcher event for which `pick` returns Some, skipping others and transient errors.
async fn next_matching<K, T>(
    stream: &mut (impl Stream<Item = Result<Event<K>, watcher::Error>> + Unpin),
    mut pick: impl FnMut(&Event<K>) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            match stream.next().await {
                Some(Ok(ev)) => {
                    if let Some(t) = pick(&ev) {
                        return t;
                    }
                }
                Some(Err(_)) => {} // watcher errors are retried by the backoff
                None => panic!("watcher stream ended"),
            }
        }
    })
    .await;
    found.expect("timed out waiting for a watcher event")
}

fn name_of(n: &Node) -> String {
    n.metadata.name.clone().unwrap_or_default()
}

fn annotation(n: &Node, key: &str) -> Option<String> {
    n.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key).cloned())
}

#[tokio::test]
async fn watcher_with_field_selector_sees_side_channel_changes() {
    let server = FakeApiServer::start();
    server.upsert(node_json("n1"));
    server.upsert(node_json("n2"));
    let nodes: Api<Node> = Api::all(common::client(&server).await);
    let config = watcher::Config::default().fields("metadata.name=n1");
    let mut events = watcher(nodes, config).default_backoff().boxed();

    let initial = next_matching(&mut events, |e| match e {
        Event::InitApply(n) => Some(name_of(n)),
        _ => None,
    })
    .await;
    assert_eq!(initial, "n1");
    next_matching(&mut events, |e| matches!(e, Event::InitDone).then_some(())).await;

    // Another node's change does not arrive; n1's does.
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n2",
        json!({"metadata": {"annotations": {"x": "n2"}}}),
    );
    server
        .merge_patch(
            "v1",
            "Node",
            None,
            "n1",
            json!({"metadata": {"annotations": {"x": "n1"}}}),
        )
        .unwrap();
    let modified = next_matching(&mut events, |e| match e {
        Event::Apply(n) => Some(n.clone()),
        Event::Delete(n) => panic!("unexpected delete of {}", name_of(n)),
        _ => None,
    })
    .await;
    assert_eq!(name_of(&modified), "n1");
    assert_eq!(annotation(&modified, "x").as_deref(), Some("n1"));

    assert!(server.delete("v1", "Node", None, "n1"));
    let deleted = next_matching(&mut events, |e| match e {
        Event::Delete(n) => Some(name_of(n)),
        Event::Apply(n) => panic!("unexpected apply of {}", name_of(n)),
        _ => None,
    })
    .await;
    assert_eq!(deleted, "n1");

    // Re-created: ADDED again.
    server.upsert(node_json("n1"));
    let added = next_matching(&mut events, |e| match e {
        Event::Apply(n) => Some(name_of(n)),
        _ => None,
    })
    .await;
    assert_eq!(added, "n1");

    let watches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=true"))
        .collect();
    assert!(!watches.is_empty());
    assert!(
        watches
            .iter()
            .all(|r| r.query.contains("fieldSelector=metadata.name%3Dn1")),
        "{watches:?}"
    );
    let log = server.watch_log();
    let n1_events: Vec<_> = log
        .iter()
        .filter(|e| e.name == "n1")
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        n1_events,
        [
            WatchEventType::Modified,
            WatchEventType::Deleted,
            WatchEventType::Added
        ]
    );
    assert!(log.iter().all(|e| e.at >= e.stored_at));
}

#[tokio::test]
async fn watcher_relists_after_compaction_and_outage() {
    let server = FakeApiServer::start();
    server.upsert(node_json("n1"));
    let nodes: Api<Node> = Api::all(common::client(&server).await);
    let mut events = watcher(nodes, watcher::Config::default())
        .default_backoff()
        .boxed();
    next_matching(&mut events, |e| matches!(e, Event::InitDone).then_some(())).await;
    // Live events flow before the outage.
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        json!({"metadata": {"annotations": {"phase": "before"}}}),
    );
    next_matching(&mut events, |e| match e {
        Event::Apply(n) if annotation(n, "phase").as_deref() == Some("before") => Some(()),
        _ => None,
    })
    .await;

    // Down for a while; meanwhile the cluster changes and etcd compacts past the watcher's version.
    let outage_start = SystemTime::now();
    server.outage(Duration::from_millis(1500));
    assert!(!server.is_available());
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        json!({"metadata": {"annotations": {"phase": "during"}}}),
    );
    server.upsert(node_json("n2"));
    server.compact();

    // The watch from the old resourceVersion gets 410; the watcher relists and sees the change.
    let relisted = next_matching(&mut events, |e| match e {
        Event::InitApply(n) if annotation(n, "phase").as_deref() == Some("during") => {
            Some(name_of(n))
        }
        Event::Apply(n) if annotation(n, "phase").as_deref() == Some("during") => {
            panic!("the change came as a watch event: the history should have been compacted")
        }
        _ => None,
    })
    .await;
    assert_eq!(relisted, "n1");
    let n2 = next_matching(&mut events, |e| match e {
        Event::InitApply(n) if name_of(n) == "n2" => Some(()),
        _ => None,
    })
    .await;
    let () = n2;
    assert!(server.is_available());
    let after: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.at >= outage_start)
        .collect();
    assert!(
        after
            .iter()
            .any(|r| r.path == "/api/v1/nodes" && r.query.contains("watch=true")),
        "a watch from the stale version: {after:?}"
    );
    assert!(
        after
            .iter()
            .any(|r| r.path == "/api/v1/nodes" && !r.query.contains("watch")),
        "a relist after the outage: {after:?}"
    );

    // And it keeps watching afterwards.
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        json!({"metadata": {"annotations": {"phase": "after"}}}),
    );
    next_matching(&mut events, |e| match e {
        Event::Apply(n) if annotation(n, "phase").as_deref() == Some("after") => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn raw_watch_gets_410_then_bookmarks_and_timeouts() {
    let server = FakeApiServer::builder()
        .bookmark_interval(Duration::from_millis(100))
        .start();
    server.upsert(node_json("n1"));
    let old = server.resource_version();
    server.upsert(node_json("n2"));
    server.compact();
    let nodes: Api<Node> = Api::all(common::client(&server).await);

    let mut stream = nodes
        .watch(&WatchParams::default(), &(old - 1).to_string())
        .await
        .unwrap()
        .boxed();
    let first = tokio::time::timeout(WAIT, stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match first {
        WatchEvent::Error(status) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert_eq!(
                status.message,
                format!("too old resource version: {} ({})", old - 1, old + 1)
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(WAIT, stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .is_none(),
        "stream ends after 410"
    );

    // From the current version: bookmarks carry the latest resourceVersion; the timeout ends it.
    let current = server.resource_version();
    let params = WatchParams::default().timeout(2);
    let mut stream = nodes
        .watch(&params, &current.to_string())
        .await
        .unwrap()
        .boxed();
    let started = Instant::now();
    server.upsert(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other-kind"}}),
    );
    let mut bookmarks = Vec::new();
    while let Some(ev) = tokio::time::timeout(WAIT, stream.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        match ev {
            WatchEvent::Bookmark(b) => bookmarks.push(b.metadata.resource_version),
            other => panic!("only bookmarks expected, got {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert!(bookmarks.len() >= 5, "{bookmarks:?}");
    assert_eq!(
        bookmarks.last().unwrap(),
        &server.resource_version().to_string()
    );
}

#[tokio::test]
async fn watcher_bookmarks_arrive() {
    let server = FakeApiServer::start();
    server.set_bookmark_interval(Duration::from_millis(100));
    server.upsert(node_json("n1"));
    let nodes: Api<Node> = Api::all(common::client(&server).await);
    let mut stream = nodes
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    let mut saw_added = false;
    let bookmark = tokio::time::timeout(WAIT, async {
        while let Some(ev) = stream.try_next().await.unwrap() {
            match ev {
                WatchEvent::Added(n) => saw_added |= name_of(&n) == "n1",
                WatchEvent::Bookmark(b) => return b,
                other => panic!("unexpected {other:?}"),
            }
        }
        panic!("stream ended")
    })
    .await
    .unwrap();
    assert!(
        saw_added,
        "resourceVersion 0 starts with synthetic ADDED events"
    );
    assert_eq!(bookmark.types.kind, "Node");
    assert_eq!(
        bookmark.metadata.resource_version,
        server.resource_version().to_string()
    );
}

#[tokio::test]
async fn watcher_with_streaming_lists() {
    let server = FakeApiServer::start();
    server.upsert(node_json("n1"));
    server.upsert(node_json("n2"));
    let nodes: Api<Node> = Api::all(common::client(&server).await);
    let mut events = watcher(nodes, watcher::Config::default().streaming_lists())
        .default_backoff()
        .boxed();
    let mut initial = Vec::new();
    next_matching(&mut events, |e| match e {
        Event::InitApply(n) => {
            initial.push(name_of(n));
            None
        }
        Event::InitDone => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(initial, ["n1", "n2"]);
    server.upsert(node_json("n3"));
    let added = next_matching(&mut events, |e| match e {
        Event::Apply(n) => Some(name_of(n)),
        _ => None,
    })
    .await;
    assert_eq!(added, "n3");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.query.contains("sendInitialEvents=true"))
    );
}

#[tokio::test]
async fn label_selector_transitions_are_added_and_deleted() {
    let server = FakeApiServer::start();
    server.upsert(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"bgp": "on"}}}));
    let nodes: Api<Node> = Api::all(common::client(&server).await);
    let from = server.resource_version().to_string();
    let mut stream = nodes
        .watch(&WatchParams::default().labels("bgp=on"), &from)
        .await
        .unwrap()
        .boxed();
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        json!({"metadata": {"labels": {"bgp": "off"}}}),
    );
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        json!({"metadata": {"labels": {"bgp": "on"}}}),
    );
    server.merge_patch(
        "v1",
        "Node",
        None,
        "n1",
        json!({"metadata": {"annotations": {"a": "1"}}}),
    );
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = tokio::time::timeout(WAIT, stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(match ev {
            WatchEvent::Added(n) => ("ADDED", n.metadata.resource_version.unwrap()),
            WatchEvent::Modified(n) => ("MODIFIED", n.metadata.resource_version.unwrap()),
            WatchEvent::Deleted(n) => {
                assert_eq!(
                    n.metadata.labels.unwrap()["bgp"],
                    "on",
                    "DELETED carries the last matching state"
                );
                ("DELETED", n.metadata.resource_version.unwrap())
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    let base: u64 = from.parse().unwrap();
    let expected: Vec<(&str, String)> = vec![
        ("DELETED", (base + 1).to_string()),
        ("ADDED", (base + 2).to_string()),
        ("MODIFIED", (base + 3).to_string()),
    ];
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn ten_thousand_services_reach_a_watcher_quickly() {
    const N: usize = 10_000;
    let server = FakeApiServer::start();
    let services: Api<Service> = Api::all(common::client(&server).await);
    let mut events = watcher(services, watcher::Config::default())
        .default_backoff()
        .boxed();
    next_matching(&mut events, |e| matches!(e, Event::InitDone).then_some(())).await;

    let started = Instant::now();
    // Created one by one over HTTP, as a controller would.
    let writer = {
        let services: Api<Service> = Api::namespaced(common::client(&server).await, "default");
        tokio::spawn(async move {
            for i in 0..N {
                let svc: Service =
                    serde_json::from_value(json!({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": format!("svc-{i:05}")},
                    "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}))
                    .unwrap();
                services
                    .create(&kube::api::PostParams::default(), &svc)
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = 0;
    tokio::time::timeout(Duration::from_secs(120), async {
        while seen < N {
            if let Some(Ok(Event::Apply(_))) = events.next().await {
                seen += 1;
            }
        }
    })
    .await
    .expect("all services seen in time");
    writer.await.unwrap();
    let elapsed = started.elapsed();
    eprintln!("{N} services created and watched in {elapsed:?}");
    assert_eq!(server.list("v1", "Service").len(), N);
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");

    // A fresh list pages through all of them (the watcher's 500-item pages).
    let services: Api<Service> = Api::all(common::client(&server).await);
    let mut fresh = watcher(services, watcher::Config::default()).boxed();
    let listed_at = Instant::now();
    let mut initial = 0;
    while let Some(ev) = tokio::time::timeout(WAIT, fresh.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        match ev {
            Event::InitApply(_) => initial += 1,
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial, N);
    eprintln!("relisted {N} services in {:?}", listed_at.elapsed());
}
