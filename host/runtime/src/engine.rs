//! The shared engine: epoch ticker for deadlines, and compiling components once (in memory and,
//! if configured, as serialized files keyed by sha256(wasm) + engine compatibility hash).

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::errors::RuntimeError;

/// How often the epoch advances: the resolution of call deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Provider calls that may run at once per runtime (each holds one component instance).
pub(crate) const MAX_CONCURRENT_CALLS: u32 = 32;

pub(crate) fn new_engine(memory_limit_bytes: usize) -> Result<Engine, RuntimeError> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // Every call instantiates afresh: a pool of pre-reserved memories, tables and fiber stacks
    // makes that a reset of a slot instead of mmap/munmap and page faults (measured with
    // `cargo bench -p herald-runtime`: a whole discover() 186 µs → 86 µs, instantiation 59 → 23 µs).
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(
        memory_limit_bytes,
    )));
    let engine = Engine::new(&config).map_err(|err| RuntimeError::Engine(err.to_string()))?;
    start_epoch_ticker(&engine)?;
    Ok(engine)
}

fn pooling(memory_limit_bytes: usize) -> PoolingAllocationConfig {
    // A Rust wasip2 component is one core module plus small shim modules; these bounds leave
    // room for other languages' guests.
    const CORE_INSTANCES_PER_CALL: u32 = 16;
    const MEMORIES_PER_CALL: u32 = 2;
    const TABLES_PER_CALL: u32 = 8;
    // Bytes a reset slot keeps mapped and zeroes with memset instead of madvise: enough for a
    // typical call's heap and stack top (128 KiB measured best; 0 and 1 MiB were slower).
    const KEEP_RESIDENT_BYTES: usize = 128 << 10;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_CONCURRENT_CALLS)
        .total_core_instances(MAX_CONCURRENT_CALLS * CORE_INSTANCES_PER_CALL)
        .total_memories(MAX_CONCURRENT_CALLS * MEMORIES_PER_CALL)
        .total_tables(MAX_CONCURRENT_CALLS * TABLES_PER_CALL)
        .total_stacks(MAX_CONCURRENT_CALLS)
        .max_memory_size(memory_limit_bytes)
        .table_elements(crate::state::MAX_TABLE_ELEMENTS)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .async_stack_keep_resident(KEEP_RESIDENT_BYTES);
    pool
}

/// One thread per engine; it ends once the engine is dropped.
fn start_epoch_ticker(engine: &Engine) -> Result<(), RuntimeError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("herald-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .map(drop)
        .map_err(|err| RuntimeError::Engine(format!("cannot start the epoch thread: {err}")))
}

/// Compile `wasm`, or load the serialized result of an earlier compile from `cache_dir`.
pub(crate) fn compile_cached(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(dir) = cache_dir else {
        return Component::new(engine, wasm);
    };
    let path = cache_path(engine, wasm, dir);
    if path.is_file() {
        // SAFETY: files named by this key are only written by `store` below from
        // `Engine::precompile_component`; wasmtime rejects files from another engine config/version.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "ignoring unusable cached component")
            }
        }
    }
    let serialized = engine.precompile_component(wasm)?;
    if let Err(err) = store(&path, &serialized) {
        tracing::warn!(path = %path.display(), %err, "cannot write the compiled-component cache");
    }
    // SAFETY: `serialized` was produced just now by this engine.
    unsafe { Component::deserialize(engine, &serialized) }
}

fn cache_path(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    let digest = Sha256::digest(wasm);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{hex}-{:016x}.cwasm", hasher.finish()))
}

/// Write then rename, so a concurrent reader never sees half a file.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile_in(dir)?;
    temp.1.write_all(bytes)?;
    temp.1.sync_all()?;
    std::fs::rename(&temp.0, path)
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = dir.join(format!(".tmp-{}-{nanos}.cwasm", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}
