//! A raw-TCP BGP test peer on loopback, built on herald-bgp's own codec.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::BytesMut;
use herald_bgp::codec::{self, DecodeContext, Received};
use herald_bgp::message::{self, UpdateSummary};
use herald_bgp::wire::BgpMessage;
use herald_bgp::wire::capabilities::{
    BgpCapability, FourOctetAsCapability, MultiProtocolExtensionsCapability,
};
use herald_bgp::wire::notification::BgpNotificationMessage;
use herald_bgp::wire::open::{BgpOpenMessage, BgpOpenMessageParameter};
use herald_bgp::{AddressType, RouteAttributes};
use ipnet::IpNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const PEER_ASN: u32 = 4_200_000_002;
pub const LOCAL_ASN: u32 = 4_200_000_001;

pub struct TestPeer {
    pub listener: TcpListener,
    pub port: u16,
}

impl TestPeer {
    pub async fn bind() -> TestPeer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        TestPeer { listener, port }
    }

    /// Accepts the speaker's connection without answering yet.
    pub async fn accept_raw(&self) -> PeerConn {
        let (stream, _) = tokio::time::timeout(Duration::from_secs(10), self.listener.accept())
            .await
            .expect("speaker did not connect")
            .unwrap();
        PeerConn::new(stream)
    }

    /// Accepts and completes OPEN/KEEPALIVE as AS `asn`.
    pub async fn accept(&self, asn: u32) -> PeerConn {
        let mut conn = self.accept_raw().await;
        let open = conn.next_message().await.expect("no OPEN");
        let Received::Message(BgpMessage::Open(open)) = open else {
            panic!("expected OPEN, got {open:?}")
        };
        conn.their_open = Some(open);
        conn.send(&[peer_open(asn), BgpMessage::KeepAlive]).await;
        let ka = conn.next_message().await.expect("no KEEPALIVE");
        assert!(
            matches!(ka, Received::Message(BgpMessage::KeepAlive)),
            "{ka:?}"
        );
        conn
    }
}

pub fn peer_open(asn: u32) -> BgpMessage {
    peer_open_with_hold(asn, 90)
}

pub fn peer_open_with_hold(asn: u32, hold: u16) -> BgpMessage {
    let caps = vec![
        BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(
            AddressType::Ipv4Unicast,
        )),
        BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(
            AddressType::Ipv6Unicast,
        )),
        BgpCapability::RouteRefresh,
        BgpCapability::FourOctetAs(FourOctetAsCapability::new(asn)),
    ];
    BgpMessage::Open(BgpOpenMessage::new(
        u16::try_from(asn).unwrap_or(23456),
        hold,
        Ipv4Addr::new(192, 0, 2, 1),
        vec![BgpOpenMessageParameter::new_capabilities(caps)],
    ))
}

pub struct PeerConn {
    pub stream: TcpStream,
    buf: BytesMut,
    ctx: DecodeContext,
    pub their_open: Option<BgpOpenMessage>,
    pub table: BTreeMap<IpNet, UpdateSummary>,
    pub end_of_rib: Vec<AddressType>,
    pub updates: usize,
    pub notification: Option<BgpNotificationMessage>,
    pub log: Vec<String>,
}

impl PeerConn {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::new(),
            ctx: DecodeContext::new(true, false),
            their_open: None,
            table: BTreeMap::new(),
            end_of_rib: Vec::new(),
            updates: 0,
            notification: None,
            log: Vec::new(),
        }
    }

    pub async fn send(&mut self, msgs: &[BgpMessage]) {
        let mut out = BytesMut::new();
        for m in msgs {
            codec::encode(m, &mut out).unwrap();
        }
        self.stream.write_all(&out).await.unwrap();
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Next message within 10 s; None on close/timeout.
    pub async fn next_message(&mut self) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(frame) =
                codec::next_frame(&mut self.buf).expect("speaker sent a bad header")
            {
                let received =
                    codec::decode_frame(&frame, &mut self.ctx).expect("speaker sent a bad message");
                self.apply(&received);
                return Some(received);
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await;
            match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(_)) => {}
            }
        }
    }

    fn apply(&mut self, received: &Received) {
        match received {
            Received::Update(u) => {
                let update = u.message.as_ref().expect("speaker sent a malformed UPDATE");
                self.updates += 1;
                let summary = message::summarize(update);
                if let Some(family) = summary.end_of_rib {
                    self.end_of_rib.push(family);
                }
                for p in &summary.withdrawn {
                    self.table.remove(p);
                }
                for p in &summary.announced {
                    self.table.insert(*p, summary.clone());
                }
            }
            Received::Message(BgpMessage::Notification(n)) => self.notification = Some(n.clone()),
            Received::Message(m) => self.log.push(format!("{m:?}")),
        }
    }

    /// Reads until `done(self)` holds; false on close/timeout.
    pub async fn until(&mut self, done: impl Fn(&PeerConn) -> bool) -> bool {
        while !done(self) {
            if self.next_message().await.is_none() {
                return done(self);
            }
        }
        true
    }

    pub fn attrs_of(&self, prefix: &str) -> Option<RouteAttributes> {
        self.table
            .get(&prefix.parse().unwrap())
            .map(|s| s.attributes.clone())
    }
}

pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}
