//! Where a secret flag goes. Never into `args` (they show in `ps` and in the Pod object), and a
//! value the operator typed is never written into the manifest at all:
//!
//! - DaemonSet: the env var comes from a Secret (`secretKeyRef`) the operator creates;
//! - static Pod: the kubelet cannot read Secrets for it, so the env var holds a placeholder to
//!   replace. The kubelet mirrors a static Pod into the apiserver, env values included, so the
//!   header also offers the file flag (`--metalKeyFile`, `--peerPassFile`), whose contents never
//!   reach the API.

use crate::plan::{EnvValue, EnvVar, Workload};

/// The Secret the DaemonSet's secret env vars refer to (namespace kube-system).
pub const SECRET_NAME: &str = "herald-secrets";

/// A secret the agent reads from an env var of its own (`HERALD_<FLAG>`, see the agent's args).
#[derive(Debug, PartialEq, Eq)]
pub struct SecretKind {
    /// The flag the operator gave.
    pub flag: &'static str,
    /// The agent's env var for that flag.
    pub env: &'static str,
    /// The key in [`SECRET_NAME`].
    pub key: &'static str,
    /// What a static Pod's env var holds until the operator replaces it.
    pub placeholder: &'static str,
    /// The file-based alternative for a static Pod, if the agent has one: (flag, host path).
    pub file_alternative: Option<(&'static str, &'static str)>,
    /// What the value is, for the instructions.
    pub what: &'static str,
}

pub const METAL_KEY: SecretKind = SecretKind {
    flag: "--metalKey",
    env: "HERALD_METALKEY",
    key: "metal-api-key",
    placeholder: "REPLACE-WITH-METAL-API-KEY",
    file_alternative: Some(("--metalKeyFile", "/etc/herald/metal-key")),
    what: "the Equinix Metal API key",
};

pub const PEER_PASS: SecretKind = SecretKind {
    flag: "--peerPass",
    env: "HERALD_PEERPASS",
    key: "bgp-peer-pass",
    placeholder: "REPLACE-WITH-BGP-PEER-PASSWORD",
    file_alternative: Some(("--peerPassFile", "/etc/herald/peer-pass")),
    what: "the --peerAddress peer's TCP MD5 password",
};

pub const BGP_PEERS: SecretKind = SecretKind {
    flag: "--bgppeers",
    env: "HERALD_BGPPEERS",
    key: "bgp-peers",
    placeholder: "REPLACE-WITH-BGPPEERS",
    file_alternative: None,
    what: "the whole --bgppeers list (it holds passwords)",
};

/// The env var carrying `kind` in this workload.
pub fn env_var(kind: &SecretKind, workload: Workload) -> EnvVar {
    let value = match workload {
        Workload::Pod => EnvValue::Literal(kind.placeholder.to_owned()),
        Workload::DaemonSet => EnvValue::Secret {
            name: SECRET_NAME.to_owned(),
            key: kind.key.to_owned(),
        },
    };
    EnvVar {
        name: kind.env.to_owned(),
        value,
    }
}

/// Header lines telling the operator how to supply the secrets.
pub fn instructions(kinds: &[&SecretKind], workload: Workload) -> Vec<String> {
    if kinds.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        String::new(),
        "Secrets: no secret is written in this file.".to_owned(),
    ];
    match workload {
        Workload::DaemonSet => {
            lines.push(format!(
                "Create the Secret {SECRET_NAME} before applying (values from your shell, not this file):"
            ));
            let literals: Vec<String> = kinds
                .iter()
                .map(|kind| format!("--from-literal={}=\"${}\"", kind.key, kind.env))
                .collect();
            lines.push(format!(
                "  kubectl -n kube-system create secret generic {SECRET_NAME} {}",
                literals.join(" ")
            ));
            for kind in kinds {
                lines.push(format!("  {}: {}", kind.key, kind.what));
            }
        }
        Workload::Pod => {
            lines.push(
                "A static Pod cannot read Secrets: replace each placeholder on the node, e.g."
                    .to_owned(),
            );
            let edits: Vec<String> = kinds
                .iter()
                .map(|kind| format!("-e \"s|{}|${}|\"", kind.placeholder, kind.env))
                .collect();
            lines.push(format!(
                "  sed -i {} /etc/kubernetes/manifests/herald.yaml",
                edits.join(" ")
            ));
            for kind in kinds {
                lines.push(format!("  {}: {}", kind.placeholder, kind.what));
            }
            let files: Vec<_> = kinds
                .iter()
                .filter_map(|k| k.file_alternative.map(|f| (k, f)))
                .collect();
            if !files.is_empty() {
                lines.push(
                    "The kubelet mirrors this Pod into the apiserver, env values included. Safer: a"
                        .to_owned(),
                );
                lines.push(
                    "root-only file on the host (mounted read-only), by regenerating with"
                        .to_owned(),
                );
                for (kind, (flag, path)) in files {
                    lines.push(format!("  {flag} {path}   (instead of {})", kind.flag));
                    lines.push(format!(
                        "    (umask 077; mkdir -p {}; printf %s \"${}\" > {path})",
                        parent(path),
                        kind.env
                    ));
                }
            }
        }
    }
    lines
}

/// The stderr note for a secret that was kept out of the manifest (never the value itself).
pub fn note(kind: &SecretKind, workload: Workload) -> String {
    match workload {
        Workload::DaemonSet => format!(
            "{} is not written into the manifest: {} comes from Secret {SECRET_NAME}, key {} (see the header)",
            kind.flag, kind.env, kind.key
        ),
        Workload::Pod => format!(
            "{} is not written into the manifest: replace the placeholder {} in {}{}",
            kind.flag,
            kind.placeholder,
            kind.env,
            kind.file_alternative
                .map(|(flag, path)| format!(", or use {flag} {path}"))
                .unwrap_or_default()
        ),
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("/", |(dir, _)| dir)
}
