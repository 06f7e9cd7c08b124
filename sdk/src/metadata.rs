//! Provider metadata: a JSON document in the core module's custom section
//! `herald:provider-metadata`, written at compile time by [`provider_metadata!`] and read by
//! the host (`herald provider inspect`, grants). Schema 1:
//!
//! ```json
//! {"schema":1,"name":"equinix-metadata","version":"0.1.0","wit_version":"0.2.0","description":"…",
//!  "hosts":[{"url":"https://api.equinix.com"},{"from_config":"metadata-url"}],
//!  "config":[{"key":"metadata-url","description":"…","secret":false,"required":false,
//!             "default":"https://metadata.platformequinix.com/metadata"}]}
//! ```
//!
//! `hosts[].url` is a fixed origin; `hosts[].from_config` names a config key holding a URL whose
//! `host:port` (or that of the key's default) the provider wants to reach. `default` is omitted
//! for keys without one. The JSON is built by `const fn`s, so strings are escaped properly and
//! nothing runs at start-up.

use serde::Deserialize;

/// Name of the custom section holding the metadata JSON.
pub const SECTION_NAME: &str = "herald:provider-metadata";

/// Current metadata schema number.
pub const SCHEMA: u32 = 1;

/// The metadata document, for readers (tests, tools).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    pub schema: u32,
    pub name: String,
    pub version: String,
    pub wit_version: String,
    pub description: String,
    pub hosts: Vec<HostDeclaration>,
    pub config: Vec<ConfigKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostDeclaration {
    /// A fixed origin such as `https://api.equinix.com`.
    Url(String),
    /// The host:port of the URL in this config key (or in its default).
    FromConfig(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConfigKey {
    pub key: String,
    pub description: String,
    pub secret: bool,
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
}

impl ProviderMetadata {
    pub fn parse(json: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }
}

/// One step of the compile-time JSON writer used by [`provider_metadata!`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Piece {
    /// Written as is.
    Raw(&'static str),
    /// Written as a JSON string (quoted, escaped).
    Str(&'static str),
    Bool(bool),
    /// `,"default":"…"` when present, nothing otherwise.
    Default(Option<&'static str>),
    /// Opens a JSON array whose items are separated by [`Piece::Item`].
    ListStart,
    /// Marks the start of an array item (writes the separating comma when needed).
    Item,
    ListEnd,
}

/// Length of the JSON the pieces encode to.
#[doc(hidden)]
pub const fn encoded_len(pieces: &[Piece]) -> usize {
    let mut writer = Writer {
        out: [0u8; 0],
        len: 0,
        measure_only: true,
    };
    writer.write_pieces(pieces);
    writer.len
}

/// The JSON the pieces encode to; `N` must be [`encoded_len`].
#[doc(hidden)]
pub const fn encode<const N: usize>(pieces: &[Piece]) -> [u8; N] {
    let mut writer = Writer {
        out: [0u8; N],
        len: 0,
        measure_only: false,
    };
    writer.write_pieces(pieces);
    assert!(writer.len == N, "metadata length mismatch");
    writer.out
}

/// Whether every `from_config` host names a declared config key.
#[doc(hidden)]
pub const fn hosts_reference_declared_keys(hosts: &[Option<&str>], keys: &[&str]) -> bool {
    let mut h = 0;
    while h < hosts.len() {
        let Some(host_key) = hosts[h] else {
            h += 1;
            continue;
        };
        let mut found = false;
        let mut k = 0;
        while k < keys.len() {
            if str_eq(host_key, keys[k]) {
                found = true;
            }
            k += 1;
        }
        if !found {
            return false;
        }
        h += 1;
    }
    true
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

struct Writer<const N: usize> {
    out: [u8; N],
    len: usize,
    measure_only: bool,
}

impl<const N: usize> Writer<N> {
    const fn write_pieces(&mut self, pieces: &[Piece]) {
        // One "first item" flag per nesting level; metadata nests lists at most once.
        let mut first_item = [true; 4];
        let mut depth = 0;
        let mut i = 0;
        while i < pieces.len() {
            match pieces[i] {
                Piece::Raw(text) => self.raw(text),
                Piece::Str(text) => self.string(text),
                Piece::Bool(value) => self.raw(if value { "true" } else { "false" }),
                Piece::Default(Some(value)) => {
                    self.raw(",\"default\":");
                    self.string(value);
                }
                Piece::Default(None) => {}
                Piece::ListStart => {
                    self.raw("[");
                    depth += 1;
                    first_item[depth] = true;
                }
                Piece::Item => {
                    if !first_item[depth] {
                        self.raw(",");
                    }
                    first_item[depth] = false;
                }
                Piece::ListEnd => {
                    self.raw("]");
                    depth -= 1;
                }
            }
            i += 1;
        }
    }

    const fn byte(&mut self, b: u8) {
        if !self.measure_only {
            self.out[self.len] = b;
        }
        self.len += 1;
    }

    const fn raw(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i += 1;
        }
    }

    const fn string(&mut self, text: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = text.as_bytes();
        self.byte(b'"');
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'"' | b'\\' => {
                    self.byte(b'\\');
                    self.byte(b);
                }
                b'\n' => self.raw("\\n"),
                b'\r' => self.raw("\\r"),
                b'\t' => self.raw("\\t"),
                0..=0x1f => {
                    self.raw("\\u00");
                    self.byte(HEX[(b >> 4) as usize]);
                    self.byte(HEX[(b & 0xf) as usize]);
                }
                _ => self.byte(b),
            }
            i += 1;
        }
        self.byte(b'"');
    }
}

/// Writes the provider's metadata into the custom section `herald:provider-metadata` of the
/// core module (only in wasm builds) and defines `pub const PROVIDER_METADATA_JSON: &str` with
/// the same JSON for tests. `version` is the invoking crate's `CARGO_PKG_VERSION`.
///
/// ```
/// herald_sdk::provider_metadata! {
///     name: "equinix-metadata",
///     description: "BGP peers from the Equinix Metal metadata service.",
///     hosts: [from_config("metadata-url")],          // or url("https://api.example.com")
///     config: [
///         { key: "metadata-url", description: "Metadata document URL.",
///           default: "https://metadata.platformequinix.com/metadata" },
///         { key: "api-token", description: "API token.", secret: true, required: true },
///     ],
/// }
/// ```
/// Per config key, `secret` and `required` (default `false`) and `default` are optional and
/// come in that order. A `from_config` host must name a declared key (checked at compile time).
#[macro_export]
macro_rules! provider_metadata {
    (
        name: $name:expr,
        description: $description:expr,
        hosts: [ $( $host_kind:ident ( $host_value:expr ) ),* $(,)? ],
        config: [ $( {
            key: $key:expr,
            description: $key_description:expr
            $(, secret: $secret:expr )?
            $(, required: $required:expr )?
            $(, default: $default:expr )?
            $(,)?
        } ),* $(,)? ] $(,)?
    ) => {
        const __HERALD_METADATA_PIECES: &[$crate::metadata::Piece] = &[
            $crate::metadata::Piece::Raw("{\"schema\":1,\"name\":"),
            $crate::metadata::Piece::Str($name),
            $crate::metadata::Piece::Raw(",\"version\":"),
            $crate::metadata::Piece::Str(env!("CARGO_PKG_VERSION")),
            $crate::metadata::Piece::Raw(",\"wit_version\":"),
            $crate::metadata::Piece::Str($crate::WIT_VERSION),
            $crate::metadata::Piece::Raw(",\"description\":"),
            $crate::metadata::Piece::Str($description),
            $crate::metadata::Piece::Raw(",\"hosts\":"),
            $crate::metadata::Piece::ListStart,
            $(
                $crate::metadata::Piece::Item,
                $crate::metadata::Piece::Raw($crate::__herald_host_key!($host_kind)),
                $crate::metadata::Piece::Str($host_value),
                $crate::metadata::Piece::Raw("}"),
            )*
            $crate::metadata::Piece::ListEnd,
            $crate::metadata::Piece::Raw(",\"config\":"),
            $crate::metadata::Piece::ListStart,
            $(
                $crate::metadata::Piece::Item,
                $crate::metadata::Piece::Raw("{\"key\":"),
                $crate::metadata::Piece::Str($key),
                $crate::metadata::Piece::Raw(",\"description\":"),
                $crate::metadata::Piece::Str($key_description),
                $crate::metadata::Piece::Raw(",\"secret\":"),
                $crate::metadata::Piece::Bool($crate::__herald_opt_bool!($($secret)?)),
                $crate::metadata::Piece::Raw(",\"required\":"),
                $crate::metadata::Piece::Bool($crate::__herald_opt_bool!($($required)?)),
                $crate::metadata::Piece::Default($crate::__herald_opt_str!($($default)?)),
                $crate::metadata::Piece::Raw("}"),
            )*
            $crate::metadata::Piece::ListEnd,
            $crate::metadata::Piece::Raw("}"),
        ];
        const __HERALD_METADATA_LEN: usize = $crate::metadata::encoded_len(__HERALD_METADATA_PIECES);
        const _: () = assert!(
            $crate::metadata::hosts_reference_declared_keys(
                &[$( $crate::__herald_from_config_key!($host_kind, $host_value) ),*],
                &[$($key),*],
            ),
            "a from_config host names a config key that is not declared"
        );

        #[doc(hidden)]
        #[cfg_attr(target_arch = "wasm32", used, unsafe(link_section = "herald:provider-metadata"))]
        pub static __HERALD_PROVIDER_METADATA: [u8; __HERALD_METADATA_LEN] =
            $crate::metadata::encode::<__HERALD_METADATA_LEN>(__HERALD_METADATA_PIECES);

        /// This provider's metadata JSON (the content of its `herald:provider-metadata` section).
        pub const PROVIDER_METADATA_JSON: &str = {
            const BYTES: [u8; __HERALD_METADATA_LEN] =
                $crate::metadata::encode::<__HERALD_METADATA_LEN>(__HERALD_METADATA_PIECES);
            match ::core::str::from_utf8(&BYTES) {
                Ok(json) => json,
                Err(_) => panic!("metadata JSON is not UTF-8"),
            }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __herald_host_key {
    (url) => {
        "{\"url\":"
    };
    (from_config) => {
        "{\"from_config\":"
    };
}

/// `Some(key)` for a `from_config` host, `None` for a fixed URL.
#[doc(hidden)]
#[macro_export]
macro_rules! __herald_from_config_key {
    (url, $value:expr) => {
        None
    };
    (from_config, $value:expr) => {
        Some($value)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __herald_opt_bool {
    () => {
        false
    };
    ($value:expr) => {
        $value
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __herald_opt_str {
    () => {
        None
    };
    ($value:expr) => {
        Some($value)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    mod example {
        crate::provider_metadata! {
            name: "equinix-metadata",
            description: "Peers from \"metadata\"\n\ttab\u{1}",
            hosts: [url("https://api.equinix.com"), from_config("metadata-url")],
            config: [
                { key: "metadata-url", description: "Where.", default: "https://metadata.platformequinix.com/metadata" },
                { key: "token", description: "Secret.", secret: true, required: true },
            ],
        }
    }

    mod empty {
        crate::provider_metadata! { name: "x", description: "", hosts: [], config: [] }
    }

    #[test]
    fn macro_writes_schema_1_json() {
        let parsed = ProviderMetadata::parse(example::PROVIDER_METADATA_JSON.as_bytes()).unwrap();
        assert_eq!(parsed.schema, SCHEMA);
        assert_eq!(parsed.name, "equinix-metadata");
        assert_eq!(parsed.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(parsed.wit_version, crate::WIT_VERSION);
        assert_eq!(parsed.description, "Peers from \"metadata\"\n\ttab\u{1}");
        assert_eq!(
            parsed.hosts,
            vec![
                HostDeclaration::Url("https://api.equinix.com".into()),
                HostDeclaration::FromConfig("metadata-url".into())
            ]
        );
        assert_eq!(
            parsed.config[0].default.as_deref(),
            Some("https://metadata.platformequinix.com/metadata")
        );
        assert!(!parsed.config[0].secret && !parsed.config[0].required);
        assert!(
            parsed.config[1].secret
                && parsed.config[1].required
                && parsed.config[1].default.is_none()
        );
        assert_eq!(
            &example::__HERALD_PROVIDER_METADATA[..],
            example::PROVIDER_METADATA_JSON.as_bytes()
        );
    }

    #[test]
    fn exact_wire_form() {
        assert_eq!(
            empty::PROVIDER_METADATA_JSON,
            format!(
                r#"{{"schema":1,"name":"x","version":"{}","wit_version":"{}","description":"","hosts":[],"config":[]}}"#,
                env!("CARGO_PKG_VERSION"),
                crate::WIT_VERSION
            )
        );
        let value: serde_json::Value =
            serde_json::from_str(example::PROVIDER_METADATA_JSON).unwrap();
        assert_eq!(
            value["config"][1].get("default"),
            None,
            "no default → key omitted"
        );
        assert_eq!(value["hosts"][1]["from_config"], "metadata-url");
    }
}
