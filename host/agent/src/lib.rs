//! Desired state and reconciler joining providers, BGP and netlink.
//!
//! Static mode: [`config::AgentConfig`] from kube-vip-style flags → [`desired::DesiredState`] →
//! [`reconciler::Reconciler`] applying the difference through a [`actuator::BgpActuator`] and a
//! [`actuator::NetActuator`]. Kubernetes mode ([`node_agent`]): a provider, the Kubernetes
//! watches and the flags feed the same desired state and reconciler; [`observe`] serves metrics,
//! health and status.

pub mod actuator;
pub mod bgp_peers;
pub mod config;
pub mod desired;
pub mod discovered;
pub mod error;
pub mod live;
pub mod node_agent;
pub mod node_network;
pub mod observe;
pub mod plan;
pub mod reconciler;
pub mod runner;
pub mod secret;
pub mod services;
pub mod session_log;
pub mod vips;

pub use actuator::{ActuatorError, BgpActuator, NetActuator, PeerState};
pub use config::{AgentConfig, FlagSettings, PeerSpec, SpeakerSettings, StaticFlags};
pub use desired::DesiredState;
pub use error::ConfigError;
pub use reconciler::{Reconciler, SHUTDOWN_COMMUNICATION};
pub use runner::{RunSummary, run_static};
pub use secret::Secret;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod reconciler_tests;
