//! `prism proxy` (npm `@stoplight/prism-cli`, tested with 5.14.2) in front of an upstream server:
//! every request is validated against an OpenAPI document and, with `--errors`, a request or
//! response that violates it is answered with an error instead of being passed through.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// How long Prism may take to start (it is a Node program; the machine may be busy).
const START_TIMEOUT: Duration = Duration::from_secs(120);
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The `prism` executable: `$HERALD_PRISM`, else `prism` on `PATH`.
pub fn prism_binary() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("HERALD_PRISM") {
        return Some(PathBuf::from(explicit));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("prism"))
        .find(|candidate| candidate.is_file())
}

/// The Prism binary, or `None` after printing why the test is skipped. With `CI=true` a missing
/// Prism is a failure, not a skip.
pub fn require_prism() -> Option<PathBuf> {
    match prism_binary() {
        Some(binary) => Some(binary),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but `prism` is not on PATH: npm install -g @stoplight/prism-cli@5")
        }
        None => {
            eprintln!(
                "SKIPPED: `prism` not on PATH (npm install -g @stoplight/prism-cli@5); not validating requests"
            );
            None
        }
    }
}

/// A running `prism proxy <spec> <upstream> --errors` on 127.0.0.1; killed when dropped.
pub struct Prism {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Prism {
    /// Starts Prism and waits until it accepts connections.
    pub async fn start(binary: &Path, spec: &Path, upstream: &str) -> Result<Self, String> {
        let port = free_port().await?;
        let mut child = Command::new(binary)
            .arg("proxy")
            .arg(spec)
            .arg(upstream)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--errors",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stdout) = child.stdout.take() {
            collect(stdout, Arc::clone(&log));
        }
        if let Some(stderr) = child.stderr.take() {
            collect(stderr, Arc::clone(&log));
        }
        let mut prism = Self { child, port, log };
        prism.wait_until_listening().await?;
        Ok(prism)
    }

    async fn wait_until_listening(&mut self) -> Result<(), String> {
        let started = tokio::time::Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "prism exited with {status} before listening:\n{}",
                    self.log()
                ));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Err(format!(
            "prism did not listen within {START_TIMEOUT:?}:\n{}",
            self.log()
        ))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `--allow-host` grant for the proxy: `127.0.0.1:<port>`.
    pub fn grant(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Everything Prism printed so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Log lines reporting a violation or a request Prism refused.
    pub fn problems(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|line| {
                let lower = line.to_lowercase();
                lower.contains("violation") || lower.contains("✖") || lower.contains(" error ")
            })
            .map(str::to_owned)
            .collect()
    }

    /// [`Prism::problems`] once Prism has logged at least one, or empty after `timeout`: Prism
    /// answers a refused request before its log line about it reaches us.
    pub async fn wait_for_problems(&self, timeout: std::time::Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let problems = self.problems();
            if !problems.is_empty() || tokio::time::Instant::now() >= deadline {
                return problems;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

fn collect(stream: impl AsyncRead + Unpin + Send + 'static, log: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
            log.push_str(&line);
            log.push('\n');
        }
    });
}

async fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|err| format!("no free port: {err}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|err| format!("no free port: {err}"))
}
