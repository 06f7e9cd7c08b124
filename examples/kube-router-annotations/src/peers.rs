//! `kube-router.io/peers`: kube-router's consolidated per-node peer list (v2.7.0+), a YAML
//! list of `{remoteip, remoteasn, localip, password, port, bfd}` in a string annotation.

use std::net::IpAddr;

use herald_sdk::{ProviderError, log};

use crate::PeerSpec;
use crate::values::{self, NumberError};
use crate::yaml::{self, Node, Scalar};

pub const PEERS_KEY: &str = "kube-router.io/peers";

/// Keys kube-router reads in an item. Others are ignored by kube-router (goccy/go-yaml allows
/// unknown fields), so they are ignored here too, with a warning.
const ITEM_KEYS: [&str; 6] = [
    "remoteip",
    "remoteasn",
    "localip",
    "password",
    "port",
    "bfd",
];

/// Every peer of the annotation, in order. An empty list (empty value, `[]`, `null`) is
/// `Ok(vec![])`; any bad item rejects the whole annotation, as kube-router does.
pub fn from_yaml(value: &str) -> Result<Vec<PeerSpec>, ProviderError> {
    let tree = yaml::parse(value)
        .map_err(|e| invalid(PEERS_KEY, format!("not valid YAML for a peer list: {e}")))?;
    let items = match tree {
        None => return Ok(Vec::new()),
        Some(Node::Scalar(scalar)) if scalar.is_null() => return Ok(Vec::new()),
        Some(Node::Sequence(items)) => items,
        Some(_) => {
            return Err(invalid(
                PEERS_KEY,
                "must be a YAML list of peers (- remoteip: …, remoteasn: …)".into(),
            ));
        }
    };
    let mut peers: Vec<PeerSpec> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let at = format!("{PEERS_KEY}[{index}]");
        let peer = item_to_peer(item, &at)?;
        if peers.iter().any(|p| p.address == peer.address) {
            return Err(invalid(&at, format!("{} is listed twice", peer.address)));
        }
        peers.push(peer);
    }
    Ok(peers)
}

fn item_to_peer(item: &Node, at: &str) -> Result<PeerSpec, ProviderError> {
    let Node::Mapping(entries) = item else {
        return Err(invalid(
            at,
            "must be a mapping with remoteip and remoteasn".into(),
        ));
    };
    let mut fields: [Option<&Node>; ITEM_KEYS.len()] = [None; ITEM_KEYS.len()];
    for (key, value) in entries {
        match ITEM_KEYS.iter().position(|k| *k == key.text) {
            Some(slot) if fields[slot].is_some() => {
                return Err(invalid(at, format!("{} is given twice", key.text)));
            }
            Some(slot) => fields[slot] = Some(value),
            None => log::warn(&format!(
                "{at}: unknown key {:?} ignored (kube-router ignores it too)",
                key.text
            )),
        }
    }
    let [remote_ip, remote_asn, local_ip, password, port, bfd] = fields;
    let field = |name: &str| format!("{at}.{name}");

    let address = match scalar(remote_ip, &field("remoteip"))? {
        Some(ip) => parse_ip(&ip.text, &field("remoteip"))?,
        None => return Err(invalid(&field("remoteip"), "is missing".into())),
    };
    let asn = match scalar(remote_asn, &field("remoteasn"))? {
        Some(asn) => integer(asn, &field("remoteasn"), values::asn)?,
        None => return Err(invalid(&field("remoteasn"), "is missing".into())),
    };
    if !values::is_allowed_peer_asn(asn) {
        return Err(invalid(&field("remoteasn"), values::reserved_peer_asn(asn)));
    }
    // kube-router does not check localip (GoBGP fails later); a source must be an address here.
    let source = scalar(local_ip, &field("localip"))?
        .filter(|ip| !ip.text.is_empty())
        .map(|ip| parse_ip(&ip.text, &field("localip")))
        .transpose()?;
    let password = match scalar(password, &field("password"))? {
        Some(encoded) => values::password(&encoded.text)
            .map_err(|e| invalid(&field("password"), e.to_string()))?,
        None => None,
    };
    let port = scalar(port, &field("port"))?
        .map(|port| integer(port, &field("port"), values::port))
        .transpose()?;
    if bfd.is_some_and(|b| !matches!(b, Node::Scalar(s) if s.is_null())) {
        log::warn(&format!(
            "{at}: bfd settings ignored (Herald does not run BFD)"
        ));
    }
    Ok(PeerSpec {
        address,
        asn,
        source,
        password,
        port,
    })
}

/// The field's scalar; `None` when absent or null. A list or mapping is an error.
fn scalar<'a>(value: Option<&'a Node>, what: &str) -> Result<Option<&'a Scalar>, ProviderError> {
    match value {
        None => Ok(None),
        Some(Node::Scalar(s)) if s.is_null() => Ok(None),
        Some(Node::Scalar(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(what, "must be a single value".into())),
    }
}

/// A YAML integer: plain, decimal. A quoted number is a string to kube-router's YAML decoder
/// (unverified how it treats one), so it is refused rather than converted.
fn integer<T>(
    value: &Scalar,
    what: &str,
    parse: impl Fn(&str) -> Result<T, NumberError>,
) -> Result<T, ProviderError> {
    if !value.plain {
        return Err(invalid(
            what,
            format!("{:?} is quoted; write the number unquoted", value.text),
        ));
    }
    parse(&value.text).map_err(|e| invalid(what, e.to_string()))
}

/// Go's `net.ParseIP` takes the text as is: no trimming here either.
fn parse_ip(text: &str, what: &str) -> Result<IpAddr, ProviderError> {
    text.parse()
        .map_err(|_| invalid(what, format!("{text:?} is not an IP address")))
}

fn invalid(what: &str, why: String) -> ProviderError {
    ProviderError::InvalidInput(format!("annotation {what}: {why}"))
}
