//! Registry credentials: given explicitly or read from the Docker config file.
//!
//! The password never leaves this type except into oci-client's `RegistryAuth` (whose `Debug`
//! redacts it too): `Debug` prints `<redacted>`, and Docker config errors name the file and the
//! registry but never the entry's content (serde errors can quote values, so the file is walked
//! as untyped JSON and every message here is written by hand).

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;

use crate::error::{Error, Result};

/// A user name and password (or token) for HTTP Basic authentication to a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// Looks `registry` up in the Docker config file: `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`. A missing file or entry is `Ok(None)` (anonymous access).
    pub fn from_docker_config(registry: &str) -> Result<Option<Self>> {
        match docker_config_path() {
            Some(path) => Self::from_docker_config_file(&path, registry),
            None => Ok(None),
        }
    }

    /// Looks `registry` up in the `auths` of the Docker config file at `path`.
    ///
    /// Entries are matched by `host[:port]` whatever scheme or path they were written with
    /// (`https://index.docker.io/v1/` included). Only inline credentials are read: `auth`
    /// (base64 `user:password`) or `username` + `password`; credential helpers (`credsStore`,
    /// `credHelpers`) are not run, as that would execute programs named by the file.
    pub fn from_docker_config_file(path: &Path, registry: &str) -> Result<Option<Self>> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let invalid = |reason: String| Error::DockerConfig {
            path: path.to_owned(),
            reason,
        };
        let config: serde_json::Value = serde_json::from_slice(&text).map_err(|err| {
            // Syntax errors carry a position and a category, never the text around it.
            invalid(format!(
                "not valid JSON (line {}, column {})",
                err.line(),
                err.column()
            ))
        })?;
        let Some(auths) = config.get("auths").and_then(|auths| auths.as_object()) else {
            return Ok(None);
        };
        let wanted = normalise_registry(registry);
        let Some(entry) = auths
            .iter()
            .find(|(key, _)| normalise_registry(key) == wanted)
            .map(|(_, entry)| entry)
        else {
            return Ok(None);
        };
        let text_field = |name: &str| entry.get(name).and_then(|v| v.as_str()).unwrap_or("");
        let auth = text_field("auth");
        if !auth.is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| {
                    invalid(format!(
                        "auths entry for `{registry}`: `auth` is not base64"
                    ))
                })?;
            let decoded = String::from_utf8(decoded).map_err(|_| {
                invalid(format!(
                    "auths entry for `{registry}`: `auth` is not UTF-8 text"
                ))
            })?;
            let Some((username, password)) = decoded.split_once(':') else {
                return Err(invalid(format!(
                    "auths entry for `{registry}`: `auth` is not `user:password`"
                )));
            };
            return Ok(Some(Self::new(username, password)));
        }
        let (username, password) = (text_field("username"), text_field("password"));
        if !username.is_empty() && !password.is_empty() {
            return Ok(Some(Self::new(username, password)));
        }
        // `"auth": ""` is what `docker login` leaves next to a credential store.
        tracing::debug!(
            path = %path.display(),
            registry,
            "Docker config entry has no inline credentials; using anonymous access"
        );
        Ok(None)
    }

    pub(crate) fn registry_auth(&self) -> RegistryAuth {
        RegistryAuth::Basic(self.username.clone(), self.password.clone())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// `https://host:port/v1/` → `host:port`, lowercase; Docker Hub's aliases → `index.docker.io`.
fn normalise_registry(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" => "index.docker.io".to_owned(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const SECRET: &str = "s3cr3t-Pa55";

    fn config(json: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).unwrap();
        (dir, path)
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn auth_entry_is_decoded_and_matched_by_host_and_port() {
        let json = format!(
            r#"{{"auths":{{"https://registry.example:5000/v1/":{{"auth":"{}"}},
                "other.example":{{"auth":"{}"}}}}}}"#,
            b64(&format!("alice:{SECRET}")),
            b64("bob:x")
        );
        let (_dir, path) = config(&json);
        let found = Credentials::from_docker_config_file(&path, "registry.example:5000").unwrap();
        assert_eq!(found, Some(Credentials::new("alice", SECRET)));
        assert_eq!(
            Credentials::from_docker_config_file(&path, "registry.example").unwrap(),
            None
        );
    }

    #[test]
    fn docker_hub_aliases_and_username_password_fields_are_understood() {
        let json = r#"{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p"}}}"#;
        let (_dir, path) = config(json);
        let found = Credentials::from_docker_config_file(&path, "docker.io").unwrap();
        assert_eq!(found, Some(Credentials::new("u", "p")));
    }

    #[test]
    fn missing_file_entry_or_credential_store_means_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        assert_eq!(
            Credentials::from_docker_config_file(&missing, "r").unwrap(),
            None
        );
        let (_dir, path) = config(r#"{"auths":{"r":{"auth":""}},"credsStore":"desktop"}"#);
        assert_eq!(
            Credentials::from_docker_config_file(&path, "r").unwrap(),
            None
        );
        let (_dir, path) = config(r#"{}"#);
        assert_eq!(
            Credentials::from_docker_config_file(&path, "r").unwrap(),
            None
        );
    }

    #[test]
    fn malformed_entries_are_errors_that_do_not_quote_the_secret() {
        for auth in [
            format!("not base64 {SECRET}"),
            b64(&format!("no-colon-{SECRET}")),
        ] {
            let (_dir, path) = config(&format!(r#"{{"auths":{{"r":{{"auth":"{auth}"}}}}}}"#));
            let err = Credentials::from_docker_config_file(&path, "r").unwrap_err();
            let message = format!("{err} {err:?}");
            assert!(message.contains("config.json"), "{message}");
            assert!(!message.contains(SECRET), "{message}");
            assert!(!message.contains(&auth), "{message}");
        }
        let (_dir, path) = config(&format!(r#"{{"auths":{{"r":{{"auth":"{SECRET}"#));
        let err = Credentials::from_docker_config_file(&path, "r").unwrap_err();
        assert!(!format!("{err} {err:?}").contains(SECRET));
    }

    #[test]
    fn debug_redacts_the_password() {
        let text = format!("{:?}", Credentials::new("alice", SECRET));
        assert!(text.contains("alice"));
        assert!(!text.contains(SECRET), "{text}");
    }
}
