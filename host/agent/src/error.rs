//! Configuration errors. Every message names the flag and the bad value, never a password.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{flag}: invalid value {value:?}: {reason}")]
    Invalid {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("{flag} is required: {hint}")]
    Missing {
        flag: &'static str,
        hint: &'static str,
    },
    #[error("{flag}: cannot read {path}: {source}")]
    ReadFile {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{flag}: {reason}")]
    Unsupported { flag: &'static str, reason: String },
}

impl ConfigError {
    pub(crate) fn invalid(
        flag: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            flag,
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// The flag the error is about, for callers that want to point at it.
    pub fn flag(&self) -> &'static str {
        match self {
            Self::Invalid { flag, .. }
            | Self::Missing { flag, .. }
            | Self::ReadFile { flag, .. }
            | Self::Unsupported { flag, .. } => flag,
        }
    }
}
