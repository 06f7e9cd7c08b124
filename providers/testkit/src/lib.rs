//! Test support for provider component tests (dev-dependency only): [`FixtureServer`], a small
//! HTTP/1 server on 127.0.0.1 answering canned bodies by path and query, and [`Prism`], which
//! runs `prism proxy` in front of it to check every request against an OpenAPI document.

mod prism;
mod server;

pub use prism::{Prism, prism_binary, require_prism};
pub use server::{FixtureServer, RecordedRequest, Route};
