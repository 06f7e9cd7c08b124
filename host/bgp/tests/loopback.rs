//! The speaker against a raw-TCP BGP peer on 127.0.0.1 (no root needed): wire-level
//! behaviour the real daemons cannot easily show (exact messages, malformed input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{LOCAL_ASN, PEER_ASN, TestPeer, net, peer_open};
use herald_bgp::codec::Received;
use herald_bgp::message;
use herald_bgp::wire::BgpMessage;
use herald_bgp::wire::capabilities::BgpCapability;
use herald_bgp::wire::notification::{
    BgpNotificationMessage, CeaseError, MessageHeaderError, OpenMessageError,
};
use herald_bgp::{
    AddressType, GracefulRestartConfig, PeerConfig, RouteAttributes, SessionState, Speaker,
    SpeakerConfig,
};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn speaker() -> Speaker {
    Speaker::start(SpeakerConfig {
        router_id: Ipv4Addr::new(192, 0, 2, 2),
        local_asn: LOCAL_ASN,
        graceful_restart: Some(GracefulRestartConfig { restart_time: 90 }),
    })
}

fn peer_config(port: u16) -> PeerConfig {
    let mut cfg = PeerConfig::new(LOOPBACK, PEER_ASN);
    cfg.port = port;
    cfg.ipv6_next_hop = Some("2001:db8:ff::2".parse().unwrap());
    cfg
}

fn attrs() -> RouteAttributes {
    RouteAttributes {
        communities: vec![65000 << 16 | 7],
        large_communities: vec![(LOCAL_ASN, 1, 2)],
        local_pref: Some(200),
        med: Some(50),
    }
}

#[tokio::test]
async fn announces_packs_withdraws_and_sends_end_of_rib() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.7/32"), attrs());
    sp.announce(net("2001:db8:1::7/128"), attrs());
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;

    // OPEN carries every capability, with our real 4-byte ASN and AS_TRANS in my_as.
    let open = conn.their_open.clone().unwrap();
    assert_eq!(open.my_as(), message::AS_TRANS);
    assert_eq!(open.my_asn4(), LOCAL_ASN);
    let caps = open.capabilities();
    assert!(
        caps.iter()
            .any(|c| matches!(c, BgpCapability::RouteRefresh))
    );
    let gr = caps
        .iter()
        .find_map(|c| {
            if let BgpCapability::GracefulRestartCapability(gr) = c {
                Some(gr.clone())
            } else {
                None
            }
        })
        .expect("graceful restart capability");
    assert!(gr.restart(), "R bit on the first session after start");
    assert_eq!(gr.time(), 90);
    assert!(gr.address_families().iter().all(|f| f.forwarding_state()));
    assert_eq!(gr.address_families().len(), 2);

    assert!(
        conn.until(|c| c.end_of_rib.len() == 2).await,
        "End-of-RIB for both families"
    );
    assert_eq!(conn.table.len(), 2);
    let v4 = &conn.table[&net("198.51.100.7/32")];
    assert_eq!(v4.next_hop_v4, Some(Ipv4Addr::LOCALHOST));
    assert_eq!(v4.as_path, vec![LOCAL_ASN]);
    // eBGP: LOCAL_PREF is not sent.
    assert_eq!(
        v4.attributes,
        RouteAttributes {
            local_pref: None,
            ..attrs()
        }
    );
    let v6 = &conn.table[&net("2001:db8:1::7/128")];
    assert_eq!(v6.next_hop_v6, Some("2001:db8:ff::2".parse().unwrap()));

    sp.wait_established(LOOPBACK, Duration::from_secs(5))
        .await
        .unwrap();
    let status = &sp.peer_status()[0];
    assert_eq!(status.state, SessionState::Established);
    assert_eq!(status.counters.prefixes_advertised, 2);

    // Idempotent: the same announcement sends nothing; a batch is packed.
    let before = conn.updates;
    sp.announce(net("198.51.100.7/32"), attrs());
    let batch: Vec<_> = (0..2000u32)
        .map(|i| {
            (
                ipnet::IpNet::V6(
                    ipnet::Ipv6Net::new(
                        std::net::Ipv6Addr::from(0x2001_0db8_0002_u128 << 80 | u128::from(i)),
                        128,
                    )
                    .unwrap(),
                ),
                RouteAttributes::default(),
            )
        })
        .collect();
    sp.announce_many(batch);
    assert!(conn.until(|c| c.table.len() == 2002).await);
    assert!(
        conn.updates - before <= 10,
        "2000 /128s in {} UPDATEs",
        conn.updates - before
    );

    sp.withdraw(net("198.51.100.7/32"));
    assert!(
        conn.until(|c| !c.table.contains_key(&net("198.51.100.7/32")))
            .await
    );
    assert_eq!(conn.table.len(), 2001);
    let before = conn.updates;
    let batch: Vec<_> = conn
        .table
        .keys()
        .copied()
        .filter(|p| p.prefix_len() == 128 && p.addr().to_string().starts_with("2001:db8:2:"))
        .collect();
    assert_eq!(batch.len(), 2000);
    sp.withdraw_many(batch);
    assert!(conn.until(|c| c.table.len() == 1).await);
    assert!(
        conn.updates - before <= 10,
        "2000 withdrawals in {} UPDATEs",
        conn.updates - before
    );
}

