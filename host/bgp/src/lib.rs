//! Herald's BGP speaker: codec glue, session FSM, RIB-out.
//!
//! Layout: [`codec`] (framing and decoding on top of netgauze-bgp-pkt, see its module
//! doc for why that crate), [`message`] (OPEN/NOTIFICATION/ROUTE-REFRESH builders,
//! OPEN negotiation), [`rfc7606`] (received-UPDATE error handling), [`update_builder`]
//! (UPDATE packing), [`rib_out`] (announced table and per-peer Adj-RIB-Out),
//! [`socket`] (MD5, TTL, source binding), `session` (the RFC 4271 FSM) and
//! [`Speaker`] (the handle the agent uses).
//!
//! Next hops are always "self": IPv4 prefixes carry the session's local IPv4 address
//! (or [`PeerConfig::ipv4_next_hop`]); IPv6 prefixes carry [`PeerConfig::ipv6_next_hop`],
//! else the session's local IPv6 address, else (IPv4 session) a global IPv6 address on
//! the interface holding the local IPv4 address. A family without a next hop is not
//! sent to that peer.

pub mod backoff;
pub mod codec;
mod config;
mod error;
pub mod message;
pub mod rfc7606;
pub mod rib_out;
mod session;
pub mod socket;
mod speaker;
mod status;
pub mod update_builder;

pub use config::{
    GracefulRestartConfig, IBGP_DEFAULT_TTL, Password, PeerConfig, RouteAttributes, SpeakerConfig,
};
pub use error::BgpError;
pub use speaker::Speaker;
pub use status::{PeerCounters, PeerStatus, SessionState};

/// Re-exported codec types, so tests and tools need no direct netgauze dependency.
pub use netgauze_bgp_pkt as wire;
pub use netgauze_iana::address_family::AddressType;
