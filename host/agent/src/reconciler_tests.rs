//! Reconciler behaviour against in-memory actuators.

use std::time::Duration;

use crate::config::PeerSpec;
use crate::desired::DesiredState;
use crate::fake::Fake;
use crate::reconciler::{Reconciler, SHUTDOWN_COMMUNICATION};

fn peer(address: &str, route_via: Option<&str>) -> PeerSpec {
    PeerSpec {
        address: address.parse().unwrap(),
        port: 179,
        asn: 65530,
        local_asn: None,
        password: None,
        multihop_ttl: Some(2),
        source_address: None,
        route_via: route_via.map(|g| g.parse().unwrap()),
        hold_time: 30,
        keepalive: 10,
    }
}

fn desired(peers: &[PeerSpec], vips: &[&str]) -> DesiredState {
    DesiredState {
        peers: peers.iter().map(|p| (p.address, p.clone())).collect(),
        prefixes: vips
            .iter()
            .map(|v| (v.parse().unwrap(), herald_bgp::RouteAttributes::default()))
            .collect(),
        addresses: vips.iter().map(|v| v.parse().unwrap()).collect(),
        peer_routes: peers
            .iter()
            .filter_map(|p| p.route_via.map(|g| (p.address, g)))
            .collect(),
    }
}

fn reconciler() -> (Fake, Reconciler<Fake, Fake>) {
    let fake = Fake::default();
    (fake.clone(), Reconciler::new(fake.clone(), fake))
}

#[tokio::test]
async fn applies_in_order_routes_addresses_announcements_peers() {
    let (fake, mut reconciler) = reconciler();
    let state = desired(
        &[peer("169.254.255.1", Some("192.0.2.1"))],
        &["203.0.113.10/32"],
    );
    assert!(reconciler.reconcile(&state).await.converged());
    assert_eq!(
        fake.world().calls,
        [
            "ensure_route 169.254.255.1 via 192.0.2.1",
            "add_address 203.0.113.10/32",
            "announce 1",
            "add_peer 169.254.255.1",
        ]
    );
    assert_eq!(reconciler.applied(), &state);
}

#[tokio::test]
async fn second_reconcile_of_the_same_state_does_nothing() {
    let (fake, mut reconciler) = reconciler();
    let state = desired(&[peer("192.0.2.1", None)], &["203.0.113.10/32"]);
    reconciler.reconcile(&state).await;
    let calls = fake.world().calls.len();
    assert!(reconciler.reconcile(&state).await.converged());
    assert_eq!(fake.world().calls.len(), calls);
}

#[tokio::test]
async fn a_failed_step_is_retried_by_the_next_reconcile_only() {
    let (fake, mut reconciler) = reconciler();
    fake.world()
        .failing
        .push("add_address 203.0.113.11".to_owned());
    let state = desired(
        &[peer("192.0.2.1", None)],
        &["203.0.113.10/32", "203.0.113.11/32"],
    );
    let outcome = reconciler.reconcile(&state).await;
    assert_eq!(outcome.failures, 1);
    assert_eq!(fake.world().addresses.len(), 1);
    let announced: Vec<String> = fake
        .world()
        .announced
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        announced,
        ["203.0.113.10/32"],
        "a VIP not on the interface is not announced"
    );

    fake.world().failing.clear();
    fake.world().calls.clear();
    assert!(reconciler.reconcile(&state).await.converged());
    assert_eq!(
        fake.world().calls,
        ["add_address 203.0.113.11/32", "announce 1"]
    );
    assert_eq!(reconciler.applied(), &state);
}

#[tokio::test]
async fn a_failed_peer_route_is_retried() {
    let (fake, mut reconciler) = reconciler();
    fake.world().failing.push("ensure_route".to_owned());
    let state = desired(&[peer("169.254.255.1", Some("192.0.2.1"))], &[]);
    assert_eq!(reconciler.reconcile(&state).await.failures, 1);
    fake.world().failing.clear();
    assert!(reconciler.reconcile(&state).await.converged());
    assert_eq!(fake.world().routes.len(), 1);
}

#[tokio::test]
async fn a_smaller_state_withdraws_before_removing_addresses_and_routes_last() {
    let (fake, mut reconciler) = reconciler();
    let full = desired(
        &[
            peer("169.254.255.1", Some("192.0.2.1")),
            peer("169.254.255.2", Some("192.0.2.1")),
        ],
        &["203.0.113.10/32", "203.0.113.11/32"],
    );
    reconciler.reconcile(&full).await;
    fake.world().calls.clear();
    let smaller = desired(
        &[peer("169.254.255.1", Some("192.0.2.1"))],
        &["203.0.113.10/32"],
    );
    assert!(reconciler.reconcile(&smaller).await.converged());
    assert_eq!(
        fake.world().calls,
        [
            "remove_peer 169.254.255.2",
            "withdraw 1",
            "remove_address 203.0.113.11/32",
            "remove_route 169.254.255.2",
        ]
    );
    assert_eq!(reconciler.applied(), &smaller);
}

#[tokio::test]
async fn shutdown_withdraws_first_then_cleans_the_node() {
    let (fake, mut reconciler) = reconciler();
    let state = desired(
        &[peer("169.254.255.1", Some("192.0.2.1"))],
        &["203.0.113.10/32"],
    );
    reconciler.reconcile(&state).await;
    fake.world().calls.clear();
    assert_eq!(reconciler.shutdown(Duration::from_secs(1)).await, 0);
    assert_eq!(
        fake.world().calls,
        [
            format!("shutdown {SHUTDOWN_COMMUNICATION}"),
            "remove_address 203.0.113.10/32".to_owned(),
            "remove_route 169.254.255.1".to_owned(),
            "cleanup".to_owned(),
        ]
    );
    let world = fake.world();
    assert!(world.addresses.is_empty() && world.routes.is_empty() && world.announced.is_empty());
    drop(world);
    assert!(reconciler.applied().is_empty());
}

#[tokio::test]
async fn shutdown_counts_cleanup_failures() {
    let (fake, mut reconciler) = reconciler();
    reconciler
        .reconcile(&desired(&[peer("192.0.2.1", None)], &["203.0.113.10/32"]))
        .await;
    fake.world().failing.push("remove_address".to_owned());
    assert_eq!(reconciler.shutdown(Duration::from_secs(1)).await, 1);
}

#[tokio::test(start_paused = true)]
async fn run_static_reconciles_then_shuts_down_on_signal() {
    use crate::config::{AgentConfig, SpeakerSettings};
    let fake = Fake::default();
    let config = AgentConfig {
        speaker: SpeakerSettings {
            router_id: "192.0.2.2".parse().unwrap(),
            local_asn: 65000,
            graceful_restart_time: None,
        },
        peers: vec![peer("169.254.255.1", Some("192.0.2.1"))],
        vips: vec!["203.0.113.10/32".parse().unwrap()],
        interface: "lo".to_owned(),
        vip_addresses: true,
        shutdown_timeout: Duration::from_secs(1),
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let observer = fake.clone();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            observer.world().announced.len(),
            1,
            "announced before shutdown"
        );
        let _ = tx.send(());
    });
    let summary = crate::run_static(
        &config,
        Reconciler::new(fake.clone(), fake.clone()),
        async {
            let _ = rx.await;
        },
    )
    .await;
    stopper.await.unwrap();
    assert_eq!(summary.cleanup_failures, 0);
    let world = fake.world();
    assert!(world.addresses.is_empty() && world.routes.is_empty() && world.announced.is_empty());
}
