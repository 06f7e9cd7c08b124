//! Which Equinix CCM annotation format a node carries, and which set the equinix-annotations
//! provider uses. Mirrors the precedence of `providers/equinix-annotations/src/formats.rs`:
//! `<prefix>/bgp-peers-N-*` over legacy `<prefix>/{node-asn,…}` over `packet.com/{node.asn,…}`
//! (the CCM never deletes old keys, so upgraded nodes carry several). Values are read only to
//! show them; `bgp-pass` only ever as "set" or not.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::redact::Redactor;
use crate::status::Status;

/// The prefix the provider uses unless `--config prefix=…` says otherwise.
pub const DEFAULT_PREFIX: &str = "metal.equinix.com";
const PACKET_PREFIX: &str = "packet.com";
const FIELDS: [&str; 5] = ["node-asn", "peer-asn", "peer-ip", "src-ip", "bgp-pass"];
/// The per-peer keys of bgp-peers-N: Cherry Servers' CCM adds `peer-multi-hop`.
const INDEXED_FIELDS: [&str; 6] = [
    "node-asn",
    "peer-asn",
    "peer-ip",
    "src-ip",
    "bgp-pass",
    "peer-multi-hop",
];
const REQUIRED: [&str; 3] = ["node-asn", "peer-asn", "peer-ip"];
const PACKET_FIELDS: [&str; 3] = ["node.asn", "peer.asns", "peer.ips"];

/// An annotation format, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Format {
    /// `<prefix>/bgp-peers-{n}-*` (CCM v3.2.3 / v3.3.0 and later).
    #[serde(rename = "bgp-peers-N")]
    BgpPeersN,
    /// `<prefix>/{node-asn,peer-asn,peer-ip,src-ip,bgp-pass}` (CCM v3.0–v3.2.2).
    #[serde(rename = "legacy")]
    Legacy,
    /// `packet.com/{node.asn,peer.asns,peer.ips}` (Packet CCM v1.1–v2.0).
    #[serde(rename = "packet.com")]
    PacketV1,
}

impl Format {
    /// The format's keys, for people: `metal.equinix.com/bgp-peers-N-*`.
    pub fn keys(self, prefix: &str) -> String {
        match self {
            Self::BgpPeersN => format!("{prefix}/bgp-peers-N-*"),
            Self::Legacy => format!("{prefix}/{{node-asn,peer-asn,peer-ip,src-ip,bgp-pass}}"),
            Self::PacketV1 => format!("{PACKET_PREFIX}/{{node.asn,peer.asns,peer.ips}}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::BgpPeersN => "bgp-peers-N (CCM v3.3+)",
            Self::Legacy => "legacy (CCM v3.0-v3.2)",
            Self::PacketV1 => "packet.com (Packet CCM v1-v2)",
        }
    }
}

/// One set of peer annotations of the format in use: one per `n` for bgp-peers-N.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnotationSet {
    /// The `n` of `bgp-peers-{n}-*`, as written; `None` for the other formats.
    pub index: Option<String>,
    pub node_asn: Option<String>,
    pub peer_asn: Option<String>,
    pub peer_ip: Option<String>,
    pub src_ip: Option<String>,
    /// `peer-multi-hop` as written (`"true"`/`"false"`; bgp-peers-N of Cherry Servers' CCM).
    pub multihop: Option<String>,
    /// A non-empty `bgp-pass` is present (its value is never shown).
    pub md5: bool,
    /// Required keys that are absent or empty: the provider answers `not-ready` until the CCM
    /// writes them.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormatReport {
    pub status: Status,
    pub prefix: String,
    /// Every format with keys on the node, in precedence order (more than one: a mixed node).
    pub found: Vec<Format>,
    /// The format whose peers are used: the first of `found`.
    pub used: Option<Format>,
    pub sets: Vec<AnnotationSet>,
}

impl FormatReport {
    pub fn mixed(&self) -> bool {
        self.found.len() > 1
    }
}

