//! A peer as the provider returned it, minus the password: the doctor only ever knows whether
//! one is set, so no report can print it.

use std::net::IpAddr;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub address: IpAddr,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub source: Option<IpAddr>,
    /// A TCP MD5 password is set.
    pub md5: bool,
    pub multihop_ttl: Option<u8>,
    /// The gateway the provider wants a host route to the peer through.
    pub route_via: Option<IpAddr>,
    pub port: Option<u16>,
    pub hold_time_seconds: Option<u16>,
}

impl Peer {
    /// A directly connected peer without password, source or gateway.
    pub fn new(address: IpAddr, peer_asn: u32, local_asn: u32) -> Self {
        Self {
            address,
            peer_asn,
            local_asn,
            source: None,
            md5: false,
            multihop_ttl: None,
            route_via: None,
            port: None,
            hold_time_seconds: None,
        }
    }
}

/// The peer in the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerView {
    pub address: String,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub source_address: Option<String>,
    pub md5: bool,
    pub multihop_ttl: Option<u8>,
    pub route_via: Option<String>,
    pub port: Option<u16>,
    pub hold_time_seconds: Option<u16>,
}

impl From<&Peer> for PeerView {
    fn from(peer: &Peer) -> Self {
        Self {
            address: peer.address.to_string(),
            peer_asn: peer.peer_asn,
            local_asn: peer.local_asn,
            source_address: peer.source.map(|a| a.to_string()),
            md5: peer.md5,
            multihop_ttl: peer.multihop_ttl,
            route_via: peer.route_via.map(|a| a.to_string()),
            port: peer.port,
            hold_time_seconds: peer.hold_time_seconds,
        }
    }
}
