//! `herald provider new` + `build` for both languages, as an author would use them: the project
//! is generated, its own tests pass with the language's test command (`cargo test`,
//! `python3 -m unittest`), `provider build` prints the component's path on its last line, and
//! `provider inspect` and `provider run` (against a local peer service) accept the result.
//!
//! Needs the wasm32-wasip2 target (Rust) and componentize-py (Python): skipped with a note
//! without them, failed under `CI=true`. The Rust template builds in the workspace's own target
//! directory, so the dependencies it shares with Herald (herald-sdk, serde, wit-bindgen) are
//! reused from this test run's build instead of compiled again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use herald_provider_testkit::{FixtureServer, Route};

const TEMPLATE_TARGET: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/..");
const PEERS: &str = include_str!("../templates/rust/tests/fixtures/peers.json");

fn unavailable(what: &str) -> bool {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {what}"
    );
    eprintln!("SKIPPED: {what}");
    true
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn herald(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("CARGO_TARGET_DIR", TEMPLATE_TARGET)
        .env("HERALD_CACHE_DIR", cache)
        .env("HERALD_LOG", "warn")
        .output()
        .unwrap()
}

fn succeeded(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed\nstdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// `provider build DIR`, the path from its last line.
fn build(dir: &Path, cache: &Path) -> PathBuf {
    let output = herald(&["provider", "build", dir.to_str().unwrap()], cache);
    succeeded("herald provider build", &output);
    let stdout = text(&output.stdout);
    let path = PathBuf::from(stdout.lines().last().unwrap_or_default());
    assert!(path.is_file(), "last line is not the component: {stdout:?}");
    path
}

/// inspect shows the metadata; run against a peer service on 127.0.0.1 returns its two peers,
/// with the token sent as a bearer and no password printed.
async fn inspect_and_run(name: &str, component: &Path, node: &Path, cache: &Path) {
    let component = component.to_str().unwrap();
    let inspect = herald(&["provider", "inspect", component], cache);
    succeeded("herald provider inspect", &inspect);
    let shown = text(&inspect.stdout);
    assert!(shown.contains(&format!("name:         {name}")), "{shown}");
    assert!(shown.contains("token [secret]"), "{shown}");

    let server = FixtureServer::start(vec![("/peers?node=node-1".into(), Route::json(200, PEERS))])
        .await
        .unwrap();
    let url = format!("url={}/peers", server.origin());
    let run = herald(
        &[
            "provider",
            "run",
            component,
            "--node",
            node.to_str().unwrap(),
            "--config",
            &url,
            "--config",
            "token=t0ken-for-tests",
            "--allow-host",
            &server.grant(),
            "--output",
            "json",
            "--deadline-ms",
            "20000",
            "--memory-limit-mib",
            "128",
        ],
        cache,
    );
    succeeded("herald provider run", &run);
    let peers: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let addresses: Vec<&str> = peers["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|peer| peer["peer_address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["192.0.2.1", "192.0.2.2"]);
    assert_eq!(peers["peers"][1]["password_set"], true);
    let printed = format!("{}{}", text(&run.stdout), text(&run.stderr));
    assert!(!printed.contains("example-md5") && !printed.contains("t0ken-for-tests"));
    let requests = server.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer t0ken-for-tests")
    );
}

fn wasm_target_installed() -> bool {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    Path::new(text(&sysroot.stdout).trim())
        .join("lib/rustlib/wasm32-wasip2")
        .is_dir()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rust_template_builds_passes_its_tests_and_runs() {
    if !wasm_target_installed() && unavailable("the wasm32-wasip2 target is not installed") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let project = work.path().join("my-peers");
    let created = herald(
        &[
            "provider",
            "new",
            "my-peers",
            "--dir",
            project.to_str().unwrap(),
        ],
        &cache,
    );
    succeeded("herald provider new", &created);
    let tests = Command::new("cargo")
        .args(["test", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", TEMPLATE_TARGET)
        .output()
        .unwrap();
    succeeded("cargo test in the Rust template", &tests);
    assert!(
        text(&tests.stdout).contains("test result: ok. 4 passed"),
        "{}",
        text(&tests.stdout)
    );
    let component = build(&project, &cache);
    assert!(
        component.ends_with("wasm32-wasip2/release/my_peers.wasm"),
        "{}",
        component.display()
    );
    inspect_and_run(
        "my-peers",
        &component,
        &project.join("tests/fixtures/node.yaml"),
        &cache,
    )
    .await;

    let again = herald(
        &[
            "provider",
            "new",
            "my-peers",
            "--dir",
            project.to_str().unwrap(),
        ],
        &cache,
    );
    assert!(!again.status.success() && text(&again.stderr).contains("not empty"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_template_builds_passes_its_tests_and_runs() {
    let has_componentize = Command::new("componentize-py")
        .arg("--version")
        .output()
        .is_ok();
    if !has_componentize
        && unavailable("componentize-py is not installed (pip install componentize-py==0.25.1)")
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let project = work.path().join("py-peers");
    let created = herald(
        &[
            "provider",
            "new",
            "py-peers",
            "--lang",
            "python",
            "--dir",
            project.to_str().unwrap(),
        ],
        &cache,
    );
    succeeded("herald provider new --lang python", &created);
    let tests = Command::new("python3")
        .args(["-B", "-m", "unittest", "-v"])
        .current_dir(&project)
        .output()
        .unwrap();
    succeeded("python3 -m unittest in the Python template", &tests);
    assert!(
        text(&tests.stderr).contains("Ran 4 tests"),
        "{}",
        text(&tests.stderr)
    );
    let component = build(&project, &cache);
    assert_eq!(
        component,
        project.canonicalize().unwrap().join("py-peers.wasm")
    );
    inspect_and_run(
        "py-peers",
        &component,
        &project.join("tests/fixtures/node.yaml"),
        &cache,
    )
    .await;
}

#[test]
fn build_names_what_it_cannot_build() {
    let work = tempfile::tempdir().unwrap();
    let output = herald(
        &["provider", "build", work.path().to_str().unwrap()],
        work.path(),
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("neither a Rust provider"),
        "{}",
        text(&output.stderr)
    );
    let bad = herald(
        &[
            "provider",
            "new",
            "Bad_Name",
            "--dir",
            work.path().join("x").to_str().unwrap(),
        ],
        work.path(),
    );
    assert!(!bad.status.success() && text(&bad.stderr).contains("lowercase letters"));
}
