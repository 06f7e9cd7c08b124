//! What can be wrong with a `herald manifest` command line beyond what clap checks.

/// A manifest that would not run, refused before it is written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    /// A flag is missing, or flags contradict each other (the message names them).
    #[error("{0}")]
    Flags(String),
    /// A flag's value is not usable in a manifest.
    #[error("{flag}: {reason}")]
    Value { flag: &'static str, reason: String },
}

impl ManifestError {
    pub(crate) fn flags(message: impl Into<String>) -> Self {
        ManifestError::Flags(message.into())
    }

    pub(crate) fn value(flag: &'static str, reason: impl Into<String>) -> Self {
        ManifestError::Value {
            flag,
            reason: reason.into(),
        }
    }
}
