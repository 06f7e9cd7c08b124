//! The test bed's readers against real daemons: each test peers two daemons and checks the receiver's RIB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::time::Duration;

use herald_testbed::{
    Bird, EquinixOptions, Family, Frr, GoBgp, Lab, NODE_V4, NODE_V6, PEER1_V4, PeerConfig,
};

const NODE_AS: u32 = 4_200_000_001;
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn bird_receives_gobgp_routes_over_equinix_multihop_md5() {
    let Some(lab) = Lab::for_test("bird_gobgp") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions::default());
    let bird = Bird::start_sessions(
        &topo.router,
        &[topo
            .router_session(PEER1_V4.into(), NODE_AS)
            .password("herald-md5")],
    )
    .unwrap();
    let sender = topo
        .node_session(PEER1_V4.into(), NODE_AS)
        .password("herald-md5")
        .announce(&["198.51.100.7/32", "2001:db8:1::1/128"]);
    let gobgp = GoBgp::start_sessions(&topo.node, &[sender]).unwrap();

    bird.wait_established("herald", WAIT).unwrap();
    gobgp.wait_established(PEER1_V4.into(), WAIT).unwrap();
    bird.wait_routes("master4", 1, WAIT).unwrap();
    bird.wait_routes("master6", 1, WAIT).unwrap();

    let v4 = bird.routes_v4().unwrap();
    assert_eq!(v4.len(), 1, "{v4:?}");
    assert_eq!(v4[0].prefix.to_string(), "198.51.100.7/32");
    assert_eq!(v4[0].from, Some(IpAddr::from(NODE_V4)));
    assert_eq!(v4[0].as_path, vec![NODE_AS]);
    assert_eq!(v4[0].protocol.as_deref(), Some("herald"));
    assert!(!v4[0].stale);
    let v6 = bird.routes_v6().unwrap();
    assert_eq!(v6[0].prefix.to_string(), "2001:db8:1::1/128");
    assert_eq!(v6[0].next_hop, Some(IpAddr::from(NODE_V6)));

    // The sender's own RIB holds what it originates.
    let local = gobgp.rib(Family::Ipv4).unwrap();
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].from, None);

    // Withdrawal reaches the receiver.
    gobgp.withdraw(&"198.51.100.7/32".parse().unwrap()).unwrap();
    bird.wait_routes("master4", 0, WAIT).unwrap();
}

#[test]
fn frr_receives_bird_routes_on_a_shared_subnet() {
    let Some(lab) = Lab::for_test("frr_bird") else {
        return;
    };
    let topo = lab.direct();
    let node: IpAddr = "192.0.2.2".parse().unwrap();
    let peer: IpAddr = "192.0.2.1".parse().unwrap();
    let frr =
        Frr::start_sessions(&topo.peer, &[PeerConfig::new(peer, 65001, node, 65002)]).unwrap();
    let sender = PeerConfig::new(node, 65002, peer, 65001)
        .announce(&["203.0.113.5/32", "203.0.113.6/32", "2001:db8:2::5/128"])
        .next_hop_v6(NODE_V6);
    let bird = Bird::start_sessions(&topo.node, &[sender]).unwrap();

    frr.wait_established(node, WAIT).unwrap();
    bird.wait_established("herald", WAIT).unwrap();
    frr.wait_routes(Family::Ipv4, 2, WAIT).unwrap();
    frr.wait_routes(Family::Ipv6, 1, WAIT).unwrap();

    let mut v4 = frr.rib(Family::Ipv4).unwrap();
    v4.sort_by_key(|r| r.prefix);
    assert_eq!(v4.len(), 2, "{v4:?}");
    assert_eq!(v4[0].prefix.to_string(), "203.0.113.5/32");
    assert_eq!(v4[0].from, Some(node));
    assert_eq!(v4[0].next_hop, Some(node));
    assert_eq!(v4[0].as_path, vec![65002]);
    let v6 = frr.rib(Family::Ipv6).unwrap();
    assert_eq!(v6[0].prefix.to_string(), "2001:db8:2::5/128");
}

