//! The RFC 4271 session FSM for one peer, on tokio. We only connect out (no listener,
//! so no connection collisions). One task per peer; received bytes are framed by a
//! reader task so a slow write never stalls keepalive processing.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::notification::BgpNotificationMessage;
use netgauze_iana::address_family::AddressType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::sleep_until;

use crate::backoff::Backoff;
use crate::codec::{self, DecodeContext, FatalError, Received};
use crate::config::{PeerConfig, SpeakerConfig};
use crate::message::{self, Negotiated, OpenParams};
use crate::rfc7606::UpdateVerdict;
use crate::rib_out::{AdjRibOut, Delta, Rib};
use crate::socket::{self, SocketOptions};
use crate::status::{SessionState, StatusCell};
use crate::update_builder::{self, ExportPolicy};

/// How long a TCP connect may take before we call the peer unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// RFC 4271 §8.2.2: hold time while waiting for the peer's OPEN.
const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
const READ_CHUNK: usize = 64 * 1024;

/// Requests from the [`crate::Speaker`] to a session task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Withdraw everything (if established), send `notification`, close, stop.
    Stop {
        notification: BgpNotificationMessage,
        done: oneshot::Sender<()>,
    },
}

/// Why one connection ended.
enum Ended {
    /// Stopped on request; the task exits.
    Stopped,
    /// Failed; retry after backoff.
    Failed(String),
}

/// Shared handles of one session task.
pub(crate) struct SessionParts {
    pub(crate) speaker: Arc<SpeakerConfig>,
    pub(crate) peer: PeerConfig,
    pub(crate) rib: Arc<Rib>,
    pub(crate) status: Arc<Mutex<StatusCell>>,
    pub(crate) state: watch::Sender<SessionState>,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
}

/// Events from the reader task.
enum ReadEvent {
    Frame(Bytes),
    Fatal(FatalError),
    Closed(String),
}

/// Aborts the reader task when the connection is done with.
struct ReaderGuard(JoinHandle<()>);

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Session {
    parts: SessionParts,
    sessions_opened: u64,
}

/// Runs the peer until stopped.
pub(crate) async fn run(parts: SessionParts) {
    let mut session = Session {
        parts,
        sessions_opened: 0,
    };
    let mut backoff = Backoff::new(BACKOFF_BASE, BACKOFF_CAP);
    loop {
        let before = session.sessions_opened;
        match session.attempt().await {
            Ended::Stopped => break,
            Ended::Failed(reason) => {
                tracing::info!(peer = %session.parts.peer.address, %reason, "BGP session down");
                session.with_status(|s| s.status.last_error = Some(reason));
            }
        }
        if session.sessions_opened != before {
            backoff.reset();
        }
        session.set_state(SessionState::Active);
        let delay = backoff.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            cmd = session.parts.commands.recv() => {
                if let Some(Command::Stop { done, .. }) = cmd {
                    let _ = done.send(());
                }
                break;
            }
        }
    }
    session.set_state(SessionState::Idle);
}

