//! Reading the three CCM annotation formats into peers.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use herald_sdk::{NodeContext, Password, ProviderError};

/// The annotation format a node's peers were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<prefix>/bgp-peers-{n}-*` (CCM ≥ v3.2.3).
    BgpPeersN,
    /// `<prefix>/{node-asn,peer-asn,peer-ip,src-ip,bgp-pass}` (CCM v3.0–v3.2.2).
    Legacy,
    /// `packet.com/{node.asn,peer.asns,peer.ips}` (Packet CCM v1.1–v2.0).
    PacketV1,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BgpPeersN => "bgp-peers-N",
            Self::Legacy => "legacy",
            Self::PacketV1 => "packet.com v1",
        })
    }
}

/// A peer as the annotations describe it (multihop and routes are decided by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotatedPeer {
    pub address: IpAddr,
    pub peer_asn: u32,
    pub local_asn: u32,
    pub source: Option<IpAddr>,
    pub password: Option<Password>,
    /// `<prefix>/bgp-peers-{n}-peer-multi-hop` (Cherry Servers' CCM, kube-vip); `None` when
    /// absent, so the caller's default applies.
    pub multihop: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotated {
    pub format: Format,
    pub peers: Vec<AnnotatedPeer>,
}

const PACKET_PREFIX: &str = "packet.com";
const FIELDS: [&str; 5] = ["node-asn", "peer-asn", "peer-ip", "src-ip", "bgp-pass"];
/// The per-peer keys of bgp-peers-N: Cherry Servers' CCM (v1.36.2+) adds `peer-multi-hop`.
const INDEXED_FIELDS: [&str; 6] = [
    "node-asn",
    "peer-asn",
    "peer-ip",
    "src-ip",
    "bgp-pass",
    "peer-multi-hop",
];
use herald_sdk::rules::MAX_MD5_PASSWORD_BYTES as MAX_PASSWORD_BYTES;

/// Reads the node's BGP annotations, preferring bgp-peers-N over legacy over packet.com v1.
/// A peer address listed twice counts once. Missing keys → `not-ready`; values that do not
/// parse → `invalid-input` naming the annotation key (never quoting a password).
pub fn read_annotations(node: &NodeContext, prefix: &str) -> Result<Annotated, ProviderError> {
    let reader = Reader { node };
    let indexed = indexed_sets(node, prefix);
    let (format, peers) = if !indexed.is_empty() {
        (Format::BgpPeersN, reader.bgp_peers_n(prefix, &indexed)?)
    } else if FIELDS
        .iter()
        .any(|field| reader.present(&format!("{prefix}/{field}")))
    {
        (Format::Legacy, reader.legacy(prefix)?)
    } else if ["node.asn", "peer.asns", "peer.ips"]
        .iter()
        .any(|f| reader.present(&format!("{PACKET_PREFIX}/{f}")))
    {
        (Format::PacketV1, reader.packet_v1()?)
    } else {
        return Err(ProviderError::NotReady(format!(
            "node {} has no BGP annotations yet (looked for {prefix}/bgp-peers-N-*, {prefix}/peer-ip and \
             {PACKET_PREFIX}/peer.ips)",
            node.node_name
        )));
    };
    let mut unique: Vec<AnnotatedPeer> = Vec::with_capacity(peers.len());
    for peer in peers {
        if !unique.iter().any(|seen| seen.address == peer.address) {
            unique.push(peer);
        }
    }
    Ok(Annotated {
        format,
        peers: unique,
    })
}

/// The `n` of every `<prefix>/bgp-peers-{n}-<field>` key, as written, ordered numerically.
fn indexed_sets(node: &NodeContext, prefix: &str) -> Vec<String> {
    let start = format!("{prefix}/bgp-peers-");
    let mut indices: BTreeMap<(u64, String), ()> = BTreeMap::new();
    for key in node.annotations.keys() {
        let Some((n, field)) = key
            .strip_prefix(&start)
            .and_then(|rest| rest.split_once('-'))
        else {
            continue;
        };
        let numeric = n
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| n.parse::<u64>().ok())
            .flatten();
        if let (Some(number), true) = (numeric, INDEXED_FIELDS.contains(&field)) {
            indices.insert((number, n.to_owned()), ());
        }
    }
    indices.into_keys().map(|(_, n)| n).collect()
}

struct Reader<'a> {
    node: &'a NodeContext,
}