#[tokio::test]
async fn shutdown_withdraws_everything_then_ceases_with_communication() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.8/32"), RouteAttributes::default());
    sp.announce(net("2001:db8:1::8/128"), RouteAttributes::default());
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(
        conn.until(|c| c.table.len() == 2 && c.end_of_rib.len() == 2)
            .await
    );

    let sp2 = sp.clone();
    let stopper = tokio::spawn(async move {
        sp2.shutdown("herald maintenance: node drained", Duration::from_secs(2))
            .await
    });
    assert!(conn.until(|c| c.notification.is_some()).await);
    assert!(
        conn.table.is_empty(),
        "withdrawals arrive before the NOTIFICATION"
    );
    let expected = BgpNotificationMessage::CeaseError(CeaseError::AdministrativeShutdown {
        value: message::shutdown_communication("herald maintenance: node drained"),
    });
    assert_eq!(conn.notification, Some(expected.clone()));
    assert_eq!(
        message::describe_notification(&expected),
        "Cease/Administrative Shutdown: \"herald maintenance: node drained\""
    );
    assert!(
        conn.next_message().await.is_none(),
        "connection closed after Cease"
    );
    stopper.await.unwrap();
    assert!(sp.peer_status().is_empty());
    assert!(sp.add_peer(peer_config(peer.port)).is_err());
}

#[tokio::test]
async fn route_refresh_is_answered_by_resending() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.9/32"), attrs());
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(conn.until(|c| c.end_of_rib.len() == 2).await);
    conn.table.clear();
    conn.send(&[message::route_refresh(AddressType::Ipv4Unicast)])
        .await;
    assert!(
        conn.until(|c| c.table.contains_key(&net("198.51.100.9/32")))
            .await
    );
    let status = &sp.peer_status()[0];
    assert_eq!(status.counters.route_refreshes_answered, 1);
}

/// An UPDATE with a malformed ORIGIN: RFC 7606 treat-as-withdraw, the session stays up.
#[tokio::test]
async fn malformed_update_is_treated_as_withdraw() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(conn.until(|c| c.end_of_rib.len() == 2).await);
    let attrs: &[u8] = &[
        0x40, 1, 1, 9, // ORIGIN with an undefined value
        0x40, 2, 6, 2, 1, 0xfa, 0x56, 0xea, 0x02, // AS_PATH [4200000002]
        0x40, 3, 4, 127, 0, 0, 1, // NEXT_HOP
    ];
    conn.send_raw(&raw_update(attrs, &[32, 203, 0, 113, 1]))
        .await;
    // A bad attribute flag on an optional attribute (COMMUNITIES sent as well-known): also treat-as-withdraw.
    let mut flagged = attrs.to_vec();
    flagged[3] = 0;
    flagged.extend_from_slice(&[0x40, 8, 4, 0, 1, 0, 2]);
    conn.send_raw(&raw_update(&flagged, &[32, 203, 0, 113, 2]))
        .await;
    conn.send(&[BgpMessage::KeepAlive]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = &sp.peer_status()[0];
    assert_eq!(status.state, SessionState::Established, "{status:?}");
    assert_eq!(status.counters.updates_in, 2);
    assert_eq!(status.counters.updates_treated_as_withdraw, 2);
    assert!(conn.notification.is_none());
}

