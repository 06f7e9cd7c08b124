//! Herald provider components distributed through OCI registries, pinned by digest.
//!
//! ```text
//! herald provider push equinix.wasm oci://registry.example/herald/equinix:v1
//!   → sha256:…   (the manifest digest: what operators pin)
//! herald agent --provider oci://registry.example/herald/equinix:v1@sha256:…
//! ```
//!
//! - [`Reference::parse`] reads `[oci://]registry[:port]/repository[:tag][@sha256:<64 hex>]`
//!   (`http://` and `https://` force the transport); errors name the part that is wrong.
//! - [`push`] refuses anything but a Wasm component (a core module is refused as such), uploads
//!   it in the Wasm OCI artifact layout and returns the manifest digest. The artifact is
//!   reproducible: the same file gives the same digest on every push and every registry.
//! - [`pull`] needs a pinned digest (a tag beside it is informational, as with `docker pull`). A verified cache entry is returned without any network;
//!   otherwise the manifest is fetched by digest and checked (bytes against the pin, media
//!   types), then the layer (bytes against the manifest, component preamble), and the component
//!   is written atomically to `<cache_dir>/oci/sha256/<manifest hex>/component.wasm`.
//!   A pinned digest the registry lacks, beside a tag that points elsewhere, is a
//!   [`Error::TagMismatch`] naming both digests. [`pull_with_origin`] also says whether the
//!   component came from the cache or the registry.
//!
//! # Artifact layout
//!
//! What bytecodealliance/rust-oci-wasm writes (`src/lib.rs` constants, `src/config.rs`
//! `WasmConfig`, `src/client.rs` `WasmClient::push`) and `wkg oci push|pull` of
//! bytecodealliance/wasm-pkg-tools (`crates/wkg/src/oci.rs`) use, so those tools read what we
//! push and we read what they push:
//!
//! ```text
//! manifest  application/vnd.oci.image.manifest.v1+json (no artifactType, like oci-wasm)
//! config    application/vnd.wasm.config.v0+json
//!           {"created":"1970-01-01T00:00:00Z","author":null,"architecture":"wasm",
//!            "os":"wasip2","layerDigests":["sha256:…"],
//!            "component":{"exports":[…],"imports":[…],"target":null}}
//! layer     application/wasm, the component; annotation org.opencontainers.image.title
//! ```
//!
//! Checked both ways against `wkg` 0.16.1 (`examples/wkg_interop.rs`, a manual check: `WKG=… cargo run -p herald-oci --example wkg_interop`):
//! `wkg oci pull` reads what [`push`] writes, [`pull`] reads what `wkg oci push` writes, and
//! the config's `component` lists match wkg's exactly; only `created` differs.
//!
//! `created` is the Unix epoch (as `ko` does for images) for reproducibility; `exports` and
//! `imports` are the component's top-level extern names, which is what oci-wasm derives through
//! wit-parser. oci-client's own `WASM_*` constants are an older, different layout
//! (`application/vnd.wasm.content.layer.v1+wasm`) and are not used.
//!
//! # Transport and credentials
//!
//! HTTPS by default. Plain HTTP only for a loopback registry (127.0.0.0/8, ::1, `localhost`)
//! or one in [`Options::insecure_registries`]; an `http://` reference to any other registry is
//! refused before a connection is made. Credentials are [`Options::credentials`] or, when that
//! is `None`, the registry's inline entry in the Docker config file (see
//! [`Credentials::from_docker_config`]). They never reach a log line or an error.
//!
//! # Implementation
//!
//! The registry protocol is oci-client's (0.18, the maintained successor of
//! oci-distribution, with reqwest inside). It is built with `rustls-tls-no-provider`: its
//! default `rustls-tls` brings aws-lc-rs, while this workspace uses rustls 0.23 with `ring`,
//! which [`pull`] and [`push`] install as the process default if none is set. The layout is
//! written here rather than through the `oci-wasm` crate, which would add wit-component and
//! wit-parser and pins an older oci-client.

mod cache;
mod component;
mod credentials;
mod digest;
mod error;
mod layout;
mod pull;
mod push;
mod reference;
mod transport;

use std::path::{Path, PathBuf};

pub use component::{ComponentInfo, check_component};
pub use credentials::Credentials;
pub use digest::Digest;
pub use error::{Cause, Error, ReferencePart, Result};
pub use layout::{CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, MAX_LAYER_SIZE};
pub use reference::{Reference, Scheme};
pub use transport::is_loopback;

/// Where components are cached and how registries are reached.
#[derive(Clone, Debug)]
pub struct Options {
    /// Root of the cache; components live under `oci/sha256/<manifest hex>/` inside it.
    pub cache_dir: PathBuf,
    /// Registries reached over plain HTTP although not on loopback: `host:port` for that port,
    /// or `host` for any port (containerd's `--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// Basic-auth credentials; `None` reads the Docker config file's entry for the registry.
    pub credentials: Option<Credentials>,
}

impl Options {
    /// HTTPS only (loopback aside), credentials from the Docker config file.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            insecure_registries: Vec::new(),
            credentials: None,
        }
    }
}

/// Pushes the Wasm component at `component` to `reference` (a tag, a digest, or both: then the
/// digest must be what this file yields) and returns the manifest digest to pin.
pub async fn push(component: &Path, reference: &Reference, options: &Options) -> Result<Digest> {
    push::push(component, reference, options).await
}

/// Returns the path of the cached component for the pinned `reference`, downloading and
/// verifying it first unless a verified copy is already cached.
pub async fn pull(reference: &Reference, options: &Options) -> Result<PathBuf> {
    pull::pull(reference, options)
        .await
        .map(|pulled| pulled.path)
}

/// As [`pull`], also saying whether the component came from the cache or the registry (what a
/// caller logs).
pub async fn pull_with_origin(reference: &Reference, options: &Options) -> Result<Pulled> {
    pull::pull(reference, options).await
}

/// A pulled component: where it is on disk and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    /// `<cache_dir>/oci/sha256/<manifest hex>/component.wasm`, verified against the pin.
    pub path: PathBuf,
    pub origin: Origin,
}

/// Where [`pull_with_origin`] found the component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A verified cache entry; no connection was made.
    Cache,
    /// Downloaded and verified just now, then stored in the cache.
    Registry,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Cache => "cache",
            Origin::Registry => "registry",
        })
    }
}