impl Reader<'_> {
    fn present(&self, key: &str) -> bool {
        self.node.annotations.contains_key(key)
    }

    /// The trimmed value; `None` when absent or empty.
    fn optional(&self, key: &str) -> Option<&str> {
        self.node
            .annotation(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn required(&self, key: &str) -> Result<&str, ProviderError> {
        self.optional(key).ok_or_else(|| {
            ProviderError::NotReady(format!(
                "node {}: annotation {key} is missing or empty",
                self.node.node_name
            ))
        })
    }

    fn bgp_peers_n(
        &self,
        prefix: &str,
        indices: &[String],
    ) -> Result<Vec<AnnotatedPeer>, ProviderError> {
        let mut peers = Vec::new();
        for n in indices {
            let key = |field: &str| format!("{prefix}/bgp-peers-{n}-{field}");
            let local_asn = parse_asn(&key("node-asn"), self.required(&key("node-asn"))?)?;
            let peer_asns = parse_asns(&key("peer-asn"), self.required(&key("peer-asn"))?)?;
            let addresses = parse_ips(&key("peer-ip"), self.required(&key("peer-ip"))?)?;
            let source = self
                .optional(&key("src-ip"))
                .map(|v| parse_ip(&key("src-ip"), v))
                .transpose()?;
            let password = self
                .optional(&key("bgp-pass"))
                .map(|v| parse_password(&key("bgp-pass"), v))
                .transpose()?
                .flatten();
            let multihop = self
                .optional(&key("peer-multi-hop"))
                .map(|v| parse_multihop(&key("peer-multi-hop"), v))
                .transpose()?;
            let mut set = pair(
                &key("peer-asn"),
                addresses,
                &peer_asns,
                local_asn,
                source,
                password.as_ref(),
            )?;
            for peer in &mut set {
                peer.multihop = multihop;
            }
            peers.extend(set);
        }
        Ok(peers)
    }

    fn legacy(&self, prefix: &str) -> Result<Vec<AnnotatedPeer>, ProviderError> {
        let key = |field: &str| format!("{prefix}/{field}");
        let local_asn = parse_asn(&key("node-asn"), self.required(&key("node-asn"))?)?;
        let peer_asns = parse_asns(&key("peer-asn"), self.required(&key("peer-asn"))?)?;
        let addresses = parse_ips(&key("peer-ip"), self.required(&key("peer-ip"))?)?;
        let source = self
            .optional(&key("src-ip"))
            .map(|v| parse_ip(&key("src-ip"), v))
            .transpose()?;
        let password = self
            .optional(&key("bgp-pass"))
            .map(|v| parse_password(&key("bgp-pass"), v))
            .transpose()?
            .flatten();
        pair(
            &key("peer-asn"),
            addresses,
            &peer_asns,
            local_asn,
            source,
            password.as_ref(),
        )
    }

    fn packet_v1(&self) -> Result<Vec<AnnotatedPeer>, ProviderError> {
        let key = |field: &str| format!("{PACKET_PREFIX}/{field}");
        let local_asn = parse_asn(&key("node.asn"), self.required(&key("node.asn"))?)?;
        let peer_asns = parse_asns(&key("peer.asns"), self.required(&key("peer.asns"))?)?;
        let addresses = parse_ips(&key("peer.ips"), self.required(&key("peer.ips"))?)?;
        pair(
            &key("peer.asns"),
            addresses,
            &peer_asns,
            local_asn,
            None,
            None,
        )
    }
}

/// Pairs peer addresses with peer ASNs: one ASN for all, or one per address.
fn pair(
    asn_key: &str,
    addresses: Vec<IpAddr>,
    peer_asns: &[u32],
    local_asn: u32,
    source: Option<IpAddr>,
    password: Option<&Password>,
) -> Result<Vec<AnnotatedPeer>, ProviderError> {
    let asn_for = |index: usize| match peer_asns {
        [single] => Ok(*single),
        many if many.len() == addresses.len() => Ok(many[index]),
        many => Err(ProviderError::InvalidInput(format!(
            "annotation {asn_key}: {} ASNs for {} peer addresses (give one, or one per address)",
            many.len(),
            addresses.len()
        ))),
    };
    addresses
        .iter()
        .enumerate()
        .map(|(index, address)| {
            Ok(AnnotatedPeer {
                address: *address,
                peer_asn: asn_for(index)?,
                local_asn,
                source,
                password: password.cloned(),
                multihop: None,
            })
        })
        .collect()
}

fn parse_asn(key: &str, value: &str) -> Result<u32, ProviderError> {
    match value.trim().parse::<u32>() {
        Ok(asn) if asn != 0 => Ok(asn),
        _ => Err(ProviderError::InvalidInput(format!(
            "annotation {key}: {value:?} is not an ASN (1..=4294967295)"
        ))),
    }
}

fn parse_asns(key: &str, value: &str) -> Result<Vec<u32>, ProviderError> {
    comma_list(value).map(|item| parse_asn(key, item)).collect()
}

fn parse_ip(key: &str, value: &str) -> Result<IpAddr, ProviderError> {
    value.trim().parse().map_err(|_| {
        ProviderError::InvalidInput(format!("annotation {key}: {value:?} is not an IP address"))
    })
}

fn parse_ips(key: &str, value: &str) -> Result<Vec<IpAddr>, ProviderError> {
    comma_list(value).map(|item| parse_ip(key, item)).collect()
}

fn comma_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// `"true"` or `"false"`, as the Cherry CCM and kube-vip write it; anything else is refused
/// rather than guessed.
fn parse_multihop(key: &str, value: &str) -> Result<bool, ProviderError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ProviderError::InvalidInput(format!(
            "annotation {key}: {other:?} is neither \"true\" nor \"false\""
        ))),
    }
}

/// Base64 (standard alphabet) of the MD5 password; an empty decoded value means no password.
fn parse_password(key: &str, value: &str) -> Result<Option<Password>, ProviderError> {
    let invalid = |why: &str| ProviderError::InvalidInput(format!("annotation {key}: {why}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| invalid("not valid base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("decoded password is not UTF-8"))?;
    if text.len() > MAX_PASSWORD_BYTES {
        return Err(invalid(&format!(
            "decoded password is longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok((!text.is_empty()).then(|| Password::new(text)))
}
