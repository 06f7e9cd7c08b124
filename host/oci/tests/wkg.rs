//! Interoperability with `wkg` (bytecodealliance/wasm-pkg-tools), when it is installed: it reads
//! what we push, and we read what it pushes. Not installed by CI (building it takes ~15 min on
//! two cores); run with `WKG=/path/to/wkg cargo test -p herald-oci --test wkg`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use herald_oci::{Digest, pull, push};
use support::registry::Registry;
use support::{COMPONENT, options, reference};

fn wkg() -> Option<PathBuf> {
    let candidate = std::env::var_os("WKG").map_or_else(|| PathBuf::from("wkg"), PathBuf::from);
    let runs = Command::new(&candidate).arg("--version").output();
    runs.is_ok_and(|o| o.status.success()).then_some(candidate)
}

#[tokio::test]
async fn wkg_reads_what_we_push_and_we_read_what_it_pushes() {
    let Some(wkg) = wkg() else {
        eprintln!("skipping: wkg not installed (set WKG=/path/to/wkg)");
        return;
    };
    let Some(registry) = Registry::start(false).await else {
        return;
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
}
