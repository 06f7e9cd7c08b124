//! `herald agent` in Kubernetes mode end to end: the real binary and the real
//! `equinix-annotations`/`equinix-metadata`/hostile components in a node namespace, a fake
//! apiserver speaking the real wire protocol, BIRD as the Equinix-like upstream; one agent takes
//! its provider from an OCI registry's pinned digest (Debian's docker-registry on 127.0.0.1).
//!
//! Needs root (network namespaces): skipped with a note outside CI, fails under CI=true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod kube_lab;
mod process_log;

use std::time::{Duration, Instant};

use herald_testbed::registry::Registry;
use herald_testbed::{PEER1_V4, PEER2_V4, poll};
use kube_lab::*;
use serde_json::json;

/// Node annotated only after the agent starts → both peers up → the CP VIP at both; a changed
/// peer IP replaces that session alone; readiness; no secret anywhere; SIGTERM cleans up.
#[test]
fn annotations_drive_the_peers_of_the_control_plane_vip() {
    let Some(lab) = KubeLab::new("kube_annotations") else {
        return;
    };
    let birds = lab.birds(&[
        (PEER1_V4, "herald"),
        (PEER2_V4, "herald2"),
        (PEER3_V4, "herald3"),
    ]);
    let (bird, bird2, bird3) = (&birds[0], &birds[1], &birds[2]);
    lab.upsert_node(&[]);
    let herald = lab.start_agent(&[
        "--annotations",
        "metal.equinix.com",
        "--config",
        "private-gateway=192.0.2.1",
        "--controlplane",
        "--vip",
        VIP,
    ]);
    // Waiting for the CCM: not ready, nothing announced.
    lab.wait_readyz(503, &herald);
    assert!(!lo_has(&lab, VIP), "no VIP before any peer is known");

    lab.upsert_node(&equinix_annotations(&["169.254.255.1", "169.254.255.2"]));
    wait_established(bird, "herald", &herald);
    wait_established(bird2, "herald2", &herald);
    let vip = format!("{VIP}/32");
    wait_bird(bird, "herald", &vip, true, &herald);
    wait_bird(bird2, "herald2", &vip, true, &herald);
    lab.wait_readyz(200, &herald);
    assert!(lo_has(&lab, VIP));
    assert_eq!(
        herald_routes(&lab),
        ["169.254.255.1 via 192.0.2.1", "169.254.255.2 via 192.0.2.1"],
        "routes to both multihop peers via the private gateway"
    );
    let status = lab.status();
    assert_eq!(status["peers"].as_array().unwrap().len(), 2, "{status}");
    assert_eq!(status["peers"][0]["local_asn"], 65000);
    assert_eq!(status["peers"][0]["md5"], true);
    assert_eq!(status["provider"]["result"], "ok");

    // kubelet's status heartbeats do not make the agent call the provider again.
    let calls = lab.status()["provider"]["calls"].as_u64().unwrap();
    for beat in 0..3 {
        let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True",
            "lastHeartbeatTime": format!("2026-12-01T00:00:0{beat}Z")}]}});
        lab.api
            .merge_patch("v1", "Node", None, NODE, patch)
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        lab.status()["provider"]["calls"].as_u64().unwrap(),
        calls,
        "a heartbeat called the provider"
    );

    // The CCM moves the second peer: only that session is replaced.
    poll(WAIT, Duration::from_millis(100), || {
        lab.peer_uptime("169.254.255.1")
            .filter(|u| *u >= 2)
            .ok_or_else(|| "no uptime yet".to_owned())
    })
    .unwrap();
    let uptime_before = lab.peer_uptime("169.254.255.1").unwrap();
    let changed_at = Instant::now();
    lab.upsert_node(&equinix_annotations(&["169.254.255.1", "169.254.255.3"]));
    wait_established(bird3, "herald3", &herald);
    wait_bird(bird3, "herald3", &vip, true, &herald);
    poll(WAIT, Duration::from_millis(100), || {
        if bird_established(bird2, "herald2") {
            Err("herald2 still up".to_owned())
        } else {
            Ok(())
        }
    })
    .unwrap();
    assert!(
        bird_established(bird, "herald"),
        "the unchanged session stayed up"
    );
    assert!(
        bird_has(bird, "herald", &vip),
        "routes intact on the unchanged session"
    );
    let uptime_after = lab.peer_uptime("169.254.255.1").unwrap();
    assert!(
        uptime_after + 1 >= uptime_before + changed_at.elapsed().as_secs(),
        "the unchanged session's uptime continued: {uptime_before} s then {uptime_after} s"
    );
    assert_eq!(
        herald_routes(&lab),
        ["169.254.255.1 via 192.0.2.1", "169.254.255.3 via 192.0.2.1"]
    );

    // No secret in /status, /metrics, Events or the log.
    let (metrics, _) = poll(WAIT, Duration::from_millis(100), || {
        let (_, metrics) = lab.http_get("/metrics").unwrap();
        if metrics.contains("herald_bgp_session_up{peer=\"169.254.255.3\"} 1") {
            Ok(metrics)
        } else {
            Err(metrics)
        }
    })
    .unwrap_or_else(|last| panic!("{last}"));
    assert!(
        !metrics.contains("169.254.255.2"),
        "the removed peer's series are gone:\n{metrics}"
    );
    assert!(
        metrics.contains("herald_provider_calls_total{result=\"ok\"}"),
        "{metrics}"
    );
    assert_no_secret("/metrics", &metrics);
    assert_no_secret("/status", &lab.status().to_string());
    lab.wait_event("PeersChanged", "169.254.255.3", &herald);
    assert_no_secret("Events", &serde_json::to_string(&lab.events()).unwrap());

    let exit = terminate(&herald);
    assert!(
        exit.contains("exit status: 0"),
        "{exit}\n{}",
        plain_log(&herald)
    );
    wait_bird(bird, "herald", &vip, false, &herald);
    wait_bird(bird3, "herald3", &vip, false, &herald);
    assert!(!lo_has(&lab, VIP), "VIP removed from lo");
    assert!(herald_routes(&lab).is_empty(), "routes removed");
    assert_no_secret("herald log", &plain_log(&herald));
}

