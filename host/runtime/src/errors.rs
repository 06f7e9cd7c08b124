//! Typed errors of the provider runtime. Errors that cross the guest boundary carry the provider
//! identity (`provider "equinix-api" 0.1.0`) so logs and CLI output say which plugin failed.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

/// The engine could not be set up.
#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot link the host interfaces: {0}")]
    Linker(String),
}

/// A provider file could not be loaded. Display names the file and the problem.
#[derive(Debug, Error)]
#[error("cannot load provider {}: {problem}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: LoadProblem,
}

/// What was wrong with a provider file.
#[derive(Debug, Error)]
pub enum LoadProblem {
    #[error("cannot read the file: {0}")]
    Read(#[source] std::io::Error),
    #[error("not a WebAssembly file (no \\0asm header)")]
    NotWasm,
    #[error("a core WebAssembly module, not a component (build providers for wasm32-wasip2)")]
    CoreModule,
    #[error("malformed component: {0}")]
    Malformed(String),
    #[error(
        "no `herald:provider-metadata` custom section (build the provider with herald-sdk's export macro)"
    )]
    MissingMetadata,
    #[error("invalid provider metadata: {0}")]
    BadMetadata(String),
    #[error(
        "built for herald:provider@{found}; this host loads {}",
        supported_list(supported)
    )]
    UnsupportedWitVersion {
        found: String,
        supported: Vec<String>,
    },
    #[error("does not export `{expected}` (it exports: {})", if found.is_empty() { "nothing".to_string() } else { found.join(", ") })]
    MissingExport {
        expected: String,
        found: Vec<String>,
    },
    #[error("cannot compile: {0}")]
    Compile(String),
    #[error("cannot link against the host: {0}")]
    Link(String),
}

/// `herald:provider@0.1.0 and @0.2.0` (`@0.1.0, @0.2.0 and @0.3.0` for three).
fn supported_list(supported: &[String]) -> String {
    let mut text = String::from("herald:provider");
    for (index, version) in supported.iter().enumerate() {
        let separator = match index {
            0 => "",
            _ if index + 1 == supported.len() => " and ",
            _ => ", ",
        };
        text.push_str(separator);
        text.push('@');
        text.push_str(version);
    }
    text
}

/// An operator grant (`--allow-host`) could not be parsed.
#[derive(Debug, Error)]
pub enum GrantError {
    #[error("empty --allow-host value")]
    Empty,
    #[error("invalid --allow-host {value:?}: {reason}")]
    Invalid { value: String, reason: String },
}

/// What a provider reported through its `provider-error` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// Inputs not there yet: retry, keep the last good peers.
    NotReady,
    /// Bad annotation, config or response body.
    InvalidInput,
    /// Network or API failure: retry with backoff.
    Unreachable,
    /// Credentials refused.
    Unauthorized,
}

impl std::fmt::Display for ProviderErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotReady => "not ready",
            Self::InvalidInput => "invalid input",
            Self::Unreachable => "unreachable",
            Self::Unauthorized => "unauthorized",
        })
    }
}

/// An error the provider itself returned.
#[derive(Debug, Clone, Error)]
#[error("{provider}: {kind}: {message}")]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    pub message: String,
    /// `provider "name" version`, for messages.
    pub provider: String,
}

/// A `configure` or `discover` call failed.
#[derive(Debug, Error)]
pub enum CallError {
    #[error("{provider}: outgoing HTTP to {host} denied: {reason}")]
    Denied {
        provider: String,
        host: String,
        reason: String,
    },
    #[error("{provider}: call stopped after its {} ms deadline", deadline.as_millis())]
    Timeout {
        provider: String,
        deadline: Duration,
    },
    #[error("{provider}: out of memory (limit {limit_bytes} bytes)")]
    OutOfMemory {
        provider: String,
        limit_bytes: usize,
    },
    #[error("{provider}: trapped: {message}")]
    Trap { provider: String, message: String },
    #[error(transparent)]
    Provider(ProviderError),
    #[error("{provider}: invalid output: peer {peer_index}: {field}: {message}")]
    InvalidOutput {
        provider: String,
        peer_index: usize,
        field: &'static str,
        message: String,
    },
    #[error("{provider}: cannot instantiate: {message}")]
    Instantiate { provider: String, message: String },
    #[error("{provider}: invalid configuration: {message}")]
    InvalidConfig { provider: String, message: String },
}

impl CallError {
    /// True when the provider asked to be retried later without it being a failure.
    pub fn is_not_ready(&self) -> bool {
        matches!(
            self,
            Self::Provider(ProviderError {
                kind: ProviderErrorKind::NotReady,
                ..
            })
        )
    }
}
