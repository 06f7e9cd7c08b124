//! Kubernetes mode: provider + watches + static flags → desired state → BGP, netlink and
//! Kubernetes writes. Data flows one way; every input event recomputes the whole desired state
//! (level-triggered), and an input that becomes unavailable changes nothing.

pub mod backoff;
pub mod compute;
pub mod config;
mod heap;
pub mod inputs;
mod kube_side;
pub mod provider;
pub mod run;
#[cfg(test)]
mod run_tests;
mod status_queue;

pub use compute::{Computed, StatusWrite, compute};
pub use config::{KubeSettings, NodeAgentConfig};
pub use inputs::Inputs;
pub use provider::{ProviderOutcome, ProviderSetup};
pub use run::run_node_agent;