fn raw_update(attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let len = 19 + 2 + 2 + attrs.len() + nlri.len();
    let mut out = vec![0xff; 16];
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.push(2);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    out.extend_from_slice(attrs);
    out.extend_from_slice(nlri);
    out
}

#[tokio::test]
async fn garbage_gets_a_notification_then_the_speaker_reconnects_and_reannounces() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.10/32"), RouteAttributes::default());
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(conn.until(|c| c.end_of_rib.len() == 2).await);
    conn.send_raw(b"GET / HTTP/1.1\r\nHost: herald\r\n\r\n")
        .await;
    assert!(conn.until(|c| c.notification.is_some()).await);
    assert!(matches!(
        conn.notification,
        Some(BgpNotificationMessage::MessageHeaderError(
            MessageHeaderError::ConnectionNotSynchronized { .. }
        ))
    ));
    let status = sp.peer_status()[0].clone();
    assert!(
        status
            .last_notification_sent
            .unwrap()
            .contains("Connection Not Synchronized")
    );

    // Reconnects (backoff ≤ 1 s) and announces again; the R bit is off now.
    let mut again = peer.accept(PEER_ASN).await;
    let gr_restart = again
        .their_open
        .as_ref()
        .unwrap()
        .capabilities()
        .iter()
        .find_map(|c| {
            if let BgpCapability::GracefulRestartCapability(gr) = c {
                Some(gr.restart())
            } else {
                None
            }
        });
    assert_eq!(gr_restart, Some(false));
    assert!(
        again
            .until(|c| c.table.contains_key(&net("198.51.100.10/32")))
            .await
    );

    // A bad message length is a header error too.
    let mut bad = vec![0xff; 16];
    bad.extend_from_slice(&[0x00, 0x05, 4]);
    again.send_raw(&bad).await;
    assert!(again.until(|c| c.notification.is_some()).await);
    assert!(matches!(
        again.notification,
        Some(BgpNotificationMessage::MessageHeaderError(
            MessageHeaderError::BadMessageLength { .. }
        ))
    ));
    let mut third = peer.accept(PEER_ASN).await;
    assert!(
        third
            .until(|c| c.table.contains_key(&net("198.51.100.10/32")))
            .await
    );
    assert!(sp.peer_status()[0].counters.established_transitions >= 3);
}

#[tokio::test]
async fn wrong_peer_as_is_refused_with_open_error() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept_raw().await;
    assert!(matches!(
        conn.next_message().await,
        Some(Received::Message(BgpMessage::Open(_)))
    ));
    conn.send(&[peer_open(64512)]).await;
    assert!(conn.until(|c| c.notification.is_some()).await);
    assert!(matches!(
        conn.notification,
        Some(BgpNotificationMessage::OpenMessageError(
            OpenMessageError::BadPeerAs { .. }
        ))
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = sp.peer_status()[0].clone();
    assert_ne!(status.state, SessionState::Established);
    assert!(status.last_error.unwrap().contains("64512"));
}

#[tokio::test]
async fn peer_cease_leads_to_reconnect() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.11/32"), RouteAttributes::default());
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(conn.until(|c| c.end_of_rib.len() == 2).await);
    conn.send(&[BgpMessage::Notification(message::administrative_shutdown(
        "router maintenance",
    ))])
    .await;
    drop(conn);
    let mut again = peer.accept(PEER_ASN).await;
    assert!(again.until(|c| c.table.len() == 1).await);
    let status = sp.peer_status()[0].clone();
    assert_eq!(
        status.last_notification_received.as_deref(),
        Some("Cease/Administrative Shutdown: \"router maintenance\"")
    );
}

