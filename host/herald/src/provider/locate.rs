//! Where providers and the compiled-component cache live.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// Installed location of packaged providers.
pub const SYSTEM_PROVIDER_DIR: &str = "/usr/lib/herald/providers";

#[derive(Debug, clap::Args)]
pub struct ProviderDirArgs {
    /// Directory searched first for providers given by name.
    #[arg(long, env = "HERALD_PROVIDER_DIR")]
    provider_dir: Option<PathBuf>,
}

/// A path to an existing file, or `name`/`name.wasm` in: --provider-dir, the system directory,
/// then the providers built with this binary.
pub fn find_provider(arg: &str, dirs: &ProviderDirArgs) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(arg);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    if arg.contains(std::path::MAIN_SEPARATOR) || arg.is_empty() {
        bail!("provider file {arg} does not exist");
    }
    let file_name = if arg.ends_with(".wasm") {
        arg.to_string()
    } else {
        format!("{arg}.wasm")
    };
    let mut searched = Vec::new();
    let candidates = dirs.provider_dir.iter().cloned().chain([
        PathBuf::from(SYSTEM_PROVIDER_DIR),
        PathBuf::from(herald_artifacts::PROVIDER_DIR),
    ]);
    for dir in candidates {
        let candidate = dir.join(&file_name);
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(dir.display().to_string());
    }
    bail!(
        "provider {arg:?} not found: no {file_name} in {}",
        searched.join(", ")
    )
}

/// `$HERALD_CACHE_DIR`, else `$XDG_CACHE_HOME/herald`, else `~/.cache/herald`.
pub fn cache_dir() -> Option<PathBuf> {
    let from_env = |name| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    from_env("HERALD_CACHE_DIR")
        .or_else(|| from_env("XDG_CACHE_HOME").map(|dir| dir.join("herald")))
        .or_else(|| from_env("HOME").map(|home| home.join(".cache/herald")))
}
