//! Authenticated GETs against the Metal API.

use herald_sdk::{HttpClient, ProviderError, get_json};
use serde::de::DeserializeOwned;

const USER_AGENT: &str = concat!("herald-equinix-api/", env!("CARGO_PKG_VERSION"));

/// The API base URL (e.g. `https://api.equinix.com/metal/v1`), token and HTTP client of one call.
pub struct MetalApi<'a> {
    pub base_url: &'a str,
    pub token: &'a str,
    pub http: &'a dyn HttpClient,
}

impl MetalApi<'_> {
    /// GETs `base_url + path` with `X-Auth-Token`; 401/403 become `unauthorized` with a hint,
    /// other statuses and bodies as [`get_json`] maps them.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ProviderError> {
        let url = format!("{}{path}", self.base_url);
        let headers = [
            ("X-Auth-Token", self.token),
            ("Accept", "application/json"),
            ("User-Agent", USER_AGENT),
        ];
        get_json(self.http, &url, &headers).map_err(|error| match error {
            ProviderError::Unauthorized(message) if !message.contains("denied by host") => {
                ProviderError::Unauthorized(format!(
                    "{message} (check the API token and that it may read this project/device)"
                ))
            }
            other => other,
        })
    }
}
