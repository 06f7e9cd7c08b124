//! The real actuators: herald-bgp's speaker and herald-net's netlink manager.

pub mod bgp;
pub mod net;

pub use bgp::LiveBgp;
pub use net::LiveNet;

use crate::config::AgentConfig;
use crate::reconciler::Reconciler;

/// Starting the real actuators failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("netlink on interface {interface:?}: {source}")]
    Net {
        interface: String,
        #[source]
        source: net::OpenError,
    },
}

/// Starts the speaker (on the current tokio runtime) and opens netlink in the current namespace.
pub async fn reconciler(config: &AgentConfig) -> Result<Reconciler<LiveBgp, LiveNet>, StartError> {
    let net = LiveNet::open(&config.interface)
        .await
        .map_err(|source| StartError::Net {
            interface: config.interface.clone(),
            source,
        })?;
    Ok(Reconciler::new(LiveBgp::start(&config.speaker), net))
}
