//! Every failure names what was wrong and where (which file, registry or reference).
//!
//! No variant carries credentials: registry errors are built from oci-client's messages, which
//! hold URLs and registry responses but never the `Authorization` header, and the tests check
//! that a password given to a failing push or pull appears nowhere in the error chain.

use std::fmt;
use std::path::PathBuf;

/// The boxed cause of a registry failure (oci-client's error), kept out of the public API's types.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which part of an OCI reference is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferencePart {
    Scheme,
    Registry,
    Repository,
    Tag,
    Digest,
}

impl fmt::Display for ReferencePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReferencePart::Scheme => "scheme",
            ReferencePart::Registry => "registry",
            ReferencePart::Repository => "repository",
            ReferencePart::Tag => "tag",
            ReferencePart::Digest => "digest",
        })
    }
}

/// Errors of [`crate::push`], [`crate::pull`] and their helpers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid OCI reference `{reference}`: {part}: {reason}")]
    InvalidReference {
        reference: String,
        part: ReferencePart,
        reason: String,
    },

    #[error(
        "`{reference}` is not pinned: pulling a provider needs its digest \
         (oci://registry/repository[:tag]@sha256:<64 hex>) so that exactly the pushed component \
         runs; `herald provider push` prints it"
    )]
    Unpinned { reference: String },

    #[error(
        "plain HTTP to registry `{registry}` refused: only loopback registries (127.0.0.0/8, ::1, \
         localhost) and those listed as insecure registries may be reached without TLS"
    )]
    InsecureRefused { registry: String },

    #[error("{what} is not a WebAssembly component: {reason}")]
    NotAComponent { what: String, reason: String },

    #[error(
        "digest mismatch for the {what} of `{reference}`: expected {expected}, \
         the registry served {actual}"
    )]
    DigestMismatch {
        reference: String,
        what: &'static str,
        expected: String,
        actual: String,
    },

    #[error(
        "digest mismatch for `{reference}`: expected {expected} (the pinned digest), but the \
         registry has no manifest with that digest and its tag `{tag}` is {found}; pin the digest \
         `herald provider push` printed for the component you mean"
    )]
    TagMismatch {
        reference: String,
        tag: String,
        expected: String,
        found: String,
    },

    #[error(
        "`{reference}` is not a Wasm component artifact (config \
         application/vnd.wasm.config.v0+json with one application/wasm layer): {found}"
    )]
    NotAWasmArtifact { reference: String, found: String },

    #[error("{what} of `{reference}` is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge {
        reference: String,
        what: &'static str,
        size: u64,
        limit: u64,
    },

    #[error("registry `{registry}` is unreachable while trying to {operation}: {reason}")]
    Unreachable {
        registry: String,
        operation: &'static str,
        /// The innermost cause ("Connection refused", a TLS alert), which says the most.
        reason: String,
        #[source]
        source: Cause,
    },

    #[error("registry `{registry}` refused access while trying to {operation}: {reason}")]
    Unauthorized {
        registry: String,
        operation: &'static str,
        /// Whether credentials were sent, in words; never the credentials themselves.
        reason: String,
        #[source]
        source: Cause,
    },

    #[error(
        "registry `{registry}` has no {what} for `{reference}` (check the repository and the \
         digest): {reason}"
    )]
    NotFound {
        registry: String,
        reference: String,
        what: &'static str,
        reason: String,
        #[source]
        source: Cause,
    },

    #[error("registry `{registry}` failed to {operation}: {reason}")]
    Registry {
        registry: String,
        operation: &'static str,
        reason: String,
        #[source]
        source: Cause,
    },

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cache {}: {source}", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("Docker config {}: {reason}", path.display())]
    DockerConfig { path: PathBuf, reason: String },

    #[error("cannot set up the registry client: {source}")]
    Client {
        #[source]
        source: Cause,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
