//! Every guest the artifacts crate builds is used by some test (names checked in test sources).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn every_guest_component_is_used_by_a_test() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = String::new();
    for dir in [
        manifest.join("tests"),
        manifest.join("benches"),
        manifest.join("../herald/tests"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("artifacts_used.rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    for (name, path) in herald_artifacts::ALL_COMPONENTS {
        assert!(
            sources.contains(name),
            "{name} ({path}) is built but no test uses it"
        );
    }
}
