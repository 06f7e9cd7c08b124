//! Providers from OCI registries: `oci://registry/repository[:tag]@sha256:<hex>`, pulled once,
//! verified against the pinned digest and cached by it (herald-oci does the work), and the
//! registry flags every command that takes a provider shares (`herald agent`, `provider
//! run|inspect|push`, `doctor`).
//!
//! Credentials come from `--registry-username` with `--registry-password-file`, else the Docker
//! config file (`--registry-config`, else `$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`; a missing file means anonymous). The password is read from a file
//! only, so it is never in `ps` or shell history, and it is never logged or put in an error.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use herald_oci::{Credentials, Options, Reference};

use super::locate;

/// Where the agent's cache lives when no environment variable names one (root on a node, no
/// `HOME`); the manifests mount this host directory at the same path.
pub const SYSTEM_CACHE_DIR: &str = "/var/cache/herald";

/// How registries are reached: plain HTTP exceptions and credentials.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Reach this registry over plain HTTP (registries on loopback always may): `host` (any
    /// port) or `host:port`. Repeatable.
    #[arg(
        long = "insecure-registry",
        env = "HERALD_INSECURE_REGISTRY",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    pub insecure_registries: Vec<String>,

    /// Docker config file holding the registry's credentials (`auths`; credential helpers are
    /// not run). Default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json; a missing file
    /// means anonymous access.
    #[arg(
        long = "registry-config",
        env = "HERALD_REGISTRY_CONFIG",
        value_name = "FILE",
        conflicts_with = "registry_username"
    )]
    pub registry_config: Option<PathBuf>,

    /// User name for the registry, with --registry-password-file.
    #[arg(
        long = "registry-username",
        env = "HERALD_REGISTRY_USERNAME",
        value_name = "USER",
        requires = "registry_password_file"
    )]
    pub registry_username: Option<String>,

    /// File holding the registry password or token for --registry-username (never given on the
    /// command line itself; one trailing newline is ignored).
    #[arg(
        long = "registry-password-file",
        env = "HERALD_REGISTRY_PASSWORD_FILE",
        value_name = "FILE",
        requires = "registry_username"
    )]
    pub registry_password_file: Option<PathBuf>,
}

impl RegistryArgs {
    /// herald-oci's options for `reference`: the cache, insecure registries and credentials.
    pub fn options(&self, reference: &Reference) -> anyhow::Result<Options> {
        let credentials = match (&self.registry_username, &self.registry_password_file) {
            (Some(username), Some(file)) => Some(Credentials::new(username, read_password(file)?)),
            (None, None) => match &self.registry_config {
                Some(path) => Credentials::from_docker_config_file(path, reference.registry())
                    .with_context(|| format!("--registry-config {}", path.display()))?,
                // herald-oci reads the default Docker config file itself.
                None => None,
            },
            // clap's `requires` makes these two go together.
            _ => bail!("--registry-username and --registry-password-file go together"),
        };
        Ok(Options {
            cache_dir: cache_dir(),
            insecure_registries: self.insecure_registries.clone(),
            credentials,
        })
    }
}

/// The password file's content. Errors name the file, never what is in it.
fn read_password(file: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("--registry-password-file: cannot read {}", file.display()))?;
    let Ok(text) = String::from_utf8(bytes) else {
        bail!(
            "--registry-password-file {}: not UTF-8 text",
            file.display()
        );
    };
    let password = text
        .strip_suffix('\n')
        .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
        .unwrap_or(&text);
    if password.is_empty() {
        bail!("--registry-password-file {} is empty", file.display());
    }
    Ok(password.to_owned())
}

/// The OCI cache root: the provider cache directory ([`locate::cache_dir`]: `$HERALD_CACHE_DIR`,
/// else `$XDG_CACHE_HOME/herald`, else `~/.cache/herald`), else [`SYSTEM_CACHE_DIR`]. Components
/// go to `<root>/oci/sha256/<manifest hex>/component.wasm`.
pub fn cache_dir() -> PathBuf {
    locate::cache_dir().unwrap_or_else(|| PathBuf::from(SYSTEM_CACHE_DIR))
}

/// Whether a provider argument is a registry reference rather than a name or a path.
pub fn is_reference(arg: &str) -> bool {
    ["oci://", "http://", "https://"]
        .iter()
        .any(|scheme| arg.starts_with(scheme))
}

/// Parses `arg` as a provider reference; `oci://` may be left out (as for `provider push`).
pub fn parse(arg: &str) -> anyhow::Result<Reference> {
    Ok(Reference::parse(arg)?)
}

/// The verified cached component of the pinned reference `arg`: from the cache when it holds a
/// verified copy (no connection: a registry that is down does not matter), else pulled now.
pub async fn pull(arg: &str, registry: &RegistryArgs) -> anyhow::Result<PathBuf> {
    let reference = parse(arg)?;
    let options = registry.options(&reference)?;
    let pulled = herald_oci::pull_with_origin(&reference, &options)
        .await
        .with_context(|| format!("provider {reference}"))?;
    tracing::info!(
        reference = %reference,
        digest = %reference.digest().map(ToString::to_string).unwrap_or_default(),
        from = %pulled.origin,
        path = %pulled.path.display(),
        "provider component from OCI"
    );
    Ok(pulled.path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn references_are_told_from_names_and_paths() {
        assert!(is_reference("oci://registry.example/herald/p:v1"));
        assert!(is_reference("http://127.0.0.1:5000/herald/p:v1"));
        assert!(!is_reference("equinix-annotations"));
        assert!(!is_reference("./equinix-annotations.wasm"));
    }

    #[test]
    fn the_password_file_loses_one_trailing_newline_and_is_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cr3t-Pa55\n").unwrap();
        assert_eq!(read_password(&file).unwrap(), "s3cr3t-Pa55");
        std::fs::write(&file, "s3cr3t-Pa55\r\n").unwrap();
        assert_eq!(read_password(&file).unwrap(), "s3cr3t-Pa55");
        std::fs::write(&file, "\n").unwrap();
        let err = read_password(&file).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
        std::fs::write(&file, b"s3cr3t\xff").unwrap();
        let err = read_password(&file).unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        let missing = read_password(&dir.path().join("absent")).unwrap_err();
        assert!(format!("{missing:#}").contains("absent"), "{missing:#}");
    }

    #[tokio::test]
    async fn an_unpinned_reference_is_refused_before_any_connection() {
        // Port 9 on loopback: had a connection been tried, the error would be another one.
        let err = pull("oci://127.0.0.1:9/herald/p:v1", &RegistryArgs::default())
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("not pinned"), "{text}");
        assert!(text.contains("@sha256:"), "{text}");
        assert!(text.contains("herald provider push"), "{text}");
    }
}
