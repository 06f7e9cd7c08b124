//! Host bindings per provider WIT version (one module per released `wit/<version>`, as Zed keeps
//! `since_vX` modules): a provider is linked against the version it was built for.

pub mod since_v0_1_0;
pub mod since_v0_2_0;

/// `herald:provider` versions this host can run, oldest first.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &[since_v0_1_0::WIT_VERSION, since_v0_2_0::WIT_VERSION];

/// The export a component built for `wit_version` must have.
pub fn required_export(wit_version: &str) -> String {
    format!("herald:provider/peer-discovery@{wit_version}")
}
