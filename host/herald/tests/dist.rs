//! The documented dist command (`scripts/dist`) and the Dockerfile agree: every path the image
//! copies exists in the dist output, and the binary finds its providers by name in the installed
//! layout, with no build tree or environment to help it. The script packages this test run's own
//! binary (`HERALD_DIST_BIN`): `cargo build -p herald` alone resolves features differently from
//! the workspace's test build and would rebuild wasmtime and kube for minutes; the providers are
//! built by the script itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const PROVIDERS: [&str; 4] = [
    "equinix-annotations",
    "equinix-metadata",
    "equinix-api",
    "default-gateway",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `COPY --from=build /dist/<source> <destination>` lines of the Dockerfile.
fn dockerfile_copies() -> Vec<(String, String)> {
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    dockerfile
        .lines()
        .filter_map(|line| line.strip_prefix("COPY --from=build "))
        .map(|rest| {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(parts.len(), 2, "COPY line with one source: {rest}");
            (parts[0].to_string(), parts[1].to_string())
        })
        .collect()
}

#[test]
fn dist_output_holds_every_path_the_dockerfile_copies() {
    let out = tempfile::tempdir().unwrap();
    let dist = out.path().join("dist");
    let status = Command::new(repo().join("scripts/dist"))
        .args(["--profile", "dev", "--out"])
        .arg(&dist)
        .env_remove("CARGO_TARGET_DIR")
        .env("HERALD_DIST_BIN", env!("CARGO_BIN_EXE_herald"))
        .status()
        .unwrap();
    assert!(status.success(), "scripts/dist failed");

    let copies = dockerfile_copies();
    assert!(copies.len() >= 2, "Dockerfile copies: {copies:?}");
    for (source, destination) in &copies {
        let relative = source
            .strip_prefix("/dist/")
            .unwrap_or_else(|| panic!("Dockerfile copies {source} from outside /dist"));
        let built = dist.join(relative);
        assert!(
            built.exists(),
            "{source} (→ {destination}) not in the dist output"
        );
    }
    assert!(
        copies.iter().any(
            |(_, destination)| destination.trim_end_matches('/') == "/usr/lib/herald/providers"
        ),
        "the image must put providers where herald looks: {copies:?}"
    );
    assert!(
        copies
            .iter()
            .any(|(source, destination)| source == "/dist/bin/herald"
                && destination == "/usr/bin/herald"),
        "{copies:?}"
    );
    for provider in PROVIDERS {
        let wasm = dist.join(format!("lib/herald/providers/{provider}.wasm"));
        let bytes = std::fs::read(&wasm).unwrap();
        assert_eq!(&bytes[..4], b"\0asm", "{} is not Wasm", wasm.display());
    }
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("bin/herald"), "{sums}");

    // Installed layout: providers by name from ../lib/herald/providers, nothing else to help.
    let cache = out.path().join("cache");
    let inspect = Command::new(dist.join("bin/herald"))
        .args(["provider", "inspect", "equinix-annotations.wasm"])
        .env_clear()
        .env("HERALD_CACHE_DIR", &cache)
        .env("HERALD_LOG", "warn")
        .current_dir(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        inspect.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    assert!(stdout.contains("equinix-annotations"), "{stdout}");
}
