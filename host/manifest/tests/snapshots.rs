//! Golden files: each command line in `common::CASES` against `tests/snapshots/<name>.yaml`.
//! `HERALD_UPDATE_SNAPSHOTS=1 cargo test -p herald-manifest --test snapshots` rewrites them;
//! review the diff before committing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.yaml"))
}

fn check(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var("HERALD_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with HERALD_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{name}: output differs from {} (HERALD_UPDATE_SNAPSHOTS=1 rewrites it):\n{}",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// The differing lines, with their numbers (enough to see what changed).
fn diff(expected: &str, actual: &str) -> String {
    let (old, new): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for index in 0..old.len().max(new.len()) {
        let (a, b) = (old.get(index), new.get(index));
        if a != b {
            if let Some(a) = a {
                out.push_str(&format!("{:4} - {a}\n", index + 1));
            }
            if let Some(b) = b {
                out.push_str(&format!("{:4} + {b}\n", index + 1));
            }
        }
    }
    out
}

#[test]
fn every_case_matches_its_golden_file() {
    for (name, line) in common::CASES {
        check(name, &common::render_line(line).yaml);
    }
}

#[test]
fn output_is_deterministic() {
    for (_, line) in common::CASES {
        assert_eq!(
            common::render_line(line),
            common::render_line(line),
            "{line}"
        );
    }
}

#[test]
fn no_golden_file_is_left_without_a_case() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".yaml")
            .to_owned();
        assert!(
            common::CASES.iter().any(|(case, _)| *case == name),
            "tests/snapshots/{name}.yaml has no case in common::CASES: delete it"
        );
    }
}
