//! Interoperability with `wkg` (bytecodealliance/wasm-pkg-tools): it reads what we push, and we
//! read what it pushes. A manual check, not part of the test suite: CI cannot install wkg
//! (building it takes ~15 min on two cores), and a test that cannot run there must not pass by
//! skipping. Run it with
//!
//!     WKG=/path/to/wkg cargo run -p herald-oci --example wkg_interop
//!
//! (it starts Debian's docker-registry on 127.0.0.1 like the registry tests). Last run: wkg
//! 0.16.1, both directions byte-identical.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use herald_oci::{Digest, pull, push};
use herald_testbed::registry::Registry;
use support::{COMPONENT, options, reference};

fn wkg() -> Option<PathBuf> {
    let candidate = std::env::var_os("WKG").map_or_else(|| PathBuf::from("wkg"), PathBuf::from);
    let runs = Command::new(&candidate).arg("--version").output();
    runs.is_ok_and(|o| o.status.success()).then_some(candidate)
}

#[tokio::main]
async fn main() {
    let Some(wkg) = wkg() else {
        eprintln!("wkg_interop: wkg not found: set WKG=/path/to/wkg (cargo install wkg)");
        std::process::exit(2);
    };
    let Some(registry) = Registry::start(false) else {
        eprintln!("wkg_interop: the test registry cannot start (apt-get install docker-registry)");
        std::process::exit(2);
    };
    let host = registry.registry();
    let dir = tempfile::tempdir().unwrap();
    let component = std::fs::read(COMPONENT).unwrap();

    let ours = push(
        Path::new(COMPONENT),
        &reference(&host, "herald/ours:v1"),
        &options(dir.path()),
    )
    .await
    .unwrap();
    let out = dir.path().join("pulled-by-wkg.wasm");
    let pulled = Command::new(&wkg)
        .args(["oci", "pull", "--insecure", &host])
        .arg(format!("{host}/herald/ours@{ours}"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(pulled.status.success(), "{pulled:?}");
    assert_eq!(std::fs::read(&out).unwrap(), component);

    let pushed = Command::new(&wkg)
        .args(["oci", "push", "--insecure", &host])
        .arg(format!("{host}/herald/theirs:v1"))
        .arg(COMPONENT)
        .output()
        .unwrap();
    assert!(pushed.status.success(), "{pushed:?}");
    let stdout = String::from_utf8(pushed.stdout).unwrap();
    let theirs = stdout
        .lines()
        .find_map(|line| line.strip_prefix("digest: "))
        .map(|digest| Digest::parse(digest.trim()).unwrap())
        .unwrap();
    let path = pull(
        &reference(&host, &format!("herald/theirs@{theirs}")),
        &options(dir.path()),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), component);
    println!("wkg reads what herald-oci pushes, and herald-oci reads what wkg pushes");
}
