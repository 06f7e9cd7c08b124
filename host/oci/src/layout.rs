//! The Wasm OCI artifact layout (CNCF TAG Runtime "Wasm OCI Artifact layout"), as
//! bytecodealliance/rust-oci-wasm writes it and `wkg oci push|pull` uses it:
//!
//! - manifest `application/vnd.oci.image.manifest.v1+json`, no `artifactType` (the spec's
//!   fallback for registries without OCI 1.1 artifact support: the config media type names the
//!   artifact, and oci-wasm does not set `artifactType` either);
//! - config `application/vnd.wasm.config.v0+json`: `{"created","author","architecture":"wasm",
//!   "os":"wasip2","layerDigests":[…],"component":{"exports","imports","target"}}` in oci-wasm's
//!   field order (`src/config.rs` and `src/component.rs` there);
//! - exactly one layer `application/wasm`, the component itself, annotated with
//!   `org.opencontainers.image.title` as `wkg oci push` does so that tools can name the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::component::ComponentInfo;
use crate::digest::Digest;
use crate::error::{Error, Result};

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";

/// `created` is fixed, as `ko` and `rules_oci` do for images: the same component then always
/// yields the same manifest digest, so re-pushing or mirroring a provider keeps every pinned
/// `@sha256:` valid, and a digest in the push reference can be checked before uploading.
pub const CREATED: &str = "1970-01-01T00:00:00Z";

/// Upper bound for a layer we download: componentize-py providers are about 18 MB, and a
/// registry (or someone in front of it) must not be able to fill the node's disk.
pub const MAX_LAYER_SIZE: u64 = 256 * 1024 * 1024;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig<'a> {
    created: &'a str,
    author: Option<&'a str>,
    architecture: &'a str,
    os: &'a str,
    layer_digests: Vec<String>,
    component: WasmComponent<'a>,
}

#[derive(Serialize)]
struct WasmComponent<'a> {
    exports: &'a [String],
    imports: &'a [String],
    target: Option<&'a str>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    fn of(media_type: &str, bytes: &[u8], annotations: Option<BTreeMap<String, String>>) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest: Digest::of(bytes).to_string(),
            // A Vec's length always fits i64 on the 64-bit targets Herald runs on.
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            annotations,
        }
    }
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    // Optional here so that an image index (no config) is reported as an index, not as bad JSON.
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// What push uploads: the config blob, the layer descriptor and the manifest bytes.
pub struct Artifact {
    pub config: Vec<u8>,
    pub config_descriptor: Descriptor,
    pub layer_descriptor: Descriptor,
    pub manifest: Vec<u8>,
}

/// Builds the artifact for `component` (already checked), titled `title`.
pub fn build(component: &[u8], info: &ComponentInfo, title: &str) -> Result<Artifact> {
    let layer_descriptor = Descriptor::of(
        LAYER_MEDIA_TYPE,
        component,
        Some(BTreeMap::from([(
            TITLE_ANNOTATION.to_owned(),
            title.to_owned(),
        )])),
    );
    let config = serde_json::to_vec(&WasmConfig {
        created: CREATED,
        author: None,
        architecture: "wasm",
        os: "wasip2",
        layer_digests: vec![layer_descriptor.digest.clone()],
        component: WasmComponent {
            exports: &info.exports,
            imports: &info.imports,
            target: None,
        },
    })
    .map_err(encode_error)?;
    let config_descriptor = Descriptor::of(CONFIG_MEDIA_TYPE, &config, None);
    let manifest = serde_json::to_vec(&Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
        artifact_type: None,
        config: Some(config_descriptor.clone()),
        layers: vec![layer_descriptor.clone()],
    })
    .map_err(encode_error)?;
    Ok(Artifact {
        config,
        config_descriptor,
        layer_descriptor,
        manifest,
    })
}

fn encode_error(err: serde_json::Error) -> Error {
    // Serialising these plain structs cannot fail; keep a real error rather than a panic anyway.
    Error::Client {
        source: Box::new(err),
    }
}

/// The one `application/wasm` layer of a verified manifest.
#[derive(Debug, Clone)]
pub struct WasmLayer {
    pub digest: Digest,
    pub size: u64,
    pub descriptor: Descriptor,
}

