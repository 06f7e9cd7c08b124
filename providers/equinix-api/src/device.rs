//! Finding this node's device: by id (config `device-id` or the node's providerID), else by
//! exact hostname over every page of the project's device list.

use equinix_common::IpAddressInfo;
use herald_sdk::{ProviderError, log};
use serde::Deserialize;

use crate::api::MetalApi;

/// Devices per list page (the API allows up to 1000; 100 keeps bodies moderate).
pub const PER_PAGE: u32 = 100;
/// At most this many list pages are read (100 × 100 devices), so a misbehaving server that
/// never says "last page" cannot keep the provider looping.
pub const MAX_PAGES: u32 = 100;

/// A device as the API returns it; only what the provider uses, nulls tolerated.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Device {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub ip_addresses: Option<Vec<IpAddressInfo>>,
}

#[derive(Deserialize)]
struct DeviceList {
    #[serde(default)]
    devices: Option<Vec<Device>>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    current_page: Option<u32>,
    #[serde(default)]
    last_page: Option<u32>,
    #[serde(default)]
    next: Option<serde_json::Value>,
}

/// Whether `text` is a UUID in the 8-4-4-4-12 hex form the API uses for ids.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The device id in a node's providerID: `equinixmetal://<uuid>`, the deprecated
/// `packet://<uuid>`, or a bare UUID (as the CCM accepts). `Ok(None)` for other providers'
/// ids; an Equinix scheme with a malformed id is `invalid-input`.
pub fn device_id_from_provider_id(provider_id: &str) -> Result<Option<String>, ProviderError> {
    let provider_id = provider_id.trim();
    let (rest, equinix_scheme) = match ["equinixmetal://", "packet://"]
        .iter()
        .find_map(|s| provider_id.strip_prefix(s))
    {
        Some(rest) => (rest, true),
        None => (provider_id, false),
    };
    match (is_uuid(rest), equinix_scheme) {
        (true, _) => Ok(Some(rest.to_ascii_lowercase())),
        (false, true) => Err(ProviderError::InvalidInput(format!(
            "providerID {provider_id:?}: the device id is not a UUID"
        ))),
        (false, false) => Ok(None),
    }
}

/// `GET /devices/{id}`.
pub fn device_by_id(api: &MetalApi<'_>, id: &str) -> Result<Device, ProviderError> {
    api.get(&format!("/devices/{id}"))
        .map_err(|e| e.context(format!("looking up device {id}")))
}

/// The one device named exactly `hostname` among all pages of `GET /projects/{id}/devices`
/// (narrowed with the API's partial `hostname` filter, then compared exactly).
pub fn device_by_hostname(
    api: &MetalApi<'_>,
    project_id: &str,
    hostname: &str,
) -> Result<Device, ProviderError> {
    let context = || format!("looking up device {hostname:?} in project {project_id}");
    let mut matches: Vec<Device> = Vec::new();
    let mut page = 1;
    loop {
        let path = format!(
            "/projects/{project_id}/devices?hostname={}&page={page}&per_page={PER_PAGE}",
            percent_encode(hostname)
        );
        let list: DeviceList = api.get(&path).map_err(|e| e.context(context()))?;
        let devices = list.devices.unwrap_or_default();
        let page_was_empty = devices.is_empty();
        matches.extend(
            devices
                .into_iter()
                .filter(|d| d.hostname.as_deref() == Some(hostname)),
        );
        if page_was_empty || !more_pages(list.meta.as_ref(), page) {
            break;
        }
        if page >= MAX_PAGES {
            return Err(ProviderError::InvalidInput(format!(
                "{}: the device list has more than {MAX_PAGES} pages of {PER_PAGE}; set the node's providerID",
                context()
            )));
        }
        page += 1;
    }
    log::debug(&format!(
        "{}: {} page(s) read, {} match(es)",
        context(),
        page,
        matches.len()
    ));
    match matches.len() {
        0 => Err(ProviderError::InvalidInput(format!(
            "{}: no device has that hostname (node names must equal device hostnames, or set providerID)",
            context()
        ))),
        1 => Ok(matches.remove(0)),
        n => Err(ProviderError::InvalidInput(format!(
            "{}: {n} devices have that hostname ({}); set the node's providerID",
            context(),
            matches
                .iter()
                .filter_map(|d| d.id.as_deref())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Paginate by page number until `current_page >= last_page`; without those, follow the
/// presence of `meta.next`; without `meta`, one page.
fn more_pages(meta: Option<&Meta>, page: u32) -> bool {
    let Some(meta) = meta else {
        return false;
    };
    match (meta.current_page.unwrap_or(page), meta.last_page) {
        (current, Some(last)) => current < last,
        (_, None) => meta.next.as_ref().is_some_and(|next| !next.is_null()),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_id_forms() {
        let id = "a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739";
        for form in [
            format!("equinixmetal://{id}"),
            format!("packet://{id}"),
            id.to_owned(),
            id.to_uppercase(),
        ] {
            assert_eq!(
                device_id_from_provider_id(&form).unwrap().as_deref(),
                Some(id),
                "{form}"
            );
        }
        assert_eq!(
            device_id_from_provider_id("aws:///us-east-1a/i-0123").unwrap(),
            None
        );
        assert_eq!(
            device_id_from_provider_id("kind://docker/kind/node").unwrap(),
            None
        );
        assert!(device_id_from_provider_id("equinixmetal://not-a-uuid").is_err());
    }

    #[test]
    fn pagination_rules() {
        let meta = |current, last, next: Option<serde_json::Value>| Meta {
            current_page: current,
            last_page: last,
            next,
        };
        assert!(more_pages(Some(&meta(Some(1), Some(2), None)), 1));
        assert!(!more_pages(Some(&meta(Some(2), Some(2), None)), 2));
        assert!(more_pages(
            Some(&meta(
                None,
                None,
                Some(serde_json::json!({"href": "/x?page=2"}))
            )),
            1
        ));
        assert!(!more_pages(
            Some(&meta(None, None, Some(serde_json::Value::Null))),
            1
        ));
        assert!(!more_pages(None, 1));
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(percent_encode("k8s-cp-1.example"), "k8s-cp-1.example");
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
    }
}
