//! The Python example provider `examples/netbox-bgp` (componentize-py) end to end: its build
//! script, the real `herald provider run` binary, and NetBox fixtures served on 127.0.0.1.
//! Also runs the provider's own Python unit tests, so `cargo test --workspace` covers them.
//!
//! Needs `componentize-py` (`pip install componentize-py==0.25.1`) and `python3`: without them
//! the tests are skipped with a note, and fail under `CI=true`.
//!
//! Building the component takes ~30 s and compiling it in a debug host ~2 min, so both are kept
//! under `CARGO_TARGET_TMPDIR` between runs: the `.wasm` keyed by a hash of its inputs (the
//! build is not reproducible: componentize-py snapshots a running interpreter), the compiled
//! form in one `HERALD_CACHE_DIR` shared by every test (keyed by the `.wasm`'s sha256).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use herald_provider_testkit::{FixtureServer, RecordedRequest, Route};

const EXAMPLE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/netbox-bgp");
const WIT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit/0.2.0");
const WORK_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/netbox-bgp");
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

const PAGE_1: &str =
    include_str!("../../../examples/netbox-bgp/tests/fixtures/api-bgpsession-page1.json");
const PAGE_2: &str =
    include_str!("../../../examples/netbox-bgp/tests/fixtures/api-bgpsession-page2.json");
const ERROR_403: &str =
    include_str!("../../../examples/netbox-bgp/tests/fixtures/api-error-403.json");
const ERROR_400: &str =
    include_str!("../../../examples/netbox-bgp/tests/fixtures/api-error-400-unknown-device.json");

const SESSIONS: &str = "/api/plugins/bgp/bgpsession/";
const V1_TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";
const V2_TOKEN: &str = "nbt_AbCdEf123456.0123456789abcdefghijklmnopqrstuvwxyz0123";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skip (print why) or, with `CI=true`, fail.
fn missing(what: &str) -> Option<PathBuf> {
    if in_ci() {
        panic!("CI=true but {what}");
    }
    eprintln!("SKIPPED: {what}");
    None
}

fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The built component, shared by every test of this binary (built at most once per input).
fn component() -> Option<&'static Path> {
    static COMPONENT: OnceLock<Option<PathBuf>> = OnceLock::new();
    COMPONENT.get_or_init(build_component).as_deref()
}

