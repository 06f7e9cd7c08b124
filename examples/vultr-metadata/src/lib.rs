//! Example Herald provider `vultr-metadata`: the BGP session of a Vultr instance, read from its
//! metadata service (`GET http://169.254.169.254/v1.json`, plain HTTP, no credentials).
//!
//! One peer per address family that is on in `bgp.ipv4` / `bgp.ipv6`: `peer-address`,
//! `peer-asn`, `my-asn` as local ASN and `my-address` as source. Two things are not in the
//! metadata and come from config: the MD5 password (`password`, from the instance's BGP tab in
//! the Vultr control panel) and the multihop TTL (`multihop-ttl`, 2 as in Vultr's guides).
//!
//! 169.254.169.254 is link-local: the host reaches it only when the operator grants that exact
//! address (`--allow-host 169.254.169.254`), never through a name that resolves there.
//! See README.md.

mod document;

use herald_sdk::http::{check_status, error_from_http};
use herald_sdk::{
    BgpPeer, Config, Discovery, HttpClient, NodeContext, Password, Provider, ProviderError, log,
};

pub use document::{Family, Instance, Session, read};

/// Config key: URL of the metadata document.
pub const METADATA_URL_KEY: &str = "metadata-url";
pub const DEFAULT_METADATA_URL: &str = "http://169.254.169.254/v1.json";
/// Config key (secret): the BGP MD5 password.
pub const PASSWORD_KEY: &str = "password";
/// Config key: eBGP multihop TTL for the sessions.
pub const MULTIHOP_TTL_KEY: &str = "multihop-ttl";
/// Every Vultr BGP guide configures `multihop 2` for both neighbours.
pub const DEFAULT_MULTIHOP_TTL: u8 = 2;
/// BGP is switched on by Vultr on request and rarely changes: asking every 5 minutes is plenty.
pub const REFRESH_AFTER_SECONDS: u32 = 300;
/// Node `spec.providerID` scheme of the Vultr CCM (`vultr://<instance-v2-id>`).
const PROVIDER_ID_SCHEME: &str = "vultr://";

const KNOWN_KEYS: &[&str] = &[METADATA_URL_KEY, PASSWORD_KEY, MULTIHOP_TTL_KEY];

/// No `Debug`: it holds the password.
#[derive(Clone, PartialEq, Eq)]
pub struct VultrMetadata {
    metadata_url: String,
    password: Option<Password>,
    multihop_ttl: u8,
}

impl Default for VultrMetadata {
    fn default() -> Self {
        Self {
            metadata_url: DEFAULT_METADATA_URL.to_owned(),
            password: None,
            multihop_ttl: DEFAULT_MULTIHOP_TTL,
        }
    }
}

impl Provider for VultrMetadata {
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        config.reject_unknown(KNOWN_KEYS)?;
        let url = config.get_or(METADATA_URL_KEY, DEFAULT_METADATA_URL);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ProviderError::InvalidInput(format!(
                "config key `{METADATA_URL_KEY}` must be an http(s) URL"
            )));
        }
        url.clone_into(&mut self.metadata_url);
        self.password = match config.get(PASSWORD_KEY) {
            Some(secret) => {
                herald_sdk::rules::check_md5_password(secret).map_err(|reason| {
                    ProviderError::InvalidInput(format!("config key `{PASSWORD_KEY}`: {reason}"))
                })?;
                Some(Password::new(secret))
            }
            None => None,
        };
        self.multihop_ttl = match config.parse::<u8>(MULTIHOP_TTL_KEY)? {
            Some(0) => {
                return Err(ProviderError::InvalidInput(format!(
                    "config key `{MULTIHOP_TTL_KEY}` must be 1..=255"
                )));
            }
            Some(ttl) => ttl,
            None => DEFAULT_MULTIHOP_TTL,
        };
        Ok(())
    }

    fn discover(
        &self,
        node: &NodeContext,
        http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError> {
        let url = &self.metadata_url;
        let document = fetch(http, url)?;
        let (instance, sessions) =
            read(&document).map_err(|e| e.context(format!("metadata from {url}")))?;
        check_instance(node, &instance, url)?;
        if sessions.is_empty() {
            return Err(ProviderError::NotReady(format!(
                "metadata from {url}: BGP is not enabled for this instance (bgp.ipv4 and bgp.ipv6 are \
                 empty); Vultr enables it on request, see the BGP tab of the instance"
            )));
        }
        if self.password.is_none() {
            log::debug(&format!(
                "no `{PASSWORD_KEY}` configured: sessions without TCP MD5"
            ));
        }
        let peers = sessions
            .into_iter()
            .map(|session| BgpPeer {
                source_address: Some(session.source_address),
                password: self.password.clone(),
                multihop_ttl: Some(self.multihop_ttl),
                ..BgpPeer::new(session.peer_address, session.peer_asn, session.local_asn)
            })
            .collect();
        Ok(Discovery {
            peers,
            refresh_after_seconds: Some(REFRESH_AFTER_SECONDS),
        })
    }
}

