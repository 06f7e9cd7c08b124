//! Codec glue: framing on the byte stream, decoding with RFC 7606 checks, encoding.
//!
//! Why netgauze-bgp-pkt: it is a maintained (2024–2026 releases), Apache-2.0 BGP codec
//! that covers every message and attribute Herald sends, round-trips them, and parses
//! received messages without panicking (it is fuzzed upstream and here). It was proven
//! against BIRD on this project (multihop, MD5, 4-byte ASN, MP_REACH IPv6, 10k prefixes).
//! What it lacks we hand-write: strict header framing (its `Decoder` trusts any length
//! ≥ 19), the RFC 7606 error classification ([`crate::rfc7606`]), the RFC 8203 shutdown
//! communication ([`crate::message`]) and UPDATE packing ([`crate::update_builder`]).
//!
//! Received bytes go through [`next_frame`] (the session's reader task) and then
//! [`decode_frame`] (the session task); [`decode_stream`] chains the two the same way
//! and is what the fuzz target (`fuzz/fuzz_targets/decode_message.rs`) calls.

use bytes::{BufMut, Bytes, BytesMut};
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::notification::{BgpNotificationMessage, MessageHeaderError};
use netgauze_bgp_pkt::update::BgpUpdateMessage;
use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
use netgauze_parse_utils::WritablePdu;
use netgauze_parse_utils::reader::SliceReader;
use netgauze_parse_utils::traits::ParseFromWithOneInput;
use std::collections::HashMap;

use crate::rfc7606::{self, UpdateVerdict};

/// Marker + length + type.
pub const HEADER_LEN: usize = 19;
/// RFC 4271 maximum message size (we do not negotiate RFC 8654 extended messages).
pub const MAX_MESSAGE_LEN: usize = 4096;

const TYPE_OPEN: u8 = 1;
const TYPE_UPDATE: u8 = 2;
const TYPE_NOTIFICATION: u8 = 3;
const TYPE_KEEPALIVE: u8 = 4;
const TYPE_ROUTE_REFRESH: u8 = 5;

/// A received message the session must answer with a NOTIFICATION and close.
#[derive(Debug, Clone, PartialEq)]
pub struct FatalError {
    /// What to send.
    pub notification: BgpNotificationMessage,
    /// Why, in words.
    pub reason: String,
}

/// Parsing state that depends on the negotiated capabilities.
#[derive(Debug, Clone)]
pub struct DecodeContext {
    parsing: BgpParsingContext,
    /// Both sides announced 4-octet ASNs.
    pub asn4: bool,
    /// The session is iBGP (changes LOCAL_PREF error handling, RFC 7606 §7.5).
    pub ibgp: bool,
}

impl Default for DecodeContext {
    fn default() -> Self {
        Self::new(true, false)
    }
}

impl DecodeContext {
    /// Context before/after OPEN negotiation.
    pub fn new(asn4: bool, ibgp: bool) -> Self {
        // Lenient on attributes and capabilities: RFC 7606 decisions are ours (rfc7606.rs).
        let parsing = BgpParsingContext::new(
            asn4,
            HashMap::new(),
            HashMap::new(),
            false,
            false,
            false,
            false,
        );
        Self {
            parsing,
            asn4,
            ibgp,
        }
    }

    /// Applies the negotiated ASN size.
    pub fn set_asn4(&mut self, asn4: bool) {
        self.asn4 = asn4;
        self.parsing.set_asn4(asn4);
    }
}

/// A received UPDATE and how RFC 7606 says to handle it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedUpdate {
    /// The decoded message, when it could be decoded (absent for treat-as-withdraw).
    pub message: Option<BgpUpdateMessage>,
    /// Verdict of the RFC 7606 checks.
    pub verdict: UpdateVerdict,
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// Any message except UPDATE, decoded by netgauze.
    Message(BgpMessage),
    /// An UPDATE with its RFC 7606 verdict.
    Update(ReceivedUpdate),
}

/// Splits the next complete message off `buf` after checking its header
/// (RFC 4271 §6.1). `Ok(None)`: more bytes needed.
pub fn next_frame(buf: &mut BytesMut) -> Result<Option<Bytes>, FatalError> {
    let marker_len = buf.len().min(16);
    if buf[..marker_len].iter().any(|b| *b != 0xff) {
        return Err(header_error(
            MessageHeaderError::ConnectionNotSynchronized {
                value: Box::new([]),
            },
            "connection not synchronized: bad marker",
        ));
    }
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let length = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
    let msg_type = buf[18];
    let min_len = match msg_type {
        TYPE_OPEN => 29,
        TYPE_UPDATE => 23,
        TYPE_NOTIFICATION => 21,
        TYPE_KEEPALIVE => 19,
        TYPE_ROUTE_REFRESH => 23,
        other => {
            return Err(header_error(
                MessageHeaderError::BadMessageType {
                    value: Box::new([other]),
                },
                &format!("bad message type {other}"),
            ));
        }
    };
    let length_ok = length >= min_len
        && length <= MAX_MESSAGE_LEN
        && (msg_type != TYPE_KEEPALIVE || length == HEADER_LEN)
        && (msg_type != TYPE_ROUTE_REFRESH || length == 23);
    if !length_ok {
        // invariant: length came from a u16.
        let value: Box<[u8]> = Box::new((length as u16).to_be_bytes());
        return Err(header_error(
            MessageHeaderError::BadMessageLength { value },
            &format!("bad length {length} for message type {msg_type}"),
        ));
    }
    if buf.len() < length {
        return Ok(None);
    }
    Ok(Some(buf.split_to(length).freeze()))
}

