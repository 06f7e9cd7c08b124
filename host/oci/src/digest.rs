//! `sha256:<64 hex>` content digests: what operators pin and what every download is checked against.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A SHA-256 content digest, `sha256:<64 lowercase hex>`.
///
/// Only SHA-256 is accepted: it is what registries compute by default and what the Wasm OCI
/// tools write, and accepting fewer algorithms leaves fewer ways to pin something weaker.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    pub(crate) fn from_hasher(hasher: Sha256) -> Self {
        let hash = hasher.finalize();
        let mut hex = String::with_capacity(64);
        for byte in hash {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self { hex }
    }

    /// The 64 hex digits without the `sha256:` prefix (the cache directory's name).
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Parses `sha256:<64 hex>`; the error says what is wrong with it, without the prefix's name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err(format!(
                "`{text}` has no algorithm; expected sha256:<64 hex digits>"
            ));
        };
        if algorithm != "sha256" {
            return Err(format!(
                "algorithm `{algorithm}` is not supported; expected sha256:<64 hex digits>"
            ));
        }
        if hex.len() != 64 {
            return Err(format!(
                "sha256 needs 64 hex digits, `{hex}` has {}",
                hex.len()
            ));
        }
        if let Some(bad) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            // The OCI spec's digest grammar is lowercase only; accepting uppercase would give
            // one artifact two spellings and two cache entries.
            return Err(format!("`{bad}` is not a lowercase hex digit in `{hex}`"));
        }
        Ok(Self {
            hex: hex.to_owned(),
        })
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn digest_of_empty_input_is_the_well_known_value() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_round_trips_and_names_what_is_wrong() {
        let text = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Digest::parse(text).unwrap().to_string(), text);
        assert!(Digest::parse("sha512:00").unwrap_err().contains("sha512"));
        assert!(Digest::parse("sha256:abc").unwrap_err().contains("64 hex"));
        let upper = text.replace('e', "E");
        assert!(Digest::parse(&upper).unwrap_err().contains("lowercase"));
        assert!(Digest::parse("e3b0").unwrap_err().contains("no algorithm"));
    }
}
