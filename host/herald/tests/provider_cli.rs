//! `herald provider inspect|run` end to end: the real binary, real provider components.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

const NODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/node-annotations-v3.3.yaml"
);

fn herald(args: &[&str]) -> Output {
    let cache = std::env::temp_dir().join(format!("herald-cli-test-cache-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("HERALD_PROVIDER_DIR", herald_artifacts::PROVIDER_DIR)
        .env("HERALD_CACHE_DIR", cache)
        .env("HERALD_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn run_equinix_annotations_prints_the_peers_as_json() {
    let output = herald(&[
        "provider",
        "run",
        "equinix-annotations",
        "--node",
        NODE,
        "--output",
        "json",
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let peer = |address: &str| {
        format!(
            r#"{{"peer_address":"{address}","peer_asn":65530,"local_asn":65000,"source_address":"10.70.17.9","password_set":true,"multihop_ttl":2,"route_via":"10.70.17.8","hold_time_seconds":null,"port":null,"keepalive_seconds":null}}"#
        )
    };
    let expected = format!(
        r#"{{"peers":[{},{}]}}"#,
        peer("169.254.255.1"),
        peer("169.254.255.2")
    );
    assert_eq!(stdout(&output).trim_end(), expected);
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains("ExamplePass123"), "password leaked: {text}");
    }
}

#[test]
fn run_accepts_a_path_and_the_wasm_suffix() {
    let by_file_name = herald(&[
        "provider",
        "run",
        "equinix-annotations.wasm",
        "--node",
        NODE,
        "--output",
        "json",
    ]);
    assert!(
        by_file_name.status.success(),
        "stderr: {}",
        stderr(&by_file_name)
    );
    let path = Path::new(herald_artifacts::PROVIDER_DIR).join("equinix-annotations.wasm");
    let by_path = herald(&[
        "provider",
        "run",
        path.to_str().unwrap(),
        "--node",
        NODE,
        "--output",
        "json",
    ]);
    assert!(by_path.status.success(), "stderr: {}", stderr(&by_path));
    assert_eq!(stdout(&by_file_name), stdout(&by_path));
}

#[test]
fn inspect_prints_the_metadata() {
    let output = herald(&["provider", "inspect", "equinix-annotations"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("name:         equinix-annotations\n"),
        "{text}"
    );
    assert!(
        text.contains("wit:          herald:provider@0.2.0\n"),
        "{text}"
    );
    assert!(text.contains("version:      0.1.0\n"), "{text}");
}

#[test]
fn inspect_shows_hosts_and_secret_keys() {
    let output = herald(&["provider", "inspect", herald_artifacts::HOSTILE_COMPONENT]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("  http://declared.example.invalid\n"),
        "{text}"
    );
    assert!(
        text.contains("  from config url (default http://declared.example.invalid/)\n"),
        "{text}"
    );
    assert!(text.contains("  token [secret]: "), "{text}");
    assert!(text.contains("  mode [required]: "), "{text}");
    let json = herald(&[
        "provider",
        "inspect",
        herald_artifacts::HOSTILE_COMPONENT,
        "--output",
        "json",
    ]);
    let metadata: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(metadata["name"], "hostile");
}

#[test]
fn run_prints_a_table_by_default() {
    let output = herald(&[
        "provider",
        "run",
        herald_artifacts::HOSTILE_COMPONENT,
        "--node",
        NODE,
        "--config",
        "mode=ok",
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("PEER "), "{text}");
    assert!(text.contains("169.254.255.1  65530"), "{text}");
}

#[test]
fn missing_provider_file_is_exit_1_with_its_name() {
    let output = herald(&[
        "provider",
        "run",
        "/nonexistent/dir/missing.wasm",
        "--node",
        NODE,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/nonexistent/dir/missing.wasm"),
        "{}",
        stderr(&output)
    );
    let output = herald(&["provider", "inspect", "no-such-provider"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("provider \"no-such-provider\" not found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_non_node_manifest_is_rejected() {
    let dir = std::env::temp_dir().join(format!("herald-cli-pod-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pod = dir.join("pod.yaml");
    std::fs::write(&pod, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n").unwrap();
    let output = herald(&[
        "provider",
        "run",
        herald_artifacts::HOSTILE_COMPONENT,
        "--node",
        pod.to_str().unwrap(),
        "--config",
        "mode=ok",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("kind: Pod"), "{}", stderr(&output));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn not_ready_is_exit_2_and_sandbox_errors_are_exit_1() {
    let not_ready = herald(&[
        "provider",
        "run",
        herald_artifacts::HOSTILE_COMPONENT,
        "--node",
        NODE,
        "--config",
        "mode=environment",
    ]);
    assert_eq!(not_ready.status.code(), Some(2), "{}", stderr(&not_ready));
    assert!(
        stderr(&not_ready).contains("provider \"hostile\" 0.1.0: not ready"),
        "{}",
        stderr(&not_ready)
    );

    let looping = herald(&[
        "provider",
        "run",
        herald_artifacts::HOSTILE_COMPONENT,
        "--node",
        NODE,
        "--config",
        "mode=loop",
        "--deadline-ms",
        "200",
    ]);
    assert_eq!(looping.status.code(), Some(1));
    assert!(
        stderr(&looping).contains("200 ms deadline"),
        "{}",
        stderr(&looping)
    );

    let denied = herald(&[
        "provider",
        "run",
        herald_artifacts::HOSTILE_COMPONENT,
        "--node",
        NODE,
        "--config",
        "mode=http",
    ]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("--allow-host declared.example.invalid:80"),
        "{}",
        stderr(&denied)
    );
}

#[test]
fn secret_config_from_a_file_is_never_printed() {
    let dir = std::env::temp_dir().join(format!("herald-cli-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "very-secret-token-value").unwrap();
    let token_arg = format!("token=@{}", token.display());
    let output = herald(&[
        "provider",
        "run",
        herald_artifacts::HOSTILE_COMPONENT,
        "--node",
        NODE,
        "--config",
        "mode=ok",
        "--config",
        &token_arg,
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(!stdout(&output).contains("very-secret") && !stderr(&output).contains("very-secret"));
    std::fs::remove_dir_all(&dir).unwrap();
}
