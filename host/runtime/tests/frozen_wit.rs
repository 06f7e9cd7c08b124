//! Released WIT versions are frozen: every version this host loads has `wit/<version>.sha256`
//! (written once, at release, with `sha256sum`), and its files still hash to it. Editing a
//! released contract would silently change what old components are linked against.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn wit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

fn files_under(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            let relative = path.strip_prefix(base).unwrap();
            out.insert(relative.to_string_lossy().into_owned());
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_loaded_wit_version_is_frozen_by_its_hashes() {
    for version in herald_runtime::SUPPORTED_WIT_VERSIONS {
        let sums_path = wit_root().join(format!("{version}.sha256"));
        let sums = std::fs::read_to_string(&sums_path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (a loaded version must be frozen)",
                sums_path.display()
            )
        });
        let dir = wit_root().join(version);
        let mut listed = BTreeSet::new();
        for line in sums.lines().filter(|l| !l.trim().is_empty()) {
            let (expected, file) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("{}: bad line {line:?}", sums_path.display()));
            let bytes = std::fs::read(dir.join(file))
                .unwrap_or_else(|e| panic!("wit/{version}/{file}: {e}"));
            assert_eq!(
                hex(&Sha256::digest(&bytes)),
                expected,
                "wit/{version}/{file} changed after release: add a new version instead"
            );
            listed.insert(file.to_string());
        }
        let mut present = BTreeSet::new();
        files_under(&dir, &dir, &mut present);
        assert_eq!(
            present, listed,
            "wit/{version}: files added or removed after release"
        );
    }
}
