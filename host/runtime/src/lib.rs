//! Sandboxed WebAssembly runtime for Herald peer-discovery providers.
//!
//! A provider is a component for one of the `wit/<version>/provider.wit` in
//! [`SUPPORTED_WIT_VERSIONS`], carrying a
//! `herald:provider-metadata` custom section. [`Runtime::load`] checks and compiles it once;
//! every [`LoadedProvider`] call runs in a fresh store with a deadline, a memory cap, no files,
//! env or sockets, and HTTP only to origins the provider declares and the operator grants.
//! See docs/sandbox.md and docs/provider-metadata.md.

mod bindings;
mod config;
mod convert;
mod engine;
mod errors;
mod grants;
mod http_guard;
mod http_tap;
mod metadata;
mod provider;
mod runtime;
mod state;
mod types;
mod versioned;

pub use bindings::SUPPORTED_WIT_VERSIONS;
pub use config::{ProviderConfig, RedactedConfig, RuntimeConfig};
pub use errors::{
    CallError, GrantError, LoadError, LoadProblem, ProviderError, ProviderErrorKind, RuntimeError,
};
pub use grants::{Grants, HostPort};
pub use herald_recording as recording;
pub use http_tap::HttpTap;
pub use metadata::{ConfigKey, DeclaredHost, METADATA_SECTION, ProviderMetadata};
pub use provider::LoadedProvider;
pub use runtime::Runtime;
pub use types::{
    AddressFamily, BgpPeer, DefaultGateway, Discovery, NetworkInterface, NodeContext, NodeNetwork,
    Password,
};
