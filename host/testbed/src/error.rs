//! Errors of the test bed. Each names the command or daemon involved so a failing test explains itself.

use std::time::Duration;

/// Anything that can go wrong while building a lab or talking to a daemon.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    /// An external command (`ip`, `birdc`, `gobgp`, `vtysh`) exited unsuccessfully.
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    /// A daemon exited or did not answer its control channel in time.
    #[error(
        "{daemon} did not become ready within {timeout:?}: {detail}\n--- {daemon} log (tail) ---\n{log}"
    )]
    NotReady {
        daemon: String,
        timeout: Duration,
        detail: String,
        log: String,
    },
    /// A wait for some state ran out of time.
    #[error("timed out after {timeout:?} waiting for {what} (last seen: {last})")]
    Timeout {
        what: String,
        timeout: Duration,
        last: String,
    },
    /// Daemon output did not have the expected shape.
    #[error("cannot parse {what}: {detail}")]
    Parse { what: String, detail: String },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, TestbedError>;
