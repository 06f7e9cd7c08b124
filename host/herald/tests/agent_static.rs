//! `herald agent --kubernetes=false` end to end: the real binary inside a node namespace, BIRD as
//! the Equinix-like upstream in a router namespace (see herald-testbed's `Lab::equinix`).
//!
//! Needs root (network namespaces): skipped with a note outside CI, fails under CI=true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::time::Duration;

mod process_log;

use herald_testbed::{Bird, EquinixLab, EquinixOptions, Lab, Netns, PEER1_V4, Process, poll};
use process_log::plain_log;

const WAIT: Duration = Duration::from_secs(30);
const VIP4: &str = "203.0.113.10";
const VIP6: &str = "2001:db8:1::10";
/// herald-net's route and address protocol number (`proto 72` in `ip route`).
const HERALD_PROTO: &str = "72";

/// The Equinix-like invocation: peer 169.254.255.1 two hops away, route to it via the gateway.
fn equinix_args() -> Vec<String> {
    [
        "--kubernetes=false",
        "--bgp",
        "--localAS",
        "65000",
        "--bgpRouterID",
        "192.0.2.2",
        "--peerAddress",
        "169.254.255.1",
        "--peerAS",
        "65530",
        "--multihop",
        "--multihopTTL",
        "2",
        "--peerGateway",
        "192.0.2.1",
        "--vip",
        VIP4,
        "--vip",
        VIP6,
        "--interface",
        "lo",
        "--holdTime",
        "9",
        "--keepalive",
        "3",
    ]
    .map(String::from)
    .to_vec()
}

/// Starts `herald agent <args>` in `ns` with debug logging (so the password checks see every line).
fn start_herald(ns: &Netns, args: &[String]) -> Process {
    let mut argv = vec![
        "env",
        "HERALD_LOG=debug",
        env!("CARGO_BIN_EXE_herald"),
        "agent",
    ];
    argv.extend(args.iter().map(String::as_str));
    ns.spawn(&argv).unwrap()
}

fn upstream_bird(topo: &EquinixLab, password: Option<&str>) -> Bird {
    let mut session = topo.router_session(PEER1_V4.into(), 65000).hold_time(9);
    if let Some(password) = password {
        session = session.password(password);
    }
    Bird::start_sessions(&topo.router, &[session]).unwrap()
}

#[track_caller]
fn wait_announced(bird: &Bird, herald: &Process) {
    if let Err(error) = bird.wait_established("herald", WAIT) {
        panic!(
            "session not up: {error}\nherald log:\n{}\nbird log:\n{}",
            herald.log(),
            bird.log()
        );
    }
    for table in ["master4", "master6"] {
        if let Err(error) = bird.wait_routes(table, 1, WAIT) {
            panic!("{table}: {error}\nherald log:\n{}", herald.log());
        }
    }
    let v4 = bird.routes_v4().unwrap();
    assert_eq!(v4[0].prefix.to_string(), format!("{VIP4}/32"));
    assert_eq!(v4[0].as_path, vec![65000]);
    assert_eq!(
        bird.routes_v6().unwrap()[0].prefix.to_string(),
        format!("{VIP6}/128")
    );
}

fn lo_has(ns: &Netns, address: &str) -> bool {
    let address: IpAddr = address.parse().unwrap();
    ns.addresses("lo")
        .unwrap()
        .iter()
        .any(|a| a.address == address)
}

fn peer_route(ns: &Netns) -> Option<herald_testbed::KernelRoute> {
    ns.routes(4)
        .unwrap()
        .into_iter()
        .find(|r| r.dst == "169.254.255.1")
}

#[track_caller]
fn wait_log(herald: &Process, needle: &str) {
    poll(WAIT, Duration::from_millis(50), || {
        if plain_log(herald).contains(needle) {
            Ok(())
        } else {
            Err(format!("no {needle:?} yet"))
        }
    })
    .unwrap_or_else(|last| panic!("{last}; herald log:\n{}", plain_log(herald)));
}

#[track_caller]
fn sigterm_and_expect_clean_exit(herald: &Process) -> String {
    herald.signal(libc::SIGTERM).unwrap();
    let status = herald.wait_exit(Duration::from_secs(15));
    let log = plain_log(herald);
    assert_eq!(
        status.as_deref(),
        Some("exit status: 0"),
        "herald log:\n{log}"
    );
    log
}

#[test]
fn multihop_peer_without_a_route_gets_one_and_vips_are_announced() {
    let Some(lab) = Lab::for_test("agent_multihop") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions { peer_routes: false });
    assert!(
        peer_route(&topo.node).is_none(),
        "the node starts without a route to the peer"
    );
    let bird = upstream_bird(&topo, None);
    let herald = start_herald(&topo.node, &equinix_args());

    wait_announced(&bird, &herald);
    let route = peer_route(&topo.node).expect("Herald installed a route to 169.254.255.1");
    assert_eq!(route.gateway.as_deref(), Some("192.0.2.1"));
    assert_eq!(route.protocol, HERALD_PROTO, "{route:?}");
    assert!(lo_has(&topo.node, VIP4) && lo_has(&topo.node, VIP6));
    wait_log(&herald, "BGP session up");
    sigterm_and_expect_clean_exit(&herald);
}

