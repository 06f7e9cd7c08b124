//! Checking and converting values that cross the guest boundary. Each WIT version's module maps
//! its types to and from the host's (`types.rs`); the checks on what a provider returns live here
//! once, on [`RawPeer`], so every version is held to the same rules.

/// `provider_error` and `discovery_from_wit` for the version module it is invoked in: every
/// version so far has the same `provider-error` variants and `discovery` record, so only the
/// `wit` path (resolved where the macro is invoked) differs. A version that changes either
/// writes its own instead.
macro_rules! same_errors_and_discovery {
    () => {
        pub(crate) fn provider_error(identity: &str, error: wit::ProviderError) -> CallError {
            let (kind, message) = match error {
                wit::ProviderError::NotReady(m) => (ProviderErrorKind::NotReady, m),
                wit::ProviderError::InvalidInput(m) => (ProviderErrorKind::InvalidInput, m),
                wit::ProviderError::Unreachable(m) => (ProviderErrorKind::Unreachable, m),
                wit::ProviderError::Unauthorized(m) => (ProviderErrorKind::Unauthorized, m),
            };
            super::provider_error(identity, kind, message)
        }

        pub(crate) fn discovery_from_wit(
            identity: &str,
            discovery: wit::Discovery,
        ) -> Result<Discovery, CallError> {
            super::discovery(identity, discovery.peers, discovery.refresh_after_seconds)
        }
    };
}

pub(crate) mod v0_1_0;
pub(crate) mod v0_2_0;

use herald_peer_rules as rules;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::errors::{CallError, ProviderError, ProviderErrorKind};
use crate::types::{BgpPeer, Discovery, Password};

/// More peers than any node needs: a bound on what a confused provider can make the host do.
const MAX_PEERS: usize = 1024;

/// A peer as a provider of any WIT version returned it, before the host checks it. Fields a
/// version lacks are `None`.
pub(crate) struct RawPeer {
    pub peer_address: String,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub source_address: Option<String>,
    pub password: Option<String>,
    pub multihop_ttl: Option<u8>,
    pub route_via: Option<String>,
    pub hold_time_seconds: Option<u16>,
    pub port: Option<u16>,
    pub keepalive_seconds: Option<u16>,
}

/// Annotations and labels as WIT's `list<tuple<string, string>>`.
fn pairs(map: &BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn provider_error(identity: &str, kind: ProviderErrorKind, message: String) -> CallError {
    CallError::Provider(ProviderError {
        kind,
        message,
        provider: identity.to_string(),
    })
}

/// Checks every peer (the first bad one fails the call, naming its index and field).
fn discovery<P: Into<RawPeer>>(
    identity: &str,
    peers: Vec<P>,
    refresh_after_seconds: Option<u32>,
) -> Result<Discovery, CallError> {
    if peers.len() > MAX_PEERS {
        return Err(CallError::InvalidOutput {
            provider: identity.to_string(),
            peer_index: MAX_PEERS,
            field: "peers",
            message: format!(
                "{} peers returned, at most {MAX_PEERS} allowed",
                peers.len()
            ),
        });
    }
    let peers = peers
        .into_iter()
        .enumerate()
        .map(|(index, peer)| {
            check_peer(peer.into()).map_err(|(field, message)| CallError::InvalidOutput {
                provider: identity.to_string(),
                peer_index: index,
                field,
                message,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Discovery {
        peers,
        refresh_after: refresh_after_seconds.map(|s| Duration::from_secs(u64::from(s))),
    })
}

type FieldError = (&'static str, String);

fn check_peer(peer: RawPeer) -> Result<BgpPeer, FieldError> {
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
        multihop_ttl: checked(peer.multihop_ttl, "multihop_ttl", rules::check_multihop_ttl)?,
        route_via: peer
            .route_via
            .as_deref()
            .map(|a| parse_ip("route_via", a))
            .transpose()?,
        hold_time_seconds: checked(
            peer.hold_time_seconds,
            "hold_time_seconds",
            rules::check_hold_time,
        )?,
        port: match peer.port {
            Some(0) => return Err(("port", "0 is not a valid port".into())),
            other => other,
        },
        keepalive_seconds: checked(peer.keepalive_seconds, "keepalive_seconds", |k| {
            rules::check_keepalive(k, peer.hold_time_seconds)
        })?,
    })
}

fn checked<T: Copy>(
    value: Option<T>,
    field: &'static str,
    check: impl Fn(T) -> Result<(), String>,
) -> Result<Option<T>, FieldError> {
    if let Some(value) = value {
        check(value).map_err(|reason| (field, reason))?;
    }
    Ok(value)
}

fn parse_ip(field: &'static str, text: &str) -> Result<IpAddr, FieldError> {
    text.parse()
        .map_err(|_| (field, format!("{text:?} is not an IP address")))
}

fn asn(field: &'static str, value: u32) -> Result<u32, FieldError> {
    rules::check_asn(value).map_err(|reason| (field, reason))?;
    Ok(value)
}