#[tokio::test]
async fn remove_peer_withdraws_and_sends_peer_deconfigured() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.12/32"), RouteAttributes::default());
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(
        conn.until(|c| c.table.len() == 1 && c.end_of_rib.len() == 2)
            .await
    );
    let sp2 = sp.clone();
    let remover = tokio::spawn(async move { sp2.remove_peer(LOOPBACK).await });
    assert!(conn.until(|c| c.notification.is_some()).await);
    assert!(conn.table.is_empty());
    assert!(matches!(
        conn.notification,
        Some(BgpNotificationMessage::CeaseError(
            CeaseError::PeerDeConfigured { .. }
        ))
    ));
    remover.await.unwrap().unwrap();
    assert!(sp.peer_status().is_empty());
}

#[tokio::test]
async fn changed_config_replaces_the_session_same_config_is_a_no_op() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.announce(net("198.51.100.13/32"), RouteAttributes::default());
    let cfg = peer_config(peer.port);
    sp.add_peer(cfg.clone()).unwrap();
    let mut conn = peer.accept(PEER_ASN).await;
    assert!(conn.until(|c| c.end_of_rib.len() == 2).await);
    sp.add_peer(cfg.clone()).unwrap(); // no-op
    let mut changed = cfg.clone();
    changed.hold_time = 30;
    sp.add_peer(changed).unwrap();
    // Old connection dropped without NOTIFICATION (graceful for a GR peer).
    assert!(conn.next_message().await.is_none());
    assert!(conn.notification.is_none());
    let mut again = peer.accept(PEER_ASN).await;
    assert_eq!(again.their_open.as_ref().unwrap().hold_time(), 30);
    assert!(again.until(|c| c.table.len() == 1).await);
}

#[tokio::test]
async fn unreachable_peer_is_reported() {
    let peer = TestPeer::bind().await;
    let port = peer.port;
    drop(peer);
    let sp = speaker();
    sp.add_peer(peer_config(port)).unwrap();
    let err = sp
        .wait_established(LOOPBACK, Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    let status = sp.peer_status()[0].clone();
    assert!(matches!(
        status.state,
        SessionState::Active | SessionState::Connect
    ));
}

#[tokio::test]
async fn invalid_configs_are_rejected() {
    let sp = speaker();
    let mut cfg = PeerConfig::new(LOOPBACK, PEER_ASN);
    cfg.hold_time = 2;
    assert!(sp.add_peer(cfg).is_err());
    let mut cfg = PeerConfig::new(LOOPBACK, PEER_ASN);
    cfg.source_address = Some("::1".parse().unwrap());
    assert!(sp.add_peer(cfg).is_err());
}

/// Hold time 3 s: keepalives every second; a silent peer gets Hold Timer Expired.
#[tokio::test]
async fn keepalives_follow_the_negotiated_hold_time_and_silence_expires_it() {
    let peer = TestPeer::bind().await;
    let sp = speaker();
    sp.add_peer(peer_config(peer.port)).unwrap();
    let mut conn = peer.accept_raw().await;
    assert!(matches!(
        conn.next_message().await,
        Some(Received::Message(BgpMessage::Open(_)))
    ));
    conn.send(&[
        common::peer_open_with_hold(PEER_ASN, 3),
        BgpMessage::KeepAlive,
    ])
    .await;
    let started = std::time::Instant::now();
    let mut keepalives = 0;
    while conn.notification.is_none() {
        match conn.next_message().await {
            Some(Received::Message(BgpMessage::KeepAlive)) => keepalives += 1,
            Some(_) => {}
            None => break,
        }
    }
    let took = started.elapsed();
    assert!(
        matches!(
            conn.notification,
            Some(BgpNotificationMessage::HoldTimerExpiredError(_))
        ),
        "{:?}",
        conn.notification
    );
    assert!(keepalives >= 2, "{keepalives} keepalives in {took:?}");
    assert_eq!(sp.peer_status()[0].negotiated_hold_time, Some(3));
}

#[test]
fn handles_and_futures_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let sp = speaker();
    send_sync(&sp);
    send(sp.shutdown("x", Duration::from_secs(1)));
    send(sp.remove_peer(LOOPBACK));
    send(sp.wait_established(LOOPBACK, Duration::from_secs(1)));
}
