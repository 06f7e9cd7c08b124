//! kube-router's deprecated per-field annotations (`kube-router.io/peer.ips`, `peer.asns`,
//! `peer.passwords`, `peer.localips`, `peer.ports`): comma lists, index-aligned.
//!
//! Parsed as kube-router does (`bgpPeerConfigsFromIndividualAnnotations()`): split on `,`
//! exactly, no trimming (`192.0.2.1, 192.0.2.2` fails on `" 192.0.2.2"`); IPs and ASNs one to
//! one; passwords, local IPs and ports absent or one per peer; a blank password or local IP
//! means none, a blank port is an error (kube-router fails on it too).

use std::net::IpAddr;

use herald_sdk::{NodeContext, ProviderError};

use crate::PeerSpec;
use crate::values;

pub const IPS_KEY: &str = "kube-router.io/peer.ips";
pub const ASNS_KEY: &str = "kube-router.io/peer.asns";
pub const PASSWORDS_KEY: &str = "kube-router.io/peer.passwords";
pub const LOCAL_IPS_KEY: &str = "kube-router.io/peer.localips";
pub const PORTS_KEY: &str = "kube-router.io/peer.ports";
/// Every deprecated key, for "is this format present at all".
pub const KEYS: [&str; 5] = [IPS_KEY, ASNS_KEY, PASSWORDS_KEY, LOCAL_IPS_KEY, PORTS_KEY];

/// Whether the node carries any of the deprecated keys.
pub fn present(node: &NodeContext) -> bool {
    KEYS.iter().any(|key| node.annotations.contains_key(*key))
}

/// The peers of the deprecated lists. `peer.ips` or `peer.asns` missing is `not-ready`
/// (kube-router quietly runs without peers then; the other one may be on its way).
pub fn from_lists(node: &NodeContext) -> Result<Vec<PeerSpec>, ProviderError> {
    let required = |key: &str, other: &str| {
        node.annotation(key).ok_or_else(|| {
            ProviderError::NotReady(format!(
                "node {}: annotation {key} is missing ({other} is set)",
                node.node_name
            ))
        })
    };
    let ips = split(required(IPS_KEY, ASNS_KEY)?);
    let asns = split(required(ASNS_KEY, IPS_KEY)?);
    if ips.len() != asns.len() {
        return Err(invalid(
            ASNS_KEY,
            format!(
                "{} ASNs for {} peer IPs in {IPS_KEY} (kube-router needs one per IP)",
                asns.len(),
                ips.len()
            ),
        ));
    }
    let optional = |key: &'static str| -> Result<Option<Vec<&str>>, ProviderError> {
        let Some(value) = node.annotation(key) else {
            return Ok(None);
        };
        let items = split(value);
        if items.len() != ips.len() {
            return Err(invalid(
                key,
                format!(
                    "{} items for {} peer IPs (give none, or one per peer; blank items allowed)",
                    items.len(),
                    ips.len()
                ),
            ));
        }
        Ok(Some(items))
    };
    let passwords = optional(PASSWORDS_KEY)?;
    let local_ips = optional(LOCAL_IPS_KEY)?;
    let ports = optional(PORTS_KEY)?;

    let mut peers: Vec<PeerSpec> = Vec::with_capacity(ips.len());
    for (index, (ip, asn)) in ips.iter().zip(&asns).enumerate() {
        let item = |key: &str| format!("{key}[{index}]");
        let address = parse_ip(ip, &item(IPS_KEY))?;
        if peers.iter().any(|p| p.address == address) {
            return Err(invalid(
                &item(IPS_KEY),
                format!("{address} is listed twice"),
            ));
        }
        let asn = values::asn(asn).map_err(|e| invalid(&item(ASNS_KEY), e.to_string()))?;
        if !values::is_allowed_peer_asn(asn) {
            return Err(invalid(&item(ASNS_KEY), values::reserved_peer_asn(asn)));
        }
        let password = match passwords.as_ref().map(|p| p[index]) {
            None | Some("") => None,
            Some(encoded) => values::password(encoded)
                .map_err(|e| invalid(&item(PASSWORDS_KEY), e.to_string()))?,
        };
        let source = match local_ips.as_ref().map(|l| l[index]) {
            None | Some("") => None,
            Some(text) => Some(parse_ip(text, &item(LOCAL_IPS_KEY))?),
        };
        let port = ports
            .as_ref()
            .map(|p| values::port(p[index]).map_err(|e| invalid(&item(PORTS_KEY), e.to_string())))
            .transpose()?;
        peers.push(PeerSpec {
            address,
            asn,
            source,
            password,
            port,
        });
    }
    Ok(peers)
}

/// kube-router's `stringToSlice(s, ",")`: `""` is one blank item, not none.
fn split(value: &str) -> Vec<&str> {
    value.split(',').collect()
}

fn parse_ip(text: &str, what: &str) -> Result<IpAddr, ProviderError> {
    text.parse().map_err(|_| {
        invalid(
            what,
            format!("{text:?} is not an IP address (items are split on ',' without trimming)"),
        )
    })
}

fn invalid(what: &str, why: String) -> ProviderError {
    ProviderError::InvalidInput(format!("annotation {what}: {why}"))
}