fn service(name: &str, ip: &str, local: bool) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": {"bgp.herald.dev/communities": "65000:100"}},
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerIP": ip,
            "externalTrafficPolicy": if local { "Local" } else { "Cluster" },
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
        },
    })
}

fn slice(service: &str, node: &str) -> serde_json::Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-abcde"), "namespace": "default", "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": true}, "nodeName": node}],
        "ports": [{"port": 8080, "protocol": "TCP"}],
    })
}

/// Services: created → route with its community and status written; deleted → withdrawn;
/// externalTrafficPolicy Local follows the endpoint; a 30 s apiserver outage withdraws nothing
/// and what changed during it is applied afterwards.
#[test]
fn services_are_announced_withdrawn_and_survive_an_outage() {
    let Some(lab) = KubeLab::new("kube_services") else {
        return;
    };
    let birds = lab.birds(&[(PEER1_V4, "herald")]);
    let bird = &birds[0];
    lab.upsert_node(&equinix_annotations(&["169.254.255.1"]));
    let herald = lab.start_agent(&[
        "--annotations",
        "metal.equinix.com",
        "--config",
        "private-gateway=192.0.2.1",
        "--services",
    ]);
    wait_established(bird, "herald", &herald);

    lab.api.upsert(service("web", "198.51.100.20", false));
    wait_bird(bird, "herald", "198.51.100.20/32", true, &herald);
    let all = bird.cmd("show route all protocol herald").unwrap();
    assert!(
        all.contains("(65000,100)"),
        "the Service's community reaches the peer:\n{all}"
    );
    poll(WAIT, Duration::from_millis(100), || {
        let web = lab
            .api
            .get("v1", "Service", Some("default"), "web")
            .unwrap();
        if web["status"]["loadBalancer"]["ingress"][0]["ip"] == "198.51.100.20" {
            Ok(())
        } else {
            Err(web.to_string())
        }
    })
    .unwrap_or_else(|last| panic!("status not written: {last}\n{}", plain_log(&herald)));

    // externalTrafficPolicy Local: only while this node has a ready endpoint.
    lab.api.upsert(service("local", "198.51.100.21", true));
    lab.api.upsert(slice("local", NODE));
    wait_bird(bird, "herald", "198.51.100.21/32", true, &herald);
    lab.api.upsert(slice("local", "k8s-node-2"));
    wait_bird(bird, "herald", "198.51.100.21/32", false, &herald);
    lab.api.upsert(slice("local", NODE));
    wait_bird(bird, "herald", "198.51.100.21/32", true, &herald);

    assert!(lab.api.delete("v1", "Service", Some("default"), "web"));
    wait_bird(bird, "herald", "198.51.100.20/32", false, &herald);

    // Outage: nothing withdrawn; the changes made meanwhile are applied once it ends.
    let outage = Duration::from_secs(30);
    let started = Instant::now();
    lab.api.outage(outage);
    std::thread::sleep(Duration::from_secs(2));
    lab.api.upsert(service("during", "198.51.100.22", false));
    assert!(lab.api.delete("v1", "Service", Some("default"), "local"));
    while started.elapsed() < outage - Duration::from_secs(1) {
        assert!(
            bird_has(bird, "herald", "198.51.100.21/32"),
            "withdrawn during the outage\n{}",
            plain_log(&herald)
        );
        assert!(bird_established(bird, "herald"));
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        !bird_has(bird, "herald", "198.51.100.22/32"),
        "nothing can be seen during the outage"
    );
    wait_bird(bird, "herald", "198.51.100.22/32", true, &herald);
    wait_bird(bird, "herald", "198.51.100.21/32", false, &herald);

    terminate(&herald);
    wait_bird(bird, "herald", "198.51.100.22/32", false, &herald);
    assert!(!lo_has(&lab, "198.51.100.22"));
}

