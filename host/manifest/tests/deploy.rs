//! `deploy/`: the base's generated files match the generator, and every overlay renders with
//! kustomize (`kubectl kustomize`, or `$KUBECTL`), validates against the Kubernetes schemas and
//! yields exactly the DaemonSet its kustomization.yaml says (`# DaemonSet herald-ds = herald
//! manifest …`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

const MARKER: &str = " = herald manifest ";

fn deploy_dir() -> PathBuf {
    common::workspace_root().join("deploy")
}

fn overlays() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join("overlays"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("kustomization.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "the overlays are missing: {dirs:?}");
    dirs
}

/// `(left side, command line after "herald manifest")` of each marker comment.
fn generated_from(kustomization: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(kustomization).unwrap();
    let found: Vec<_> = text
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .filter_map(|line| line.split_once(MARKER))
        .map(|(what, command)| (what.trim().to_owned(), command.trim().to_owned()))
        .collect();
    assert!(
        !found.is_empty(),
        "{}: no `… = herald manifest …` line",
        kustomization.display()
    );
    found
}

#[test]
fn the_base_files_are_the_generators_output() {
    let base = deploy_dir().join("base");
    for (file, command) in generated_from(&base.join("kustomization.yaml")) {
        let path = base.join(&file);
        let generated = common::render_line(&command).yaml;
        if std::env::var("HERALD_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(
            on_disk == generated,
            "deploy/base/{file} is not the output of `herald manifest {command}`: regenerate it \
             (HERALD_UPDATE_SNAPSHOTS=1 cargo test -p herald-manifest --test deploy)"
        );
    }
}

/// kustomize v5 warns about the fields kept for kustomize 2.0.3; any other output on stderr
/// (or a failure) fails the test.
const KNOWN_DEPRECATIONS: &[&str] = &[
    "'bases' is deprecated",
    "'patchesStrategicMerge' is deprecated",
];

fn kustomize(kubectl: &str, dir: &Path) -> String {
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{kubectl} kustomize {}: {stderr}",
        dir.display()
    );
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            KNOWN_DEPRECATIONS.iter().any(|known| line.contains(known)),
            "{kubectl} kustomize {}: unexpected output: {line}",
            dir.display()
        );
    }
    String::from_utf8(out.stdout).unwrap()
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .filter(|doc: &Value| !doc.is_null())
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|doc| doc["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {docs:?}"))
}

#[test]
fn every_overlay_renders_validates_and_matches_the_generator() {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned());
    let Some(kubectl) = common::require_tool(
        &kubectl,
        &["version", "--client"],
        "kubectl (kustomize is built in), e.g. apt-get install kubernetes-client",
    ) else {
        return;
    };
    let validate = common::require_tool(
        "kubernetes-validate",
        &["--version"],
        common::VALIDATE_INSTALL,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut rendered_files = Vec::new();
    let rbac = documents(&common::render_line("rbac").yaml);
    for overlay in std::iter::once(deploy_dir().join("base")).chain(overlays()) {
        let name = overlay.file_name().unwrap().to_string_lossy().into_owned();
        let rendered = kustomize(&kubectl, &overlay);
        let docs = documents(&rendered);

        let mut kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        kinds.sort_unstable();
        assert_eq!(
            kinds,
            [
                "ClusterRole",
                "ClusterRoleBinding",
                "DaemonSet",
                "Service",
                "ServiceAccount"
            ],
            "{name}"
        );
        for expected in &rbac {
            assert_eq!(
                find(&docs, expected["kind"].as_str().unwrap()),
                expected,
                "{name}"
            );
        }
        let daemonset = find(&docs, "DaemonSet");
        let service = find(&docs, "Service");
        for (key, value) in service["spec"]["selector"].as_mapping().unwrap() {
            let labels = &daemonset["spec"]["template"]["metadata"]["labels"];
            assert_eq!(
                &labels[key.as_str().unwrap()],
                value,
                "{name}: the Service selects other Pods"
            );
        }
        if name != "base" {
            for (what, command) in generated_from(&overlay.join("kustomization.yaml")) {
                assert_eq!(what, "DaemonSet herald-ds", "{name}");
                let generated = documents(&common::render_line(&command).yaml);
                assert_eq!(
                    daemonset, &generated[0],
                    "{name}: kustomize's DaemonSet is not `herald manifest {command}`"
                );
            }
        }
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, rendered).unwrap();
        rendered_files.push(path);
    }
    if let Some(validate) = validate {
        common::validate_files(&validate, &rendered_files);
    }
}