impl Session {
    fn with_status<R>(&self, f: impl FnOnce(&mut StatusCell) -> R) -> R {
        let mut guard = self
            .parts
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    fn set_state(&self, state: SessionState) {
        self.with_status(|s| {
            s.status.state = state;
            if state != SessionState::Established {
                s.established_at = None;
                s.status.counters.prefixes_advertised = 0;
            }
        });
        self.parts.state.send_replace(state);
    }

    fn open_params(&self) -> OpenParams {
        let speaker = &self.parts.speaker;
        OpenParams {
            local_asn: self.parts.peer.effective_local_asn(speaker),
            hold_time: self.parts.peer.hold_time,
            router_id: speaker.router_id,
            // R bit on the first session after the speaker started: this process
            // (re)started, the peer may hold our routes as stale.
            graceful_restart: speaker
                .graceful_restart
                .map(|gr| (gr.restart_time, self.sessions_opened == 0)),
        }
    }

    async fn attempt(&mut self) -> Ended {
        self.set_state(SessionState::Connect);
        let peer = &self.parts.peer;
        let remote = SocketAddr::new(peer.address, peer.port);
        let opts = SocketOptions {
            remote,
            source: peer.source_address,
            password: peer.password.as_ref(),
            ttl: peer.effective_ttl(&self.parts.speaker),
        };
        let connected = tokio::select! {
            r = socket::connect(&opts, CONNECT_TIMEOUT) => r,
            cmd = self.parts.commands.recv() => {
                if let Some(Command::Stop { done, .. }) = cmd {
                    let _ = done.send(());
                }
                return Ended::Stopped;
            }
        };
        let stream = match connected {
            Ok(stream) => stream,
            Err(err) => return Ended::Failed(err.to_string()),
        };
        self.run_connection(stream).await
    }

    async fn run_connection(&mut self, stream: TcpStream) -> Ended {
        let local = match stream.local_addr() {
            Ok(addr) => addr.ip(),
            Err(err) => return Ended::Failed(format!("no local address: {err}")),
        };
        let (read_half, write_half) = stream.into_split();
        let (events_tx, events_rx) = mpsc::channel(1024);
        let _reader = ReaderGuard(tokio::spawn(read_frames(read_half, events_tx)));
        let mut conn = Connection {
            writer: write_half,
            events: events_rx,
            ctx: DecodeContext::new(true, self.is_ibgp()),
            hold: None,
            awaiting_open: true,
            hold_deadline: tokio::time::Instant::now() + OPEN_HOLD_TIME,
        };
        let params = self.open_params();
        if let Err(reason) = self.send(&mut conn, &[message::open(&params)]).await {
            return Ended::Failed(reason);
        }
        self.set_state(SessionState::OpenSent);
        let negotiated = match self.await_open(&mut conn, &params).await {
            Ok(n) => n,
            Err(ended) => return ended,
        };
        self.set_state(SessionState::OpenConfirm);
        if let Err(ended) = self.await_keepalive(&mut conn).await {
            return ended;
        }
        self.established(conn, negotiated, local).await
    }

    fn is_ibgp(&self) -> bool {
        self.parts.peer.peer_asn == self.parts.peer.effective_local_asn(&self.parts.speaker)
    }

    /// Encodes and writes messages in one buffer.
    async fn send(&self, conn: &mut Connection, msgs: &[BgpMessage]) -> Result<(), String> {
        let mut buf = BytesMut::new();
        let mut updates = 0u64;
        for msg in msgs {
            codec::encode(msg, &mut buf).map_err(|e| e.to_string())?;
            if matches!(msg, BgpMessage::Update(_)) {
                updates += 1;
            }
        }
        conn.writer
            .write_all(&buf)
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        self.with_status(|s| {
            s.status.counters.messages_out += msgs.len() as u64;
            s.status.counters.updates_out += updates;
        });
        Ok(())
    }

    /// Sends a NOTIFICATION, records it, and closes our side.
    async fn notify(
        &self,
        conn: &mut Connection,
        notification: BgpNotificationMessage,
        reason: String,
    ) -> Ended {
        let text = message::describe_notification(&notification);
        let _ = self
            .send(conn, &[BgpMessage::Notification(notification)])
            .await;
        let _ = conn.writer.shutdown().await;
        self.with_status(|s| s.status.last_notification_sent = Some(text.clone()));
        Ended::Failed(format!("{reason} (sent NOTIFICATION {text})"))
    }

    fn received_notification(&self, notification: &BgpNotificationMessage) -> Ended {
        let text = message::describe_notification(notification);
        self.with_status(|s| s.status.last_notification_received = Some(text.clone()));
        Ended::Failed(format!("peer sent NOTIFICATION {text}"))
    }

    fn count_in(&self, received: &Received) {
        self.with_status(|s| {
            let c = &mut s.status.counters;
            c.messages_in += 1;
            if let Received::Update(update) = received {
                c.updates_in += 1;
                match &update.verdict {
                    UpdateVerdict::TreatAsWithdraw { .. } => c.updates_treated_as_withdraw += 1,
                    UpdateVerdict::AttributeDiscard { discarded, .. } => {
                        c.attributes_discarded += *discarded as u64
                    }
                    _ => {}
                }
            }
        });
    }

    /// Next decoded message before Established, or how the connection ended.
    async fn next_message(&mut self, conn: &mut Connection) -> Result<Received, Ended> {
        let frame = tokio::select! {
            biased;
            cmd = self.parts.commands.recv() => return Err(self.stop(conn, cmd).await),
            ev = conn.events.recv() => self.frame_of(conn, ev).await?,
            () = sleep_until(conn.hold_deadline), if conn.hold.is_some() || conn.awaiting_open => {
                return Err(self.notify(conn, message::hold_timer_expired(), "hold timer expired".into()).await);
            }
        };
        self.decode(conn, &frame).await
    }

    async fn frame_of(&self, conn: &mut Connection, ev: Option<ReadEvent>) -> Result<Bytes, Ended> {
        match ev {
            Some(ReadEvent::Frame(frame)) => Ok(frame),
            Some(ReadEvent::Fatal(fatal)) => {
                Err(self.notify(conn, fatal.notification, fatal.reason).await)
            }
            Some(ReadEvent::Closed(reason)) => Err(Ended::Failed(reason)),
            None => Err(Ended::Failed("connection reader stopped".into())),
        }
    }

    /// Decodes a frame, restarts the hold timer, counts, logs RFC 7606 outcomes.
    async fn decode(&self, conn: &mut Connection, frame: &[u8]) -> Result<Received, Ended> {
        conn.restart_hold_timer();
        let received = match codec::decode_frame(frame, &mut conn.ctx) {
            Ok(received) => received,
            Err(fatal) => return Err(self.notify(conn, fatal.notification, fatal.reason).await),
        };
        self.count_in(&received);
        if let Received::Update(update) = &received {
            match &update.verdict {
                UpdateVerdict::TreatAsWithdraw { reason } => {
                    tracing::warn!(peer = %self.parts.peer.address, %reason, "malformed UPDATE treated as withdraw (RFC 7606)");
                }
                UpdateVerdict::AttributeDiscard { reason, .. } => {
                    tracing::warn!(peer = %self.parts.peer.address, %reason, "malformed attribute discarded (RFC 7606)");
                }
                _ => {}
            }
        }
        Ok(received)
    }

    /// A Stop command (or the speaker dropping us) before Established: Cease and stop.
    async fn stop(&self, conn: &mut Connection, cmd: Option<Command>) -> Ended {
        if let Some(Command::Stop { notification, done }) = cmd {
            let _ = self.notify(conn, notification, "stopped".into()).await;
            let _ = done.send(());
        }
        Ended::Stopped
    }

    async fn await_open(
        &mut self,
        conn: &mut Connection,
        params: &OpenParams,
    ) -> Result<Negotiated, Ended> {
        match self.next_message(conn).await? {
            Received::Message(BgpMessage::Open(open)) => {
                match message::negotiate(params, &open, self.parts.peer.peer_asn) {
                    Ok(negotiated) => {
                        conn.ctx.set_asn4(negotiated.asn4);
                        conn.awaiting_open = false;
                        conn.hold = (negotiated.hold_time > 0)
                            .then(|| Duration::from_secs(u64::from(negotiated.hold_time)));
                        conn.restart_hold_timer();
                        self.send(conn, &[BgpMessage::KeepAlive])
                            .await
                            .map_err(Ended::Failed)?;
                        self.with_status(|s| {
                            s.status.negotiated_hold_time = Some(negotiated.hold_time);
                            s.status.peer_router_id = Some(negotiated.peer_router_id);
                        });
                        Ok(negotiated)
                    }
                    Err(fatal) => Err(self.notify(conn, fatal.notification, fatal.reason).await),
                }
            }
            Received::Message(BgpMessage::Notification(n)) => Err(self.received_notification(&n)),
            _ => Err(self
                .notify(
                    conn,
                    message::unexpected_message(true),
                    "unexpected message in OpenSent".into(),
                )
                .await),
        }
    }

    async fn await_keepalive(&mut self, conn: &mut Connection) -> Result<(), Ended> {
        match self.next_message(conn).await? {
            Received::Message(BgpMessage::KeepAlive) => Ok(()),
            Received::Message(BgpMessage::Notification(n)) => Err(self.received_notification(&n)),
            _ => Err(self
                .notify(
                    conn,
                    message::unexpected_message(false),
                    "unexpected message in OpenConfirm".into(),
                )
                .await),
        }
    }

    fn export_policy(&self, negotiated: &Negotiated, local: IpAddr) -> ExportPolicy {
        let peer = &self.parts.peer;
        let next_hop_v4 = peer.ipv4_next_hop.or(match local {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        });
        let next_hop_v6 = peer.ipv6_next_hop.or(match local {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => Some(v6),
            IpAddr::V6(v6) => v6.to_ipv4_mapped().and_then(socket::ipv6_address_beside),
            IpAddr::V4(v4) => socket::ipv6_address_beside(v4),
        });
        ExportPolicy {
            ibgp: self.is_ibgp(),
            local_asn: peer.effective_local_asn(&self.parts.speaker),
            asn4: negotiated.asn4,
            next_hop_v4: next_hop_v4.filter(|_| negotiated.ipv4_unicast),
            next_hop_v6: next_hop_v6.filter(|_| negotiated.ipv6_unicast),
        }
    }

    fn delta_messages(delta: &Delta, policy: &ExportPolicy) -> Vec<BgpMessage> {
        let mut msgs = update_builder::withdrawals(&delta.withdraw);
        msgs.extend(update_builder::announcements(&delta.announce, policy));
        msgs
    }

    async fn established(
        &mut self,
        mut conn: Connection,
        negotiated: Negotiated,
        local: IpAddr,
    ) -> Ended {
        self.sessions_opened += 1;
        self.with_status(|s| {
            s.established_at = Some(Instant::now());
            s.status.counters.established_transitions += 1;
            s.status.last_error = None;
        });
        self.set_state(SessionState::Established);
        tracing::info!(peer = %self.parts.peer.address, "BGP session established");
        let policy = self.export_policy(&negotiated, local);
        let mut adj = AdjRibOut::default();
        let mut rib_changes = self.parts.rib.subscribe();
        rib_changes.borrow_and_update();
        // Initial table, then End-of-RIB per family (RFC 4724), in one write.
        let delta = adj.sync(&self.parts.rib.snapshot(), |p| policy.carries(p));
        let mut msgs = Self::delta_messages(&delta, &policy);
        if negotiated.ipv4_unicast {
            msgs.push(update_builder::end_of_rib(AddressType::Ipv4Unicast));
        }
        if negotiated.ipv6_unicast {
            msgs.push(update_builder::end_of_rib(AddressType::Ipv6Unicast));
        }
        if let Err(reason) = self.send(&mut conn, &msgs).await {
            return Ended::Failed(reason);
        }
        self.record_advertised(&adj);
        let keepalive_every = conn.hold.map(|hold| {
            let configured = Duration::from_secs(u64::from(self.parts.peer.keepalive.max(1)));
            configured.min(hold / 3).max(Duration::from_secs(1))
        });
        let mut keepalive_at = keepalive_every.map(|every| tokio::time::Instant::now() + every);
        loop {
            let far = tokio::time::Instant::now() + Duration::from_secs(3600);
            let wake = tokio::select! {
                biased;
                // Our own duties before the peer's messages: a peer flooding UPDATEs
                // must not starve our keepalives or announcements.
                cmd = self.parts.commands.recv() => Wake::Command(cmd),
                () = sleep_until(keepalive_at.unwrap_or(far)), if keepalive_at.is_some() => Wake::Keepalive,
                changed = rib_changes.changed() => Wake::Rib(changed.is_ok()),
                ev = conn.events.recv() => Wake::Event(ev),
                // Last: queued messages restart the hold timer before it is judged.
                () = sleep_until(conn.hold_deadline), if conn.hold.is_some() => Wake::Hold,
            };
            match wake {
                Wake::Command(cmd) => {
                    let Some(Command::Stop { notification, done }) = cmd else {
                        return Ended::Stopped;
                    };
                    // Withdraw everything, then Cease, in one write.
                    let mut msgs = update_builder::withdrawals(&adj.take_all());
                    let text = message::describe_notification(&notification);
                    msgs.push(BgpMessage::Notification(notification));
                    let _ = self.send(&mut conn, &msgs).await;
                    let _ = conn.writer.shutdown().await;
                    self.with_status(|s| s.status.last_notification_sent = Some(text));
                    let _ = done.send(());
                    return Ended::Stopped;
                }
                Wake::Rib(alive) => {
                    if !alive {
                        continue;
                    }
                    rib_changes.borrow_and_update();
                    let delta = adj.sync(&self.parts.rib.snapshot(), |p| policy.carries(p));
                    if !delta.is_empty() {
                        if let Err(reason) = self
                            .send(&mut conn, &Self::delta_messages(&delta, &policy))
                            .await
                        {
                            return Ended::Failed(reason);
                        }
                        self.record_advertised(&adj);
                    }
                }
                Wake::Keepalive => {
                    if let Err(reason) = self.send(&mut conn, &[BgpMessage::KeepAlive]).await {
                        return Ended::Failed(reason);
                    }
                    keepalive_at = keepalive_every.map(|every| tokio::time::Instant::now() + every);
                }
                Wake::Hold => {
                    return self
                        .notify(
                            &mut conn,
                            message::hold_timer_expired(),
                            "hold timer expired".into(),
                        )
                        .await;
                }
                Wake::Event(ev) => {
                    let frame = match self.frame_of(&mut conn, ev).await {
                        Ok(frame) => frame,
                        Err(ended) => return ended,
                    };
                    match self.decode(&mut conn, &frame).await {
                        Err(ended) => return ended,
                        Ok(Received::Message(BgpMessage::Notification(n))) => {
                            return self.received_notification(&n);
                        }
                        Ok(Received::Message(BgpMessage::RouteRefresh(rr))) => {
                            let msgs = refresh_messages(&adj, rr.address_type(), &policy);
                            if let Err(reason) = self.send(&mut conn, &msgs).await {
                                return Ended::Failed(reason);
                            }
                            self.with_status(|s| s.status.counters.route_refreshes_answered += 1);
                        }
                        Ok(Received::Message(BgpMessage::Open(_))) => {
                            return self
                                .notify(
                                    &mut conn,
                                    established_fsm_error(),
                                    "OPEN in Established".into(),
                                )
                                .await;
                        }
                        Ok(_) => {}
                    }
                }
            }
        }
    }

    fn record_advertised(&self, adj: &AdjRibOut) {
        self.with_status(|s| s.status.counters.prefixes_advertised = adj.len() as u64);
    }
}

/// What woke the Established loop.
enum Wake {
    Command(Option<Command>),
    Event(Option<ReadEvent>),
    Rib(bool),
    Keepalive,
    Hold,
}

/// ROUTE-REFRESH answer (RFC 2918): everything advertised in that family again.
fn refresh_messages(
    adj: &AdjRibOut,
    family: AddressType,
    policy: &ExportPolicy,
) -> Vec<BgpMessage> {
    let routes: Vec<_> = adj
        .advertised()
        .filter(|(p, _)| match p {
            ipnet::IpNet::V4(_) => family == AddressType::Ipv4Unicast,
            ipnet::IpNet::V6(_) => family == AddressType::Ipv6Unicast,
        })
        .map(|(p, a)| (*p, a.clone()))
        .collect();
    update_builder::announcements(&routes, policy)
}

fn established_fsm_error() -> BgpNotificationMessage {
    BgpNotificationMessage::FiniteStateMachineError(
        netgauze_bgp_pkt::notification::FiniteStateMachineError::ReceiveUnexpectedMessageInEstablishedState {
            value: Box::new([]),
        },
    )
}

/// Per-connection state.
struct Connection {
    writer: OwnedWriteHalf,
    events: mpsc::Receiver<ReadEvent>,
    ctx: DecodeContext,
    /// Negotiated hold time; `None` before OPEN or when negotiated to 0.
    hold: Option<Duration>,
    awaiting_open: bool,
    hold_deadline: tokio::time::Instant,
}

impl Connection {
    fn restart_hold_timer(&mut self) {
        let hold = if self.awaiting_open {
            Some(OPEN_HOLD_TIME)
        } else {
            self.hold
        };
        if let Some(hold) = hold {
            self.hold_deadline = tokio::time::Instant::now() + hold;
        }
    }
}

/// Reads the socket and frames messages (header checks included).
async fn read_frames(mut reader: OwnedReadHalf, events: mpsc::Sender<ReadEvent>) {
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    loop {
        loop {
            match codec::next_frame(&mut buf) {
                Ok(Some(frame)) => {
                    if events.send(ReadEvent::Frame(frame)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(fatal) => {
                    let _ = events.send(ReadEvent::Fatal(fatal)).await;
                    return;
                }
            }
        }
        buf.reserve(READ_CHUNK);
        match reader.read_buf(&mut buf).await {
            Ok(0) => {
                let _ = events
                    .send(ReadEvent::Closed("peer closed the TCP connection".into()))
                    .await;
                return;
            }
            Ok(_) => {}
            Err(err) => {
                let _ = events
                    .send(ReadEvent::Closed(format!("read failed: {err}")))
                    .await;
                return;
            }
        }
    }
}
