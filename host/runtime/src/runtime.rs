//! `Runtime`: one engine and a linker per WIT version, loading provider files into
//! `LoadedProvider`s.

use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::{self, SUPPORTED_WIT_VERSIONS, since_v0_1_0, since_v0_2_0};
use crate::config::RuntimeConfig;
use crate::engine::{compile_cached, new_engine};
use crate::errors::{LoadError, LoadProblem, RuntimeError};
use crate::metadata::{ProviderMetadata, ScanError, scan_component};
use crate::provider::{LoadedInner, LoadedProvider};
use crate::state::CallState;
use crate::versioned::VersionedPre;

/// Hosts providers: compiles each once and runs every call in a fresh, limited store.
pub struct Runtime {
    engine: Engine,
    linker_v0_1_0: Linker<CallState>,
    linker_v0_2_0: Linker<CallState>,
    config: RuntimeConfig,
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let engine = new_engine(config.memory_limit_bytes)?;
        let linker_error = |err: wasmtime::Error| RuntimeError::Linker(err.to_string());
        let wasi = wasi_linker(&engine).map_err(linker_error)?;
        let linker_v0_1_0 = linker_v0_1_0(wasi.clone()).map_err(linker_error)?;
        let linker_v0_2_0 = linker_v0_2_0(wasi).map_err(linker_error)?;
        Ok(Self {
            engine,
            linker_v0_1_0,
            linker_v0_2_0,
            config,
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Read, check and compile a provider component.
    pub fn load(&self, path: &Path) -> Result<LoadedProvider, LoadError> {
        let bytes = std::fs::read(path).map_err(|err| load_error(path, LoadProblem::Read(err)))?;
        self.load_bytes(path, &bytes)
    }

    /// As [`Runtime::load`], for bytes already in memory; `path` names them in errors.
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<LoadedProvider, LoadError> {
        let fail = |problem| load_error(path, problem);
        let metadata = read_metadata(bytes).map_err(fail)?;
        let expected = bindings::required_export(&metadata.wit_version);
        let component = compile_cached(&self.engine, bytes, self.config.cache_dir.as_deref())
            .map_err(|err| fail(LoadProblem::Compile(format!("{err:#}"))))?;
        let link = |linker: &Linker<CallState>| {
            linker
                .instantiate_pre(&component)
                .map_err(|err| fail(LoadProblem::Link(format!("{err:#}"))))
        };
        let missing_export = |err: wasmtime::Error| {
            fail(LoadProblem::MissingExport {
                expected: expected.clone(),
                found: vec![err.to_string()],
            })
        };
        let pre = match metadata.wit_version.as_str() {
            since_v0_1_0::WIT_VERSION => VersionedPre::V0_1_0(
                since_v0_1_0::ProviderPre::new(link(&self.linker_v0_1_0)?)
                    .map_err(missing_export)?,
            ),
            since_v0_2_0::WIT_VERSION => VersionedPre::V0_2_0(
                since_v0_2_0::ProviderPre::new(link(&self.linker_v0_2_0)?)
                    .map_err(missing_export)?,
            ),
            other => return Err(fail(unsupported(other))),
        };
        Ok(LoadedProvider::new(LoadedInner::new(
            path.to_path_buf(),
            metadata,
            self.engine.clone(),
            pre,
            &self.config,
        )))
    }

    /// Read only the metadata, without compiling (for `herald provider inspect`).
    pub fn inspect(path: &Path) -> Result<ProviderMetadata, LoadError> {
        let bytes = std::fs::read(path).map_err(|err| load_error(path, LoadProblem::Read(err)))?;
        read_metadata(&bytes).map_err(|problem| load_error(path, problem))
    }
}

fn load_error(path: &Path, problem: LoadProblem) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        problem,
    }
}

/// Every check that needs no compile: a component, with metadata, for a supported WIT version,
/// exporting that version's `peer-discovery`.
fn read_metadata(bytes: &[u8]) -> Result<ProviderMetadata, LoadProblem> {
    let scan = scan_component(bytes).map_err(|err| match err {
        ScanError::NotWasm => LoadProblem::NotWasm,
        ScanError::CoreModule => LoadProblem::CoreModule,
        ScanError::Malformed(message) => LoadProblem::Malformed(message),
    })?;
    let json = scan.metadata_json.ok_or(LoadProblem::MissingMetadata)?;
    let metadata = ProviderMetadata::from_json(&json).map_err(LoadProblem::BadMetadata)?;
    if !SUPPORTED_WIT_VERSIONS.contains(&metadata.wit_version.as_str()) {
        return Err(unsupported(&metadata.wit_version));
    }
    let expected = bindings::required_export(&metadata.wit_version);
    if !scan.exports.contains(&expected) {
        return Err(LoadProblem::MissingExport {
            expected,
            found: scan.exports,
        });
    }
    Ok(metadata)
}

fn unsupported(found: &str) -> LoadProblem {
    LoadProblem::UnsupportedWitVersion {
        found: found.to_string(),
        supported: SUPPORTED_WIT_VERSIONS
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// WASI and wasi:http, shared by every version's linker (they import the same WASI release).
fn wasi_linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    Ok(linker)
}

fn linker_v0_1_0(mut linker: Linker<CallState>) -> wasmtime::Result<Linker<CallState>> {
    since_v0_1_0::herald::provider::host_log::add_to_linker::<_, HasSelf<CallState>>(
        &mut linker,
        |state| state,
    )?;
    Ok(linker)
}

fn linker_v0_2_0(mut linker: Linker<CallState>) -> wasmtime::Result<Linker<CallState>> {
    since_v0_2_0::herald::provider::host_log::add_to_linker::<_, HasSelf<CallState>>(
        &mut linker,
        |state| state,
    )?;
    Ok(linker)
}
