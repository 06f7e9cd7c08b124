//! Building a `kube::Client` the way kube-vip finds its configuration.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::KubeError;

/// Connects using kube-vip's order: `--k8sConfigPath` if given, else `$KUBECONFIG`, else the
/// in-cluster service-account config. The error names the source that was tried.
///
/// No request is made here: an unreachable apiserver shows up in the first watch or write.
pub async fn connect(config_path: Option<&Path>) -> Result<kube::Client, KubeError> {
    connect_with(config_path, std::env::var_os("KUBECONFIG")).await
}

/// [`connect`] with `$KUBECONFIG` passed in (tests must not set process environment).
async fn connect_with(
    config_path: Option<&Path>,
    kubeconfig_env: Option<OsString>,
) -> Result<kube::Client, KubeError> {
    install_crypto_provider();
    let (tried, config) = match config_path {
        Some(path) => {
            let tried = format!("kubeconfig {}", path.display());
            let config = from_file(path).await;
            (tried, config)
        }
        None => match kubeconfig_env.filter(|v| !v.is_empty()) {
            Some(value) => {
                let tried = format!("$KUBECONFIG ({})", value.to_string_lossy());
                (tried, from_env_value(&value).await)
            }
            None => (
                "in-cluster config".to_string(),
                Config::incluster().map_err(|e| e.to_string()),
            ),
        },
    };
    let config = config.map_err(|message| KubeError::Config {
        tried: tried.clone(),
        message,
    })?;
    kube::Client::try_from(config).map_err(|error| KubeError::Client { tried, error })
}

async fn from_file(path: &Path) -> Result<Config, String> {
    // Checked first so a missing file says so plainly rather than as a YAML error.
    if !path.exists() {
        return Err("file does not exist".to_string());
    }
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| e.to_string())?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())
}

/// `$KUBECONFIG` may list several files (`:`-separated); they are merged, first one wins.
async fn from_env_value(value: &OsStr) -> Result<Config, String> {
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(value).filter(|p| !p.as_os_str().is_empty()) {
        if !path.exists() {
            return Err(format!("{} does not exist", path.display()));
        }
        let next = Kubeconfig::read_from(&path).map_err(|e| e.to_string())?;
        merged = Some(match merged {
            Some(m) => m.merge(next).map_err(|e| e.to_string())?,
            None => next,
        });
    }
    let kubeconfig = merged.ok_or_else(|| "it names no file".to_string())?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())
}

/// kube is built without a crypto-backend feature (so the workspace links one TLS backend, ring);
/// rustls then needs a process default before the first client is built.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only means another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: \"http://127.0.0.1:1\"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
";

    #[tokio::test]
    async fn kubeconfig_env_is_used_when_no_path_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let client = connect_with(None, Some(path.clone().into_os_string())).await;
        assert!(client.is_ok(), "{:?}", client.err());
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_env_file_is_named() {
        let Err(err) = connect_with(None, Some("/nonexistent/kubeconfig".into())).await else {
            panic!("connected without a config");
        };
        let text = err.to_string();
        assert!(
            text.contains("$KUBECONFIG (/nonexistent/kubeconfig)"),
            "{text}"
        );
        assert!(text.contains("does not exist"), "{text}");
    }

    #[tokio::test]
    async fn the_path_wins_over_the_env() {
        let Err(err) = connect_with(
            Some(Path::new("/nonexistent/admin.conf")),
            Some("/also/missing".into()),
        )
        .await
        else {
            panic!("connected without a config");
        };
        assert_eq!(
            err.to_string(),
            "loading Kubernetes client config from kubeconfig /nonexistent/admin.conf: file does not exist"
        );
    }

    #[tokio::test]
    async fn without_path_or_env_in_cluster_config_is_tried() {
        // Outside a pod this fails, naming the source; inside one it may well succeed.
        if let Err(err) = connect_with(None, None).await {
            assert!(err.to_string().contains("in-cluster config"), "{err}");
        }
    }
}
