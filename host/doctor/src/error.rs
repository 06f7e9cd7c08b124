//! Errors of reading the agent's `/status`. Each names the URL; none carries a body.

/// Why `--agent URL` gave no status document.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("--agent {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: HTTP exchange failed: {source}")]
    Http {
        url: String,
        #[source]
        source: hyper::Error,
    },
    #[error("{url}: cannot build the request: {reason}")]
    Request { url: String, reason: String },
    #[error("{url}: HTTP status {code} (is this Herald's --prometheusHTTPServer address?)")]
    Status { url: String, code: u16 },
    #[error("{url}: reading the body failed: {reason}")]
    Body { url: String, reason: String },
    #[error("{url}: not a Herald /status document: {source}")]
    Document {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}
