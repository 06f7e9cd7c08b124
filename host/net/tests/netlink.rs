//! NetManager against the real kernel, inside a namespace each test creates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::net::IpAddr;

use herald_net::{HERALD_ROUTE_PROTOCOL, NetError, NetManager};
use herald_testbed::{Lab, Netns};

/// Runs `f` on a tokio runtime whose sockets live in `ns`.
fn in_ns<F, Fut, R>(ns: &Netns, f: F) -> R
where
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = R>,
    R: Send,
{
    ns.run(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f())
    })
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn lo_has(ns: &Netns, addr: &str) -> bool {
    ns.addresses("lo")
        .unwrap()
        .iter()
        .any(|a| a.address == ip(addr))
}

fn route_to<'a>(
    routes: &'a [herald_testbed::KernelRoute],
    dst: &str,
) -> Option<&'a herald_testbed::KernelRoute> {
    routes.iter().find(|r| r.dst == dst)
}

/// Node ↔ router on 192.0.2.0/24 and 2001:db8:ff::/64, no peer routes.
fn node_with_gateway(lab: &Lab) -> Netns {
    let node = lab.namespace("node");
    let router = lab.namespace("router");
    lab.link(
        &node,
        &["192.0.2.2/24", "2001:db8:ff::2/64"],
        &router,
        &["192.0.2.1/24", "2001:db8:ff::1/64"],
    );
    node
}

#[test]
fn vips_on_lo_are_added_idempotently_tagged_and_removed() {
    let Some(lab) = Lab::for_test("net_vip") else {
        return;
    };
    let ns = lab.namespace("node");
    in_ns(&ns, || async {
        let mut net = NetManager::new("lo").await.unwrap();
        for vip in ["198.51.100.10", "2001:db8::10"] {
            net.ensure_vip(ip(vip)).await.unwrap();
            net.ensure_vip(ip(vip)).await.unwrap(); // idempotent
        }
        assert_eq!(net.vips().count(), 2);
        let lo = ns.addresses("lo").unwrap();
        let v4: Vec<_> = lo
            .iter()
            .filter(|a| a.address == ip("198.51.100.10"))
            .collect();
        assert_eq!(v4.len(), 1, "{lo:?}");
        assert_eq!(v4[0].prefix_len, 32);
        // (iproute2 6.1 does not print IFA_PROTO; the tag is checked through adoption and cleanup below.)
        let v6 = lo.iter().find(|a| a.address == ip("2001:db8::10")).unwrap();
        assert_eq!(v6.prefix_len, 128);

        net.remove_vip(ip("198.51.100.10")).await.unwrap();
        net.remove_vip(ip("2001:db8::10")).await.unwrap();
        net.remove_vip(ip("2001:db8::10")).await.unwrap(); // already gone: fine
        assert!(!lo_has(&ns, "198.51.100.10"));
        assert!(!lo_has(&ns, "2001:db8::10"));
        assert!(lo_has(&ns, "127.0.0.1"));
        assert_eq!(net.vips().count(), 0);
    });
}

#[test]
fn peer_routes_via_a_gateway_are_tagged_and_removed() {
    let Some(lab) = Lab::for_test("net_route") else {
        return;
    };
    let node = node_with_gateway(&lab);
    in_ns(&node, || async {
        let mut net = NetManager::new("lo").await.unwrap();
        net.ensure_peer_route(ip("169.254.255.1"), ip("192.0.2.1"))
            .await
            .unwrap();
        net.ensure_peer_route(ip("169.254.255.1"), ip("192.0.2.1"))
            .await
            .unwrap(); // idempotent
        net.ensure_peer_route(ip("2001:db8:ffff::1"), ip("2001:db8:ff::1"))
            .await
            .unwrap();

        let v4 = node.routes(4).unwrap();
        let r = route_to(&v4, "169.254.255.1").expect("v4 peer route");
        assert_eq!(r.gateway.as_deref(), Some("192.0.2.1"));
        assert_eq!(r.protocol, HERALD_ROUTE_PROTOCOL.to_string());
        assert_eq!(v4.iter().filter(|r| r.dst == "169.254.255.1").count(), 1);
        let v6 = node.routes(6).unwrap();
        let r6 = route_to(&v6, "2001:db8:ffff::1").expect("v6 peer route");
        assert_eq!(r6.gateway.as_deref(), Some("2001:db8:ff::1"));
        assert_eq!(net.peer_routes().count(), 2);

        net.remove_peer_route(ip("169.254.255.1")).await.unwrap();
        net.remove_peer_route(ip("2001:db8:ffff::1")).await.unwrap();
        net.remove_peer_route(ip("2001:db8:ffff::1")).await.unwrap(); // already gone: fine
        assert!(route_to(&node.routes(4).unwrap(), "169.254.255.1").is_none());
        assert!(route_to(&node.routes(6).unwrap(), "2001:db8:ffff::1").is_none());
        assert_eq!(net.peer_routes().count(), 0);

        let mismatch = net
            .ensure_peer_route(ip("169.254.255.1"), ip("2001:db8:ff::1"))
            .await;
        assert!(
            matches!(mismatch, Err(NetError::FamilyMismatch { .. })),
            "{mismatch:?}"
        );
    });
}

