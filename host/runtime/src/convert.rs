//! Checking and converting values that cross the guest boundary (v0.1.0 WIT types ↔ host types).

use herald_peer_rules as rules;
use std::net::IpAddr;
use std::time::Duration;

use crate::bindings::since_v0_1_0::herald::provider::types as wit;
use crate::errors::{CallError, ProviderError, ProviderErrorKind};
use crate::types::{BgpPeer, Discovery, NodeContext, Password};

/// More peers than any node needs: a bound on what a confused provider can make the host do.
const MAX_PEERS: usize = 1024;

pub(crate) fn node_to_wit(node: &NodeContext) -> wit::NodeContext {
    wit::NodeContext {
        node_name: node.node_name.clone(),
        provider_id: node.provider_id.clone(),
        annotations: node
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        labels: node
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

pub(crate) fn provider_error(identity: &str, error: wit::ProviderError) -> CallError {
    let (kind, message) = match error {
        wit::ProviderError::NotReady(m) => (ProviderErrorKind::NotReady, m),
        wit::ProviderError::InvalidInput(m) => (ProviderErrorKind::InvalidInput, m),
        wit::ProviderError::Unreachable(m) => (ProviderErrorKind::Unreachable, m),
        wit::ProviderError::Unauthorized(m) => (ProviderErrorKind::Unauthorized, m),
    };
    CallError::Provider(ProviderError {
        kind,
        message,
        provider: identity.to_string(),
    })
}

pub(crate) fn discovery_from_wit(
    identity: &str,
    discovery: wit::Discovery,
) -> Result<Discovery, CallError> {
    if discovery.peers.len() > MAX_PEERS {
        return Err(CallError::InvalidOutput {
            provider: identity.to_string(),
            peer_index: MAX_PEERS,
            field: "peers",
            message: format!(
                "{} peers returned, at most {MAX_PEERS} allowed",
                discovery.peers.len()
            ),
        });
    }
    let peers = discovery
        .peers
        .into_iter()
        .enumerate()
        .map(|(index, peer)| {
            peer_from_wit(peer).map_err(|(field, message)| CallError::InvalidOutput {
                provider: identity.to_string(),
                peer_index: index,
                field,
                message,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Discovery {
        peers,
        refresh_after: discovery
            .refresh_after_seconds
            .map(|s| Duration::from_secs(u64::from(s))),
    })
}

type FieldError = (&'static str, String);

fn peer_from_wit(peer: wit::BgpPeer) -> Result<BgpPeer, FieldError> {
    Ok(BgpPeer {
        peer_address: parse_ip("peer_address", &peer.peer_address)?,
        peer_asn: asn("peer_asn", peer.peer_asn)?,
        local_asn: asn("local_asn", peer.local_asn)?,
        source_address: peer
            .source_address
            .as_deref()
            .map(|a| parse_ip("source_address", a))
            .transpose()?,
        password: match peer.password {
            Some(p) => {
                rules::check_md5_password(&p).map_err(|reason| ("password", reason))?;
                Some(Password::new(p))
            }
            None => None,
        },
        multihop_ttl: match peer.multihop_ttl {
            Some(ttl) => {
                rules::check_multihop_ttl(ttl).map_err(|reason| ("multihop_ttl", reason))?;
                Some(ttl)
            }
            None => None,
        },
        route_via: peer
            .route_via
            .as_deref()
            .map(|a| parse_ip("route_via", a))
            .transpose()?,
        hold_time_seconds: match peer.hold_time_seconds {
            Some(seconds) => {
                rules::check_hold_time(seconds).map_err(|reason| ("hold_time_seconds", reason))?;
                Some(seconds)
            }
            None => None,
        },
        port: match peer.port {
            Some(0) => return Err(("port", "0 is not a valid port".into())),
            other => other,
        },
    })
}

fn parse_ip(field: &'static str, text: &str) -> Result<IpAddr, FieldError> {
    text.parse()
        .map_err(|_| (field, format!("{text:?} is not an IP address")))
}

fn asn(field: &'static str, value: u32) -> Result<u32, FieldError> {
    rules::check_asn(value).map_err(|reason| (field, reason))?;
    Ok(value)
}
