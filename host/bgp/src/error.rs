//! Errors of the public API.

use std::net::IpAddr;

/// Errors returned by [`crate::Speaker`].
#[derive(Debug, thiserror::Error)]
pub enum BgpError {
    /// The speaker was started outside a tokio runtime and none is current now.
    #[error("no tokio runtime to run the BGP session on")]
    NoRuntime,
    /// The configuration is unusable.
    #[error("invalid peer configuration for {address}: {reason}")]
    InvalidConfig {
        /// Peer address.
        address: IpAddr,
        /// What is wrong.
        reason: String,
    },
    /// No peer with that address.
    #[error("unknown peer {0}")]
    UnknownPeer(IpAddr),
    /// The session did not reach Established in time.
    #[error(
        "peer {address} not established after {waited_ms} ms (state {state}, last error: {last_error})"
    )]
    NotEstablished {
        /// Peer address.
        address: IpAddr,
        /// How long we waited.
        waited_ms: u128,
        /// State at the deadline.
        state: crate::SessionState,
        /// Last error recorded for the session, or "none".
        last_error: String,
    },
    /// The speaker has been shut down.
    #[error("the BGP speaker is shut down")]
    ShutDown,
}
