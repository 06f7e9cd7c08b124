//! Shared helpers for the registry tests.

#![allow(dead_code)]

pub mod http;
pub mod logs;

use std::path::Path;

use herald_oci::{Digest, Options, Reference};

/// The provider component the tests push and pull.
pub const COMPONENT: &str = herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT;
/// The smallest core module: preamble only.
pub const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

pub fn options(cache: &Path) -> Options {
    Options::new(cache)
}

pub fn reference(registry: &str, rest: &str) -> Reference {
    Reference::parse(&format!("oci://{registry}/{rest}")).unwrap()
}

/// A digest of the right form that no registry holds.
pub fn tampered(digest: &Digest) -> Digest {
    let mut hex = digest.hex().to_owned();
    let first = if hex.starts_with('0') { "1" } else { "0" };
    hex.replace_range(0..1, first);
    Digest::parse(&format!("sha256:{hex}")).unwrap()
}

/// Pushes an artifact by hand with oci-client, for layouts that `herald_oci::push` refuses.
pub async fn push_raw(
    registry: &str,
    repository: &str,
    config_media_type: &str,
    layer_media_type: &str,
    layer: Vec<u8>,
) -> Digest {
    use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::try_from(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    })
    .unwrap();
    let target = oci_client::Reference::with_tag(registry.into(), repository.into(), "v1".into());
    let layers = [ImageLayer::new(layer, layer_media_type.to_owned(), None)];
    let config = Config::new(
        br#"{"architecture":"wasm"}"#.to_vec(),
        config_media_type.to_owned(),
        None,
    );
    let response = client
        .push(
            &target,
            &layers,
            config,
            &oci_client::secrets::RegistryAuth::Anonymous,
            None,
        )
        .await
        .unwrap();
    let digest = response.manifest_url.rsplit('/').next().unwrap();
    Digest::parse(digest).unwrap()
}
