//! Kubernetes inputs and writes for Herald: the own Node, LoadBalancer Services and
//! EndpointSlices (watchers sending compact, deduplicated events), Lease election, Service
//! status and Events. Knows nothing of BGP or Wasm.
//!
//! Layout: [`client`] (finding the config), `wire` (lean decoding of watched kinds), [`types`]
//! (the compact views), [`watch`], [`node`] (one Node, read once), [`election`], [`status`],
//! [`events`], [`error`].

pub mod client;
pub mod election;
pub mod error;
pub mod events;
pub mod node;
pub mod status;
pub mod types;
pub mod watch;
mod wire;

pub use client::connect;
pub use election::{LeaderElector, LeaseConfig};
pub use error::KubeError;
pub use events::{EventKind, EventSink};
/// The client type the functions here take, so callers need no direct kube dependency.
pub use kube::Client;
pub use node::get_node;
pub use status::write_service_ingress;
pub use types::{
    NodeInfo, ObjectKey, SERVICE_ANNOTATION_PREFIXES, ServiceInfo, ServicePort, SliceInfo,
    is_herald_service_annotation,
};
pub use watch::{KubeEvent, WatchConfig, WatchHandle, spawn_watchers};
