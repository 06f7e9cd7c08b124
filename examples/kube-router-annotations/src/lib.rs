//! Example Herald provider `kube-router-annotations`: BGP peers from kube-router's per-node
//! peer annotations, so a node set up for kube-router's external peering works unchanged.
//!
//! Precedence, as kube-router's `bgpPeerConfigsFromAnnotations()`:
//! 1. `kube-router.io/peers` (YAML list, kube-router ≥ v2.7.0) when the key exists; every
//!    `kube-router.io/peer.*` key is then ignored, even an invalid one;
//! 2. else the deprecated comma lists `kube-router.io/peer.{ips,asns,passwords,localips,ports}`.
//!
//! The local ASN is `kube-router.io/node.asn`, else config `cluster-asn` (kube-router's
//! `--cluster-asn`, default 64512). Multihop and hold time are kube-router command-line flags,
//! not annotations: config `multihop-ttl` and `hold-time-seconds`. No network access.
//! See README.md.

mod lists;
mod peers;
mod values;
mod yaml;

use std::net::IpAddr;

use herald_sdk::{
    BgpPeer, Config, Discovery, HttpClient, NodeContext, Password, Provider, ProviderError, log,
};

pub use lists::{ASNS_KEY, IPS_KEY, LOCAL_IPS_KEY, PASSWORDS_KEY, PORTS_KEY};
pub use peers::PEERS_KEY;

/// The node's own ASN (kube-router reads it with `--nodes-full-mesh=false`).
pub const NODE_ASN_KEY: &str = "kube-router.io/node.asn";

/// Config key: local ASN when the node has no `kube-router.io/node.asn`.
pub const CLUSTER_ASN_KEY: &str = "cluster-asn";
/// kube-router's `--cluster-asn` default.
pub const DEFAULT_CLUSTER_ASN: u32 = 64512;
/// Config key: eBGP multihop TTL (kube-router's `--peer-router-multihop-ttl`; 1 = direct).
pub const MULTIHOP_TTL_KEY: &str = "multihop-ttl";
/// Config key: BGP hold time (kube-router's `--bgp-holdtime`, in seconds here).
pub const HOLD_TIME_KEY: &str = "hold-time-seconds";

const KNOWN_KEYS: &[&str] = &[CLUSTER_ASN_KEY, MULTIHOP_TTL_KEY, HOLD_TIME_KEY];

/// One peer as either annotation format describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    pub address: IpAddr,
    pub asn: u32,
    /// `localip`; `None` = kube-router's node IP, here the host's default source.
    pub source: Option<IpAddr>,
    pub password: Option<Password>,
    /// `None` = 179.
    pub port: Option<u16>,
}

/// Which format a node's peers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `kube-router.io/peers`.
    Peers,
    /// The deprecated `kube-router.io/peer.*` lists.
    Lists,
}

