//! Host settings (`RuntimeConfig`) and the operator's per-provider configuration (`ProviderConfig`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::metadata::ProviderMetadata;

/// Limits and caching for every provider this runtime loads.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Wall-clock budget of one `configure`/`discover` call (guest code and host I/O together).
    pub call_deadline: Duration,
    /// Cap on a call's linear memory, all instances of the component together.
    pub memory_limit_bytes: usize,
    /// Where compiled components are kept between runs; `None` = compile in memory every time.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            call_deadline: Duration::from_secs(2),
            memory_limit_bytes: 64 * 1024 * 1024,
            cache_dir: None,
        }
    }
}

/// Operator configuration for one provider, as key/value pairs in order.
/// `Debug` hides every value; use [`ProviderConfig::redacted`] to show the non-secret ones.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    entries: Vec<(String, String)>,
}

impl ProviderConfig {
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A view whose `Debug` shows values of keys the metadata does not mark secret.
    pub fn redacted<'a>(&'a self, metadata: &'a ProviderMetadata) -> RedactedConfig<'a> {
        RedactedConfig {
            config: self,
            metadata,
        }
    }

    /// Hides this config's secret values (keys the metadata marks secret, or does not know) in
    /// recorded requests.
    pub(crate) fn secret_redactor(
        &self,
        metadata: &ProviderMetadata,
    ) -> herald_recording::Redactor {
        herald_recording::Redactor::new(
            self.entries
                .iter()
                .filter(|(key, _)| metadata.is_secret(key))
                .map(|(_, value)| value.clone()),
        )
    }

    /// Check the keys against the metadata and add defaults for unset keys: what the guest receives.
    pub(crate) fn effective(
        &self,
        metadata: &ProviderMetadata,
    ) -> Result<Vec<(String, String)>, String> {
        if let Some((unknown, _)) = self
            .entries
            .iter()
            .find(|(k, _)| metadata.config_key(k).is_none())
        {
            let known: Vec<&str> = metadata.config.iter().map(|key| key.key.as_str()).collect();
            return Err(format!(
                "unknown config key {unknown:?} (known keys: {})",
                known.join(", ")
            ));
        }
        let mut effective = self.entries.clone();
        for key in &metadata.config {
            if self.get(&key.key).is_some() {
                continue;
            }
            match (&key.default, key.required) {
                (Some(default), _) => effective.push((key.key.clone(), default.clone())),
                (None, true) => {
                    return Err(format!("required config key {:?} is not set", key.key));
                }
                (None, false) => {}
            }
        }
        Ok(effective)
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, _)| (k, "<redacted>")))
            .finish()
    }
}

/// See [`ProviderConfig::redacted`].
pub struct RedactedConfig<'a> {
    config: &'a ProviderConfig,
    metadata: &'a ProviderMetadata,
}

impl fmt::Debug for RedactedConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.config.entries.iter().map(|(k, v)| {
            let value = if self.metadata.is_secret(k) {
                "<redacted>"
            } else {
                v.as_str()
            };
            (k, value)
        });
        f.debug_map().entries(shown).finish()
    }
}
