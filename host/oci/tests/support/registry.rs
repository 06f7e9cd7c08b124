//! A real registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1, one per test.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

const BINARY: &str = "/usr/bin/docker-registry";
/// `herald-Test-Pa55word`, bcrypt cost 4 (distribution's htpasswd accepts bcrypt only).
pub const HTPASSWD: &str = "herald:$2a$04$KcAy9IbW/vCwXiaZU6BMlujhhP2EHKmxYE/Hru24B/0e9Sq.t2.1O";
pub const USER: &str = "herald";
pub const PASSWORD: &str = "herald-Test-Pa55word";

pub struct Registry {
    child: Option<Child>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry, or returns `None` (skip) when it cannot run here; under `CI=true` a
    /// registry that cannot start fails the test instead, naming what is missing.
    pub async fn start(with_auth: bool) -> Option<Self> {
        match Self::try_start(with_auth).await {
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

    async fn try_start(with_auth: bool) -> Result<Self, String> {
        if !Path::new(BINARY).exists() {
            return Err(format!(
                "{BINARY} is missing (apt-get install docker-registry)"
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let addr = free_port()?;
        let config = config(dir.path(), addr, with_auth)?;
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {BINARY}: {e}"))?;
        let mut registry = Self {
            child: Some(child),
            addr,
            _dir: dir,
        };
        registry.wait_ready().await?;
        Ok(registry)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(response) = super::http::get(self.addr, "/v2/", None).await
                && (response.status == 200 || response.status == 401)
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use tokio::io::AsyncReadExt as _;
                    let _ = pipe.read_to_string(&mut stderr).await;
                }
                return Err(format!("{BINARY} exited with {status}: {stderr}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
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

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
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
