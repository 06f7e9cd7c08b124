//! A lab: the namespaces, links and daemons of one test, torn down on drop.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tempfile::TempDir;

use crate::error::Result;
use crate::netns::Netns;
use crate::process::{DaemonProcess, run_checked};

/// Labs created by this process so far; part of every lab id so parallel tests never collide.
static LAB_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// State shared by a lab and every handle made from it (namespaces, daemons).
#[derive(Debug)]
pub(crate) struct LabShared {
    pub(crate) id: String,
    pub(crate) dir: TempDir,
    namespaces: Mutex<Vec<String>>,
    daemons: Mutex<Vec<Arc<DaemonProcess>>>,
    links: AtomicUsize,
    files: AtomicUsize,
}

impl LabShared {
    pub(crate) fn register_daemon(&self, daemon: Arc<DaemonProcess>) {
        self.daemons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(daemon);
    }

    /// A fresh path in the lab directory: `<dir>/<stem>-<n>.<ext>`.
    pub(crate) fn file(&self, stem: &str, ext: &str) -> std::path::PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("{stem}-{n}.{ext}"))
    }
}

/// One test's network lab. Create it with [`Lab::for_test`]; dropping it (also while unwinding from a
/// panic) kills every daemon started in it and deletes its namespaces (which removes their veths).
///
/// ```no_run
/// # use herald_testbed::Lab;
/// let Some(lab) = Lab::for_test("my_test") else { return }; // skipped (not root), or panics under CI=true
/// let node = lab.namespace("node");
/// let peer = lab.namespace("peer");
/// lab.link(&node, &["192.0.2.2/24"], &peer, &["192.0.2.1/24"]);
/// ```
#[derive(Debug)]
pub struct Lab {
    shared: Arc<LabShared>,
}

impl Lab {
    /// Prepares a lab for the test `name`, or explains why network tests cannot run here.
    ///
    /// Returns `None` after printing the reason to stderr when namespaces cannot be created (not
    /// root, `ip netns add` fails). When the environment variable `CI` is `true` it panics instead,
    /// so CI never silently skips network tests. Nothing is created yet besides a temp directory.
    pub fn for_test(name: &str) -> Option<Lab> {
        match Self::try_new(name) {
            Ok(lab) => Some(lab),
            Err(reason) => {
                let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
                if in_ci {
                    panic!("network test {name} cannot run under CI=true: {reason}");
                }
                eprintln!("SKIPPED network test {name}: {reason}");
                None
            }
        }
    }

