//! Files the agent reads, and the volumes that bring them into the container: the host
//! kubeconfig, key files, the CCM's `cloud-sa.json`, `--config key=@file`, all read-only; and
//! the one directory it writes, the cache of an `oci://` provider.

use crate::error::ManifestError;

/// Where kubeadm's tools (and kube-vip) expect the kubeconfig inside the container.
pub const KUBECONFIG_IN_CONTAINER: &str = "/etc/kubernetes/admin.conf";
pub const DEFAULT_HOST_KUBECONFIG: &str = "/etc/kubernetes/admin.conf";

/// The host directory holding pulled provider components (and compiled ones), mounted at the
/// same path; the agent finds it through `HERALD_CACHE_DIR`.
pub const CACHE_DIR: &str = "/var/cache/herald";

/// Where the registry credentials of an `oci://` provider are mounted (`--registry-secret`: the
/// Secret's directory; `--registry-config-file`: the host file), and the file the agent reads.
pub const REGISTRY_DIR: &str = "/etc/herald/registry";
pub const REGISTRY_CONFIG_FILE: &str = "config.json";
pub const REGISTRY_CONFIG: &str = "/etc/herald/registry/config.json";
/// The key of a `kubernetes.io/dockerconfigjson` Secret (as for imagePullSecrets).
pub const DOCKER_CONFIG_KEY: &str = ".dockerconfigjson";

/// The Equinix CCM's Secret holding `cloud-sa.json` (namespace kube-system).
pub const CCM_SECRET: &str = "metal-cloud-config";
pub const CCM_SECRET_KEY: &str = "cloud-sa.json";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Volume name (a DNS label).
    pub name: String,
    pub mount_path: String,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A host file (`hostPath`, type File: a missing file stops the Pod rather than the kubelet
    /// creating an empty directory in its place).
    HostFile(String),
    /// One key of a Secret, as file `file` in the mounted directory.
    SecretKey {
        secret: String,
        key: String,
        file: String,
    },
    /// A host directory the agent writes (`hostPath`, type DirectoryOrCreate): the only
    /// writable mount.
    HostCacheDir(String),
}

impl Source {
    pub fn read_only(&self) -> bool {
        !matches!(self, Source::HostCacheDir(_))
    }
}

/// The mounts so far; the same file asked for twice is mounted once.
#[derive(Debug, Default)]
pub struct Mounts(Vec<Mount>);

impl Mounts {
    pub fn host_file(
        &mut self,
        name: &str,
        host_path: &str,
        mount_path: &str,
    ) -> Result<(), ManifestError> {
        self.add(Mount {
            name: name.to_owned(),
            mount_path: mount_path.to_owned(),
            source: Source::HostFile(host_path.to_owned()),
        })
    }

    /// The writable host cache directory, at the same path in the container.
    pub fn host_cache_dir(&mut self, name: &str, path: &str) -> Result<(), ManifestError> {
        self.add(Mount {
            name: name.to_owned(),
            mount_path: path.to_owned(),
            source: Source::HostCacheDir(path.to_owned()),
        })
    }

    /// The CCM's Secret over the directory of `path` (a Secret volume is a directory).
    pub fn ccm_secret(&mut self, name: &str, path: &str) -> Result<(), ManifestError> {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        // Mounting over `/` or a top-level directory such as /etc would hide the image's own.
        if dir.matches('/').count() < 2 {
            return Err(ManifestError::value(
                "--provider-config",
                format!(
                    "{path}: the Secret {CCM_SECRET} is mounted over the file's directory; \
                     give a path in a directory of its own, e.g. /etc/cloud-sa/cloud-sa.json"
                ),
            ));
        }
        self.add(Mount {
            name: name.to_owned(),
            mount_path: dir.to_owned(),
            source: Source::SecretKey {
                secret: CCM_SECRET.to_owned(),
                key: CCM_SECRET_KEY.to_owned(),
                file: file.to_owned(),
            },
        })
    }

    /// A `kubernetes.io/dockerconfigjson` Secret over [`REGISTRY_DIR`], its key as
    /// [`REGISTRY_CONFIG_FILE`] (so the agent reads [`REGISTRY_CONFIG`]).
    pub fn registry_secret(&mut self, name: &str, secret: &str) -> Result<(), ManifestError> {
        self.add(Mount {
            name: name.to_owned(),
            mount_path: REGISTRY_DIR.to_owned(),
            source: Source::SecretKey {
                secret: secret.to_owned(),
                key: DOCKER_CONFIG_KEY.to_owned(),
                file: REGISTRY_CONFIG_FILE.to_owned(),
            },
        })
    }

    fn add(&mut self, mount: Mount) -> Result<(), ManifestError> {
        if let Some(existing) = self.0.iter().find(|m| m.mount_path == mount.mount_path) {
            if existing.source == mount.source {
                return Ok(());
            }
            return Err(ManifestError::flags(format!(
                "{} is asked for twice, from different sources: give each file its own path",
                mount.mount_path
            )));
        }
        // A file inside a mounted Secret directory (or the reverse) cannot be mounted.
        let inside = |dir: &str, path: &str| path.starts_with(&format!("{dir}/"));
        if let Some(existing) = self.0.iter().find(|m| {
            inside(&m.mount_path, &mount.mount_path) || inside(&mount.mount_path, &m.mount_path)
        }) {
            return Err(ManifestError::flags(format!(
                "{} and {} overlap: the Secret directory hides the other file; use separate directories",
                existing.mount_path, mount.mount_path
            )));
        }
        self.0.push(mount);
        Ok(())
    }

    pub fn into_vec(self) -> Vec<Mount> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_same_file_is_mounted_once() {
        let mut mounts = Mounts::default();
        mounts
            .host_file("a", "/etc/herald/key", "/etc/herald/key")
            .unwrap();
        mounts
            .host_file("b", "/etc/herald/key", "/etc/herald/key")
            .unwrap();
        assert_eq!(mounts.into_vec().len(), 1);
    }

    #[test]
    fn different_files_on_one_path_are_refused() {
        let mut mounts = Mounts::default();
        mounts.host_file("a", "/etc/a", "/etc/herald/key").unwrap();
        assert!(mounts.host_file("b", "/etc/b", "/etc/herald/key").is_err());
    }

    #[test]
    fn a_file_inside_the_secret_directory_is_refused() {
        let mut mounts = Mounts::default();
        mounts
            .ccm_secret("cloud-sa", "/etc/cloud-sa/cloud-sa.json")
            .unwrap();
        assert!(
            mounts
                .host_file("key", "/etc/cloud-sa/key", "/etc/cloud-sa/key")
                .is_err()
        );
    }

    #[test]
    fn the_ccm_secret_needs_a_directory_of_its_own() {
        let mut mounts = Mounts::default();
        assert!(mounts.ccm_secret("cloud-sa", "/etc/cloud-sa.json").is_err());
        mounts
            .ccm_secret("cloud-sa", "/etc/cloud-sa/cloud-sa.json")
            .unwrap();
        assert_eq!(
            mounts.into_vec()[0],
            Mount {
                name: "cloud-sa".into(),
                mount_path: "/etc/cloud-sa".into(),
                source: Source::SecretKey {
                    secret: CCM_SECRET.into(),
                    key: CCM_SECRET_KEY.into(),
                    file: "cloud-sa.json".into()
                }
            }
        );
    }
}
