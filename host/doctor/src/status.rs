//! The verdict of one check.

use serde::Serialize;

/// `ok` and `fail` are verdicts; `info` explains without judging (nothing to check, e.g. a node
/// without BGP annotations, or a peer without a source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    Info,
}

impl Status {
    /// `Ok` when `good`, else `Fail`.
    pub fn of(good: bool) -> Self {
        if good { Self::Ok } else { Self::Fail }
    }

    pub fn is_fail(self) -> bool {
        self == Self::Fail
    }
}
