//! Files that are not Herald providers are refused at load time with an error naming the file,
//! and the runtime keeps working afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{assert_normal_call_works, hostile, runtime};
use herald_runtime::{LoadError, LoadProblem, Runtime, RuntimeConfig};

fn load_bytes(name: &str, bytes: &[u8]) -> LoadError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = runtime().load(&path).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "error must name the file: {err}"
    );
    err
}

fn load_artifact(path: &str) -> LoadError {
    let err = runtime().load(Path::new(path)).unwrap_err();
    assert!(
        err.to_string().contains(path),
        "error must name the file: {err}"
    );
    err
}

/// The hostile guest's bytes with a same-length substring of its metadata JSON replaced.
fn patched_hostile(from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    // Every occurrence: the JSON is in the custom section and may also sit in the data section.
    let mut bytes = std::fs::read(herald_artifacts::HOSTILE_COMPONENT).unwrap();
    let mut patched = 0;
    while let Some(at) = bytes.windows(from.len()).position(|w| w == from.as_bytes()) {
        bytes[at..at + from.len()].copy_from_slice(to.as_bytes());
        patched += 1;
    }
    assert!(patched > 0, "{from:?} not found in the hostile guest");
    bytes
}

#[tokio::test]
async fn junk_bytes_are_not_wasm() {
    let err = load_bytes("junk.wasm", b"this is not wasm at all");
    assert!(matches!(err.problem, LoadProblem::NotWasm), "{err}");
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn core_module_is_not_a_component() {
    let err = load_bytes("core.wasm", b"\0asm\x01\0\0\0");
    assert!(matches!(err.problem, LoadProblem::CoreModule), "{err}");
    assert!(err.to_string().contains("not a component"), "{err}");
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn missing_file_is_a_read_error() {
    let err = runtime()
        .load(Path::new("/nonexistent/provider.wasm"))
        .unwrap_err();
    assert!(matches!(err.problem, LoadProblem::Read(_)), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/provider.wasm"),
        "{err}"
    );
}

#[tokio::test]
async fn component_without_metadata_is_refused() {
    let err = load_artifact(herald_artifacts::NO_METADATA_COMPONENT);
    assert!(matches!(err.problem, LoadProblem::MissingMetadata), "{err}");
    assert!(
        err.to_string().contains("herald:provider-metadata"),
        "{err}"
    );
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn unsupported_wit_version_is_refused() {
    let err = load_artifact(herald_artifacts::FUTURE_VERSION_COMPONENT);
    match &err.problem {
        LoadProblem::UnsupportedWitVersion { found, supported } => {
            assert_eq!(found, "0.9.0");
            assert_eq!(supported, &["0.1.0".to_string(), "0.2.0".to_string()]);
        }
        other => panic!("expected UnsupportedWitVersion, got {other}"),
    }
    let message = err.problem.to_string();
    assert_eq!(
        message,
        "built for herald:provider@0.9.0; this host loads herald:provider@0.1.0 and @0.2.0"
    );
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn component_of_another_world_is_refused() {
    let err = load_artifact(herald_artifacts::WRONG_WORLD_COMPONENT);
    match &err.problem {
        LoadProblem::MissingExport { expected, found } => {
            assert_eq!(expected, "herald:provider/peer-discovery@0.1.0");
            assert_eq!(found, &["example:other/runner@0.1.0".to_string()]);
        }
        other => panic!("expected MissingExport, got {other}"),
    }
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn bad_metadata_is_refused() {
    let err = load_bytes(
        "bad-json.wasm",
        &patched_hostile("{\"schema\":1", "[\"schema\":1"),
    );
    assert!(matches!(err.problem, LoadProblem::BadMetadata(_)), "{err}");
    let err = load_bytes(
        "bad-schema.wasm",
        &patched_hostile("\"schema\":1", "\"schema\":7"),
    );
    assert!(
        matches!(&err.problem, LoadProblem::BadMetadata(m) if m.contains("schema 7")),
        "{err}"
    );
    let err = load_bytes(
        "bad-from-config.wasm",
        &patched_hostile("{\"from_config\":\"url\"}", "{\"from_config\":\"xyz\"}"),
    );
    assert!(
        matches!(&err.problem, LoadProblem::BadMetadata(m) if m.contains("xyz")),
        "{err}"
    );
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk() {
    let cache = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().join("herald")),
        ..RuntimeConfig::default()
    };
    let first = Runtime::new(config.clone()).unwrap();
    first
        .load(Path::new(herald_artifacts::HOSTILE_COMPONENT))
        .unwrap();
    let cached: Vec<_> = std::fs::read_dir(cache.path().join("herald"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(cached[0].extension().unwrap(), "cwasm");
    let second = Runtime::new(config).unwrap();
    let provider = second
        .load(Path::new(herald_artifacts::HOSTILE_COMPONENT))
        .unwrap();
    assert_normal_call_works(&provider).await;
}

#[test]
fn metadata_is_read_without_compiling() {
    let metadata = Runtime::inspect(Path::new(herald_artifacts::HOSTILE_COMPONENT)).unwrap();
    assert_eq!(metadata.name, "hostile");
    assert_eq!(metadata.wit_version, "0.1.0");
    assert!(
        metadata
            .config
            .iter()
            .any(|key| key.key == "token" && key.secret)
    );
}