fn header_error(err: MessageHeaderError, reason: &str) -> FatalError {
    FatalError {
        notification: BgpNotificationMessage::MessageHeaderError(err),
        reason: format!("message header error: {reason}"),
    }
}

/// Decodes one framed message (as returned by [`next_frame`]).
pub fn decode_frame(frame: &[u8], ctx: &mut DecodeContext) -> Result<Received, FatalError> {
    if frame.len() < HEADER_LEN {
        return Err(header_error(
            MessageHeaderError::BadMessageLength {
                value: Box::new([]),
            },
            "short frame",
        ));
    }
    if frame[18] == TYPE_UPDATE {
        return decode_update(frame, ctx);
    }
    let mut reader = SliceReader::new(frame);
    let parsed = BgpMessage::parse(&mut reader, &mut ctx.parsing);
    ctx.parsing.reset_parsing_errors();
    match parsed {
        Ok(msg) => Ok(Received::Message(msg)),
        Err(err) => Err(FatalError {
            reason: format!("malformed message: {err}"),
            notification: err.into(),
        }),
    }
}

fn decode_update(frame: &[u8], ctx: &mut DecodeContext) -> Result<Received, FatalError> {
    let verdict = rfc7606::check_update(&frame[HEADER_LEN..], ctx.asn4, ctx.ibgp);
    if let UpdateVerdict::SessionReset { error, reason } = verdict {
        return Err(FatalError {
            notification: BgpNotificationMessage::UpdateMessageError(error),
            reason: format!("UPDATE error needing session reset (RFC 7606): {reason}"),
        });
    }
    if matches!(verdict, UpdateVerdict::TreatAsWithdraw { .. }) {
        return Ok(Received::Update(ReceivedUpdate {
            message: None,
            verdict,
        }));
    }
    let mut reader = SliceReader::new(frame);
    let parsed = BgpMessage::parse(&mut reader, &mut ctx.parsing);
    ctx.parsing.reset_parsing_errors();
    match parsed {
        Ok(BgpMessage::Update(update)) => Ok(Received::Update(ReceivedUpdate {
            message: Some(update),
            verdict,
        })),
        // Our framing checks passed, so the NLRI can be located: RFC 7606 prefers
        // treat-as-withdraw over a session reset for anything the codec rejects.
        Ok(_) | Err(_) => Ok(Received::Update(ReceivedUpdate {
            message: None,
            verdict: UpdateVerdict::TreatAsWithdraw {
                reason: "UPDATE rejected by the decoder".into(),
            },
        })),
    }
}

/// Frames and decodes every complete message in `buf`, leaving a partial one in place.
/// Stops at the first fatal error. Same steps as the session's receive path.
pub fn decode_stream(
    buf: &mut BytesMut,
    ctx: &mut DecodeContext,
) -> (Vec<Received>, Option<FatalError>) {
    let mut out = Vec::new();
    loop {
        match next_frame(buf) {
            Ok(Some(frame)) => match decode_frame(&frame, ctx) {
                Ok(received) => {
                    if let Received::Message(BgpMessage::Open(open)) = &received {
                        // 4-octet AS applies only when both sides announce it; until we
                        // know ours, assume it (we always announce it).
                        let peer_asn4 = open.capabilities().iter().any(|c| {
                            matches!(
                                c,
                                netgauze_bgp_pkt::capabilities::BgpCapability::FourOctetAs(_)
                            )
                        });
                        ctx.set_asn4(peer_asn4);
                    }
                    out.push(received);
                }
                Err(fatal) => return (out, Some(fatal)),
            },
            Ok(None) => return (out, None),
            Err(fatal) => return (out, Some(fatal)),
        }
    }
}

/// Encoding failed (a bug in our builders, or an oversized message).
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// netgauze refused the message.
    #[error("cannot encode BGP message: {0}")]
    Write(#[from] netgauze_bgp_pkt::wire::serializer::BgpMessageWritingError),
    /// The message would exceed 4096 bytes.
    #[error("BGP message of {0} bytes exceeds 4096")]
    TooLong(usize),
}

/// Appends the wire form of `msg` to `dst`.
pub fn encode(msg: &BgpMessage, dst: &mut BytesMut) -> Result<(), EncodeError> {
    let len = msg.len();
    if len > MAX_MESSAGE_LEN {
        return Err(EncodeError::TooLong(len));
    }
    dst.reserve(len);
    msg.write(&mut dst.writer())?;
    Ok(())
}

/// The wire form of `msg`.
pub fn encode_to_bytes(msg: &BgpMessage) -> Result<Bytes, EncodeError> {
    let mut buf = BytesMut::new();
    encode(msg, &mut buf)?;
    Ok(buf.freeze())
}