/// Reads the formats present on a node with annotations `annotations` and prefix `prefix`.
pub fn annotation_format(
    annotations: &BTreeMap<String, String>,
    prefix: &str,
    redactor: &Redactor,
) -> FormatReport {
    let prefix = prefix.trim_end_matches('/');
    let reader = Reader {
        annotations,
        redactor,
    };
    let indices = indexed_sets(annotations, prefix);
    let mut found = Vec::new();
    if !indices.is_empty() {
        found.push(Format::BgpPeersN);
    }
    if FIELDS
        .iter()
        .any(|field| annotations.contains_key(&format!("{prefix}/{field}")))
    {
        found.push(Format::Legacy);
    }
    if PACKET_FIELDS
        .iter()
        .any(|field| annotations.contains_key(&format!("{PACKET_PREFIX}/{field}")))
    {
        found.push(Format::PacketV1);
    }
    let used = found.first().copied();
    let sets = match used {
        Some(Format::BgpPeersN) => indices
            .iter()
            .map(|n| reader.set(Some(n), &format!("{prefix}/bgp-peers-{n}-")))
            .collect(),
        Some(Format::Legacy) => vec![reader.set(None, &format!("{prefix}/"))],
        Some(Format::PacketV1) => vec![reader.packet_set()],
        None => Vec::new(),
    };
    let status = match used {
        None => Status::Info,
        Some(_) => Status::of(sets.iter().all(|set| set.missing.is_empty())),
    };
    FormatReport {
        status,
        prefix: prefix.to_owned(),
        found,
        used,
        sets,
    }
}