fn build_component() -> Option<PathBuf> {
    let Ok(version) = Command::new("componentize-py").arg("--version").output() else {
        return missing(&format!(
            "`componentize-py` is not on PATH: pip install {COMPONENTIZE_PY}"
        ));
    };
    let key = inputs_hash(&version.stdout);
    let dir = Path::new(WORK_DIR).join(format!("build-{key:016x}"));
    let wasm = dir.join("netbox-bgp.wasm");
    if !wasm.is_file() {
        // New sources: drop older components (18 MB each) and their compiled forms (35 MB).
        prune_old_builds(&dir);
        let _ = std::fs::remove_dir_all(Path::new(WORK_DIR).join("cache"));
        std::fs::create_dir_all(&dir).unwrap();
        let output = Command::new("bash")
            .arg(Path::new(EXAMPLE_DIR).join("build.sh"))
            .arg(&wasm)
            .output()
            .unwrap();
        assert!(
            output.status.success() && wasm.is_file(),
            "examples/netbox-bgp/build.sh failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    warm_compile_cache(&wasm);
    Some(wasm)
}

/// Hash of everything the component is built from, naming its build directory.
fn inputs_hash(componentize_version: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    componentize_version.hash(&mut hasher);
    for name in ["build.sh", "app.py", "netbox_bgp.py", "wasi_http.py"] {
        name.hash(&mut hasher);
        std::fs::read(Path::new(EXAMPLE_DIR).join(name))
            .unwrap()
            .hash(&mut hasher);
    }
    let mut wit_files = Vec::new();
    collect_files(Path::new(WIT_DIR), &mut wit_files);
    wit_files.sort();
    for file in wit_files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap().hash(&mut hasher);
    }
    hasher.finish()
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn prune_old_builds(keep: &Path) {
    let Ok(entries) = std::fs::read_dir(WORK_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_build = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("build-"));
        if is_build && path != keep {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Compile once into the shared cache before the tests run `herald` in parallel (each would
/// otherwise compile the 18 MB component itself). No `--allow-host`: the call is denied at once.
fn warm_compile_cache(wasm: &Path) {
    let node = node_file("k8s-node-1");
    let output = herald(&[
        "provider",
        "run",
        wasm.to_str().unwrap(),
        "--node",
        node.path().to_str().unwrap(),
        "--config",
        "url=http://127.0.0.1:9",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("denied"),
        "loading the component failed: {stderr}"
    );
}

fn herald(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("HERALD_CACHE_DIR", Path::new(WORK_DIR).join("cache"))
        .env("HERALD_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

struct NodeFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl NodeFile {
    fn path(&self) -> &Path {
        &self.path
    }
}

fn node_file(name: &str) -> NodeFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n"
        ),
    )
    .unwrap();
    NodeFile { _dir: dir, path }
}

/// NetBox with the fixtures: device k8s-node-1 on two pages, k8s-node-9 unknown.
async fn netbox() -> FixtureServer {
    FixtureServer::start(vec![
        (
            format!("{SESSIONS}?device=k8s-node-1"),
            Route::json(200, PAGE_1),
        ),
        (
            format!("{SESSIONS}?device=k8s-node-1&offset=2"),
            Route::json(200, PAGE_2),
        ),
        (
            format!("{SESSIONS}?device=k8s-node-9"),
            Route::json(400, ERROR_400),
        ),
    ])
    .await
    .unwrap()
}

/// `herald provider run` against `server` (off the async runtime's threads, which serve it).
async fn run_provider(
    wasm: &Path,
    server: &FixtureServer,
    node: &str,
    token: &str,
    extra: &[&str],
) -> Output {
    let node = node_file(node);
    let mut args: Vec<String> = [
        "provider",
        "run",
        wasm.to_str().unwrap(),
        "--node",
        node.path().to_str().unwrap(),
        "--config",
        &format!("url={}", server.origin()),
        "--config",
        &format!("token={token}"),
        "--allow-host",
        &server.grant(),
        "--output",
        "json",
    ]
    .map(String::from)
    .into();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = herald(&args);
        drop(node);
        output
    })
    .await
    .unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8(output.stdout.clone()).unwrap(),
        String::from_utf8(output.stderr.clone()).unwrap(),
    )
}

fn assert_no_token(output: &Output, token: &str) {
    let (stdout, stderr) = text(output);
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "the token leaked:\nstdout: {stdout}\nstderr: {stderr}"
    );
    // Nor its secret half alone.
    let tail = &token[token.len() - 20..];
    assert!(!stdout.contains(tail) && !stderr.contains(tail));
}

fn peer(address: &str, source: &str) -> String {
    format!(
        r#"{{"peer_address":"{address}","peer_asn":65000,"local_asn":65101,"source_address":"{source}","password_set":false,"multihop_ttl":null,"route_via":null,"hold_time_seconds":null,"port":null,"keepalive_seconds":null}}"#
    )
}

fn assert_session_requests(requests: &[RecordedRequest], authorization: &str) {
    let paths: Vec<&str> = requests.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/plugins/bgp/bgpsession/?device=k8s-node-1&status=active&limit=100",
            // page 1's `next`, whose origin (https://netbox.example.net) is not the configured one
            "/api/plugins/bgp/bgpsession/?device=k8s-node-1&limit=2&offset=2",
        ]
    );
    for request in requests {
        assert_eq!(request.method, "GET");
        assert_eq!(request.header("authorization"), Some(authorization));
        assert_eq!(request.header("accept"), Some("application/json"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_of_both_pages_only_active_with_a_v1_token() {
    let Some(wasm) = component() else { return };
    let server = netbox().await;
    let output = run_provider(wasm, &server, "k8s-node-1", V1_TOKEN, &[]).await;
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "stderr: {stderr}");
    // 101 (IPv4) and 102 (IPv6) from page 1; 103 on page 2 is `planned`.
    let expected = format!(
        r#"{{"peers":[{},{}]}}"#,
        peer("192.0.2.10", "192.0.2.11"),
        peer("2001:db8:0:a::1", "2001:db8:0:a::11")
    );
    assert_eq!(stdout.trim_end(), expected);
    assert_session_requests(&server.requests(), &format!("Token {V1_TOKEN}"));
    assert_no_token(&output, V1_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_token_is_sent_as_bearer() {
    let Some(wasm) = component() else { return };
    let server = netbox().await;
    let output = run_provider(wasm, &server, "k8s-node-1", V2_TOKEN, &[]).await;
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "stderr: {stderr}");
    assert!(stdout.contains("2001:db8:0:a::1"), "{stdout}");
    assert_session_requests(&server.requests(), &format!("Bearer {V2_TOKEN}"));
    assert_no_token(&output, V2_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_is_unauthorized_without_the_token() {
    let Some(wasm) = component() else { return };
    let server = FixtureServer::start(vec![(SESSIONS.into(), Route::json(403, ERROR_403))])
        .await
        .unwrap();
    let output = run_provider(wasm, &server, "k8s-node-1", V1_TOKEN, &[]).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(r#"provider "netbox-bgp" 0.1.0: unauthorized: GET http://127.0.0.1:"#),
        "{stderr}"
    );
    assert!(
        stderr.contains("HTTP 403: Invalid token (a v1 token was sent as 'Authorization: Token'"),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 1, "no retry inside the call");
    assert_no_token(&output, V1_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_device_is_invalid_input_naming_it() {
    let Some(wasm) = component() else { return };
    let server = netbox().await;
    // The node is k8s-node-1, the `device` config names the NetBox device.
    let output = run_provider(
        wasm,
        &server,
        "k8s-node-1",
        V2_TOKEN,
        &["--config", "device=k8s-node-9"],
    )
    .await;
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(
            r#"provider "netbox-bgp" 0.1.0: invalid input: NetBox has no device 'k8s-node-9'"#
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("k8s-node-9 is not one of the available choices"),
        "{stderr}"
    );
    assert_no_token(&output, V2_TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_grant_nothing_is_sent() {
    let Some(wasm) = component() else { return };
    let server = netbox().await;
    let node = node_file("k8s-node-1");
    let url = format!("url={}", server.origin());
    let token = format!("token={V1_TOKEN}");
    let wasm = wasm.to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        herald(&[
            "provider",
            "run",
            wasm.to_str().unwrap(),
            "--node",
            node.path().to_str().unwrap(),
            "--config",
            &url,
            "--config",
            &token,
        ])
    })
    .await
    .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("--allow-host {}", server.grant())),
        "{stderr}"
    );
    assert!(server.requests().is_empty());
    assert_no_token(&output, V1_TOKEN);
}

/// The provider's Python unit tests (mapping logic, no wasm), so CI runs them.
#[test]
fn python_unit_tests_pass() {
    if !on_path("python3") {
        missing("`python3` is not on PATH");
        return;
    }
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v"])
        .current_dir(EXAMPLE_DIR)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python3 -m unittest discover in examples/netbox-bgp failed:\n{stderr}"
    );
    assert!(stderr.contains("\nOK"), "{stderr}");
    assert!(!stderr.contains("Ran 0 tests"), "{stderr}");
}
