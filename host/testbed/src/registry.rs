//! A real OCI registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1, one per test,
//! optionally behind htpasswd basic auth. Shared by herald-oci's and the herald binary's tests.
//!
//! ```no_run
//! # #![allow(clippy::unwrap_used)]
//! use herald_testbed::registry::Registry;
//! // None (after printing why) when docker-registry is missing; panics instead when CI=true.
//! let Some(mut registry) = Registry::start(false) else { return };
//! let target = format!("oci://{}/herald/p:v1", registry.registry());
//! // … push and pull `target` …
//! registry.stop(); // the same port now refuses connections
//! ```

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "/usr/bin/docker-registry";
/// `herald-Test-Pa55word`, bcrypt cost 4 (distribution's htpasswd accepts bcrypt only).
pub const HTPASSWD: &str = "herald:$2a$04$KcAy9IbW/vCwXiaZU6BMlujhhP2EHKmxYE/Hru24B/0e9Sq.t2.1O";
pub const USER: &str = "herald";
pub const PASSWORD: &str = "herald-Test-Pa55word";

/// The registry process, killed and reaped when stopped or dropped.
pub struct Registry {
    child: Option<Child>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry, or returns `None` (skip) when it cannot run here; under `CI=true` a
    /// registry that cannot start fails the test instead, naming what is missing.
    pub fn start(with_auth: bool) -> Option<Self> {
        match Self::try_start(with_auth) {
            Ok(registry) => Some(registry),
            Err(reason) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
                panic!(
                    "CI=true and the test registry cannot start: {reason} \
                     (.ci/run installs Debian's docker-registry package)"
                )
            }
            Err(reason) => {
                eprintln!("skipping: test registry unavailable: {reason}");
                None
            }
        }
    }

    fn try_start(with_auth: bool) -> Result<Self, String> {
        if !Path::new(BINARY).exists() {
            return Err(format!(
                "{BINARY} is missing (apt-get install docker-registry)"
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let addr = free_port()?;
        let config = config(dir.path(), addr, with_auth)?;
        // A file, not a pipe: a pipe nobody reads fills up and then stalls the registry.
        let log = std::fs::File::create(dir.path().join("registry.log"))
            .map_err(|e| format!("registry log: {e}"))?;
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {BINARY}: {e}"))?;
        let mut registry = Self {
            child: Some(child),
            addr,
            dir,
        };
        registry.wait_ready()?;
        Ok(registry)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(status_of(self.addr, "/v2/"), Ok(200 | 401)) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let stderr = std::fs::read_to_string(self.dir.path().join("registry.log"))
                    .unwrap_or_default();
                return Err(format!("{BINARY} exited with {status}: {stderr}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "{BINARY} did not answer on {} within 20 s",
            self.addr
        ))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:<port>`, the registry part of a reference.
    pub fn registry(&self) -> String {
        self.addr.to_string()
    }

    /// The status code of an anonymous GET of `path` (e.g. `/v2/herald/p/tags/list`).
    pub fn status(&self, path: &str) -> std::io::Result<u16> {
        status_of(self.addr, path)
    }

    /// Uploads an artifact of one layer by hand, through the distribution API (anonymous), for
    /// layouts Herald refuses to push; returns the manifest's digest (`sha256:<hex>`).
    pub fn push_artifact(
        &self,
        repository: &str,
        tag: &str,
        config: (&str, &[u8]),
        layer: (&str, &[u8]),
    ) -> Result<String, String> {
        let mut descriptors = Vec::new();
        for (media_type, bytes) in [config, layer] {
            let digest = sha256(bytes);
            let started = request(
                self.addr,
                "POST",
                &format!("/v2/{repository}/blobs/uploads/"),
                None,
                &[],
            )?;
            if started.status != 202 {
                return Err(format!("starting an upload: HTTP {}", started.status));
            }
            let location = started
                .header("Location")
                .ok_or("no Location for the upload")?;
            // Distribution answers with an absolute URL; the path is what we send.
            let path = location
                .split_once("://")
                .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
                .unwrap_or(location);
            let separator = if path.contains('?') { '&' } else { '?' };
            let done = request(
                self.addr,
                "PUT",
                &format!("{path}{separator}digest={digest}"),
                Some("application/octet-stream"),
                bytes,
            )?;
            if done.status != 201 {
                return Err(format!("uploading {digest}: HTTP {}", done.status));
            }
            descriptors.push(serde_json::json!({
                "mediaType": media_type,
                "digest": digest,
                "size": bytes.len(),
            }));
        }
        let manifest_type = "application/vnd.oci.image.manifest.v1+json";
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": descriptors[0],
            "layers": [descriptors[1]],
        }))
        .map_err(|e| e.to_string())?;
        let put = request(
            self.addr,
            "PUT",
            &format!("/v2/{repository}/manifests/{tag}"),
            Some(manifest_type),
            &manifest,
        )?;
        if put.status != 201 {
            return Err(format!("uploading the manifest: HTTP {}", put.status));
        }
        Ok(sha256(&manifest))
    }

    /// Kills the registry; its port then refuses connections (an unreachable registry).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The status code of a plain HTTP/1.0 GET of `path`.
fn status_of(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    request(addr, "GET", path, None, &[])
        .map(|response| response.status)
        .map_err(std::io::Error::other)
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 request (the connection closes after the response); the body is not kept.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, String> {
    let io = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    let content_type = content_type
        .map(|t| format!("Content-Type: {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{content_type}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("{method} {path}: no status line"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Response { status, headers })
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn free_port() -> Result<SocketAddr, String> {
    // The registry binds it a moment later; a collision shows as a start failure, not a hang.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))
}

fn config(dir: &Path, addr: SocketAddr, with_auth: bool) -> Result<PathBuf, String> {
    let data = dir.join("data");
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: error\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: {addr}\n  secret: herald-oci-test\n",
        data.display()
    );
    if with_auth {
        let htpasswd = dir.join("htpasswd");
        std::fs::write(&htpasswd, format!("{HTPASSWD}\n")).map_err(|e| format!("htpasswd: {e}"))?;
        yaml.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: herald-test\n    path: {}\n",
            htpasswd.display()
        ));
    }
    let path = dir.join("config.yml");
    std::fs::write(&path, yaml).map_err(|e| format!("config: {e}"))?;
    Ok(path)
}