#[test]
fn cleanup_spares_the_operators_vip_and_routes_of_other_protocols() {
    let Some(lab) = Lab::for_test("net_owner") else {
        return;
    };
    let node = node_with_gateway(&lab);
    // The operator's own configuration, present before Herald starts.
    node.add_address_lo("198.51.100.20/32").unwrap();
    node.add_address_lo("2001:db8::20/128").unwrap();
    node.route("203.0.113.0/24 via 192.0.2.1").unwrap();
    node.ip(&[
        "route",
        "add",
        "169.254.255.2/32",
        "via",
        "192.0.2.1",
        "proto",
        "static",
    ])
    .unwrap();

    in_ns(&node, || async {
        let mut net = NetManager::new("lo").await.unwrap();
        net.ensure_vip(ip("198.51.100.20")).await.unwrap(); // the operator's: used, not owned
        net.ensure_vip(ip("198.51.100.21")).await.unwrap();
        net.ensure_vip(ip("2001:db8::20")).await.unwrap();
        net.ensure_peer_route(ip("169.254.255.2"), ip("192.0.2.1"))
            .await
            .unwrap(); // the operator's
        net.ensure_peer_route(ip("169.254.255.1"), ip("192.0.2.1"))
            .await
            .unwrap();
        assert_eq!(net.vips().collect::<Vec<_>>(), vec![ip("198.51.100.21")]);
        assert_eq!(
            net.peer_routes().map(|(p, _)| p).collect::<Vec<_>>(),
            vec![ip("169.254.255.1")]
        );

        net.remove_vip(ip("198.51.100.20")).await.unwrap(); // not Herald's: stays
        net.remove_peer_route(ip("169.254.255.2")).await.unwrap(); // not Herald's: stays
        net.cleanup().await.unwrap();
    });

    assert!(lo_has(&node, "198.51.100.20"));
    assert!(lo_has(&node, "2001:db8::20"));
    assert!(!lo_has(&node, "198.51.100.21"));
    let v4 = node.routes(4).unwrap();
    assert!(route_to(&v4, "169.254.255.1").is_none(), "{v4:?}");
    assert_eq!(route_to(&v4, "169.254.255.2").unwrap().protocol, "static");
    assert!(route_to(&v4, "203.0.113.0/24").is_some());
    assert!(
        route_to(&v4, "192.0.2.0/24").is_some(),
        "kernel's connected route stays"
    );
}

#[test]
fn cleanup_removes_what_a_crashed_run_left_behind() {
    let Some(lab) = Lab::for_test("net_crash") else {
        return;
    };
    let node = node_with_gateway(&lab);
    node.add_dummy("vip0").unwrap();
    in_ns(&node, || async {
        // First run: adds things and "crashes" (dropped without cleanup).
        let mut first = NetManager::new("vip0").await.unwrap();
        first.ensure_vip(ip("198.51.100.30")).await.unwrap();
        first.ensure_vip(ip("2001:db8::30")).await.unwrap();
        first
            .ensure_peer_route(ip("169.254.255.1"), ip("192.0.2.1"))
            .await
            .unwrap();
        drop(first);
    });
    assert!(
        node.addresses("vip0")
            .unwrap()
            .iter()
            .any(|a| a.address == ip("2001:db8::30"))
    );

    in_ns(&node, || async {
        let mut second = NetManager::new("lo").await.unwrap();
        assert_eq!(second.vips().count(), 0);
        second.cleanup().await.unwrap();
    });
    let left: Vec<_> = node
        .addresses("vip0")
        .unwrap()
        .into_iter()
        .filter(|a| !a.address.to_string().starts_with("fe80"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(route_to(&node.routes(4).unwrap(), "169.254.255.1").is_none());
}

#[test]
fn a_restarted_run_adopts_its_own_vip() {
    let Some(lab) = Lab::for_test("net_adopt") else {
        return;
    };
    let ns = lab.namespace("node");
    in_ns(&ns, || async {
        let mut first = NetManager::new("lo").await.unwrap();
        first.ensure_vip(ip("198.51.100.40")).await.unwrap();
        drop(first);
        let mut second = NetManager::new("lo").await.unwrap();
        second.ensure_vip(ip("198.51.100.40")).await.unwrap();
        assert_eq!(second.vips().collect::<Vec<_>>(), vec![ip("198.51.100.40")]);
        second.remove_vip(ip("198.51.100.40")).await.unwrap();
    });
    assert!(!lo_has(&ns, "198.51.100.40"));
}

#[test]
fn an_unknown_interface_is_named_in_the_error() {
    let Some(lab) = Lab::for_test("net_noif") else {
        return;
    };
    let ns = lab.namespace("node");
    let err = in_ns(&ns, || async {
        NetManager::new("nosuch0").await.unwrap_err()
    });
    assert!(matches!(err, NetError::InterfaceNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nosuch0"));
}

#[test]
fn batches_add_and_remove_many_vips_and_spare_the_operators() {
    let Some(lab) = Lab::for_test("net_batch") else {
        return;
    };
    let ns = lab.namespace("node");
    ns.add_address_lo("2001:db8:1::5/128").unwrap(); // the operator's
    let vips: Vec<IpAddr> = (1..=2000u32)
        .map(|i| {
            IpAddr::from(std::net::Ipv6Addr::new(
                0x2001,
                0xdb8,
                1,
                0,
                0,
                0,
                (i >> 16) as u16,
                i as u16,
            ))
        })
        .chain([ip("198.51.100.50"), ip("198.51.100.50")]) // duplicates are fine
        .collect();
    in_ns(&ns, || async {
        let mut net = NetManager::new("lo").await.unwrap();
        let failed = net.ensure_vips(&vips).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(
            net.vips().count(),
            2000,
            "2001 distinct, minus the operator's"
        );
        assert!(net.ensure_vips(&vips).await.unwrap().is_empty()); // idempotent
        assert_eq!(
            ns.addresses("lo").unwrap().len(),
            2000 + 1 + 2 /* 127.0.0.1, ::1 */
        );

        let failed = net.remove_vips(&vips).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(net.vips().count(), 0);
    });
    let left: Vec<String> = ns
        .addresses("lo")
        .unwrap()
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(lo_has(&ns, "2001:db8:1::5"));
}
