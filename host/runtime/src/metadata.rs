//! Provider metadata: the JSON in the `herald:provider-metadata` custom section of the
//! component's core module (schema in docs/provider-metadata.md), read before instantiating.

use serde::{Deserialize, Serialize};

use crate::config::ProviderConfig;
use crate::grants::HostPort;

/// Name of the custom section holding the metadata JSON.
pub const METADATA_SECTION: &str = "herald:provider-metadata";

/// The metadata schema version this host reads.
pub const METADATA_SCHEMA: u32 = 1;

/// What a provider says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub schema: u32,
    pub name: String,
    pub version: String,
    /// The `herald:provider` WIT version the provider was built against.
    pub wit_version: String,
    #[serde(default)]
    pub description: String,
    /// Origins the provider may want to reach over HTTP (the operator must still grant them).
    #[serde(default)]
    pub hosts: Vec<DeclaredHost>,
    #[serde(default)]
    pub config: Vec<ConfigKey>,
}

/// One declared outgoing origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeclaredHost {
    /// A fixed origin such as `https://api.equinix.com`.
    Url { url: String },
    /// The origin of the URL in this config key (or of its default when unset).
    FromConfig { from_config: String },
}

/// One configuration key the provider accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKey {
    pub key: String,
    #[serde(default)]
    pub description: String,
    /// Values of secret keys are never logged or printed.
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
}

impl ProviderMetadata {
    /// Parse and check the section contents.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let metadata: Self = serde_json::from_slice(bytes).map_err(|err| err.to_string())?;
        metadata.validate()?;
        Ok(metadata)
    }

    fn validate(&self) -> Result<(), String> {
        if self.schema != METADATA_SCHEMA {
            return Err(format!(
                "schema {} is not supported (this host reads schema {METADATA_SCHEMA})",
                self.schema
            ));
        }
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(format!(
                "name {:?} must be non-empty lowercase letters, digits and '-'",
                self.name
            ));
        }
        if self.version.is_empty() || self.wit_version.is_empty() {
            return Err("version and wit_version must not be empty".into());
        }
        for (index, key) in self.config.iter().enumerate() {
            if key.key.is_empty() {
                return Err(format!("config[{index}] has an empty key"));
            }
            if self.config[..index]
                .iter()
                .any(|earlier| earlier.key == key.key)
            {
                return Err(format!("config key {:?} is listed twice", key.key));
            }
        }
        for host in &self.hosts {
            match host {
                DeclaredHost::Url { url } => {
                    HostPort::from_url(url).map_err(|err| format!("hosts: {err}"))?;
                }
                DeclaredHost::FromConfig { from_config } => {
                    let Some(key) = self.config_key(from_config) else {
                        return Err(format!(
                            "hosts: from_config {from_config:?} is not a config key"
                        ));
                    };
                    if let Some(default) = &key.default {
                        HostPort::from_url(default)
                            .map_err(|err| format!("config {from_config:?} default: {err}"))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `provider "name" version`, the prefix of every error about this provider.
    pub fn identity(&self) -> String {
        format!("provider {:?} {}", self.name, self.version)
    }

    pub fn config_key(&self, key: &str) -> Option<&ConfigKey> {
        self.config.iter().find(|candidate| candidate.key == key)
    }

    /// Whether values of `key` must be hidden. Unknown keys count as secret.
    pub fn is_secret(&self, key: &str) -> bool {
        self.config_key(key).is_none_or(|entry| entry.secret)
    }

    /// The `host:port` origins this provider may contact with this configuration.
    pub fn declared_hosts(&self, config: &ProviderConfig) -> Result<Vec<HostPort>, String> {
        let mut declared = Vec::with_capacity(self.hosts.len());
        for host in &self.hosts {
            match host {
                DeclaredHost::Url { url } => declared.push(HostPort::from_url(url)?),
                DeclaredHost::FromConfig { from_config } => {
                    let value = config.get(from_config).or_else(|| {
                        self.config_key(from_config)
                            .and_then(|key| key.default.as_deref())
                    });
                    if let Some(url) = value {
                        let origin = HostPort::from_url(url)
                            .map_err(|err| format!("config {from_config:?}: {err}"))?;
                        declared.push(origin);
                    }
                }
            }
        }
        Ok(declared)
    }
}

/// What the pre-instantiation scan found in a component binary.
#[derive(Debug, Default)]
pub struct ComponentScan {
    pub metadata_json: Option<Vec<u8>>,
    pub exports: Vec<String>,
}

/// Classifies raw bytes before they reach the compiler.
#[derive(Debug)]
pub enum ScanError {
    NotWasm,
    CoreModule,
    Malformed(String),
}

/// Walk the component (nested modules included) for the metadata section and its exports.
pub fn scan_component(bytes: &[u8]) -> Result<ComponentScan, ScanError> {
    if !bytes.starts_with(b"\0asm") {
        return Err(ScanError::NotWasm);
    }
    let mut scan = ComponentScan::default();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|err| ScanError::Malformed(err.to_string()))?;
        match payload {
            wasmparser::Payload::Version { encoding, .. } => {
                if depth == 0 && encoding == wasmparser::Encoding::Module {
                    return Err(ScanError::CoreModule);
                }
                depth += 1;
            }
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(reader)
                if reader.name() == METADATA_SECTION && scan.metadata_json.is_none() =>
            {
                scan.metadata_json = Some(reader.data().to_vec());
            }
            wasmparser::Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|err| ScanError::Malformed(err.to_string()))?;
                    scan.exports.push(export.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(scan)
}
