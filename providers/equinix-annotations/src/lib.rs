//! Herald provider `equinix-annotations`: Equinix Metal BGP peers from the annotations the
//! Equinix CCM writes on the Node. No network access.
//!
//! Formats, in order of preference when a node carries several (the CCM never deletes old keys):
//! 1. `<prefix>/bgp-peers-{n}-{node-asn,peer-asn,peer-ip,src-ip,bgp-pass}` (CCM ≥ v3.2.3),
//! 2. legacy `<prefix>/{node-asn,peer-asn,peer-ip,src-ip,bgp-pass}` with comma lists (v3.0–v3.2.2),
//! 3. `packet.com/{node.asn,peer.asns,peer.ips}` (Packet CCM v1.1–v2.0; prefix fixed).
//!
//! Peers in 169.254.0.0/16 (Equinix's multihop routers) get the multihop TTL and a route via the
//! private gateway (config `private-gateway`, else derived from `src-ip` and
//! `<prefix>/network-4-private`, see [`gateway`]).
//!
//! Cherry Servers' CCM writes the bgp-peers-N layout too (`prefix=cherryservers.com`), without
//! `bgp-pass`, with `src-ip` only since v1.35.3, and with `peer-multi-hop` since v1.36.2. Its
//! peers are public route servers, always multihop: with that prefix multihop is on unless
//! `peer-multi-hop` says `"false"`. With any prefix an explicit `peer-multi-hop` wins over the
//! address rule. See `docs/providers.md`.

mod formats;
mod gateway;

use std::net::{IpAddr, Ipv4Addr};

use equinix_common::{MULTIHOP_TTL_KEY, multihop_ttl, needs_private_route};
use herald_sdk::{
    BgpPeer, Config, Discovery, HttpClient, NodeContext, Provider, ProviderError, log,
};

pub use formats::{Annotated, AnnotatedPeer, Format, read_annotations};

/// Config key: annotation prefix of the `metal.equinix.com` formats.
pub const PREFIX_KEY: &str = "prefix";
pub const DEFAULT_PREFIX: &str = "metal.equinix.com";
/// Config key: next hop for routes to the multihop peers, overriding the derived one.
pub const PRIVATE_GATEWAY_KEY: &str = "private-gateway";

const KNOWN_KEYS: &[&str] = &[PREFIX_KEY, PRIVATE_GATEWAY_KEY, MULTIHOP_TTL_KEY];

/// Prefixes whose CCM annotates only multihop peers, so multihop is the default when
/// `peer-multi-hop` is absent: Cherry Servers' (its older CCMs do not write the key, and its
/// route servers are public addresses the 169.254.0.0/16 rule does not catch).
const MULTIHOP_PREFIXES: &[&str] = &["cherryservers.com"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquinixAnnotations {
    prefix: String,
    private_gateway: Option<Ipv4Addr>,
    multihop_ttl: u8,
    /// Multihop for peers without `peer-multi-hop`, whatever their address.
    multihop_by_default: bool,
}

impl Default for EquinixAnnotations {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            private_gateway: None,
            multihop_ttl: equinix_common::DEFAULT_MULTIHOP_TTL,
            multihop_by_default: false,
        }
    }
}

impl Provider for EquinixAnnotations {
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        config.reject_unknown(KNOWN_KEYS)?;
        let prefix = config
            .get_or(PREFIX_KEY, DEFAULT_PREFIX)
            .trim_end_matches('/');
        if prefix.is_empty() || prefix.contains(char::is_whitespace) || prefix.contains('/') {
            return Err(ProviderError::InvalidInput(format!(
                "config key `{PREFIX_KEY}` must be an annotation prefix such as {DEFAULT_PREFIX}"
            )));
        }
        self.prefix = prefix.to_owned();
        self.multihop_by_default = MULTIHOP_PREFIXES.contains(&prefix);
        self.private_gateway = config.parse(PRIVATE_GATEWAY_KEY)?;
        self.multihop_ttl = multihop_ttl(config)?;
        Ok(())
    }

    fn discover(
        &self,
        node: &NodeContext,
        _http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError> {
        let found = read_annotations(node, &self.prefix)?;
        log::debug(&format!(
            "node {}: {} BGP annotations, {} peer(s)",
            node.node_name,
            found.format,
            found.peers.len()
        ));
        let mut peers = Vec::with_capacity(found.peers.len());
        for annotated in found.peers {
            let mut peer = BgpPeer::new(annotated.address, annotated.peer_asn, annotated.local_asn);
            peer.source_address = annotated.source;
            peer.password = annotated.password;
            let link_local = needs_private_route(annotated.address);
            if annotated
                .multihop
                .unwrap_or(self.multihop_by_default || link_local)
            {
                peer.multihop_ttl = Some(self.multihop_ttl);
            }
            if link_local {
                peer.route_via = self.route_via(node, annotated.source)?;
            }
            peers.push(peer);
        }
        Ok(Discovery {
            peers,
            refresh_after_seconds: None,
        })
    }
}

impl EquinixAnnotations {
    fn route_via(
        &self,
        node: &NodeContext,
        source: Option<IpAddr>,
    ) -> Result<Option<IpAddr>, ProviderError> {
        if let Some(configured) = self.private_gateway {
            return Ok(Some(IpAddr::V4(configured)));
        }
        let derived = gateway::derive_private_gateway(node, &self.prefix, source)?;
        if derived.is_none() {
            log::warn(&format!(
                "node {}: multihop peers but no private gateway known (no private IPv4 src-ip); set `{PRIVATE_GATEWAY_KEY}`",
                node.node_name
            ));
        }
        Ok(derived.map(IpAddr::V4))
    }
}

herald_sdk::export_provider!(EquinixAnnotations);

herald_sdk::provider_metadata! {
    name: "equinix-annotations",
    description: "Equinix Metal BGP peers from the Node annotations written by the Equinix CCM \
                  (packet.com v1, legacy metal.equinix.com and bgp-peers-N formats); Cherry Servers' \
                  with prefix=cherryservers.com. No network access.",
    hosts: [],
    config: [
        { key: "prefix", description: "Annotation prefix of the metal.equinix.com formats \
                                        (the packet.com v1 prefix is fixed).",
          default: "metal.equinix.com" },
        { key: "private-gateway", description: "IPv4 next hop for the routes to the 169.254.255.x multihop peers; \
                                                default: the other address of the node's private /31 (src-ip), \
                                                checked against <prefix>/network-4-private." },
        { key: "multihop-ttl", description: "eBGP multihop TTL for the multihop peers: 169.254.255.x, \
                                             Cherry Servers' route servers, peer-multi-hop \"true\".",
          default: "2" },
    ],
}
