//! Where providers and the compiled-component cache live.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::oci::{self, RegistryArgs};

/// Installed location of packaged providers (the image, distribution packages).
pub const SYSTEM_PROVIDER_DIR: &str = "/usr/lib/herald/providers";

/// Beside the binary in the installed and `dist/` layout: `<prefix>/bin/herald` finds
/// `<prefix>/lib/herald/providers`.
const BESIDE_BINARY: &str = "../lib/herald/providers";

/// Where cargo puts the providers built from this checkout, relative to `target/<profile>/herald`
/// (and `target/<triple>/<profile>/herald`): `cargo build --release --target wasm32-wasip2`.
const CHECKOUT_BUILDS: &[&str] = &[
    "../wasm32-wasip2/release",
    "../wasm32-wasip2/debug",
    "../../wasm32-wasip2/release",
];

/// Where a provider argument is looked for: the provider directories for a name, a registry for
/// an `oci://` reference.
#[derive(Debug, clap::Args)]
pub struct ProviderDirArgs {
    /// Directory searched first for providers given by name.
    #[arg(long, env = "HERALD_PROVIDER_DIR")]
    provider_dir: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The one place a provider argument becomes a local file: a pinned `oci://` reference is pulled
/// (or taken from the cache) and verified, anything else is a name or a path ([`find_provider`]).
pub async fn resolve_provider(arg: &str, dirs: &ProviderDirArgs) -> anyhow::Result<PathBuf> {
    if oci::is_reference(arg) {
        return oci::pull(arg, &dirs.registry).await;
    }
    find_provider(arg, dirs)
}

/// A path to an existing file, or `name`/`name.wasm` in: --provider-dir (or `HERALD_PROVIDER_DIR`),
/// the installed directory, `../lib/herald/providers` beside the binary, then the components built
/// in the checkout the binary was built in. Each directory may hold `name.wasm` or, as cargo names
/// its output, `name_with_underscores.wasm`.
pub fn find_provider(arg: &str, dirs: &ProviderDirArgs) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(arg);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    if arg.contains(std::path::MAIN_SEPARATOR) || arg.is_empty() {
        bail!("provider file {arg} does not exist");
    }
    let name = arg.strip_suffix(".wasm").unwrap_or(arg);
    let file_name = format!("{name}.wasm");
    let cargo_file_name = format!("{}.wasm", name.replace('-', "_"));
    let mut searched = Vec::new();
    for dir in search_dirs(dirs) {
        for candidate in [dir.join(&file_name), dir.join(&cargo_file_name)] {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        searched.push(dir.display().to_string());
    }
    bail!(
        "provider {arg:?} not found: no {file_name} in {} (build the providers with \
         `cargo build --release --target wasm32-wasip2 -p {name}`, or pass --provider-dir)",
        searched.join(", ")
    )
}

fn search_dirs(dirs: &ProviderDirArgs) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = dirs.provider_dir.iter().cloned().collect();
    found.push(PathBuf::from(SYSTEM_PROVIDER_DIR));
    if let Some(bin_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        found.push(normalise(&bin_dir.join(BESIDE_BINARY)));
        for relative in CHECKOUT_BUILDS {
            let dir = normalise(&bin_dir.join(relative));
            if dir.is_dir() {
                found.push(dir);
            }
        }
    }
    found
}

/// Drops `..` lexically, so error messages name real directories.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_drops_parent_components() {
        assert_eq!(
            normalise(Path::new("/opt/herald/bin/../lib/herald/providers")),
            PathBuf::from("/opt/herald/lib/herald/providers")
        );
    }

    #[test]
    fn a_provider_dir_is_searched_first_and_missing_names_list_every_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.wasm"), b"x").unwrap();
        let dirs = ProviderDirArgs {
            provider_dir: Some(dir.path().to_path_buf()),
            registry: RegistryArgs::default(),
        };
        assert_eq!(
            find_provider("mine", &dirs).unwrap(),
            dir.path().join("mine.wasm")
        );
        assert_eq!(
            find_provider("mine.wasm", &dirs).unwrap(),
            dir.path().join("mine.wasm")
        );
        let message = find_provider("absent-provider", &dirs)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains(SYSTEM_PROVIDER_DIR), "{message}");
        assert!(message.contains("-p absent-provider"), "{message}");
    }
}
