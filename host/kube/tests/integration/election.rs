//! Lease election with short timings: 3 s lease, 2 s renew deadline, 0.5 s retry.

use std::time::Duration;

use herald_kube::{LeaderElector, LeaseConfig};
use serde_json::json;
use tokio::time::Instant;

use crate::common::{Cluster, cluster, eventually};

const LEASE: Duration = Duration::from_secs(3);
const RENEW: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_millis(500);

fn config(identity: &str) -> LeaseConfig {
    LeaseConfig {
        namespace: "kube-system".into(),
        name: "plndr-cp-lock".into(),
        identity: identity.into(),
        lease_duration: LEASE,
        renew_deadline: RENEW,
        retry_period: RETRY,
    }
}

fn lease(c: &Cluster) -> serde_json::Value {
    c.fake
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some("kube-system"),
            "plndr-cp-lock",
        )
        .expect("lease exists")
}

fn leading(e: &LeaderElector) -> bool {
    *e.is_leader().borrow()
}

#[tokio::test]
async fn one_leader_then_handover_on_release() {
    let c = cluster().await;
    let a = LeaderElector::spawn(c.client.clone(), config("node-a"));
    let b = LeaderElector::spawn(c.client.clone(), config("node-b"));
    eventually(Duration::from_secs(10), "a leader", || {
        leading(&a) || leading(&b)
    })
    .await;

    // Exactly one, and it stays that way while both run.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert!(leading(&a) ^ leading(&b), "exactly one leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (leader, follower, leader_id, follower_id) = if leading(&a) {
        (a, b, "node-a", "node-b")
    } else {
        (b, a, "node-b", "node-a")
    };
    let held = lease(&c);
    assert_eq!(held["spec"]["holderIdentity"], leader_id);
    assert_eq!(held["spec"]["leaseDurationSeconds"], 3);
    assert!(held["spec"]["acquireTime"].is_string());
    assert!(held["spec"]["renewTime"].is_string());
    let transitions = held["spec"]["leaseTransitions"].as_i64().unwrap();

    // Release: empty holder at once; the follower takes over within about one retry period.
    let mut leader_flag = leader.is_leader();
    let released_at = Instant::now();
    leader.release().await;
    assert!(!*leader_flag.borrow_and_update());
    eventually(RETRY * 3, "the follower taking over", || leading(&follower)).await;
    assert!(released_at.elapsed() < RETRY * 3);
    let taken = lease(&c);
    assert_eq!(taken["spec"]["holderIdentity"], follower_id);
    assert_eq!(taken["spec"]["leaseDurationSeconds"], 3);
    assert_eq!(
        taken["spec"]["leaseTransitions"].as_i64().unwrap(),
        transitions + 1
    );
    follower.release().await;
    let free = lease(&c);
    assert_eq!(free["spec"]["holderIdentity"], "");
    assert_eq!(free["spec"]["leaseDurationSeconds"], 1);
}

#[tokio::test]
async fn renewals_keep_the_lease_fresh() {
    let c = cluster().await;
    let a = LeaderElector::spawn(c.client.clone(), config("node-a"));
    eventually(Duration::from_secs(5), "leadership", || leading(&a)).await;
    let first = lease(&c)["spec"].clone();
    tokio::time::sleep(RETRY * 3).await;
    let later = lease(&c)["spec"].clone();
    assert!(leading(&a));
    assert_ne!(first["renewTime"], later["renewTime"]);
    assert_eq!(first["acquireTime"], later["acquireTime"]);
    assert_eq!(first["leaseTransitions"], later["leaseTransitions"]);
    // Every write is a resourceVersion-guarded create or PUT, never a patch.
    let writes: Vec<_> = c
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/leases") && r.method != "GET")
        .collect();
    assert!(!writes.is_empty());
    assert!(
        writes
            .iter()
            .all(|r| r.method == "PUT" || r.method == "POST"),
        "{writes:?}"
    );
    a.release().await;
}

#[tokio::test]
async fn a_dead_leader_is_replaced_after_the_lease_duration() {
    let c = cluster().await;
    let a = LeaderElector::spawn(c.client.clone(), config("node-a"));
    eventually(Duration::from_secs(5), "a leading", || leading(&a)).await;
    let b = LeaderElector::spawn(c.client.clone(), config("node-b"));
    tokio::time::sleep(RETRY * 2).await;
    assert!(!leading(&b));

    // a stops renewing (its task is gone, as if the process died: no release).
    let a_flag = a.is_leader();
    let died = Instant::now();
    drop(a);
    // The abort lands at the task's next poll; its flag then reads false.
    eventually(Duration::from_secs(1), "a's flag dropping", || {
        !*a_flag.borrow()
    })
    .await;
    eventually(LEASE + RETRY * 4, "b taking over", || leading(&b)).await;
    assert!(
        died.elapsed() >= LEASE - RETRY,
        "took over too early: {:?}",
        died.elapsed()
    );
    assert_eq!(lease(&c)["spec"]["holderIdentity"], "node-b");
    b.release().await;
}

#[tokio::test]
async fn a_leader_cut_off_past_the_renew_deadline_steps_down_and_comes_back() {
    let c = cluster().await;
    let a = LeaderElector::spawn(c.client.clone(), config("node-a"));
    eventually(Duration::from_secs(5), "leadership", || leading(&a)).await;

    c.fake.set_available(false);
    let cut = Instant::now();
    eventually(RENEW + RETRY * 3, "stepping down", || !leading(&a)).await;
    let stepped_down = cut.elapsed();
    // Not before the renew deadline (less the one retry period since the last renewal).
    assert!(
        stepped_down >= RENEW - RETRY,
        "stepped down after {stepped_down:?}"
    );
    // Never after another node could have taken over.
    assert!(stepped_down < LEASE, "stepped down after {stepped_down:?}");

    c.fake.set_available(true);
    eventually(Duration::from_secs(10), "leading again", || leading(&a)).await;
    a.release().await;
}

#[tokio::test]
async fn a_stale_lease_of_a_dead_identity_is_taken_after_its_duration() {
    let c = cluster().await;
    let now = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    c.fake.upsert(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "plndr-cp-lock", "namespace": "kube-system"},
        "spec": {"holderIdentity": "dead-node", "leaseDurationSeconds": 3,
            "acquireTime": now, "renewTime": now, "leaseTransitions": 4}
    }));
    let started = Instant::now();
    let a = LeaderElector::spawn(c.client.clone(), config("node-a"));
    tokio::time::sleep(LEASE / 2).await;
    assert!(!leading(&a), "took a live-looking lease");
    eventually(LEASE + RETRY * 4, "taking the stale lease", || leading(&a)).await;
    assert!(started.elapsed() >= LEASE - RETRY);
    let spec = lease(&c)["spec"].clone();
    assert_eq!(spec["holderIdentity"], "node-a");
    assert_eq!(spec["leaseTransitions"], 5);
    assert_ne!(spec["acquireTime"], json!(now));
    a.release().await;
}

#[tokio::test]
async fn a_free_lease_is_taken_at_once() {
    let c = cluster().await;
    c.fake.upsert(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "plndr-cp-lock", "namespace": "kube-system"},
        "spec": {"holderIdentity": "", "leaseDurationSeconds": 1, "leaseTransitions": 2}
    }));
    let a = LeaderElector::spawn(c.client.clone(), config("node-a"));
    eventually(RETRY * 2, "taking the free lease", || leading(&a)).await;
    assert_eq!(lease(&c)["spec"]["leaseTransitions"], 3);
    a.release().await;
}