    fn try_new(name: &str) -> std::result::Result<Lab, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("needs root to create network namespaces".into());
        }
        remove_stale_labs();
        let counter = LAB_COUNTER.fetch_add(1, Ordering::Relaxed);
        let short: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let id = format!("hb-{short}-{}-{counter}", std::process::id());
        let probe = format!("{id}-probe");
        run_checked(Command::new("ip").args(["netns", "add", &probe]))
            .map_err(|e| format!("cannot create a network namespace: {e}"))?;
        let _ = run_checked(Command::new("ip").args(["netns", "del", &probe]));
        let dir = tempfile::Builder::new()
            .prefix(&format!("{id}-"))
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?;
        Ok(Lab {
            shared: Arc::new(LabShared {
                id,
                dir,
                namespaces: Mutex::new(Vec::new()),
                daemons: Mutex::new(Vec::new()),
                links: AtomicUsize::new(0),
                files: AtomicUsize::new(0),
            }),
        })
    }

    /// The lab id `hb-<short test name>-<pid>-<counter>`; namespace names are `<id>-<role>`.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The lab's temp directory (daemon configs, sockets, logs). Deleted with the last handle.
    pub fn dir(&self) -> &Path {
        self.shared.dir.path()
    }

    /// Creates the namespace `<id>-<role>` with `lo` up. Panics (it is a test helper) when `ip` fails.
    pub fn namespace(&self, role: &str) -> Netns {
        self.try_namespace(role)
            .unwrap_or_else(|e| panic!("creating namespace {role}: {e}"))
    }

    /// Like [`Lab::namespace`] but returns the error.
    pub fn try_namespace(&self, role: &str) -> Result<Netns> {
        let name = format!("{}-{role}", self.shared.id);
        run_checked(Command::new("ip").args(["netns", "add", &name]))?;
        self.shared
            .namespaces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name.clone());
        let ns = Netns::new(name, role.to_string(), Arc::clone(&self.shared));
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Joins `a` and `b` with a veth pair, assigns the addresses (CIDR notation; IPv6 with `nodad` so
    /// they are usable at once) and brings both ends up. Panics when `ip` fails.
    pub fn link(&self, a: &Netns, a_addrs: &[&str], b: &Netns, b_addrs: &[&str]) -> Link {
        self.try_link(a, a_addrs, b, b_addrs)
            .unwrap_or_else(|e| panic!("linking {} and {}: {e}", a.role(), b.role()))
    }

    /// Like [`Lab::link`] but returns the error.
    pub fn try_link(
        &self,
        a: &Netns,
        a_addrs: &[&str],
        b: &Netns,
        b_addrs: &[&str],
    ) -> Result<Link> {
        let n = self.shared.links.fetch_add(1, Ordering::Relaxed);
        let a_if = iface_name(n, b.role());
        let b_if = iface_name(n, a.role());
        // The kernel creates each end directly in its namespace: the host namespace is never touched.
        run_checked(Command::new("ip").args([
            "link",
            "add",
            &a_if,
            "netns",
            a.name(),
            "type",
            "veth",
            "peer",
            "name",
            &b_if,
            "netns",
            b.name(),
        ]))?;
        for addr in a_addrs {
            a.add_address(&a_if, addr)?;
        }
        for addr in b_addrs {
            b.add_address(&b_if, addr)?;
        }
        a.ip(&["link", "set", &a_if, "up"])?;
        b.ip(&["link", "set", &b_if, "up"])?;
        Ok(Link { a_if, b_if })
    }
}

/// `l<n>-<peer role>`, cut to the kernel's 15-character interface-name limit.
fn iface_name(n: usize, peer_role: &str) -> String {
    let mut name = format!("l{n}-{peer_role}");
    name.truncate(15);
    name
}

/// The two interface names of a veth pair made by [`Lab::link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The interface inside the first namespace.
    pub a_if: String,
    /// The interface inside the second namespace.
    pub b_if: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let daemons = std::mem::take(
            &mut *self
                .shared
                .daemons
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for daemon in &daemons {
            daemon.stop();
        }
        let namespaces = std::mem::take(
            &mut *self
                .shared
                .namespaces
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for name in namespaces.iter().rev() {
            delete_namespace(name);
        }
    }
}

/// Kills whatever still runs in the namespace, then deletes it.
fn delete_namespace(name: &str) {
    if let Ok(pids) = run_checked(Command::new("ip").args(["netns", "pids", name])) {
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<libc::pid_t>().ok())
        {
            // SAFETY: kill(2) on a process living in a namespace this lab created.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    let _ = run_checked(Command::new("ip").args(["netns", "del", name]));
}

/// Deletes `hb-*-<pid>-*` namespaces whose creating process is gone (a test run killed with SIGKILL).
fn remove_stale_labs() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = stale_lab_pid(&name) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            delete_namespace(&name);
        }
    }
}

/// The creator pid encoded in a lab namespace name `hb-<short>-<pid>-<counter>-<role>`.
fn stale_lab_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("hb-")?;
    let mut parts = rest.splitn(4, '-');
    let _short = parts.next()?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_fit_the_kernel_limit() {
        assert_eq!(iface_name(0, "router"), "l0-router");
        assert_eq!(iface_name(12, "a-very-long-role-name").len(), 15);
    }

    #[test]
    fn stale_lab_names_yield_their_pid() {
        assert_eq!(stale_lab_pid("hb-birdgob-4242-3-node"), Some(4242));
        assert_eq!(stale_lab_pid("hn"), None);
        assert_eq!(stale_lab_pid("hb-x-notapid-1-node"), None);
    }
}