#[test]
fn gobgp_receives_bird_routes_and_keeps_them_stale_after_a_crash() {
    let Some(lab) = Lab::for_test("gobgp_gr") else {
        return;
    };
    let topo = lab.direct();
    let node: IpAddr = "192.0.2.2".parse().unwrap();
    let peer: IpAddr = "192.0.2.1".parse().unwrap();
    let gobgp = GoBgp::start_sessions(
        &topo.peer,
        &[PeerConfig::new(peer, 65001, node, NODE_AS).graceful_restart(true)],
    )
    .unwrap();
    let sender = PeerConfig::new(node, NODE_AS, peer, 65001)
        .announce(&["198.51.100.9/32"])
        .graceful_restart(true);
    let bird = Bird::start_sessions(&topo.node, &[sender]).unwrap();

    gobgp.wait_established(node, WAIT).unwrap();
    gobgp.wait_routes(Family::Ipv4, 1, WAIT).unwrap();
    let rib = gobgp.rib(Family::Ipv4).unwrap();
    assert_eq!(rib[0].prefix.to_string(), "198.51.100.9/32");
    assert_eq!(rib[0].from, Some(node));
    assert_eq!(rib[0].as_path, vec![NODE_AS]);
    assert!(!rib[0].stale);

    // A sender that dies without closing its session leaves its routes stale at a GR helper.
    bird.kill();
    let (stale, _) = herald_testbed::poll(WAIT, Duration::from_millis(50), || {
        let rib = gobgp.rib(Family::Ipv4).map_err(|e| e.to_string())?;
        match rib.first() {
            Some(r) if r.stale => Ok(r.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap();
    assert_eq!(stale.prefix.to_string(), "198.51.100.9/32");
}

#[test]
fn frr_receives_gobgp_routes_over_equinix_multihop_md5() {
    let Some(lab) = Lab::for_test("frr_md5") else {
        return;
    };
    let topo = lab.equinix(EquinixOptions::default());
    let frr = Frr::start_sessions(
        &topo.router,
        &[topo
            .router_session(PEER1_V4.into(), NODE_AS)
            .password("herald-md5")],
    )
    .unwrap();
    let sender = topo
        .node_session(PEER1_V4.into(), NODE_AS)
        .password("herald-md5")
        .announce(&["198.51.100.8/32"]);
    let gobgp = GoBgp::start_sessions(&topo.node, &[sender]).unwrap();

    frr.wait_established(NODE_V4.into(), WAIT).unwrap();
    gobgp.wait_established(PEER1_V4.into(), WAIT).unwrap();
    frr.wait_routes(Family::Ipv4, 1, WAIT).unwrap();
    let rib = frr.rib(Family::Ipv4).unwrap();
    let learned: Vec<_> = rib.iter().filter(|r| r.from.is_some()).collect();
    assert_eq!(learned[0].prefix.to_string(), "198.51.100.8/32");
    assert_eq!(learned[0].as_path, vec![NODE_AS]);
}

#[test]
fn bird_reports_routes_of_a_crashed_graceful_restart_sender_as_stale() {
    let Some(lab) = Lab::for_test("bird_gr") else {
        return;
    };
    let topo = lab.direct();
    let node: IpAddr = "192.0.2.2".parse().unwrap();
    let peer: IpAddr = "192.0.2.1".parse().unwrap();
    let bird = Bird::start_sessions(
        &topo.peer,
        &[PeerConfig::new(peer, 65001, node, NODE_AS).graceful_restart(true)],
    )
    .unwrap();
    let sender = PeerConfig::new(node, NODE_AS, peer, 65001)
        .announce(&["203.0.113.9/32"])
        .graceful_restart(true);
    let gobgp = GoBgp::start_sessions(&topo.node, &[sender]).unwrap();
    bird.wait_routes("master4", 1, WAIT).unwrap();
    assert!(!bird.routes_v4().unwrap()[0].stale);

    gobgp.kill();
    herald_testbed::poll(WAIT, Duration::from_millis(50), || {
        match bird.graceful_restart_active("herald") {
            Ok(true) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap();
    let routes = bird.routes_v4().unwrap();
    assert_eq!(routes.len(), 1, "routes are kept during the restart");
    assert!(routes[0].stale);
}
