//! Herald provider `equinix-api`: Equinix Metal BGP peers from the Metal API.
//!
//! 1. Find the device: config `device-id`, else the node's providerID (`equinixmetal://<uuid>`,
//!    `packet://<uuid>` or a bare UUID) via `GET /devices/{id}`, else the device whose hostname
//!    equals the node name over all pages of `GET /projects/{id}/devices`.
//! 2. `GET /devices/{id}/bgp/neighbors`: one peer per neighbour entry and peer IP, IPv4 and IPv6.
//! 3. IPv4 multihop peers get a route via the device's private IPv4 gateway (`ip_addresses`).
//!
//! Credentials: `api-token` and `project-id`, or a CCM `cloud-sa.json` in `cloud-sa-json`.
//! See `docs/providers.md`.

mod api;
mod credentials;
mod device;

use equinix_common::{
    BgpNeighbor, MULTIHOP_TTL_KEY, PeerOptions, multihop_ttl, peers_from_neighbors,
    private_ipv4_gateway,
};
use herald_sdk::{Config, Discovery, HttpClient, NodeContext, Provider, ProviderError, log};
use serde::Deserialize;

pub use api::MetalApi;
pub use credentials::{API_TOKEN_KEY, CLOUD_SA_JSON_KEY, Credentials, PROJECT_ID_KEY};
pub use device::{MAX_PAGES, PER_PAGE, device_id_from_provider_id, is_uuid};

/// Config key: base URL of the Metal API.
pub const API_URL_KEY: &str = "api-url";
pub const DEFAULT_API_URL: &str = "https://api.equinix.com/metal/v1";
/// Config key: the device id, when neither providerID nor the hostname finds it.
pub const DEVICE_ID_KEY: &str = "device-id";
/// How often the host should ask again: the API is rate limited and neighbours change rarely.
pub const REFRESH_AFTER_SECONDS: u32 = 600;

const KNOWN_KEYS: &[&str] = &[
    API_URL_KEY,
    API_TOKEN_KEY,
    PROJECT_ID_KEY,
    CLOUD_SA_JSON_KEY,
    DEVICE_ID_KEY,
    MULTIHOP_TTL_KEY,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquinixApi {
    api_url: String,
    credentials: Option<Credentials>,
    device_id: Option<String>,
    multihop_ttl: u8,
}

impl Default for EquinixApi {
    fn default() -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_owned(),
            credentials: None,
            device_id: None,
            multihop_ttl: equinix_common::DEFAULT_MULTIHOP_TTL,
        }
    }
}

#[derive(Deserialize)]
struct NeighborList {
    #[serde(default)]
    bgp_neighbors: Option<Vec<BgpNeighbor>>,
}

impl Provider for EquinixApi {
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        config.reject_unknown(KNOWN_KEYS)?;
        let api_url = config
            .get_or(API_URL_KEY, DEFAULT_API_URL)
            .trim_end_matches('/');
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(ProviderError::InvalidInput(format!(
                "config key `{API_URL_KEY}` must be an http(s) URL"
            )));
        }
        api_url.clone_into(&mut self.api_url);
        self.credentials = Some(Credentials::from_config(config)?);
        self.device_id = match config.get(DEVICE_ID_KEY) {
            Some(id) if is_uuid(id) => Some(id.to_ascii_lowercase()),
            Some(_) => {
                return Err(ProviderError::InvalidInput(format!(
                    "config key `{DEVICE_ID_KEY}` must be a UUID"
                )));
            }
            None => None,
        };
        self.multihop_ttl = multihop_ttl(config)?;
        Ok(())
    }

    fn discover(
        &self,
        node: &NodeContext,
        http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError> {
        let credentials = self.credentials.as_ref().ok_or_else(|| {
            ProviderError::InvalidInput(format!(
                "no API token: set `{API_TOKEN_KEY}` or `{CLOUD_SA_JSON_KEY}`"
            ))
        })?;
        let api = MetalApi {
            base_url: &self.api_url,
            token: &credentials.token,
            http,
        };
        let device = self.find_device(&api, credentials, node)?;
        let device_id = device.id.clone().filter(|id| is_uuid(id)).ok_or_else(|| {
            ProviderError::InvalidInput(format!(
                "device of node {} has no valid id in the API response",
                node.node_name
            ))
        })?;

        let neighbors: NeighborList = api
            .get(&format!("/devices/{device_id}/bgp/neighbors"))
            .map_err(|e| e.context(format!("reading BGP neighbours of device {device_id}")))?;
        let addresses = device.ip_addresses.unwrap_or_default();
        let options = PeerOptions {
            multihop_ttl: self.multihop_ttl,
            private_gateway: private_ipv4_gateway(&addresses),
        };
        let peers = peers_from_neighbors(
            &neighbors.bgp_neighbors.unwrap_or_default(),
            "bgp_neighbors",
            options,
        )
        .map_err(|e| e.context(format!("BGP neighbours of device {device_id}")))?;
        if peers.is_empty() {
            return Err(ProviderError::NotReady(format!(
                "device {device_id} has no BGP neighbours yet (enable BGP on the project and create a session for the device)"
            )));
        }
        Ok(Discovery {
            peers,
            refresh_after_seconds: Some(REFRESH_AFTER_SECONDS),
        })
    }
}

impl EquinixApi {
    fn find_device(
        &self,
        api: &MetalApi<'_>,
        credentials: &Credentials,
        node: &NodeContext,
    ) -> Result<device::Device, ProviderError> {
        if let Some(id) = &self.device_id {
            return device::device_by_id(api, id);
        }
        if let Some(provider_id) = node.provider_id.as_deref().filter(|p| !p.trim().is_empty()) {
            match device_id_from_provider_id(provider_id)? {
                Some(id) => {
                    return device::device_by_id(api, &id)
                        .map_err(|e| e.context(format!("providerID {provider_id}")));
                }
                None => log::warn(&format!(
                    "node {}: providerID {provider_id:?} is not an Equinix Metal id; looking the device up by hostname",
                    node.node_name
                )),
            }
        }
        let project_id = credentials.project_id.as_deref().ok_or_else(|| {
            ProviderError::InvalidInput(format!(
                "node {} has no Equinix providerID and no project id is configured (`{PROJECT_ID_KEY}` or \
                 `{CLOUD_SA_JSON_KEY}` projectID) to look it up by hostname",
                node.node_name
            ))
        })?;
        device::device_by_hostname(api, project_id, &node.node_name)
    }
}

herald_sdk::export_provider!(EquinixApi);

herald_sdk::provider_metadata! {
    name: "equinix-api",
    description: "Equinix Metal BGP peers (IPv4 and IPv6) from the Metal API: the node's device by providerID \
                  or hostname, then its BGP neighbours.",
    hosts: [from_config("api-url")],
    config: [
        { key: "api-url", description: "Base URL of the Metal API.", default: "https://api.equinix.com/metal/v1" },
        { key: "api-token", description: "Metal API token (X-Auth-Token); or apiKey in cloud-sa-json.", secret: true },
        { key: "project-id", description: "Project UUID, for the hostname lookup; or projectID in cloud-sa-json." },
        { key: "cloud-sa-json", description: "Contents of the CCM cloud-sa.json (apiKey, projectID; keys matched \
                                              case-insensitively). Explicit keys win.", secret: true },
        { key: "device-id", description: "Device UUID, overriding the providerID / hostname lookup." },
        { key: "multihop-ttl", description: "eBGP multihop TTL for multihop peers.", default: "2" },
    ],
}