/// A provider that traps or runs past its deadline: the last good peers and routes stay, and an
/// Event says why.
#[test]
fn a_failing_provider_keeps_the_last_good_peers() {
    let Some(lab) = KubeLab::new("kube_hostile") else {
        return;
    };
    let birds = lab.birds_with_password(&[(PEER1_V4, "herald")], None);
    let bird = &birds[0];
    lab.topo
        .node
        .route("169.254.255.1/32 via 192.0.2.1")
        .unwrap();
    lab.upsert_node(&[("herald.test/mode".into(), "ok".into())]);
    let herald = lab.start_agent(&[
        "--provider",
        herald_artifacts::HOSTILE_COMPONENT,
        "--config",
        "mode=from-node",
        "--providerTimeout",
        "500",
        "--bgpRouterID",
        "192.0.2.2",
        "--controlplane",
        "--vip",
        VIP,
    ]);
    let vip = format!("{VIP}/32");
    wait_established(bird, "herald", &herald);
    wait_bird(bird, "herald", &vip, true, &herald);

    lab.upsert_node(&[("herald.test/mode".into(), "trap".into())]);
    lab.wait_event("ProviderTrapped", "trapped", &herald);
    lab.upsert_node(&[("herald.test/mode".into(), "loop".into())]);
    lab.wait_event("ProviderTimeout", "deadline", &herald);
    let status = lab.status();
    assert_eq!(
        status["provider"]["result"],
        "timeout",
        "{status}\n{}",
        plain_log(&herald)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(bird_established(bird, "herald"), "the session stayed up");
    assert!(bird_has(bird, "herald", &vip), "the route stayed");
    assert_eq!(lab.status()["peers"].as_array().unwrap().len(), 1);

    terminate(&herald);
    wait_bird(bird, "herald", &vip, false, &herald);
}

/// A static pod before the apiserver exists: equinix-metadata needs no annotations, so the
/// control-plane VIP is announced with no apiserver at all.
#[test]
fn metadata_control_plane_vip_without_any_apiserver() {
    let Some(lab) = KubeLab::new("kube_metadata") else {
        return;
    };
    // The metadata document's own MD5 password.
    let birds = lab.birds_with_password(
        &[(PEER1_V4, "herald"), (PEER2_V4, "herald2")],
        Some("ExamplePass123"),
    );
    let (bird, bird2) = (&birds[0], &birds[1]);
    // The apiserver is down for good: every connection is closed unanswered.
    lab.api.set_available(false);
    let metadata = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metadata-lab.json"
    ))
    .unwrap();
    let listener = lab
        .topo
        .node
        .run(|| std::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(async {
            herald_provider_testkit::FixtureServer::start_on(
                listener,
                vec![(
                    "/metadata".into(),
                    herald_provider_testkit::Route::json(200, metadata),
                )],
            )
        })
        .unwrap();
    let url = format!("metadata-url={}/metadata", server.origin());
    let grant = server.grant();
    let herald = lab.start_agent(&[
        "--provider",
        "equinix-metadata",
        "--config",
        &url,
        "--allow-host",
        &grant,
        "--controlplane",
        "--vip",
        VIP,
    ]);
    let vip = format!("{VIP}/32");
    wait_established(bird, "herald", &herald);
    wait_established(bird2, "herald2", &herald);
    wait_bird(bird, "herald", &vip, true, &herald);
    wait_bird(bird2, "herald2", &vip, true, &herald);
    let status = lab.status();
    assert_eq!(status["kubernetes"]["node_seen"], false, "{status}");
    assert_eq!(
        herald_routes(&lab),
        ["169.254.255.1 via 192.0.2.1", "169.254.255.2 via 192.0.2.1"]
    );
    assert_no_secret("/status", &status.to_string());

    terminate(&herald);
    wait_bird(bird, "herald", &vip, false, &herald);
    assert!(!lo_has(&lab, VIP));
    assert_no_secret("herald log", &plain_log(&herald));
    drop(server);
}

