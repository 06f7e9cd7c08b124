//! `LoadedProvider`: a compiled, linked provider. Each call gets a fresh store with its own
//! deadline, memory cap and HTTP policy; `discover` runs `configure` then `discover` in it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Engine, Store, Trap};

use crate::config::{ProviderConfig, RuntimeConfig};
use crate::engine::EPOCH_TICK;
use crate::errors::CallError;
use crate::grants::Grants;
use crate::http_guard::{DenialLog, OutboundPolicy};
use crate::http_tap::{CallTap, HttpTap};
use crate::metadata::ProviderMetadata;
use crate::state::CallState;
use crate::types::{Discovery, NodeContext};
use crate::versioned::{Failure, VersionedPre};

/// Slack on top of the epoch deadline before the wall-clock timer ends a call stuck in host I/O
/// (the epoch only interrupts running guest code).
const HOST_IO_GRACE: Duration = Duration::from_millis(50);

/// A provider ready to be called; cheap to clone.
#[derive(Clone)]
pub struct LoadedProvider {
    inner: Arc<LoadedInner>,
}

pub(crate) struct LoadedInner {
    path: PathBuf,
    metadata: ProviderMetadata,
    identity: String,
    engine: Engine,
    pre: VersionedPre,
    call_deadline: Duration,
    memory_limit_bytes: usize,
}

impl LoadedInner {
    pub(crate) fn new(
        path: PathBuf,
        metadata: ProviderMetadata,
        engine: Engine,
        pre: VersionedPre,
        config: &RuntimeConfig,
    ) -> Self {
        Self {
            path,
            identity: metadata.identity(),
            metadata,
            engine,
            pre,
            call_deadline: config.call_deadline,
            memory_limit_bytes: config.memory_limit_bytes,
        }
    }
}

impl std::fmt::Debug for LoadedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedProvider")
            .field("provider", &self.inner.identity)
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl LoadedProvider {
    pub(crate) fn new(inner: LoadedInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn metadata(&self) -> &ProviderMetadata {
        &self.inner.metadata
    }

    /// `provider "name" version`.
    pub fn identity(&self) -> &str {
        &self.inner.identity
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Validate `config` in a fresh instance (host checks, then the provider's `configure`).
    pub async fn configure(
        &self,
        config: &ProviderConfig,
        grants: &Grants,
    ) -> Result<(), CallError> {
        self.call(config, grants, None, &HttpTap::live())
            .await
            .map(drop)
    }

    /// Fresh instance: `configure(config)` then `discover(node)`.
    pub async fn discover(
        &self,
        config: &ProviderConfig,
        grants: &Grants,
        node: &NodeContext,
    ) -> Result<Discovery, CallError> {
        self.discover_tapped(config, grants, node, &HttpTap::live())
            .await
    }

    /// [`discover`](Self::discover) with the call's HTTP recorded or answered from a recording.
    pub async fn discover_tapped(
        &self,
        config: &ProviderConfig,
        grants: &Grants,
        node: &NodeContext,
        tap: &HttpTap,
    ) -> Result<Discovery, CallError> {
        let discovery = self.call(config, grants, Some(node), tap).await?;
        // invariant: `call` returns Some when given a node.
        discovery.ok_or_else(|| CallError::Trap {
            provider: self.inner.identity.clone(),
            message: "discover returned nothing".into(),
        })
    }

    /// Instantiate in a fresh store and drop it: the fixed cost inside every call (for benches).
    #[doc(hidden)]
    pub async fn instantiate_only(&self) -> Result<(), CallError> {
        let inner = &*self.inner;
        let policy = OutboundPolicy {
            provider: inner.identity.clone(),
            declared: Vec::new(),
            grants: Grants::none(),
            denials: DenialLog::default(),
            tap: CallTap::Live,
        };
        let mut store = Store::new(
            &inner.engine,
            CallState::new(policy, inner.memory_limit_bytes),
        );
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(deadline_ticks(inner.call_deadline));
        store.epoch_deadline_trap();
        inner
            .pre
            .instantiate_only(&mut store)
            .await
            .map_err(|err| CallError::Instantiate {
                provider: inner.identity.clone(),
                message: format!("{err:#}"),
            })
    }

    async fn call(
        &self,
        config: &ProviderConfig,
        grants: &Grants,
        node: Option<&NodeContext>,
        tap: &HttpTap,
    ) -> Result<Option<Discovery>, CallError> {
        let inner = &*self.inner;
        let identity = inner.identity.clone();
        let invalid_config = |message| CallError::InvalidConfig {
            provider: identity.clone(),
            message,
        };
        let effective = config.effective(&inner.metadata).map_err(invalid_config)?;
        let declared = inner
            .metadata
            .declared_hosts(config)
            .map_err(invalid_config)?;
        let denials = DenialLog::default();
        let policy = OutboundPolicy {
            provider: identity.clone(),
            declared,
            grants: grants.clone(),
            denials: Arc::clone(&denials),
            tap: tap.for_call(config.secret_redactor(&inner.metadata)),
        };
        let mut store = Store::new(
            &inner.engine,
            CallState::new(policy, inner.memory_limit_bytes),
        );
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(deadline_ticks(inner.call_deadline));
        store.epoch_deadline_trap();

        let work = inner.pre.run(&mut store, &identity, &effective, node);
        let outcome = tokio::time::timeout(inner.call_deadline + HOST_IO_GRACE, work).await;

        let first_denial = denials
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .first()
            .cloned();
        if let Some(denial) = first_denial {
            return Err(CallError::Denied {
                provider: identity,
                host: denial.host,
                reason: denial.reason,
            });
        }
        let memory_exceeded = store.data().limits.memory_exceeded;
        match outcome {
            Err(_elapsed) => Err(CallError::Timeout {
                provider: identity,
                deadline: inner.call_deadline,
            }),
            Ok(Ok(None)) => Ok(None),
            Ok(Ok(Some(checked))) => checked.map(Some),
            Ok(Err(Failure::Provider(error))) => Err(error),
            Ok(Err(Failure::Instantiate(err)))
                if !memory_exceeded && err.downcast_ref::<Trap>().is_none() =>
            {
                Err(CallError::Instantiate {
                    provider: identity,
                    message: format!("{err:#}"),
                })
            }
            Ok(Err(Failure::Instantiate(err) | Failure::Wasm(err))) => {
                Err(self.classify_trap(err, memory_exceeded))
            }
        }
    }

    fn classify_trap(&self, err: wasmtime::Error, memory_exceeded: bool) -> CallError {
        let inner = &*self.inner;
        let provider = inner.identity.clone();
        if memory_exceeded {
            return CallError::OutOfMemory {
                provider,
                limit_bytes: inner.memory_limit_bytes,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallError::Timeout {
                provider,
                deadline: inner.call_deadline,
            },
            Some(trap) => CallError::Trap {
                provider,
                message: trap.to_string(),
            },
            None => CallError::Trap {
                provider,
                message: format!("{err:#}"),
            },
        }
    }
}

fn deadline_ticks(deadline: Duration) -> u64 {
    let ticks = deadline.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}
