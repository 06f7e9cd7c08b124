//! Shared by the integration tests: running a `herald manifest` command line through the real
//! flag parser, and finding the external tools (kubernetes-validate, kubectl).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use herald_manifest::{ManifestCommand, ManifestError, Rendered, render};

#[derive(Parser)]
#[command(name = "manifest")]
struct Cli {
    #[command(subcommand)]
    command: ManifestCommand,
}

/// `line` as typed after `herald manifest` (split on whitespace).
pub fn try_render(line: &str) -> Result<Rendered, ManifestError> {
    let cli = Cli::try_parse_from(std::iter::once("manifest").chain(line.split_whitespace()))
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    render(&cli.command)
}

pub fn render_line(line: &str) -> Rendered {
    try_render(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// The clap error for a command line clap itself refuses.
pub fn clap_error(line: &str) -> String {
    match Cli::try_parse_from(std::iter::once("manifest").chain(line.split_whitespace())) {
        Ok(_) => panic!("{line}: clap accepted it"),
        Err(e) => e.to_string(),
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A tool the test needs: `Some(program)` if it runs; otherwise, under `CI=true` the test
/// fails saying what to install, and elsewhere it prints a note and the caller returns.
pub fn require_tool(program: &str, probe: &[&str], install: &str) -> Option<String> {
    let works = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|out| out.status.success());
    if works {
        return Some(program.to_owned());
    }
    let message = format!("{program} is not installed or does not run; install it: {install}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("note: skipping: {message}");
    None
}

pub const VALIDATE_INSTALL: &str = "pip install kubernetes-validate==1.37.0";

/// The newest Kubernetes version the installed kubernetes-validate knows (its default for
/// `-k`, which its help prints), so a newer package is used without editing the tests.
pub fn newest_schema_version(program: &str) -> String {
    let out = Command::new(program).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    help.split("Defaults to ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|v| v.trim_end_matches('.').to_owned())
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| "1.37.0".to_owned())
}

/// Validates files strictly against Kubernetes 1.28 and the newest schema the validator has; fails
/// on a non-zero exit AND on any output (with --quiet it prints only warnings and failures,
/// and a missing schema is only a warning with exit status 0).
pub fn validate_files(program: &str, files: &[PathBuf]) {
    let newest = newest_schema_version(program);
    let out = Command::new(program)
        .args(["--strict", "--quiet", "-k", "1.28.0", "-k", &newest])
        .args(files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim().is_empty() && stderr.trim().is_empty(),
        "kubernetes-validate (1.28.0, {newest}) failed on {files:?}:\n{stdout}{stderr}"
    );
}

/// Every command line with a golden file `tests/snapshots/<name>.yaml`; all are also validated
/// against the Kubernetes schemas. The first four are the documented Equinix recipes.
pub const CASES: &[(&str, &str)] = &[
    (
        "pod-metal-api",
        "pod --interface lo --vip 203.0.113.10 --controlplane --services --bgp --metal \
         --metalKey s3cr3t-metal-key --metalProjectID 4d2cc9a4-5d1e-4f1b-9a67-0d1a2b3c4d5e",
    ),
    (
        "pod-static-peer",
        "pod --interface lo --vip 203.0.113.10 --controlplane --services --bgp --peerAS 65530 \
         --peerAddress 169.254.255.1 --localAS 65000 --bgpRouterID 10.70.17.9",
    ),
    (
        "daemonset-annotations",
        "daemonset --interface lo --services --bgp --annotations metal.equinix.com --inCluster",
    ),
    (
        "daemonset-cloud-sa",
        "daemonset --interface lo --services --inCluster --bgp --metal \
         --provider-config /etc/cloud-sa/cloud-sa.json",
    ),
    ("rbac", "rbac"),
    (
        "daemonset-taint",
        "daemonset --interface lo --vip 203.0.113.10 --controlplane=true --services \
         --annotations metal.equinix.com --inCluster --taint --leaderElection",
    ),
    (
        "pod-md5-file-and-listener",
        "pod --interface lo --vip 203.0.113.10 --controlplane --peerAddress 169.254.255.1 \
         --peerAS 65530 --peerPass md5-s3cr3t --metal --metalKeyFile /etc/herald/metal-key \
         --prometheusHTTPServer 127.0.0.1:9100 --k8sConfigPath /etc/kubernetes/super-admin.conf",
    ),
    (
        "daemonset-secret-refs",
        "daemonset --interface lo --services --metal --metalKey s3cr3t-metal-key \
         --metalProjectID 4d2cc9a4-5d1e-4f1b-9a67-0d1a2b3c4d5e \
         --bgppeers 169.254.255.1:65530:md5-s3cr3t,169.254.255.2:65530:md5-s3cr3t \
         --image registry.example/herald",
    ),
    (
        "daemonset-oci-provider",
        "daemonset --interface lo --services --inCluster \
         --provider oci://registry.example:5000/herald/equinix-annotations:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
         --config prefix=metal.equinix.com --insecure-registry registry.example:5000",
    ),
    (
        "daemonset-oci-registry-secret",
        "daemonset --interface lo --services --inCluster \
         --provider oci://registry.example:5000/herald/equinix-annotations:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
         --config prefix=metal.equinix.com --registry-secret herald-registry",
    ),
    (
        "pod-oci-registry-config-file",
        "pod --interface lo --vip 203.0.113.10 --controlplane --peerAddress 169.254.255.1 \
         --peerAS 65530 \
         --provider oci://registry.example:5000/herald/equinix-annotations:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
         --config prefix=metal.equinix.com --registry-config-file /etc/herald/registry.json",
    ),
];

/// A pinned provider reference of the right form (the digest of nothing real).
pub const OCI_PROVIDER: &str = "oci://registry.example:5000/herald/equinix-annotations:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Values in CASES that must never appear in any output.
pub const SECRETS: &[&str] = &["s3cr3t-metal-key", "md5-s3cr3t"];
