//! `herald provider build [DIR]`: builds a provider project of either language and prints the
//! component's path on its last line (everything else goes to stderr), after checking that the
//! host loads its metadata.
//!
//! Rust (`Cargo.toml`): `cargo build --release --target wasm32-wasip2`. Python (`app.py` and
//! `metadata.json`): componentize-py against the project's `wit/`, then `metadata.json` appended
//! as the `herald:provider-metadata` custom section (componentize-py cannot add one).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use herald_runtime::{METADATA_SECTION, Runtime};

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The project directory (default: the current one).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub fn build(args: &BuildArgs) -> anyhow::Result<PathBuf> {
    let dir = &args.dir;
    let component = if dir.join("Cargo.toml").is_file() {
        build_rust(dir)?
    } else if dir.join("app.py").is_file() && dir.join("metadata.json").is_file() {
        build_python(dir)?
    } else {
        bail!(
            "{}: neither a Rust provider (Cargo.toml) nor a Python one (app.py + metadata.json); \
             `herald provider new` makes one",
            dir.display()
        );
    };
    let metadata = Runtime::inspect(&component)
        .with_context(|| format!("the built {} does not load", component.display()))?;
    eprintln!("built {}", metadata.identity());
    Ok(component)
}

fn build_rust(dir: &Path) -> anyhow::Result<PathBuf> {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
    if !Path::new(sysroot.trim())
        .join("lib/rustlib/wasm32-wasip2")
        .is_dir()
    {
        bail!("the wasm32-wasip2 target is not installed: run `rustup target add wasm32-wasip2`");
    }
    let manifest = dir.join("Cargo.toml");
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        // cargo's progress is for the person watching; stdout stays for the path.
        .stdout(std::process::Stdio::null())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo build failed for {}", manifest.display());
    }
    let metadata = output(
        Command::new("cargo")
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(&manifest),
    )?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).context("reading cargo metadata")?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .context("cargo metadata has no target_directory")?;
    let package = metadata["packages"][0]["name"]
        .as_str()
        .context("cargo metadata lists no package")?;
    let component = Path::new(target_dir)
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    if !component.is_file() {
        bail!(
            "cargo built no {} (is the crate-type cdylib?)",
            component.display()
        );
    }
    Ok(component)
}

fn build_python(dir: &Path) -> anyhow::Result<PathBuf> {
    if Command::new("componentize-py")
        .arg("--version")
        .output()
        .is_err()
    {
        bail!("componentize-py is not installed: pip install componentize-py==0.25.1");
    }
    let metadata_text = std::fs::read_to_string(dir.join("metadata.json"))
        .with_context(|| format!("reading {}/metadata.json", dir.display()))?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata_text)
        .with_context(|| format!("{}/metadata.json is not JSON", dir.display()))?;
    let name = metadata["name"]
        .as_str()
        .with_context(|| format!("{}/metadata.json has no \"name\"", dir.display()))?;
    let dir = std::fs::canonicalize(dir).with_context(|| format!("{}", dir.display()))?;
    let component = dir.join(format!("{name}.wasm"));

    // componentize-py bundles every Python file beside the app: stage the sources only, so
    // tests/ (and anything else in the project) stays out of the component.
    let stage = tempfile::tempdir().context("creating a staging directory")?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "py") {
            let target = stage.path().join(path.file_name().unwrap_or_default());
            std::fs::copy(&path, &target).with_context(|| format!("copying {}", path.display()))?;
        }
    }
    let built = stage.path().join("component.wasm");
    let status = Command::new("componentize-py")
        .arg("-d")
        .arg(dir.join("wit"))
        .args(["-w", "provider", "componentize", "app", "-o"])
        .arg(&built)
        .current_dir(stage.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .context("running componentize-py")?;
    if !status.success() {
        bail!("componentize-py failed for {}", dir.display());
    }
    let mut bytes = std::fs::read(&built)?;
    let compact = serde_json::to_string(&metadata)?;
    bytes.extend(custom_section(METADATA_SECTION, compact.as_bytes()));
    std::fs::write(&component, bytes)
        .with_context(|| format!("writing {}", component.display()))?;
    Ok(component)
}

/// A custom section (id 0): size, name length and name, then the payload, sizes in LEB128. Valid
/// at the end of a component, where the host looks for the metadata too.
fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = leb128(name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut section = vec![0];
    section.extend(leb128(body.len()));
    section.extend(body);
    section
}

fn leb128(mut value: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn output(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_and_the_section_layout() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(128), [0x80, 0x01]);
        assert_eq!(leb128(300), [0xac, 0x02]);
        let section = custom_section("ab", b"xyz");
        assert_eq!(section, [0, 6, 2, b'a', b'b', b'x', b'y', b'z']);
    }
}
