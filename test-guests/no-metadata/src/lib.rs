//! A well-formed provider component that lacks the `herald:provider-metadata` section.

wit_bindgen::generate!({
    world: "provider",
    path: "../../wit/0.1.0",
    generate_all,
});

use exports::herald::provider::peer_discovery::Guest;
use herald::provider::types::{Discovery, NodeContext, ProviderError};

struct NoMetadata;

impl Guest for NoMetadata {
    fn configure(_config: Vec<(String, String)>) -> Result<(), ProviderError> {
        Ok(())
    }

    fn discover(_node: NodeContext) -> Result<Discovery, ProviderError> {
        Ok(Discovery {
            peers: Vec::new(),
            refresh_after_seconds: None,
        })
    }
}

export!(NoMetadata);