/// Reads the node's peers by kube-router's precedence. No annotations, or an empty
/// `kube-router.io/peers`, is `not-ready`: the host keeps the last good peers, as kube-router,
/// which reads the annotations only when it starts, keeps its sessions.
pub fn read_peers(node: &NodeContext) -> Result<(Format, Vec<PeerSpec>), ProviderError> {
    if let Some(value) = node.annotation(PEERS_KEY) {
        if lists::present(node) {
            log::debug(&format!(
                "node {}: {PEERS_KEY} present, the kube-router.io/peer.* annotations are ignored",
                node.node_name
            ));
        }
        let peers = peers::from_yaml(value)?;
        if peers.is_empty() {
            return Err(ProviderError::NotReady(format!(
                "node {}: annotation {PEERS_KEY} lists no peers",
                node.node_name
            )));
        }
        return Ok((Format::Peers, peers));
    }
    if lists::present(node) {
        return lists::from_lists(node).map(|peers| (Format::Lists, peers));
    }
    Err(ProviderError::NotReady(format!(
        "node {} has no kube-router peer annotations ({PEERS_KEY}, or {IPS_KEY} with {ASNS_KEY})",
        node.node_name
    )))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeRouterAnnotations {
    cluster_asn: u32,
    multihop_ttl: Option<u8>,
    hold_time_seconds: Option<u16>,
}

impl Default for KubeRouterAnnotations {
    fn default() -> Self {
        Self {
            cluster_asn: DEFAULT_CLUSTER_ASN,
            multihop_ttl: None,
            hold_time_seconds: None,
        }
    }
}

impl Provider for KubeRouterAnnotations {
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        config.reject_unknown(KNOWN_KEYS)?;
        let config_error = |key: &str, why: String| {
            ProviderError::InvalidInput(format!("config key `{key}`: {why}"))
        };
        if let Some(text) = config.get(CLUSTER_ASN_KEY) {
            self.cluster_asn = local_asn(text).map_err(|why| config_error(CLUSTER_ASN_KEY, why))?;
        }
        // kube-router turns multihop on only above 1; 1 is the directly connected TTL anyway.
        self.multihop_ttl = match config.parse::<u8>(MULTIHOP_TTL_KEY)? {
            Some(0) => return Err(config_error(MULTIHOP_TTL_KEY, "must be 1..=255".into())),
            Some(1) | None => None,
            Some(ttl) => Some(ttl),
        };
        self.hold_time_seconds = config.parse::<u16>(HOLD_TIME_KEY)?;
        if let Some(seconds) = self.hold_time_seconds {
            herald_sdk::rules::check_hold_time(seconds)
                .map_err(|reason| config_error(HOLD_TIME_KEY, reason))?;
        }
        Ok(())
    }

    fn discover(
        &self,
        node: &NodeContext,
        _http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError> {
        let (format, specs) = read_peers(node)?;
        let local_asn = match node.annotation(NODE_ASN_KEY) {
            Some(text) => local_asn(text).map_err(|why| {
                ProviderError::InvalidInput(format!("annotation {NODE_ASN_KEY}: {why}"))
            })?,
            None => self.cluster_asn,
        };
        log::debug(&format!(
            "node {}: {} peer(s) from {}, local AS {local_asn}",
            node.node_name,
            specs.len(),
            match format {
                Format::Peers => PEERS_KEY,
                Format::Lists => IPS_KEY,
            }
        ));
        let peers = specs
            .into_iter()
            .map(|spec| BgpPeer {
                source_address: spec.source,
                password: spec.password,
                multihop_ttl: self.multihop_ttl,
                hold_time_seconds: self.hold_time_seconds,
                port: spec.port,
                ..BgpPeer::new(spec.address, spec.asn, local_asn)
            })
            .collect();
        Ok(Discovery {
            peers,
            refresh_after_seconds: None,
        })
    }
}

/// A local ASN: decimal, not one the host refuses. kube-router does not range-check it.
fn local_asn(text: &str) -> Result<u32, String> {
    let asn = values::asn(text).map_err(|e| e.to_string())?;
    if !values::is_usable_local_asn(asn) {
        return Err(format!("{asn} is a reserved ASN"));
    }
    Ok(asn)
}

herald_sdk::export_provider!(KubeRouterAnnotations);

herald_sdk::provider_metadata! {
    name: "kube-router-annotations",
    description: "BGP peers from kube-router's node annotations (kube-router.io/peers, or the deprecated \
                  kube-router.io/peer.* lists). No network access. Example provider.",
    hosts: [],
    config: [
        { key: "cluster-asn", description: "Local ASN for nodes without kube-router.io/node.asn \
                                             (kube-router's --cluster-asn).",
          default: "64512" },
        { key: "multihop-ttl", description: "eBGP multihop TTL for every peer (kube-router's \
                                              --peer-router-multihop-ttl); unset or 1 = directly connected." },
        { key: "hold-time-seconds", description: "BGP hold time in seconds, 0 or at least 3 (kube-router's \
                                                   --bgp-holdtime); unset = the agent's default." },
    ],
}
