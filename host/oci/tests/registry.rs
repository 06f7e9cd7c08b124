//! Push and pull against a real registry (distribution 2.8, Debian's `docker-registry`) started
//! on 127.0.0.1 by each test (`herald_testbed::registry`); a lying registry stands in where a real one would never misbehave.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::error::Error as _;
use std::path::Path;

use herald_oci::{
    CONFIG_MEDIA_TYPE, Credentials, Digest, Error, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Options,
    Reference, pull, push,
};
use herald_testbed::registry::{self, Registry};
use support::http::{self, Liar};
use support::logs::Captured;
use support::{COMPONENT, CORE_MODULE, options, push_raw, reference, tampered};

macro_rules! registry_or_skip {
    ($auth:expr) => {
        match Registry::start($auth) {
            Some(registry) => registry,
            None => return,
        }
    };
}

#[tokio::test]
async fn push_then_pull_returns_the_identical_component_in_the_wasm_oci_layout() {
    let registry = registry_or_skip!(false);
    let cache = tempfile::tempdir().unwrap();
    let target = reference(
        &registry.registry(),
        "herald/providers/equinix-annotations:v1",
    );
    let digest = push(Path::new(COMPONENT), &target, &options(cache.path()))
        .await
        .unwrap();

    let pinned = target.with_digest(digest.clone());
    let path = pull(&pinned, &options(cache.path())).await.unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(COMPONENT).unwrap()
    );
    assert_eq!(
        path,
        cache
            .path()
            .join(format!("oci/sha256/{}/component.wasm", digest.hex()))
    );

    // What the registry stores, read without oci-client: the Wasm OCI layout others read.
    let repo = "/v2/herald/providers/equinix-annotations";
    let manifest = http::get(
        registry.addr(),
        &format!("{repo}/manifests/{digest}"),
        Some(MANIFEST_MEDIA_TYPE),
    )
    .await
    .unwrap();
    assert_eq!(manifest.status, 200);
    assert_eq!(manifest.header("Content-Type"), Some(MANIFEST_MEDIA_TYPE));
    assert_eq!(Digest::of(&manifest.body), digest);
    let json: serde_json::Value = serde_json::from_slice(&manifest.body).unwrap();
    assert_eq!(json["schemaVersion"], 2);
    assert_eq!(json["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(json["config"]["mediaType"], CONFIG_MEDIA_TYPE);
    assert_eq!(
        json["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    let layers = json["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], LAYER_MEDIA_TYPE);
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    let layer_digest = Digest::of(&std::fs::read(COMPONENT).unwrap()).to_string();
    assert_eq!(layers[0]["digest"], layer_digest.as_str());
    assert_eq!(
        layers[0]["annotations"]["org.opencontainers.image.title"],
        Path::new(COMPONENT).file_name().unwrap().to_str().unwrap()
    );

    let config_digest = json["config"]["digest"].as_str().unwrap();
    let config = http::get(
        registry.addr(),
        &format!("{repo}/blobs/{config_digest}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(config.status, 200);
    let config: serde_json::Value = serde_json::from_slice(&config.body).unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"], serde_json::json!([layer_digest]));
    assert!(config["created"].is_string());
    let exports = config["component"]["exports"].as_array().unwrap();
    assert!(!exports.is_empty(), "{config}");
    assert!(config["component"]["imports"].is_array());
}

#[tokio::test]
async fn push_is_reproducible_and_a_pinned_push_must_match() {
    let registry = registry_or_skip!(false);
    let cache = tempfile::tempdir().unwrap();
    let target = reference(&registry.registry(), "herald/p:v1");
    let first = push(Path::new(COMPONENT), &target, &options(cache.path()))
        .await
        .unwrap();
    let again = reference(&registry.registry(), "herald/p:v2");
    let second = push(Path::new(COMPONENT), &again, &options(cache.path()))
        .await
        .unwrap();
    assert_eq!(first, second, "same component, same digest");

    // By digest only (no tag), and a digest that is not this file's is refused.
    let by_digest = reference(&registry.registry(), &format!("herald/q@{first}"));
    assert_eq!(
        push(Path::new(COMPONENT), &by_digest, &options(cache.path()))
            .await
            .unwrap(),
        first
    );
    let wrong = target.with_digest(tampered(&first));
    match push(Path::new(COMPONENT), &wrong, &options(cache.path())).await {
        Err(Error::DigestMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, tampered(&first).to_string());
            assert_eq!(actual, first.to_string());
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn tampered_digest_is_refused_with_digest_mismatch() {
    let registry = registry_or_skip!(false);
    let cache = tempfile::tempdir().unwrap();
    let target = reference(&registry.registry(), "herald/p:v1");
    let digest = push(Path::new(COMPONENT), &target, &options(cache.path()))
        .await
        .unwrap();
    let wrong = tampered(&digest);

    // An honest registry has nothing under the wrong digest: an error, and nothing cached.
    // Without a tag, that is all it can say.
    let digest_only = reference(&registry.registry(), &format!("herald/p@{wrong}"));
    let err = pull(&digest_only, &options(cache.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&registry.registry()), "{err}");
    assert!(err.to_string().contains(&wrong.to_string()), "{err}");
    // With the tag beside it, the tag's digest names what was expected and what was found.
    let err = pull(&target.with_digest(wrong.clone()), &options(cache.path()))
        .await
        .unwrap_err();
    match &err {
        Error::TagMismatch {
            tag,
            expected,
            found,
            ..
        } => {
            assert_eq!(tag, "v1");
            assert_eq!(expected, &wrong.to_string());
            assert_eq!(found, &digest.to_string());
        }
        other => panic!("expected TagMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    assert!(
        !cache
            .path()
            .join("oci/sha256")
            .join(wrong.hex())
            .join("component.wasm")
            .exists()
    );

    // A lying one serves the real manifest under the wrong digest: refused, naming both.
    let manifest = http::get(
        registry.addr(),
        &format!("/v2/herald/p/manifests/{digest}"),
        Some(MANIFEST_MEDIA_TYPE),
    )
    .await
    .unwrap();
    let liar = Liar::start(HashMap::from([(
        format!("/v2/herald/p/manifests/{wrong}"),
        (MANIFEST_MEDIA_TYPE.to_owned(), manifest.body),
    )]))
    .await;
    let lie = reference(&liar.registry(), &format!("herald/p@{wrong}"));
    match pull(&lie, &options(cache.path())).await {
        Err(err @ Error::DigestMismatch { .. }) => {
            let message = err.to_string();
            assert!(message.contains(&wrong.to_string()), "{message}");
            assert!(message.contains(&digest.to_string()), "{message}");
            assert!(message.contains("manifest"), "{message}");
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn tampered_layer_is_refused_with_digest_mismatch() {
    let registry = registry_or_skip!(false);
    let cache = tempfile::tempdir().unwrap();
    let target = reference(&registry.registry(), "herald/p:v1");
    let digest = push(Path::new(COMPONENT), &target, &options(cache.path()))
        .await
        .unwrap();
    let manifest = http::get(
        registry.addr(),
        &format!("/v2/herald/p/manifests/{digest}"),
        Some(MANIFEST_MEDIA_TYPE),
    )
    .await
    .unwrap();
    let mut component = std::fs::read(COMPONENT).unwrap();
    let layer = Digest::of(&component);
    let last = component.len() - 1;
    component[last] ^= 0xff;
    let liar = Liar::start(HashMap::from([
        (
            format!("/v2/herald/p/manifests/{digest}"),
            (MANIFEST_MEDIA_TYPE.to_owned(), manifest.body),
        ),
        (
            format!("/v2/herald/p/blobs/{layer}"),
            ("application/octet-stream".to_owned(), component),
        ),
    ]))
    .await;
    let lie = reference(&liar.registry(), &format!("herald/p@{digest}"));
    match pull(&lie, &options(cache.path())).await {
        Err(Error::DigestMismatch { what, expected, .. }) => {
            assert_eq!(what, "component layer");
            assert_eq!(expected, layer.to_string());
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(!cache.path().join("oci/sha256").join(digest.hex()).exists());
}

#[tokio::test]
async fn stopped_registry_still_yields_the_cached_component() {
    let mut registry = registry_or_skip!(false);
    let cache = tempfile::tempdir().unwrap();
    let target = reference(&registry.registry(), "herald/p:v1");
    let digest = push(Path::new(COMPONENT), &target, &options(cache.path()))
        .await
        .unwrap();
    let pinned = target.with_digest(digest);
    let first = pull(&pinned, &options(cache.path())).await.unwrap();

    registry.stop();
    let cached = pull(&pinned, &options(cache.path())).await.unwrap();
    assert_eq!(cached, first);
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        std::fs::read(COMPONENT).unwrap()
    );

    // Not cached and unreachable: the error names the registry.
    let empty = tempfile::tempdir().unwrap();
    let err = pull(&pinned, &options(empty.path())).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&registry.registry()), "{err}");

    // A corrupted cache entry is not trusted: with the registry gone, that is an error.
    std::fs::write(&cached, CORE_MODULE).unwrap();
    let err = pull(&pinned, &options(cache.path())).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn non_wasm_artifacts_are_refused_on_pull() {
    let registry = registry_or_skip!(false);
    let cache = tempfile::tempdir().unwrap();

    let image = push_raw(
        &registry.registry(),
        "herald/image",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
        b"not a component".to_vec(),
    )
    .await;
    let pinned = reference(&registry.registry(), &format!("herald/image@{image}"));
    match pull(&pinned, &options(cache.path())).await {
        Err(err @ Error::NotAWasmArtifact { .. }) => {
            assert!(
                err.to_string()
                    .contains("application/vnd.oci.image.config.v1+json"),
                "{err}"
            );
        }
        other => panic!("expected NotAWasmArtifact, got {other:?}"),
    }

    // The Wasm layout around a core module: the layer itself is refused.
    let module = push_raw(
        &registry.registry(),
        "herald/module",
        CONFIG_MEDIA_TYPE,
        LAYER_MEDIA_TYPE,
        CORE_MODULE.to_vec(),
    )
    .await;
    let pinned = reference(&registry.registry(), &format!("herald/module@{module}"));
    match pull(&pinned, &options(cache.path())).await {
        Err(err @ Error::NotAComponent { .. }) => {
            assert!(err.to_string().contains("core WebAssembly module"), "{err}");
        }
        other => panic!("expected NotAComponent, got {other:?}"),
    }
    assert!(!cache.path().join("oci/sha256").join(module.hex()).exists());
}

#[tokio::test]
async fn core_module_is_refused_on_push() {
    let registry = registry_or_skip!(false);
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("module.wasm");
    std::fs::write(&module, CORE_MODULE).unwrap();
    let target = reference(&registry.registry(), "herald/p:v1");
    match push(&module, &target, &options(dir.path())).await {
        Err(err @ Error::NotAComponent { .. }) => {
            let message = err.to_string();
            assert!(message.contains("core WebAssembly module"), "{message}");
            assert!(message.contains("module.wasm"), "{message}");
        }
        other => panic!("expected NotAComponent, got {other:?}"),
    }
    // Nothing reached the registry.
    let tags = http::get(registry.addr(), "/v2/herald/p/tags/list", None)
        .await
        .unwrap();
    assert_eq!(tags.status, 404);
}

#[tokio::test]
async fn unpinned_pull_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let unpinned = Reference::parse("oci://127.0.0.1:9/herald/p:v1").unwrap();
    let err = pull(&unpinned, &options(cache.path())).await.unwrap_err();
    assert!(matches!(err, Error::Unpinned { .. }), "{err:?}");
    assert!(err.to_string().contains("@sha256:"), "{err}");
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_registry_is_refused_before_any_connection() {
    let cache = tempfile::tempdir().unwrap();
    let digest = Digest::of(b"anything");
    // `.invalid` never resolves: had a connection been tried, the error would be another one.
    let http = Reference::parse(&format!(
        "http://registry.invalid:5000/herald/p:v1@{digest}"
    ))
    .unwrap();
    let err = pull(&http, &options(cache.path())).await.unwrap_err();
    assert!(
        matches!(err, Error::InsecureRefused { ref registry } if registry == "registry.invalid:5000"),
        "{err:?}"
    );
    let err = push(Path::new(COMPONENT), &http, &options(cache.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsecureRefused { .. }), "{err:?}");
}

#[tokio::test]
async fn credentials_never_appear_in_errors_debug_output_or_logs() {
    let registry = registry_or_skip!(true);
    let (logs, _guard) = Captured::install();
    let cache = tempfile::tempdir().unwrap();
    let target = reference(&registry.registry(), "herald/p:v1");
    let with = |credentials: Option<Credentials>| Options {
        credentials,
        ..options(cache.path())
    };
    let good = Credentials::new(registry::USER, registry::PASSWORD);
    let digest = push(Path::new(COMPONENT), &target, &with(Some(good.clone())))
        .await
        .unwrap();
    let pinned = target.with_digest(digest);

    let wrong_password = "wrong-Secret-Pa55word";
    let bad = with(Some(Credentials::new(registry::USER, wrong_password)));
    for secret in [registry::PASSWORD, wrong_password] {
        assert!(!format!("{bad:?} {:?}", with(Some(good.clone()))).contains(secret));
    }
    let pull_err = pull(&pinned, &bad).await.unwrap_err();
    let push_err = push(Path::new(COMPONENT), &target, &bad).await.unwrap_err();
    for err in [pull_err, push_err] {
        assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
        assert!(
            err.to_string().contains("credentials were rejected"),
            "{err}"
        );
        let text = chain(&err);
        assert!(text.contains(&registry.registry()), "{text}");
        assert!(!text.contains(wrong_password), "{text}");
        assert!(!text.contains(registry::PASSWORD), "{text}");
        let basic = base64_of(&format!("{}:{wrong_password}", registry::USER));
        assert!(!text.contains(&basic), "{text}");
    }

    // No credentials at all: told that it needs some.
    let err = pull(&pinned, &with(None)).await.unwrap_err();
    assert!(err.to_string().contains("needs credentials"), "{err}");

    // The right credentials pull it.
    let path = pull(&pinned, &with(Some(good))).await.unwrap();
    assert_eq!(
        std::fs::read(path).unwrap(),
        std::fs::read(COMPONENT).unwrap()
    );

    // Every log line of all of the above, oci-client's debug and trace output included.
    let logs = logs.text();
    assert!(logs.contains("pulled provider component"), "{logs}");
    assert!(
        logs.contains("oci_client"),
        "oci-client's events are captured too:\n{logs}"
    );
    for secret in [
        registry::PASSWORD.to_owned(),
        wrong_password.to_owned(),
        base64_of(&format!("{}:{}", registry::USER, registry::PASSWORD)),
        base64_of(&format!("{}:{wrong_password}", registry::USER)),
    ] {
        assert!(!logs.contains(&secret), "logs contain a secret:\n{logs}");
    }
}

/// Display and Debug of the error and every source under it.
fn chain(err: &Error) -> String {
    let mut text = format!("{err} {err:?}");
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(&format!(" | {inner} {inner:?}"));
        source = inner.source();
    }
    text
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