#[test]
fn sigterm_withdraws_and_leaves_the_node_clean() {
    let Some(lab) = Lab::for_test("agent_sigterm") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions { peer_routes: false });
    let bird = upstream_bird(&topo, None);
    let herald = start_herald(&topo.node, &equinix_args());
    wait_announced(&bird, &herald);

    sigterm_and_expect_clean_exit(&herald);
    bird.wait_routes("master4", 0, WAIT).unwrap();
    bird.wait_routes("master6", 0, WAIT).unwrap();
    assert!(
        !lo_has(&topo.node, VIP4) && !lo_has(&topo.node, VIP6),
        "VIPs left on lo"
    );
    assert!(
        peer_route(&topo.node).is_none(),
        "route to the peer left behind"
    );
    let protocol = bird.cmd("show protocols all herald").unwrap();
    let said = format!("{protocol}\n{}", bird.log());
    assert!(
        said.contains("herald shutting down"),
        "BIRD did not get the shutdown communication:\n{said}"
    );
}

#[test]
fn graceful_restart_keeps_routes_over_a_crash_and_refreshes_them() {
    let Some(lab) = Lab::for_test("agent_gr") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions { peer_routes: false });
    let bird = upstream_bird(&topo, None);
    let mut args = equinix_args();
    args.extend(["--gracefulRestart", "--gracefulRestartTime", "90"].map(String::from));
    let first = start_herald(&topo.node, &args);
    wait_announced(&bird, &first);

    first.kill(); // SIGKILL: no withdrawal, no NOTIFICATION
    poll(WAIT, Duration::from_millis(50), || {
        match bird.graceful_restart_active("herald") {
            Ok(true) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap_or_else(|last| {
        panic!(
            "BIRD never entered graceful restart: {last}\n{}",
            bird.log()
        )
    });
    let stale = bird.routes_v4().unwrap();
    assert_eq!(stale.len(), 1, "routes kept over the crash");
    assert!(stale[0].stale, "kept routes are stale: {stale:?}");
    assert_eq!(bird.routes_v6().unwrap().len(), 1);

    let second = start_herald(&topo.node, &args);
    bird.wait_established("herald", WAIT).unwrap();
    poll(WAIT, Duration::from_millis(50), || {
        match bird.graceful_restart_active("herald") {
            Ok(false) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap_or_else(|last| {
        panic!(
            "graceful restart never finished (no End-of-RIB?): {last}\n{}",
            second.log()
        )
    });
    let fresh = bird.routes_v4().unwrap();
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    assert!(!fresh[0].stale);
    assert_eq!(bird.routes_v6().unwrap().len(), 1);
    assert!(
        lo_has(&topo.node, VIP4),
        "the restarted agent adopted the VIP"
    );
    sigterm_and_expect_clean_exit(&second);
    assert!(!lo_has(&topo.node, VIP4) && peer_route(&topo.node).is_none());
}

#[test]
fn md5_password_from_a_file_works_and_is_never_printed() {
    const PASSWORD: &str = "Herald-MD5-Secret-7f3a";
    let Some(lab) = Lab::for_test("agent_md5") else {
        return;
    };
    // The operator's own route to the peer: Herald must use it and leave it alone.
    let topo = lab.equinix(EquinixOptions { peer_routes: true });
    let bird = upstream_bird(&topo, Some(PASSWORD));
    let password_file = lab.dir().join("peer-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let mut args: Vec<String> = equinix_args()
        .into_iter()
        .filter(|a| a != "--peerGateway" && a != "192.0.2.1")
        .collect();
    args.extend([
        "--peerPassFile".to_owned(),
        password_file.display().to_string(),
    ]);
    let herald = start_herald(&topo.node, &args);
    wait_announced(&bird, &herald);

    let log = sigterm_and_expect_clean_exit(&herald);
    assert!(
        !log.contains(PASSWORD),
        "the password appears in Herald's output:\n{log}"
    );
    assert!(log.contains("md5=true"), "{log}");
    let route = peer_route(&topo.node).expect("the operator's route is still there");
    assert_ne!(route.protocol, HERALD_PROTO);
}

#[test]
fn wrong_md5_password_never_establishes() {
    let Some(lab) = Lab::for_test("agent_md5bad") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions { peer_routes: true });
    let bird = upstream_bird(&topo, Some("right-password"));
    let mut args = equinix_args();
    args.extend(["--peerPass", "wrong-password"].map(String::from));
    let herald = start_herald(&topo.node, &args);
    // Long enough for several connect attempts (BIRD retries every 2 s, Herald backs off from 1 s).
    std::thread::sleep(Duration::from_secs(4));
    assert_ne!(bird.protocol_state("herald").unwrap(), "Established");
    let log = sigterm_and_expect_clean_exit(&herald);
    assert!(!log.contains("wrong-password"), "{log}");
}
