//! What the reconciler drives: a BGP speaker and the node's netlink. Small traits so the reconciler
//! is tested without root, and so the real speaker and netlink manager plug in unchanged.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use herald_bgp::RouteAttributes;
use ipnet::IpNet;

use crate::config::PeerSpec;

/// An actuator call that failed; the message must never contain a secret.
#[derive(Debug, thiserror::Error)]
#[error("{action}: {source}")]
pub struct ActuatorError {
    pub action: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ActuatorError {
    pub fn new(
        action: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            action: action.into(),
            source: source.into(),
        }
    }
}

/// Items of a batch that failed; every item not listed succeeded.
pub type Failures<T> = Vec<(T, ActuatorError)>;

/// Session state of one peer as the agent reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerState {
    pub address: IpAddr,
    pub established: bool,
    /// FSM state in words ("Established", "Active", …).
    pub state: String,
    pub last_error: Option<String>,
    /// Time since the session became Established.
    pub uptime: Option<Duration>,
    /// Prefixes currently advertised to the peer.
    pub prefixes_advertised: u64,
}

pub trait BgpActuator {
    /// Starts a session (connects out in the background).
    fn add_peer(&self, peer: &PeerSpec) -> impl Future<Output = Result<(), ActuatorError>> + Send;
    /// Ends a session, withdrawing what it carried.
    fn remove_peer(
        &self,
        address: IpAddr,
    ) -> impl Future<Output = Result<(), ActuatorError>> + Send;
    /// Announces prefixes to every peer (now and after every reconnect); announcing a prefix again
    /// with other attributes replaces them.
    fn announce(
        &self,
        prefixes: &[(IpNet, RouteAttributes)],
    ) -> impl Future<Output = Result<(), ActuatorError>> + Send;
    fn withdraw(
        &self,
        prefixes: &[IpNet],
    ) -> impl Future<Output = Result<(), ActuatorError>> + Send;
    fn peer_states(&self) -> Vec<PeerState>;
    /// Withdraws everything, then closes every session with an RFC 8203 shutdown communication.
    fn shutdown(&self, communication: &str, deadline: Duration) -> impl Future<Output = ()> + Send;
}

pub trait NetActuator {
    /// Puts addresses on the VIP interface (idempotent).
    fn add_addresses(&self, addresses: &[IpNet]) -> impl Future<Output = Failures<IpNet>> + Send;
    /// Removes addresses this agent put there.
    fn remove_addresses(&self, addresses: &[IpNet])
    -> impl Future<Output = Failures<IpNet>> + Send;
    /// Installs (or replaces) a host route to `peer` via `gateway`.
    fn ensure_peer_route(
        &self,
        peer: IpAddr,
        gateway: IpAddr,
    ) -> impl Future<Output = Result<(), ActuatorError>> + Send;
    fn remove_peer_route(
        &self,
        peer: IpAddr,
    ) -> impl Future<Output = Result<(), ActuatorError>> + Send;
    /// Removes whatever this agent added that is still there (last step of a shutdown).
    fn cleanup(&self) -> impl Future<Output = Result<(), ActuatorError>> + Send;
}
