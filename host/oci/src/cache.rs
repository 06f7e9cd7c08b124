//! The on-disk cache: `<cache_dir>/oci/sha256/<manifest hex>/{manifest.json,component.wasm}`.
//!
//! Keyed by the manifest digest, which is what operators pin, so a cached entry answers a pull
//! without the registry (a node restarting while the registry is down still gets its provider).
//! The manifest is kept beside the component so a hit is re-verified end to end (manifest bytes
//! against the pin, component against the manifest's layer digest) rather than trusted because a
//! file exists. Files appear by rename only, and the component last, so a crash mid-download
//! never leaves a half-written file under the final name.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::check_manifest;

pub const COMPONENT_FILE: &str = "component.wasm";
pub const MANIFEST_FILE: &str = "manifest.json";

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            root: cache_dir.join("oci").join("sha256"),
        }
    }

    fn entry(&self, digest: &Digest) -> PathBuf {
        self.root.join(digest.hex())
    }

    /// The verified cached component for `digest`, or `None` (absent, or failed verification:
    /// then it is downloaded again and replaced).
    pub async fn lookup(&self, digest: &Digest, reference: &str) -> Option<PathBuf> {
        let entry = self.entry(digest);
        let component = entry.join(COMPONENT_FILE);
        let manifest = tokio::fs::read(entry.join(MANIFEST_FILE)).await.ok()?;
        let bytes = tokio::fs::read(&component).await.ok()?;
        if Digest::of(&manifest) != *digest {
            tracing::warn!(path = %entry.display(), "cached manifest does not match its digest; fetching again");
            return None;
        }
        let matches = check_manifest(&manifest, reference)
            .is_ok_and(|layer| layer.digest == Digest::of(&bytes));
        if !matches {
            tracing::warn!(path = %component.display(), "cached component does not match its manifest; fetching again");
            return None;
        }
        Some(component)
    }

    /// A temporary file beside the entries (same file system, so the final rename is atomic).
    fn temp_file(&self) -> Result<NamedTempFile> {
        std::fs::create_dir_all(&self.root).map_err(|source| self.error(&self.root, source))?;
        NamedTempFile::with_prefix_in(".download-", &self.root)
            .map_err(|source| self.error(&self.root, source))
    }

    /// Writes a verified download into place and returns the component's final path.
    pub fn store(&self, digest: &Digest, manifest: &[u8], component: &[u8]) -> Result<PathBuf> {
        let entry = self.entry(digest);
        std::fs::create_dir_all(&entry).map_err(|source| self.error(&entry, source))?;
        self.write_atomically(&entry.join(MANIFEST_FILE), manifest)?;
        let component_path = entry.join(COMPONENT_FILE);
        self.write_atomically(&component_path, component)?;
        Ok(component_path)
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut file = self.temp_file()?;
        // Synced before the rename: after a power loss the final name holds all bytes or none.
        file.write_all(bytes)
            .and_then(|()| file.as_file().sync_all())
            .map_err(|source| self.error(file.path(), source))?;
        file.persist(path)
            .map_err(|err| self.error(path, err.error))?;
        Ok(())
    }

    fn error(&self, path: &Path, source: std::io::Error) -> Error {
        Error::Cache {
            path: path.to_owned(),
            source,
        }
    }
}
