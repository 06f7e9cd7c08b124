//! Test bed for Herald's network tests: network namespaces, veth pairs and real BGP daemons
//! (BIRD 2, GoBGP, FRR) started inside them, with readers for their RIBs and session states;
//! and a real OCI registry on 127.0.0.1 ([`registry::Registry`]).
//!
//! Blocking std APIs only; use [`Netns::run`] to run async code (a tokio runtime you build inside
//! the closure) with its sockets in a namespace.
//!
//! ```no_run
//! # #![allow(clippy::unwrap_used)]
//! use std::time::Duration;
//! use herald_testbed::{Bird, EquinixOptions, Lab, PEER1_V4};
//!
//! // None (after printing why) when not root; panics instead when CI=true.
//! let Some(lab) = Lab::for_test("announce_one") else { return };
//! let topo = lab.equinix(EquinixOptions::default());
//! // An Equinix-like upstream BIRD on 169.254.255.1 (AS 65530), expecting the node as AS 65000 with MD5.
//! let upstream = topo.router_session(PEER1_V4.into(), 65000).password("secret");
//! let bird = Bird::start_sessions(&topo.router, &[upstream]).unwrap();
//! // … start the code under test in topo.node (e.g. topo.node.run(|| { /* tokio runtime */ })) …
//! bird.wait_established("herald", Duration::from_secs(10)).unwrap();
//! bird.wait_routes("master4", 1, Duration::from_secs(10)).unwrap();
//! let routes = bird.routes_v4().unwrap();
//! assert_eq!(routes[0].prefix.to_string(), "198.51.100.7/32");
//! // dropping `lab` kills BIRD and deletes both namespaces
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bird;
mod error;
mod frr;
mod gobgp;
mod lab;
mod netns;
mod process;
pub mod registry;
mod route;
mod session;
mod topology;

pub use bird::Bird;
pub use error::{Result, TestbedError};
pub use frr::Frr;
pub use gobgp::GoBgp;
pub use lab::{Lab, Link};
pub use netns::{KernelAddress, KernelRoute, Netns};
pub use process::{Process, poll};
pub use route::{Family, RouteEntry};
pub use session::PeerConfig;
pub use topology::{
    DirectLab, EQUINIX_AS, EquinixLab, EquinixOptions, NODE_V4, NODE_V6, PEER_V6, PEER1_V4,
    PEER2_V4, ROUTER_V4, ROUTER_V6, RoutedLab,
};