/// The `n` of every `<prefix>/bgp-peers-{n}-<field>` key (digits only, a known field), in
/// numeric order, as the provider orders them.
fn indexed_sets(annotations: &BTreeMap<String, String>, prefix: &str) -> Vec<String> {
    let start = format!("{prefix}/bgp-peers-");
    let mut indices: BTreeMap<(u64, String), ()> = BTreeMap::new();
    for key in annotations.keys() {
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
    annotations: &'a BTreeMap<String, String>,
    redactor: &'a Redactor,
}

impl Reader<'_> {
    /// The trimmed value, `None` when absent or empty (as the provider reads it).
    fn value(&self, key: &str) -> Option<String> {
        self.annotations
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(|v| self.redactor.scrub(v))
    }

    fn set(&self, index: Option<&String>, key_start: &str) -> AnnotationSet {
        let key = |field: &str| format!("{key_start}{field}");
        AnnotationSet {
            index: index.cloned(),
            node_asn: self.value(&key("node-asn")),
            peer_asn: self.value(&key("peer-asn")),
            peer_ip: self.value(&key("peer-ip")),
            src_ip: self.value(&key("src-ip")),
            multihop: index.and_then(|_| self.value(&key("peer-multi-hop"))),
            md5: self
                .annotations
                .get(&key("bgp-pass"))
                .is_some_and(|v| !v.trim().is_empty()),
            missing: REQUIRED
                .iter()
                .map(|field| key(field))
                .filter(|key| self.value(key).is_none())
                .collect(),
        }
    }

    fn packet_set(&self) -> AnnotationSet {
        let key = |field: &str| format!("{PACKET_PREFIX}/{field}");
        AnnotationSet {
            index: None,
            node_asn: self.value(&key("node.asn")),
            peer_asn: self.value(&key("peer.asns")),
            peer_ip: self.value(&key("peer.ips")),
            src_ip: None,
            multihop: None,
            md5: false,
            missing: PACKET_FIELDS
                .iter()
                .map(|field| key(field))
                .filter(|key| self.value(key).is_none())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn node(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn check(pairs: &[(&str, &str)], prefix: &str) -> FormatReport {
        annotation_format(&node(pairs), prefix, &Redactor::default())
    }

    const V33: &[(&str, &str)] = &[
        ("metal.equinix.com/network-4-private", "10.70.17.0/25"),
        ("metal.equinix.com/bgp-peers-0-node-asn", "65000"),
        ("metal.equinix.com/bgp-peers-0-peer-asn", "65530"),
        ("metal.equinix.com/bgp-peers-0-peer-ip", "169.254.255.1"),
        ("metal.equinix.com/bgp-peers-0-src-ip", "10.70.17.9"),
        (
            "metal.equinix.com/bgp-peers-0-bgp-pass",
            "RXhhbXBsZVBhc3MxMjM=",
        ),
        ("metal.equinix.com/bgp-peers-10-node-asn", "65000"),
        ("metal.equinix.com/bgp-peers-10-peer-asn", "65530"),
        ("metal.equinix.com/bgp-peers-10-peer-ip", "169.254.255.2"),
        ("metal.equinix.com/bgp-peers-2-node-asn", "65000"),
        ("metal.equinix.com/bgp-peers-2-peer-asn", "65530"),
        ("metal.equinix.com/bgp-peers-2-peer-ip", "169.254.255.3"),
        ("metal.equinix.com/bgp-peers-2-bgp-pass", ""),
        ("metal.equinix.com/bgp-peers-2-peer-multi-hop", "true"),
        ("metal.equinix.com/bgp-peers-3-peer-multi-hop", "false"),
    ];

    #[test]
    fn bgp_peers_n_sets_in_numeric_order_with_md5_as_a_flag() {
        let report = check(&V33[..V33.len() - 1], DEFAULT_PREFIX);
        assert_eq!(report.status, Status::Ok);
        assert_eq!(report.found, vec![Format::BgpPeersN]);
        assert_eq!(report.used, Some(Format::BgpPeersN));
        let indices: Vec<_> = report
            .sets
            .iter()
            .map(|s| s.index.clone().unwrap())
            .collect();
        assert_eq!(indices, ["0", "2", "10"]);
        assert_eq!(report.sets[0].peer_ip.as_deref(), Some("169.254.255.1"));
        assert_eq!(report.sets[0].src_ip.as_deref(), Some("10.70.17.9"));
        assert!(report.sets[0].md5 && !report.sets[1].md5 && !report.sets[2].md5);
        assert_eq!(report.sets[1].multihop.as_deref(), Some("true"));
        // A set named only by peer-multi-hop is a set, as the provider counts it: incomplete.
        let report = check(V33, DEFAULT_PREFIX);
        assert_eq!(report.sets.len(), 4);
        assert_eq!(report.status, Status::Fail);
        assert_eq!(report.sets[2].index.as_deref(), Some("3"));
        assert_eq!(report.sets[2].missing.len(), 3);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("RXhhbXBsZVBhc3MxMjM="), "{json}");
        assert!(json.contains(r#""used":"bgp-peers-N""#), "{json}");
    }

    #[test]
    fn a_mixed_node_uses_bgp_peers_n_then_legacy_then_packet() {
        let mut pairs = V33[..V33.len() - 1].to_vec();
        pairs.extend([
            ("metal.equinix.com/peer-ip", "169.254.255.1,169.254.255.2"),
            ("metal.equinix.com/node-asn", "65000"),
            ("packet.com/peer.ips", "169.254.255.1"),
        ]);
        let report = check(&pairs, DEFAULT_PREFIX);
        assert!(report.mixed());
        assert_eq!(
            report.found,
            vec![Format::BgpPeersN, Format::Legacy, Format::PacketV1]
        );
        assert_eq!(report.used, Some(Format::BgpPeersN));
        assert_eq!(
            report.status,
            Status::Ok,
            "legacy keys missing is irrelevant"
        );

        let legacy_and_packet = &pairs[V33.len() - 1..];
        let report = check(legacy_and_packet, DEFAULT_PREFIX);
        assert_eq!(report.used, Some(Format::Legacy));
        assert_eq!(report.status, Status::Fail);
        assert_eq!(report.sets[0].missing, ["metal.equinix.com/peer-asn"]);
    }

    #[test]
    fn packet_v1_alone_and_incomplete_sets_fail_naming_the_keys() {
        let report = check(
            &[
                ("packet.com/node.asn", "65000"),
                ("packet.com/peer.asns", "65530"),
                ("packet.com/peer.ips", "169.254.255.1, 169.254.255.2"),
            ],
            DEFAULT_PREFIX,
        );
        assert_eq!(
            (report.status, report.used),
            (Status::Ok, Some(Format::PacketV1))
        );
        assert_eq!(
            report.sets[0].peer_ip.as_deref(),
            Some("169.254.255.1, 169.254.255.2")
        );

        let report = check(
            &[
                ("metal.equinix.com/bgp-peers-0-node-asn", "65000"),
                ("metal.equinix.com/bgp-peers-0-peer-ip", " "),
            ],
            DEFAULT_PREFIX,
        );
        assert_eq!(report.status, Status::Fail);
        assert_eq!(
            report.sets[0].missing,
            [
                "metal.equinix.com/bgp-peers-0-peer-asn",
                "metal.equinix.com/bgp-peers-0-peer-ip"
            ]
        );
    }

    #[test]
    fn the_prefix_is_configurable_and_other_keys_are_no_format() {
        let pairs = [
            ("example.org/bgp-peers-0-node-asn", "65000"),
            ("example.org/bgp-peers-0-peer-asn", "65530"),
            ("example.org/bgp-peers-0-peer-ip", "169.254.255.1"),
        ];
        assert_eq!(check(&pairs, "example.org/").used, Some(Format::BgpPeersN));
        let report = check(&pairs, DEFAULT_PREFIX);
        assert_eq!((report.status, report.used), (Status::Info, None));
        let report = check(
            &[
                ("metal.equinix.com/network-4-private", "10.0.0.0/25"),
                ("metal.equinix.com/bgp-peers-x-peer-ip", "169.254.255.1"),
                ("metal.equinix.com/bgp-peers-0-other", "1"),
            ],
            DEFAULT_PREFIX,
        );
        assert!(report.found.is_empty() && report.sets.is_empty());
    }
}
