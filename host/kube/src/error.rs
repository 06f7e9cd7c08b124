//! The crate's one error type: every variant names what was being done.

/// Errors from connecting to or writing to the apiserver.
///
/// Messages name the operation and the object (`writing status of Service default/web: …`);
/// they never carry tokens or certificates.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// No usable client configuration; `tried` says which one was tried.
    #[error("loading Kubernetes client config from {tried}: {message}")]
    Config {
        /// What was tried: `kubeconfig /path`, `$KUBECONFIG (…)` or `in-cluster config`.
        tried: String,
        /// Why it failed.
        message: String,
    },
    /// The configuration loaded, but no client could be built from it (TLS setup, URL).
    #[error("building Kubernetes client from {tried}: {error}")]
    Client {
        /// Where the configuration came from.
        tried: String,
        /// The client builder's error.
        #[source]
        error: kube::Error,
    },
    /// An API request failed.
    #[error("{action}: {error}")]
    Api {
        /// What was being done, e.g. `writing status of Service default/web`.
        action: String,
        /// The request's error.
        #[source]
        error: kube::Error,
    },
}

impl KubeError {
    /// Wraps a request error with what was being done.
    pub(crate) fn api(action: impl Into<String>, error: kube::Error) -> Self {
        KubeError::Api {
            action: action.into(),
            error,
        }
    }

    /// True when the apiserver answered 409 Conflict (someone else wrote first).
    pub fn is_conflict(&self) -> bool {
        matches!(self, KubeError::Api { error: kube::Error::Api(s), .. } if s.is_conflict())
    }

    /// True when the apiserver answered 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Api { error: kube::Error::Api(s), .. } if s.is_not_found())
    }
}
