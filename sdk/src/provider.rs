//! The trait a provider implements.

use crate::{Config, Discovery, HttpClient, NodeContext, ProviderError};

/// A peer-discovery provider. The host creates a fresh instance for every call, runs
/// [`Provider::configure`] with the operator's configuration, then [`Provider::discover`]; no
/// state survives between calls. Implementors also implement `Default` (the initial state).
pub trait Provider {
    /// Reads and validates the configuration. The default accepts anything.
    fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
        let _ = config;
        Ok(())
    }

    /// Turns the node's facts (and, through `http`, granted hosts) into BGP peers.
    fn discover(
        &self,
        node: &NodeContext,
        http: &dyn HttpClient,
    ) -> Result<Discovery, ProviderError>;
}
