//! The provider's configuration: the two ASNs, the optional MD5 password and the families.

use herald_sdk::{AddressFamily, Config, Password, ProviderError, rules};

pub const PEER_ASN_KEY: &str = "peer-asn";
pub const LOCAL_ASN_KEY: &str = "local-asn";
pub const PASSWORD_KEY: &str = "password";
pub const FAMILIES_KEY: &str = "families";
pub const DEFAULT_FAMILIES: &str = "ipv4";

pub const KNOWN_KEYS: &[&str] = &[PEER_ASN_KEY, LOCAL_ASN_KEY, PASSWORD_KEY, FAMILIES_KEY];

/// What `configure` accepted. `Debug` shows the password as `<redacted>` (the SDK's secret type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub peer_asn: u32,
    pub local_asn: u32,
    pub password: Option<Password>,
    /// Distinct, in the order the operator gave them.
    pub families: Vec<AddressFamily>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Self, ProviderError> {
        config.reject_unknown(KNOWN_KEYS)?;
        let password = match config.get(PASSWORD_KEY) {
            Some(secret) => {
                // The reason names lengths only, never the value.
                rules::check_md5_password(secret).map_err(|reason| {
                    ProviderError::InvalidInput(format!("config key `{PASSWORD_KEY}`: {reason}"))
                })?;
                Some(Password::new(secret))
            }
            None => None,
        };
        Ok(Self {
            peer_asn: asn(config, PEER_ASN_KEY)?,
            local_asn: asn(config, LOCAL_ASN_KEY)?,
            password,
            families: families(config)?,
        })
    }
}

/// A required AS number. ASNs are not secret, so the error quotes the value.
fn asn(config: &Config, key: &str) -> Result<u32, ProviderError> {
    let raw = config.get(key).ok_or_else(|| {
        ProviderError::InvalidInput(format!("config key `{key}` is required (an AS number)"))
    })?;
    let asn: u32 = raw.parse().map_err(|_| {
        ProviderError::InvalidInput(format!(
            "config key `{key}`: {raw:?} is not an AS number (1 to 4294967294)"
        ))
    })?;
    rules::check_asn(asn)
        .map_err(|reason| ProviderError::InvalidInput(format!("config key `{key}`: {reason}")))?;
    Ok(asn)
}

/// `ipv4`, `ipv6` or both, comma-separated. Unset means the default; present but empty is an
/// error (the operator meant something, and no family would find no peer ever).
fn families(config: &Config) -> Result<Vec<AddressFamily>, ProviderError> {
    let raw = match config.get(FAMILIES_KEY) {
        Some(raw) => raw,
        None if config.keys().any(|k| k == FAMILIES_KEY) => {
            return Err(empty_families(""));
        }
        None => DEFAULT_FAMILIES,
    };
    let mut families = Vec::new();
    for item in raw
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let family = match item.to_ascii_lowercase().as_str() {
            "ipv4" => AddressFamily::Ipv4,
            "ipv6" => AddressFamily::Ipv6,
            _ => {
                return Err(ProviderError::InvalidInput(format!(
                    "config key `{FAMILIES_KEY}`: unknown family {item:?} in {raw:?} \
                     (use ipv4, ipv6 or ipv4,ipv6)"
                )));
            }
        };
        if !families.contains(&family) {
            families.push(family);
        }
    }
    if families.is_empty() {
        return Err(empty_families(raw));
    }
    Ok(families)
}

fn empty_families(raw: &str) -> ProviderError {
    ProviderError::InvalidInput(format!(
        "config key `{FAMILIES_KEY}`: {raw:?} names no family (use ipv4, ipv6 or ipv4,ipv6)"
    ))
}
