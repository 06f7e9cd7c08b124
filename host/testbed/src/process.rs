//! Running commands and supervising daemon child processes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Result, TestbedError};

/// Renders a command line for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `cmd` to completion; a non-zero exit becomes [`TestbedError::Command`] carrying stderr.
pub(crate) fn run_checked(cmd: &mut Command) -> Result<String> {
    let output = output_of(cmd)?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(TestbedError::Command {
        command: describe(cmd),
        detail: format!(
            "{}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        ),
    })
}

/// Runs `cmd` to completion and returns its output whatever the exit status.
pub(crate) fn output_of(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|e| TestbedError::Command {
            command: describe(cmd),
            detail: e.to_string(),
        })
}

/// Polls `probe` every `interval` until it yields a value or `timeout` passes.
/// Returns the value and the time it took; `Err(last)` carries the last description of "not yet".
pub fn poll<T>(
    timeout: Duration,
    interval: Duration,
    mut probe: impl FnMut() -> std::result::Result<T, String>,
) -> std::result::Result<(T, Duration), String> {
    let start = Instant::now();
    // Bounded: at most timeout/interval + 1 probes.
    loop {
        match probe() {
            Ok(value) => return Ok((value, start.elapsed())),
            Err(last) if start.elapsed() >= timeout => return Err(last),
            Err(_) => thread::sleep(interval),
        }
    }
}

/// A daemon child process, killed (SIGKILL) and reaped when stopped or dropped.
#[derive(Debug)]
pub(crate) struct DaemonProcess {
    pub(crate) label: String,
    pub(crate) log: PathBuf,
    child: Mutex<Option<Child>>,
}

impl DaemonProcess {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub(crate) fn spawn(label: String, mut cmd: Command, log: &Path) -> Result<Self> {
        let out = File::options().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| TestbedError::Command {
                command: describe(&cmd),
                detail: e.to_string(),
            })?;
        Ok(Self {
            label,
            log: log.to_path_buf(),
            child: Mutex::new(Some(child)),
        })
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.lock().as_ref().map(Child::id)
    }

    /// `Some(status)` once the process has exited.
    pub(crate) fn exited(&self) -> Option<String> {
        let mut guard = self.lock();
        match guard.as_mut() {
            None => Some("stopped by the test bed".into()),
            Some(child) => match child.try_wait() {
                Ok(Some(status)) => Some(status.to_string()),
                Ok(None) => None,
                Err(e) => Some(e.to_string()),
            },
        }
    }

    /// Sends `signal` without waiting (e.g. SIGTERM to test a graceful shutdown).
    pub(crate) fn signal(&self, signal: libc::c_int) -> Result<()> {
        let Some(pid) = self.pid() else {
            return Ok(());
        };
        let pid = libc::pid_t::try_from(pid).map_err(|e| TestbedError::Parse {
            what: "pid".into(),
            detail: e.to_string(),
        })?;
        // SAFETY: kill(2) with a pid of our own unreaped child; no memory is shared.
        let rc = unsafe { libc::kill(pid, signal) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(())
    }

    /// Waits up to `timeout` for the process to exit by itself; true when it did.
    pub(crate) fn wait_exit(&self, timeout: Duration) -> bool {
        poll(timeout, Duration::from_millis(10), || {
            self.exited().map(|_| ()).ok_or_else(|| "running".into())
        })
        .is_ok()
    }

    /// Kills (SIGKILL) and reaps the process. Idempotent.
    pub(crate) fn stop(&self) {
        let mut guard = self.lock();
        if let Some(mut child) = guard.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `max` bytes of the log, for error messages.
    pub(crate) fn log_tail(&self, max: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(max);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Any program started with [`crate::Netns::spawn`] (e.g. the `herald` binary under test): output goes
/// to a log file in the lab dir; SIGKILLed when dropped and when the lab drops.
#[derive(Debug)]
pub struct Process {
    inner: std::sync::Arc<DaemonProcess>,
}

impl Process {
    pub(crate) fn new(inner: std::sync::Arc<DaemonProcess>) -> Self {
        Self { inner }
    }

    /// The pid (of the program itself: `ip netns exec` execs it), `None` once stopped.
    pub fn pid(&self) -> Option<u32> {
        self.inner.pid()
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) without waiting.
    pub fn signal(&self, signal: i32) -> Result<()> {
        self.inner.signal(signal)
    }

    /// Waits up to `timeout` for the process to exit; returns its exit status text, `None` if still running.
    pub fn wait_exit(&self, timeout: Duration) -> Option<String> {
        if self.inner.wait_exit(timeout) {
            self.inner.exited()
        } else {
            None
        }
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&self) -> Option<String> {
        self.inner.exited()
    }

    /// Everything the process wrote to stdout and stderr so far (last 64 KiB).
    pub fn log(&self) -> String {
        self.inner.log_tail(64 * 1024)
    }

    /// The log file path.
    pub fn log_path(&self) -> &Path {
        &self.inner.log
    }

    /// SIGKILL and reap now.
    pub fn kill(&self) {
        self.inner.stop();
    }
}
