//! herald-kube against the fake apiserver (one test binary: one link instead of eight).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod connect;
mod election;
mod events;
mod relist;
mod services;
mod slices;
mod status;
mod watch_node;
