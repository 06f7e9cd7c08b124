//! 10,000 LoadBalancer Services must cost the agent < 2 KB each: the watcher's own state plus
//! the copy the agent keeps (here: the `ServicesResynced` vector), measured end to end.
//!
//! A counting allocator counts only the test thread, which runs the (current-thread) runtime
//! with the watchers and the client; the fake apiserver runs on its own thread and is not counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use herald_kube::{KubeEvent, WatchConfig, spawn_watchers};
use serde_json::json;

struct Counting;

static NET_BYTES: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    COUNTED.try_with(Cell::get).unwrap_or(false)
}

fn add(bytes: isize) {
    if counted() {
        NET_BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
}

// SAFETY: delegates every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SERVICES: usize = 10_000;

fn service(i: usize) -> serde_json::Value {
    let ip = format!("198.51.{}.{}", 100 + i / 250, i % 250 + 1);
    let name = format!("service-{i:05}");
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "name": name, "namespace": format!("team-{:02}", i % 20),
            "uid": format!("6f1c1c3e-8d2b-4a4e-9c1a-{i:012}"),
            "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"},
            "annotations": {
                "kube-vip.io/loadbalancerIPs": ip,
                "kubectl.kubernetes.io/last-applied-configuration": "x".repeat(1200)
            },
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                "fieldsV1": {"f:metadata": {"f:annotations": {}}, "f:spec": {"f:ports": {}}}}]
        },
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "kube-vip.io/kube-vip-class",
            "externalTrafficPolicy": "Cluster", "clusterIP": "10.96.12.34",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31080},
                      {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443, "nodePort": 31443}],
            "selector": {"app.kubernetes.io/name": name}},
        "status": {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}
    })
}

#[tokio::test]
async fn ten_thousand_services_cost_under_2_kb_each() {
    let fake = herald_fake_apiserver::FakeApiServer::start();
    for i in 0..SERVICES {
        fake.upsert(service(i));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&path).unwrap();
    let client = herald_kube::connect(Some(&path)).await.unwrap();

    COUNTED.with(|c| c.set(true));
    let before = NET_BYTES.load(Ordering::Relaxed);
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let config = WatchConfig {
        node_name: "n1".into(),
        services: true,
        endpoint_slices: false,
        namespace: None,
    };
    let handle = spawn_watchers(client, config, tx);
    let kept = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            if let Some(KubeEvent::ServicesResynced(all)) = rx.recv().await {
                return all;
            }
        }
    })
    .await
    .expect("no resync in time");
    // Let the watch start and the last list page be freed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let used = NET_BYTES.load(Ordering::Relaxed) - before;
    COUNTED.with(|c| c.set(false));

    assert_eq!(kept.len(), SERVICES);
    assert_eq!(
        kept[0].annotations.len(),
        1,
        "only Herald's annotations are kept"
    );
    let per_service = used / SERVICES as isize;
    eprintln!(
        "retained {used} bytes: {per_service} bytes per Service (watcher state + agent copy)"
    );
    assert!(per_service < 2048, "{per_service} bytes per Service");
    drop(handle);
}
