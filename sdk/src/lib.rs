//! SDK for writing Herald peer-discovery providers as WebAssembly components.
//!
//! A provider is a type implementing [`Provider`] (plus `Default`), exported with
//! [`export_provider!`] and described with [`provider_metadata!`]:
//!
//! ```
//! use herald_sdk::{Config, Discovery, HttpClient, NodeContext, Provider, ProviderError};
//!
//! #[derive(Default)]
//! struct Static { asn: u32 }
//!
//! impl Provider for Static {
//!     fn configure(&mut self, config: &Config) -> Result<(), ProviderError> {
//!         self.asn = config.parse("asn")?.unwrap_or(65000);
//!         Ok(())
//!     }
//!     fn discover(&self, node: &NodeContext, http: &dyn HttpClient) -> Result<Discovery, ProviderError> {
//!         Ok(Discovery::default())
//!     }
//! }
//!
//! herald_sdk::export_provider!(Static);
//! herald_sdk::provider_metadata! {
//!     name: "static",
//!     description: "Example provider.",
//!     hosts: [],
//!     config: [{ key: "asn", description: "Local ASN.", default: "65000" }],
//! }
//! ```
//!
//! Provider logic is plain Rust: unit-test it natively with [`testing::MockHttp`] and
//! [`testing::node_from_yaml`]. See `docs/provider-authors.md`.

// Lets generated code and exported macros name this crate `herald_sdk` from inside it too.
extern crate self as herald_sdk;

mod config;
#[doc(hidden)]
pub mod export;
pub mod http;
pub mod log;
pub mod metadata;
mod network;
mod provider;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod types;

pub use config::Config;
/// The peer rules the host enforces (MD5 length, hold time, reserved ASNs): check early, so the
/// error names your input instead of the host refusing the answer.
pub use herald_peer_rules as rules;
pub use http::{HttpClient, HttpError, HttpResponse, get_json};
pub use network::{
    AddressFamily, DefaultGateway, InterfaceAddress, NetworkInterface, NodeNetwork, is_link_local,
};
pub use provider::Provider;
pub use types::{BgpPeer, Discovery, NodeContext, Password, ProviderError};

/// The WIT version of `herald:provider` this SDK builds providers against.
pub const WIT_VERSION: &str = "0.2.0";

/// Bindings generated from `wit/0.2.0` (world `provider`). Provider authors do not need them:
/// [`export_provider!`] wires the exports and the SDK wraps the imports.
#[doc(hidden)]
#[allow(clippy::all, unsafe_op_in_unsafe_fn)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/0.2.0",
        world: "provider",
        pub_export_macro: true,
        export_macro_name: "__export_provider_world",
        default_bindings_module: "herald_sdk::bindings",
        runtime_path: "herald_sdk::__wit_bindgen::rt",
        generate_all,
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;