/// `GET url` as JSON. Like `get_json`, but a 404 says what it usually means here: several clouds
/// answer on 169.254.169.254, and a 404 from another one must not pass for "BGP off".
fn fetch(http: &dyn HttpClient, url: &str) -> Result<serde_json::Value, ProviderError> {
    let response = http
        .get(url, &[("Accept", "application/json")])
        .map_err(|e| error_from_http(url, &e))?;
    if response.status == 404 {
        return Err(ProviderError::InvalidInput(format!(
            "GET {url}: HTTP 404 Not Found: not Vultr's metadata service (is this a Vultr instance, and \
             `{METADATA_URL_KEY}` Vultr's /v1.json?)"
        )));
    }
    check_status(url, &response)?;
    serde_json::from_slice(&response.body)
        .map_err(|e| ProviderError::InvalidInput(format!("GET {url}: response is not JSON: {e}")))
}

/// A `vultr://` providerID must name the instance the metadata describes: another instance's
/// metadata (a wrong `metadata-url`) would give another machine's source address.
fn check_instance(node: &NodeContext, instance: &Instance, url: &str) -> Result<(), ProviderError> {
    if let Some(hostname) = instance
        .hostname
        .as_deref()
        .filter(|h| *h != node.node_name)
    {
        // Common and harmless: node names need not be hostnames.
        log::debug(&format!(
            "metadata hostname {hostname:?} differs from node name {:?}",
            node.node_name
        ));
    }
    let from_node = node
        .provider_id
        .as_deref()
        .and_then(|id| id.strip_prefix(PROVIDER_ID_SCHEME));
    match (from_node, instance.v2_id.as_deref()) {
        (Some(expected), Some(found)) if !expected.eq_ignore_ascii_case(found) => {
            Err(ProviderError::InvalidInput(format!(
                "metadata from {url}: instance-v2-id {found} is not this node's instance (providerID \
                 {PROVIDER_ID_SCHEME}{expected})"
            )))
        }
        _ => Ok(()),
    }
}

herald_sdk::export_provider!(VultrMetadata);

herald_sdk::provider_metadata! {
    name: "vultr-metadata",
    description: "Vultr BGP peers (IPv4 and IPv6) from the instance metadata service. \
                  Example provider.",
    hosts: [from_config("metadata-url")],
    config: [
        { key: "metadata-url", description: "URL of the metadata document (169.254.169.254 is link-local: \
                                              grant that exact address).",
          default: "http://169.254.169.254/v1.json" },
        { key: "password", description: "BGP MD5 password from the instance's BGP tab in the Vultr \
                                          control panel (not in the metadata); unset = no password.",
          secret: true },
        { key: "multihop-ttl", description: "eBGP multihop TTL of the sessions (Vultr's guides use 2).",
          default: "2" },
    ],
}
