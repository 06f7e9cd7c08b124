//! Lab lifecycle: namespaces, links, in-namespace code, teardown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use herald_testbed::{EquinixOptions, Lab};

#[test]
fn equinix_topology_routes_to_the_peer_only_when_asked() {
    let Some(lab) = Lab::for_test("topology") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions { peer_routes: false });
    let routes = topo.node.routes(4).unwrap();
    assert!(
        routes.iter().all(|r| !r.dst.starts_with("169.254.255")),
        "{routes:?}"
    );
    topo.node.route("169.254.255.1/32 via 192.0.2.1").unwrap();
    topo.node.route("169.254.255.1/32 via 192.0.2.1").unwrap(); // replace semantics
    for target in ["169.254.255.1", "[2001:db8:ff::1]", "[2001:db8:ffff::1]"] {
        if target.contains("ffff") {
            topo.node
                .route("2001:db8:ffff::1/128 via 2001:db8:ff::1")
                .unwrap();
        }
        assert_tcp_reachable(&topo.router, &topo.node, target);
    }
    let lo = topo.router.addresses("lo").unwrap();
    assert!(lo.iter().any(|a| a.address.to_string() == "169.254.255.2"));
}

/// Listens on `target` inside `server` and connects to it from inside `client`.
fn assert_tcp_reachable(
    server: &herald_testbed::Netns,
    client: &herald_testbed::Netns,
    target: &str,
) {
    let addr = server.run(|| {
        let listener = TcpListener::bind(format!("{target}:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let _ = listener.accept();
        });
        addr
    });
    client.run(|| {
        TcpStream::connect_timeout(&addr, Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    });
}

#[test]
fn run_enters_the_namespace() {
    let Some(lab) = Lab::for_test("run") else {
        return;
    };
    let topo = lab.direct();
    // 192.0.2.1 exists only inside the peer namespace: binding proves the thread is in it.
    let port = topo.peer.run(|| {
        let listener = TcpListener::bind("192.0.2.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let _ = listener.accept();
        });
        port
    });
    topo.node.run(|| {
        TcpStream::connect_timeout(
            &format!("192.0.2.1:{port}").parse().unwrap(),
            Duration::from_secs(2),
        )
        .unwrap();
    });
    assert!(
        TcpListener::bind("192.0.2.1:0").is_err(),
        "the test thread must stay in the host namespace"
    );
}

#[test]
fn drop_kills_processes_and_deletes_namespaces() {
    let Some(lab) = Lab::for_test("teardown") else {
        return;
    };
    let ns = lab.namespace("a");
    let name = ns.name().to_string();
    let sleeper = ns.spawn(&["sleep", "300"]).unwrap();
    let pid = sleeper.pid().unwrap();
    let dir = lab.dir().to_path_buf();
    assert!(Path::new(&format!("/run/netns/{name}")).exists());
    drop(sleeper);
    drop(ns);
    drop(lab);
    assert!(!Path::new(&format!("/run/netns/{name}")).exists());
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid));
    assert!(!dir.exists());
}

#[test]
fn panicking_test_still_tears_down() {
    let Some(lab) = Lab::for_test("panic") else {
        return;
    };
    let name = lab.namespace("a").name().to_string();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _lab = lab;
        panic!("test failure");
    }));
    assert!(result.is_err());
    assert!(!Path::new(&format!("/run/netns/{name}")).exists());
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
}
