//! The operator's provider configuration (`configure(list<tuple<string, string>>)`).

use std::fmt;
use std::str::FromStr;

use crate::ProviderError;

/// Key/value configuration. Values are trimmed and an empty value counts as unset.
/// `Debug` lists keys only: values may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value for `key`, trimmed; `None` when absent or empty. The last occurrence wins.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value for `key`, or `default` when unset.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// Parses the value for `key`; a value that does not parse is `invalid-input` naming the key
    /// (never the value, which may be secret).
    pub fn parse<T: FromStr>(&self, key: &str) -> Result<Option<T>, ProviderError>
    where
        T::Err: fmt::Display,
    {
        self.get(key)
            .map(|raw| {
                raw.parse::<T>()
                    .map_err(|e| ProviderError::InvalidInput(format!("config key `{key}`: {e}")))
            })
            .transpose()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Rejects keys the provider does not know, so a typo is an error rather than a silent default.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), ProviderError> {
        match self.keys().find(|k| !known.contains(k)) {
            Some(unknown) => Err(ProviderError::InvalidInput(format!(
                "unknown config key `{unknown}` (known keys: {})",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("keys", &self.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_trims_and_treats_empty_as_unset() {
        let config = Config::from_pairs([("a", " x "), ("b", "  "), ("a", "y")]);
        assert_eq!(config.get("a"), Some("y"));
        assert_eq!(config.get("b"), None);
        assert_eq!(config.get_or("b", "dflt"), "dflt");
    }

    #[test]
    fn parse_errors_name_the_key_not_the_value() {
        let config = Config::from_pairs([("ttl", "lots")]);
        let err = config.parse::<u8>("ttl").unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains("`ttl`") && !m.contains("lots")),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_values() {
        let config = Config::from_pairs([("api-token", "FakeMetalApiTokenDoNotUse0000000")]);
        let shown = format!("{config:?}");
        assert!(
            shown.contains("api-token") && !shown.contains("FakeMetal"),
            "{shown}"
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let config = Config::from_pairs([("prefx", "x")]);
        let err = config.reject_unknown(&["prefix"]).unwrap_err();
        assert!(err.message().contains("`prefx`"), "{err}");
        assert!(
            Config::from_pairs([("prefix", "x")])
                .reject_unknown(&["prefix"])
                .is_ok()
        );
    }
}
