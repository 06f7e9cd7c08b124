//! Herald provider `equinix-metadata`: Equinix Metal BGP peers from the metadata service
//! (`GET https://metadata.platformequinix.com/metadata`, answered only to the server itself).
//!
//! One peer per `bgp_neighbors` entry and peer IP, for IPv4 and IPv6; `customer_as`/`peer_as`
//! are the ASNs, `customer_ip` the source address, `md5_enabled` decides the password, and
//! IPv4 multihop peers get a route via the private IPv4 gateway from `network.addresses`.
//! See `docs/providers.md`.

use equinix_common::{
    BgpNeighbor, IpAddressInfo, MULTIHOP_TTL_KEY, PeerOptions, multihop_ttl, peers_from_neighbors,
    private_ipv4_gateway,
};
use herald_sdk::{
    Config, Discovery, HttpClient, NodeContext, Provider, ProviderError, get_json, log,
};
use serde::Deserialize;

/// Config key: URL of the metadata document.
pub const METADATA_URL_KEY: &str = "metadata-url";
pub const DEFAULT_METADATA_URL: &str = "https://metadata.platformequinix.com/metadata";
/// How often the host should ask again: peers change rarely, and the document is cheap.
pub const REFRESH_AFTER_SECONDS: u32 = 300;

const KNOWN_KEYS: &[&str] = &[METADATA_URL_KEY, MULTIHOP_TTL_KEY];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquinixMetadata {
    metadata_url: String,
    multihop_ttl: u8,
}

impl Default for EquinixMetadata {
    fn default() -> Self {
        Self {
            metadata_url: DEFAULT_METADATA_URL.to_owned(),
            multihop_ttl: equinix_common::DEFAULT_MULTIHOP_TTL,
        }
    }
}

/// The parts of the metadata document this provider reads; all optional, nulls tolerated.
#[derive(Deserialize)]
struct MetadataDocument {
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    network: Option<Network>,
    #[serde(default)]
    bgp_neighbors: Option<Vec<BgpNeighbor>>,
}

#[derive(Deserialize)]
struct Network {
    #[serde(default)]
    addresses: Option<Vec<IpAddressInfo>>,
}

impl Provider for EquinixMetadata {
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        config.reject_unknown(KNOWN_KEYS)?;
        let url = config.get_or(METADATA_URL_KEY, DEFAULT_METADATA_URL);
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ProviderError::InvalidInput(format!(
                "config key `{METADATA_URL_KEY}` must be an http(s) URL"
            )));
        }
        url.clone_into(&mut self.metadata_url);
        self.multihop_ttl = multihop_ttl(config)?;
        Ok(())
    }

    fn discover(
        &self,
        node: &NodeContext,
        http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError> {
        let document: MetadataDocument =
            get_json(http, &self.metadata_url, &[("Accept", "application/json")])?;
        if let Some(hostname) = document
            .hostname
            .as_deref()
            .filter(|h| *h != node.node_name)
        {
            log::debug(&format!(
                "metadata hostname {hostname:?} differs from node name {:?}",
                node.node_name
            ));
        }
        let neighbors = document.bgp_neighbors.unwrap_or_default();
        let addresses = document
            .network
            .and_then(|n| n.addresses)
            .unwrap_or_default();
        let options = PeerOptions {
            multihop_ttl: self.multihop_ttl,
            private_gateway: private_ipv4_gateway(&addresses),
        };
        let peers = peers_from_neighbors(&neighbors, "bgp_neighbors", options)
            .map_err(|e| e.context(format!("metadata from {}", self.metadata_url)))?;
        if peers.is_empty() {
            return Err(ProviderError::NotReady(format!(
                "metadata from {} lists no BGP neighbours yet (BGP must be enabled on the project and a session \
                 created for this server)",
                self.metadata_url
            )));
        }
        Ok(Discovery {
            peers,
            refresh_after_seconds: Some(REFRESH_AFTER_SECONDS),
        })
    }
}

herald_sdk::export_provider!(EquinixMetadata);

herald_sdk::provider_metadata! {
    name: "equinix-metadata",
    description: "Equinix Metal BGP peers (IPv4 and IPv6) from the server's metadata service document.",
    hosts: [from_config("metadata-url")],
    config: [
        { key: "metadata-url", description: "URL of the metadata document.",
          default: "https://metadata.platformequinix.com/metadata" },
        { key: "multihop-ttl", description: "eBGP multihop TTL for multihop peers.", default: "2" },
    ],
}