/// Checks that `manifest` (bytes already matched to the pinned digest) is a Wasm component
/// artifact and returns its layer; anything else is `NotAWasmArtifact` naming what was found.
pub fn check_manifest(manifest: &[u8], reference: &str) -> Result<WasmLayer> {
    let not_wasm = |found: String| Error::NotAWasmArtifact {
        reference: reference.to_owned(),
        found,
    };
    let manifest: Manifest = serde_json::from_slice(manifest)
        .map_err(|err| not_wasm(format!("not a JSON image manifest ({err})")))?;
    if manifest.schema_version != 2 {
        return Err(not_wasm(format!(
            "manifest schemaVersion {}",
            manifest.schema_version
        )));
    }
    if let Some(media_type) = &manifest.media_type
        && media_type != MANIFEST_MEDIA_TYPE
    {
        return Err(not_wasm(format!("manifest media type {media_type}")));
    }
    let Some(config) = &manifest.config else {
        return Err(not_wasm("a manifest without config".to_owned()));
    };
    if config.media_type != CONFIG_MEDIA_TYPE {
        return Err(not_wasm(format!("config media type {}", config.media_type)));
    }
    if let Some(artifact_type) = &manifest.artifact_type
        && artifact_type != CONFIG_MEDIA_TYPE
    {
        return Err(not_wasm(format!("artifact type {artifact_type}")));
    }
    let layer = match manifest.layers.as_slice() {
        [layer] => layer,
        layers => {
            let types: Vec<&str> = layers.iter().map(|l| l.media_type.as_str()).collect();
            return Err(not_wasm(format!(
                "{} layers [{}], expected exactly one",
                layers.len(),
                types.join(", ")
            )));
        }
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(not_wasm(format!("layer media type {}", layer.media_type)));
    }
    let digest = Digest::parse(&layer.digest)
        .map_err(|reason| not_wasm(format!("layer digest: {reason}")))?;
    let size =
        u64::try_from(layer.size).map_err(|_| not_wasm(format!("layer size {}", layer.size)))?;
    if size > MAX_LAYER_SIZE {
        return Err(Error::TooLarge {
            reference: reference.to_owned(),
            what: "the component layer",
            size,
            limit: MAX_LAYER_SIZE,
        });
    }
    Ok(WasmLayer {
        digest,
        size,
        descriptor: layer.clone(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn info() -> ComponentInfo {
        ComponentInfo {
            imports: vec!["wasi:http/outgoing-handler@0.2.12".to_owned()],
            exports: vec!["herald:provider/discover@0.1.0".to_owned()],
        }
    }

    #[test]
    fn config_has_oci_wasm_shape_and_field_order() {
        let artifact = build(COMPONENT, &info(), "p.wasm").unwrap();
        let layer = Digest::of(COMPONENT).to_string();
        let expected = format!(
            r#"{{"created":"1970-01-01T00:00:00Z","author":null,"architecture":"wasm","os":"wasip2","layerDigests":["{layer}"],"component":{{"exports":["herald:provider/discover@0.1.0"],"imports":["wasi:http/outgoing-handler@0.2.12"],"target":null}}}}"#
        );
        assert_eq!(String::from_utf8(artifact.config).unwrap(), expected);
    }

    #[test]
    fn built_manifest_passes_the_pull_check_and_is_deterministic() {
        let first = build(COMPONENT, &info(), "p.wasm").unwrap();
        let second = build(COMPONENT, &info(), "p.wasm").unwrap();
        assert_eq!(first.manifest, second.manifest);
        let layer = check_manifest(&first.manifest, "r").unwrap();
        assert_eq!(layer.digest, Digest::of(COMPONENT));
        assert_eq!(layer.size, 8);
        let json: serde_json::Value = serde_json::from_slice(&first.manifest).unwrap();
        assert_eq!(json["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(json["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(json["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
        assert_eq!(json["layers"][0]["annotations"][TITLE_ANNOTATION], "p.wasm");
    }

    fn found(manifest: serde_json::Value) -> String {
        match check_manifest(manifest.to_string().as_bytes(), "r") {
            Err(Error::NotAWasmArtifact { found, .. }) => found,
            other => panic!("expected NotAWasmArtifact, got {other:?}"),
        }
    }

    fn descriptor(media_type: &str) -> serde_json::Value {
        serde_json::json!({"mediaType": media_type, "digest": Digest::of(b"").to_string(), "size": 0})
    }

    #[test]
    fn other_artifacts_are_named() {
        let image_config = "application/vnd.oci.image.config.v1+json";
        let tar = "application/vnd.oci.image.layer.v1.tar+gzip";
        let found_config = found(serde_json::json!({
            "schemaVersion": 2, "config": descriptor(image_config), "layers": [descriptor(tar)]
        }));
        assert!(found_config.contains(image_config), "{found_config}");
        let found_layer = found(serde_json::json!({
            "schemaVersion": 2, "config": descriptor(CONFIG_MEDIA_TYPE), "layers": [descriptor(tar)]
        }));
        assert!(found_layer.contains(tar), "{found_layer}");
        let two = found(serde_json::json!({
            "schemaVersion": 2, "config": descriptor(CONFIG_MEDIA_TYPE),
            "layers": [descriptor(LAYER_MEDIA_TYPE), descriptor(LAYER_MEDIA_TYPE)]
        }));
        assert!(two.contains("2 layers"), "{two}");
        let index = found(serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": []
        }));
        assert!(index.contains("image.index"), "{index}");
        assert!(found(serde_json::json!({"hello": 1})).contains("not a JSON image manifest"));
    }

    #[test]
    fn oversized_layer_is_refused_before_download() {
        let manifest = serde_json::json!({
            "schemaVersion": 2, "config": descriptor(CONFIG_MEDIA_TYPE),
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": Digest::of(b"").to_string(),
                        "size": MAX_LAYER_SIZE + 1}]
        });
        assert!(matches!(
            check_manifest(manifest.to_string().as_bytes(), "r"),
            Err(Error::TooLarge { .. })
        ));
    }
}