/// `--provider oci://…@sha256:…`: the component pulled once into the cache (here by `herald
/// provider inspect`), then the registry stopped: the agent starts from the cache and peers.
#[test]
fn an_oci_provider_starts_from_the_cache_when_the_registry_is_down() {
    let Some(lab) = KubeLab::new("kube_oci") else {
        return;
    };
    let Some(mut registry) = Registry::start(false) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let herald = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("HERALD_CACHE_DIR", cache.path())
            .env("DOCKER_CONFIG", cache.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "herald {args:?}: {stderr}");
        String::from_utf8(output.stdout).unwrap()
    };
    let target = format!("{}/herald/equinix-annotations:v1", registry.registry());
    let pushed = herald(&[
        "provider",
        "push",
        herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
        &target,
    ]);
    let pinned = pushed.trim().to_owned();
    assert!(
        pinned.starts_with("oci://") && pinned.contains("@sha256:"),
        "{pushed}"
    );
    herald(&["provider", "inspect", &pinned]);
    registry.stop();

    let birds = lab.birds(&[(PEER1_V4, "herald")]);
    let bird = &birds[0];
    lab.upsert_node(&equinix_annotations(&["169.254.255.1"]));
    let cache_env = format!("HERALD_CACHE_DIR={}", cache.path().display());
    let agent = lab.start_agent_with_env(
        &[&cache_env],
        &[
            "--provider",
            &pinned,
            "--config",
            "private-gateway=192.0.2.1",
            "--controlplane",
            "--vip",
            VIP,
        ],
    );
    wait_established(bird, "herald", &agent);
    wait_bird(bird, "herald", &format!("{VIP}/32"), true, &agent);
    let log = plain_log(&agent);
    assert!(
        log.contains("provider component from OCI") && log.contains("from=cache"),
        "{log}"
    );
    terminate(&agent);
}
