//! The speaker against real BGP daemons (BIRD 2, GoBGP, FRR) in network namespaces the
//! test creates; each test checks the daemon's own table. Needs root: outside CI the
//! tests skip with a message, under CI=true they fail (see `Lab::for_test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use herald_bgp::{
    GracefulRestartConfig, Password, PeerConfig, RouteAttributes, SessionState, Speaker,
    SpeakerConfig,
};
use herald_testbed::{
    Bird, EquinixLab, EquinixOptions, Family, Frr, GoBgp, Lab, NODE_V4, NODE_V6, Netns, PEER1_V4,
    PeerConfig as DaemonPeer, ROUTER_V4,
};
use ipnet::IpNet;

const NODE_ASN: u32 = 4_200_000_001;
const ROUTER_ASN: u32 = 4_200_000_002;
const WAIT: Duration = Duration::from_secs(20);

/// Runs `f` on a tokio runtime whose threads live in `ns`. Blocking daemon queries from
/// `f` are fine: the speaker's tasks run on the worker threads.
fn in_ns<F>(ns: &Netns, f: impl FnOnce() -> F + Send) -> F::Output
where
    F: Future,
    F::Output: Send,
{
    ns.run(move || runtime().block_on(f()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn speaker(gr: bool) -> Speaker {
    Speaker::start(SpeakerConfig {
        router_id: NODE_V4,
        local_asn: NODE_ASN,
        graceful_restart: gr.then_some(GracefulRestartConfig { restart_time: 120 }),
    })
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn attrs() -> RouteAttributes {
    RouteAttributes {
        communities: vec![65000 << 16 | 7],
        large_communities: vec![(NODE_ASN, 1, 2)],
        local_pref: None,
        med: Some(50),
    }
}

/// Equinix-like: BIRD on 169.254.255.1 (router ns lo), two hops away, 4-byte ASNs both sides.
fn equinix_bird(lab: &Lab, password: Option<&str>, gr: bool) -> (EquinixLab, Bird, DaemonPeer) {
    let topo = lab.equinix(EquinixOptions::default());
    let mut session = topo
        .router_session(PEER1_V4.into(), NODE_ASN)
        .passive(true)
        .graceful_restart(gr);
    session.local_as = ROUTER_ASN;
    if let Some(pw) = password {
        session = session.password(pw);
    }
    let bird = Bird::start_sessions(&topo.router, std::slice::from_ref(&session)).unwrap();
    (topo, bird, session)
}

fn herald_peer_for_bird(password: Option<&str>) -> PeerConfig {
    let mut peer = PeerConfig::new(IpAddr::V4(PEER1_V4), ROUTER_ASN);
    peer.multihop_ttl = Some(2);
    peer.password = password.map(Password::new);
    peer.hold_time = 9;
    peer.keepalive = 3;
    peer
}

#[test]
fn bird_gets_v4_and_v6_with_attributes_over_md5_multihop_4byte_asn() {
    let Some(lab) = Lab::for_test("bgp_bird_basic") else {
        return;
    };
    let (topo, bird, _) = equinix_bird(&lab, Some("herald-md5"), false);
    in_ns(&topo.node, || async {
        let sp = speaker(false);
        sp.announce(net("198.51.100.7/32"), attrs());
        sp.announce(net("2001:db8:1::7/128"), attrs());
        sp.add_peer(herald_peer_for_bird(Some("herald-md5")))
            .unwrap();
        sp.wait_established(IpAddr::V4(PEER1_V4), WAIT)
            .await
            .unwrap();
        bird.wait_routes("master4", 1, WAIT).unwrap();
        bird.wait_routes("master6", 1, WAIT).unwrap();

        let v4 = bird.routes_v4().unwrap();
        assert_eq!(v4.len(), 1, "{v4:?}");
        assert_eq!(v4[0].prefix, net("198.51.100.7/32"));
        assert_eq!(v4[0].next_hop, Some(IpAddr::V4(NODE_V4)));
        assert_eq!(v4[0].as_path, vec![NODE_ASN]);
        assert_eq!(v4[0].communities, vec![(65000, 7)]);
        assert_eq!(v4[0].large_communities, vec![(NODE_ASN, 1, 2)]);
        assert_eq!(v4[0].med, Some(50));
        let v6 = bird.routes_v6().unwrap();
        assert_eq!(v6[0].prefix, net("2001:db8:1::7/128"));
        assert_eq!(
            v6[0].next_hop,
            Some(IpAddr::V6(NODE_V6)),
            "IPv6 next hop from the interface of the IPv4 session"
        );

        sp.withdraw(net("198.51.100.7/32"));
        sp.withdraw(net("2001:db8:1::7/128"));
        bird.wait_routes("master4", 0, WAIT).unwrap();
        bird.wait_routes("master6", 0, WAIT).unwrap();

        // Shutdown: withdraw + Cease with the communication; BIRD shows it.
        sp.announce(net("198.51.100.8/32"), RouteAttributes::default());
        bird.wait_routes("master4", 1, WAIT).unwrap();
        let started = Instant::now();
        sp.shutdown("herald: node drained", Duration::from_secs(2))
            .await;
        let took = bird.wait_routes("master4", 0, WAIT).unwrap();
        eprintln!(
            "shutdown → BIRD empty: {:?} (shutdown returned after {:?})",
            took,
            started.elapsed()
        );
        let proto = bird.cmd("show protocols all herald").unwrap();
        assert!(
            proto.contains("herald: node drained") || proto.contains("Administrative shutdown"),
            "{proto}"
        );
    });
}

/// The configured multihop TTL is what goes on the wire: with BIRD one router further than in the
/// Equinix lab, TTL 1 dies at the router (no session), TTL 2 arrives (session up).
#[test]
fn multihop_ttl_is_applied_on_the_wire() {
    let Some(lab) = Lab::for_test("bgp_ttl") else {
        return;
    };
    let topo = lab.routed();
    let session = DaemonPeer::new(PEER1_V4.into(), ROUTER_ASN, NODE_V4.into(), NODE_ASN)
        .router_id(PEER1_V4)
        .name("herald")
        .multihop(2)
        .passive(true);
    let bird = Bird::start_sessions(&topo.peer, std::slice::from_ref(&session)).unwrap();
    in_ns(&topo.node, || async {
        let sp = speaker(false);
        let mut one_hop = herald_peer_for_bird(None);
        one_hop.multihop_ttl = Some(1);
        sp.add_peer(one_hop).unwrap();
        let result = sp
            .wait_established(IpAddr::V4(PEER1_V4), Duration::from_secs(4))
            .await;
        assert!(result.is_err(), "TTL 1 must not reach a peer two hops away");
        assert_ne!(bird.protocol_state("herald").unwrap(), "Established");
        sp.remove_peer(IpAddr::V4(PEER1_V4)).await.unwrap();

        sp.add_peer(herald_peer_for_bird(None)).unwrap();
        sp.wait_established(IpAddr::V4(PEER1_V4), WAIT)
            .await
            .unwrap();
        bird.wait_established("herald", WAIT).unwrap();
    });
}

#[test]
fn md5_mismatch_gives_no_session_and_says_so() {
    let Some(lab) = Lab::for_test("bgp_md5_wrong") else {
        return;
    };
    let (topo, bird, _) = equinix_bird(&lab, Some("right-password"), false);
    in_ns(&topo.node, || async {
        let sp = speaker(false);
        sp.add_peer(herald_peer_for_bird(Some("wrong-password")))
            .unwrap();
        let err = sp
            .wait_established(IpAddr::V4(PEER1_V4), Duration::from_secs(3))
            .await
            .unwrap_err();
        eprintln!("{err}");
        // The connect timeout (5 s) turns into a worded last_error.
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            let status = sp.peer_status()[0].clone();
            if status.last_error.is_some() || Instant::now() > deadline {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_ne!(status.state, SessionState::Established);
        let last_error = status.last_error.clone().unwrap();
        assert!(last_error.contains("no answer"), "{last_error}");
        assert!(
            !format!("{status:?}").contains("password-"),
            "secrets never in status"
        );
        assert_ne!(bird.protocol_state("herald").unwrap(), "Established");
    });
}

#[test]
fn graceful_restart_keeps_routes_stale_then_refreshes_with_end_of_rib() {
    let Some(lab) = Lab::for_test("bgp_gr") else {
        return;
    };
    let (topo, bird, _) = equinix_bird(&lab, None, true);
    let prefix = net("198.51.100.20/32");
    // First life: the runtime is dropped without shutdown (TCP closes, no NOTIFICATION).
    topo.node.run(|| {
        let rt = runtime();
        rt.block_on(async {
            let sp = speaker(true);
            sp.announce(prefix, RouteAttributes::default());
            sp.add_peer(herald_peer_for_bird(None)).unwrap();
            sp.wait_established(IpAddr::V4(PEER1_V4), WAIT)
                .await
                .unwrap();
            bird.wait_routes("master4", 1, WAIT).unwrap();
        });
        drop(rt);
    });
    herald_testbed::poll(WAIT, Duration::from_millis(50), || {
        if bird.graceful_restart_active("herald").unwrap() {
            Ok(())
        } else {
            Err("no GR yet".to_string())
        }
    })
    .unwrap();
    let routes = bird.routes_v4().unwrap();
    assert_eq!(
        routes.len(),
        1,
        "BIRD keeps the route during graceful restart"
    );
    assert!(routes[0].stale);

    // Second life: a new speaker re-announces and sends End-of-RIB; GR ends, routes fresh.
    in_ns(&topo.node, || async {
        let sp = speaker(true);
        sp.announce(prefix, RouteAttributes::default());
        sp.add_peer(herald_peer_for_bird(None)).unwrap();
        sp.wait_established(IpAddr::V4(PEER1_V4), WAIT)
            .await
            .unwrap();
        herald_testbed::poll(WAIT, Duration::from_millis(50), || {
            if bird.graceful_restart_active("herald").unwrap() {
                Err("GR still active".to_string())
            } else {
                Ok(())
            }
        })
        .unwrap();
        let routes = bird.routes_v4().unwrap();
        assert_eq!(routes.len(), 1);
        assert!(!routes[0].stale);
        sp.shutdown("test done", Duration::from_secs(1)).await;
    });
}

#[test]
fn bird_restart_is_followed_by_reconnect_and_reannouncement() {
    let Some(lab) = Lab::for_test("bgp_peer_restart") else {
        return;
    };
    let (topo, bird, session) = equinix_bird(&lab, None, false);
    in_ns(&topo.node, || async {
        let sp = speaker(false);
        sp.announce(net("198.51.100.30/32"), RouteAttributes::default());
        sp.add_peer(herald_peer_for_bird(None)).unwrap();
        sp.wait_established(IpAddr::V4(PEER1_V4), WAIT)
            .await
            .unwrap();
        bird.wait_routes("master4", 1, WAIT).unwrap();
        bird.kill();
        let deadline = Instant::now() + WAIT;
        while sp.peer_status()[0].state == SessionState::Established && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bird2 = Bird::start_sessions(&topo.router, std::slice::from_ref(&session)).unwrap();
        sp.wait_established(IpAddr::V4(PEER1_V4), Duration::from_secs(40))
            .await
            .unwrap();
        bird2.wait_routes("master4", 1, WAIT).unwrap();
        assert!(sp.peer_status()[0].counters.established_transitions >= 2);
    });
}

#[test]
fn ten_thousand_host_routes_reach_bird() {
    let Some(lab) = Lab::for_test("bgp_10k") else {
        return;
    };
    let (topo, bird, _) = equinix_bird(&lab, None, false);
    in_ns(&topo.node, || async {
        let sp = speaker(false);
        sp.add_peer(herald_peer_for_bird(None)).unwrap();
        sp.wait_established(IpAddr::V4(PEER1_V4), WAIT)
            .await
            .unwrap();
        let routes: Vec<_> = (0..10_000u32)
            .map(|i| {
                (
                    IpNet::V6(
                        ipnet::Ipv6Net::new(
                            Ipv6Addr::from(0x2001_0db8_0010_u128 << 80 | u128::from(i)),
                            128,
                        )
                        .unwrap(),
                    ),
                    RouteAttributes::default(),
                )
            })
            .collect();
        sp.announce_many(routes);
        let took = bird
            .wait_routes("master6", 10_000, Duration::from_secs(60))
            .unwrap();
        eprintln!(
            "10,000 /128s in BIRD after {took:?} (poll granularity 20 ms; see bench/ for the measured number)"
        );
        let status = sp.peer_status()[0].clone();
        assert_eq!(status.counters.prefixes_advertised, 10_000);
        assert!(
            status.counters.updates_out < 60,
            "{} UPDATEs",
            status.counters.updates_out
        );
    });
}

#[test]
fn gobgp_gets_v4_and_v6_with_attributes() {
    let Some(lab) = Lab::for_test("bgp_gobgp") else {
        return;
    };
    let topo = lab.direct();
    let session = DaemonPeer::new(ROUTER_V4.into(), 65010, NODE_V4.into(), 65020).passive(true);
    let gobgp = GoBgp::start_sessions(&topo.peer, &[session]).unwrap();
    in_ns(&topo.node, || async {
        let sp = Speaker::start(SpeakerConfig {
            router_id: NODE_V4,
            local_asn: 65020,
            graceful_restart: None,
        });
        sp.announce(net("203.0.113.7/32"), attrs());
        sp.announce(net("2001:db8:2::7/128"), attrs());
        let mut peer = PeerConfig::new(IpAddr::V4(ROUTER_V4), 65010);
        peer.source_address = Some(IpAddr::V4(NODE_V4));
        sp.add_peer(peer).unwrap();
        sp.wait_established(IpAddr::V4(ROUTER_V4), WAIT)
            .await
            .unwrap();
        gobgp.wait_routes(Family::Ipv4, 1, WAIT).unwrap();
        gobgp.wait_routes(Family::Ipv6, 1, WAIT).unwrap();
        let v4 = gobgp.rib(Family::Ipv4).unwrap();
        assert_eq!(v4[0].prefix, net("203.0.113.7/32"));
        assert_eq!(v4[0].communities, vec![(65000, 7)]);
        assert_eq!(v4[0].large_communities, vec![(NODE_ASN, 1, 2)]);
        assert_eq!(v4[0].med, Some(50));
        assert_eq!(v4[0].next_hop, Some(IpAddr::V4(NODE_V4)));
        let v6 = gobgp.rib(Family::Ipv6).unwrap();
        assert_eq!(v6[0].prefix, net("2001:db8:2::7/128"));
        assert_eq!(v6[0].next_hop, Some(IpAddr::V6(NODE_V6)));
        sp.withdraw(net("203.0.113.7/32"));
        sp.withdraw(net("2001:db8:2::7/128"));
        gobgp.wait_routes(Family::Ipv4, 0, WAIT).unwrap();
        gobgp.wait_routes(Family::Ipv6, 0, WAIT).unwrap();
    });
}

#[test]
fn frr_gets_v4_with_attributes() {
    let Some(lab) = Lab::for_test("bgp_frr") else {
        return;
    };
    let topo = lab.direct();
    let session = DaemonPeer::new(ROUTER_V4.into(), 65010, NODE_V4.into(), 65020).passive(true);
    let frr = Frr::start_sessions(&topo.peer, &[session]).unwrap();
    in_ns(&topo.node, || async {
        let sp = Speaker::start(SpeakerConfig {
            router_id: Ipv4Addr::new(192, 0, 2, 2),
            local_asn: 65020,
            graceful_restart: None,
        });
        sp.announce(net("203.0.113.8/32"), attrs());
        sp.add_peer(PeerConfig::new(IpAddr::V4(ROUTER_V4), 65010))
            .unwrap();
        sp.wait_established(IpAddr::V4(ROUTER_V4), WAIT)
            .await
            .unwrap();
        frr.wait_routes(Family::Ipv4, 1, WAIT).unwrap();
        let v4 = frr.rib(Family::Ipv4).unwrap();
        let route = v4
            .iter()
            .find(|r| r.prefix == net("203.0.113.8/32"))
            .expect("route at FRR");
        assert_eq!(route.as_path, vec![65020]);
        // The table summary omits communities: read the per-prefix detail.
        let detail = frr
            .vtysh_json("show bgp ipv4 unicast 203.0.113.8/32 json")
            .unwrap();
        let path = &detail["paths"][0];
        eprintln!("{path}");
        assert_eq!(
            path["community"]["string"].as_str(),
            Some("65000:7"),
            "{path}"
        );
        assert_eq!(
            path["largeCommunity"]["string"].as_str(),
            Some("4200000001:1:2"),
            "{path}"
        );
        assert_eq!(path["metric"].as_u64(), Some(50), "{path}");
        sp.withdraw(net("203.0.113.8/32"));
        frr.wait_routes(Family::Ipv4, 0, WAIT).unwrap();
    });
}

#[test]
fn gobgp_over_an_ipv6_session_gets_both_families() {
    let Some(lab) = Lab::for_test("bgp_gobgp6") else {
        return;
    };
    let topo = lab.direct();
    let router_v6: IpAddr = "2001:db8:ff::1".parse().unwrap();
    let session = DaemonPeer::new(router_v6, 65010, NODE_V6.into(), 65020)
        .passive(true)
        .router_id(ROUTER_V4);
    let gobgp = GoBgp::start_sessions(&topo.peer, &[session]).unwrap();
    in_ns(&topo.node, || async {
        let sp = Speaker::start(SpeakerConfig {
            router_id: NODE_V4,
            local_asn: 65020,
            graceful_restart: None,
        });
        sp.announce(net("203.0.113.9/32"), RouteAttributes::default());
        sp.announce(net("2001:db8:2::9/128"), RouteAttributes::default());
        let mut peer = PeerConfig::new(router_v6, 65010);
        // IPv4 prefixes over an IPv6 session need an explicit IPv4 next hop.
        peer.ipv4_next_hop = Some(NODE_V4);
        sp.add_peer(peer).unwrap();
        sp.wait_established(router_v6, WAIT).await.unwrap();
        gobgp.wait_routes(Family::Ipv4, 1, WAIT).unwrap();
        gobgp.wait_routes(Family::Ipv6, 1, WAIT).unwrap();
        assert_eq!(
            gobgp.rib(Family::Ipv6).unwrap()[0].next_hop,
            Some(IpAddr::V6(NODE_V6))
        );
        assert_eq!(
            gobgp.rib(Family::Ipv4).unwrap()[0].next_hop,
            Some(IpAddr::V4(NODE_V4))
        );
    });
}
