//! Every generated manifest validates strictly against the Kubernetes 1.28 schema and the newest
//! the installed kubernetes-validate knows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn every_case_validates_against_the_kubernetes_schemas() {
    let Some(validate) = common::require_tool(
        "kubernetes-validate",
        &["--version"],
        common::VALIDATE_INSTALL,
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = common::CASES
        .iter()
        .map(|(name, line)| {
            let path = dir.path().join(format!("{name}.yaml"));
            std::fs::write(&path, common::render_line(line).yaml).unwrap();
            path
        })
        .collect();
    common::validate_files(&validate, &files);
}

#[test]
fn the_validator_catches_a_broken_manifest() {
    // The check above must be able to fail: a field the schema does not know, under --strict.
    let Some(validate) = common::require_tool(
        "kubernetes-validate",
        &["--version"],
        common::VALIDATE_INSTALL,
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    let yaml = common::render_line("rbac").yaml.replace("verbs:", "verbz:");
    std::fs::write(&path, yaml).unwrap();
    let result =
        std::panic::catch_unwind(|| common::validate_files(&validate, std::slice::from_ref(&path)));
    assert!(result.is_err(), "a misspelt field passed validation");
}

#[test]
fn the_newest_schema_is_read_from_the_validator() {
    let Some(validate) = common::require_tool(
        "kubernetes-validate",
        &["--version"],
        common::VALIDATE_INSTALL,
    ) else {
        return;
    };
    let newest = common::newest_schema_version(&validate);
    let minor: u32 = newest.split('.').nth(1).unwrap().parse().unwrap();
    // kubernetes-validate 1.37.0 (what CI installs) knows 1.37; a newer one may know more.
    assert!(newest.starts_with("1.") && minor >= 37, "{newest}");
}
