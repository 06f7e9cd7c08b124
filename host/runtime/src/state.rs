//! Per-call store state: a minimal WASI context (no files, env, args or sockets), the HTTP policy,
//! memory limits and the `host-log` import.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::since_v0_1_0::herald::provider as v0_1_0;
use crate::bindings::since_v0_2_0::herald::provider as v0_2_0;
use crate::http_guard::OutboundPolicy;

/// Longest guest log message kept; the rest is cut so a guest cannot flood the logs.
const MAX_LOG_MESSAGE: usize = 4096;

pub(crate) struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    policy: OutboundPolicy,
    pub(crate) limits: CallLimits,
}

impl CallState {
    pub(crate) fn new(policy: OutboundPolicy, memory_limit_bytes: usize) -> Self {
        // Nothing inherited: no preopened dirs, env, args, stdio or network besides wasi:http.
        let wasi = WasiCtxBuilder::new()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            policy,
            limits: CallLimits {
                memory_limit_bytes,
                memory_exceeded: false,
            },
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.policy,
        }
    }
}

impl v0_1_0::types::Host for CallState {}
impl v0_2_0::types::Host for CallState {}

/// A guest log line's level, whichever WIT version's `host-log` it came through.
#[derive(Clone, Copy)]
enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl CallState {
    fn log(&self, level: LogLevel, mut message: String) {
        if message.len() > MAX_LOG_MESSAGE {
            let mut cut = MAX_LOG_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let provider = self.policy.provider.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(provider, "{message}"),
            LogLevel::Debug => tracing::debug!(provider, "{message}"),
            LogLevel::Info => tracing::info!(provider, "{message}"),
            LogLevel::Warn => tracing::warn!(provider, "{message}"),
            LogLevel::Error => tracing::error!(provider, "{message}"),
        }
    }
}

/// `host-log` for one WIT version: its `level` enum mapped onto [`LogLevel`].
macro_rules! host_log_for {
    ($version:ident) => {
        impl $version::host_log::Host for CallState {
            async fn log(&mut self, level: $version::host_log::Level, message: String) {
                use $version::host_log::Level;
                let level = match level {
                    Level::Trace => LogLevel::Trace,
                    Level::Debug => LogLevel::Debug,
                    Level::Info => LogLevel::Info,
                    Level::Warn => LogLevel::Warn,
                    Level::Error => LogLevel::Error,
                };
                CallState::log(self, level, message);
            }
        }
    };
}

host_log_for!(v0_1_0);
host_log_for!(v0_2_0);

/// Memory, table and instance caps; remembers a refused growth so a following trap is reported
/// as out-of-memory rather than a generic trap.
pub(crate) struct CallLimits {
    memory_limit_bytes: usize,
    pub(crate) memory_exceeded: bool,
}

/// Generous for Rust, Python and JS guests; a bound on what one call can create.
const MAX_INSTANCES: usize = 64;
const MAX_TABLES: usize = 64;
const MAX_MEMORIES: usize = 64;
/// Also the size of each pooled table slot (`engine.rs`).
pub(crate) const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for CallLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit_bytes {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}
