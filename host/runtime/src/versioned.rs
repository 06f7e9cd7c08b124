//! A compiled provider linked for the WIT version it was built for, and the one call sequence
//! (instantiate, `configure`, `discover`) for every version, converting through that version's
//! `convert` module.

use wasmtime::Store;

use crate::bindings::{since_v0_1_0, since_v0_2_0};
use crate::convert::{v0_1_0, v0_2_0};
use crate::errors::CallError;
use crate::state::CallState;
use crate::types::{Discovery, NodeContext};

/// A provider's pre-instantiated component, per WIT version.
pub(crate) enum VersionedPre {
    V0_1_0(since_v0_1_0::ProviderPre<CallState>),
    V0_2_0(since_v0_2_0::ProviderPre<CallState>),
}

/// How the guest work inside a store ended, before it is classified into a `CallError`.
pub(crate) enum Failure {
    Instantiate(wasmtime::Error),
    Wasm(wasmtime::Error),
    /// The provider's own `provider-error`, already in host terms.
    Provider(CallError),
}

/// What `discover` returned, checked; kept apart from `Failure` so the caller can let an HTTP
/// denial in the same call take precedence over invalid output.
pub(crate) type Answer = Option<Result<Discovery, CallError>>;

/// The same steps for every version; only the bindings and the conversion module differ.
macro_rules! run_version {
    ($pre:expr, $convert:ident, $store:expr, $identity:expr, $config:expr, $node:expr) => {{
        let node = $node.map($convert::node_to_wit);
        let bindings = $pre
            .instantiate_async(&mut *$store)
            .await
            .map_err(Failure::Instantiate)?;
        let api = bindings.herald_provider_peer_discovery();
        api.call_configure(&mut *$store, $config)
            .await
            .map_err(Failure::Wasm)?
            .map_err(|error| Failure::Provider($convert::provider_error($identity, error)))?;
        match &node {
            None => Ok(None),
            Some(node) => match api
                .call_discover(&mut *$store, node)
                .await
                .map_err(Failure::Wasm)?
            {
                Ok(discovery) => Ok(Some($convert::discovery_from_wit($identity, discovery))),
                Err(error) => Err(Failure::Provider($convert::provider_error(
                    $identity, error,
                ))),
            },
        }
    }};
}

impl VersionedPre {
    /// Instantiates, calls `configure(config)` and, given a node, `discover(node)`.
    pub(crate) async fn run(
        &self,
        store: &mut Store<CallState>,
        identity: &str,
        config: &[(String, String)],
        node: Option<&NodeContext>,
    ) -> Result<Answer, Failure> {
        match self {
            Self::V0_1_0(pre) => run_version!(pre, v0_1_0, store, identity, config, node),
            Self::V0_2_0(pre) => run_version!(pre, v0_2_0, store, identity, config, node),
        }
    }

    /// Instantiates and drops the instance (the fixed cost inside every call).
    pub(crate) async fn instantiate_only(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<()> {
        match self {
            Self::V0_1_0(pre) => pre.instantiate_async(store).await.map(drop),
            Self::V0_2_0(pre) => pre.instantiate_async(store).await.map(drop),
        }
    }
}
