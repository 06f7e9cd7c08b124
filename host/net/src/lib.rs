//! Netlink actuator: VIP addresses on an interface (usually `lo`) and host routes to BGP peers.
//!
//! # What is Herald's
//!
//! Herald removes only what it added, also after a crash:
//! - **Routes** carry `rtm_protocol` = [`HERALD_ROUTE_PROTOCOL`] (72, shown by `ip route` as
//!   `proto 72`). No other user of that number is known (kernel uapi, iproute2 and FRR's lists stop
//!   short of it; kube-vip uses 248).
//! - **Addresses** carry the address protocol `IFA_PROTO` = [`HERALD_ADDRESS_PROTOCOL`] (same number;
//!   kernel ≥ 6.3, shown by `ip addr` as `proto 72` / `proto 0x48`). An address without that tag —
//!   e.g. one an operator added before Herald started — is never removed, even when Herald was told
//!   to announce the same VIP. Labels were not used: IPv6 addresses have none.
//!
//! [`NetManager::cleanup`] deletes every address and main-table route with those tags, which is also
//! how a restarted agent clears what a crashed one left.
//!
//! [`inspect`] reads routes and addresses without changing anything (for `herald doctor`).
//!
//! `NetManager` works in the network namespace of the thread that creates it (tests run it inside
//! a namespace with `herald_testbed::Netns::run`).

mod error;
pub mod inspect;
mod kernel;
mod manager;

pub use error::NetError;
pub use manager::{IN_FLIGHT, NetManager};

/// `rtm_protocol` of the routes Herald installs (0x48, "H"). Unassigned in the kernel's
/// `rtnetlink.h`, iproute2's `rt_protos` and FRR's `rt_protos.d`.
pub const HERALD_ROUTE_PROTOCOL: u8 = 72;

/// `IFA_PROTO` of the VIP addresses Herald adds (the same number as its routes).
pub const HERALD_ADDRESS_PROTOCOL: u8 = HERALD_ROUTE_PROTOCOL;
