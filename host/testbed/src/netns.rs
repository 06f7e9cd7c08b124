//! A network namespace of a lab: run commands and code inside it, change its addresses and routes.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Result, TestbedError};
use crate::lab::LabShared;
use crate::process::{DaemonProcess, Process, output_of, run_checked};

/// A handle to one namespace of a [`crate::Lab`]. Cheap to clone; the namespace lives until the lab drops.
#[derive(Debug, Clone)]
pub struct Netns {
    name: String,
    role: String,
    shared: Arc<LabShared>,
}

/// An address as `ip -j addr` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelAddress {
    pub address: std::net::IpAddr,
    pub prefix_len: u8,
    /// `IFA_PROTO` as `ip` names it; `None` when unset — and always `None` with iproute2 < 6.3
    /// (Debian bookworm ships 6.1), which does not print it.
    pub protocol: Option<String>,
    pub label: Option<String>,
}

/// A route as `ip -j route` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRoute {
    /// `default` or a prefix such as `169.254.255.1` (host routes have no `/len` in `ip`'s output).
    pub dst: String,
    pub gateway: Option<String>,
    pub dev: Option<String>,
    /// `kernel`, `boot`, `static`, or the number for protocols without a name.
    pub protocol: String,
}

impl Netns {
    pub(crate) fn new(name: String, role: String, shared: Arc<LabShared>) -> Self {
        Self { name, role, shared }
    }

    /// The namespace name (`<lab id>-<role>`), as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role given to [`crate::Lab::namespace`].
    pub fn role(&self) -> &str {
        &self.role
    }

    pub(crate) fn shared(&self) -> &Arc<LabShared> {
        &self.shared
    }

    /// A command that runs `program` inside this namespace (`ip netns exec <name> <program>`).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `argv` inside the namespace and returns its output, whatever the exit status.
    pub fn exec(&self, argv: &[&str]) -> Output {
        let (program, args) = argv.split_first().unwrap_or((&"true", &[]));
        let mut cmd = self.command(program);
        cmd.args(args);
        output_of(&mut cmd).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `argv` inside the namespace; a non-zero exit is an error carrying stderr. Returns stdout.
    pub fn exec_checked(&self, argv: &[&str]) -> Result<String> {
        let (program, args) = argv.split_first().unwrap_or((&"true", &[]));
        let mut cmd = self.command(program);
        cmd.args(args);
        run_checked(&mut cmd)
    }

    /// `ip -n <name> <args…>`; returns stdout.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        run_checked(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// Runs `f` on a new thread that has entered this namespace (`setns(CLONE_NEWNET)`), and returns
    /// its result (a panic in `f` is re-raised here). Sockets opened by `f` — including by a tokio
    /// runtime that `f` builds, whose worker threads inherit the namespace — live in the namespace.
    /// Build the runtime inside `f`; one built outside keeps its threads in the caller's namespace.
    pub fn run<F, R>(&self, f: F) -> R
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            let handle = scope.spawn(move || {
                let ns = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                // SAFETY: setns(2) on an fd we own; it only changes this (fresh) thread's namespace.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
                f()
            });
            match handle.join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Starts `argv` inside the namespace as a supervised background process (stdout and stderr to a
    /// log file in the lab dir). It is killed when the returned handle or the lab drops.
    pub fn spawn(&self, argv: &[&str]) -> Result<Process> {
        let (program, args) = argv.split_first().unwrap_or((&"true", &[]));
        let mut cmd = self.command(program);
        cmd.args(args);
        let stem = std::path::Path::new(program).file_name().map_or_else(
            || "process".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let log = self.lab_file(&stem, "log");
        let inner = Arc::new(DaemonProcess::spawn(
            format!("{stem} in {}", self.role),
            cmd,
            &log,
        )?);
        self.shared.register_daemon(Arc::clone(&inner));
        Ok(Process::new(inner))
    }

    /// Adds `cidr` to `dev` (IPv6 with `nodad`); replace semantics, so re-adding is fine.
    pub fn add_address(&self, dev: &str, cidr: &str) -> Result<()> {
        let mut args = vec!["addr", "replace", cidr, "dev", dev];
        if cidr.contains(':') {
            args.push("nodad");
        }
        self.ip(&args).map(drop)
    }

    /// Adds `cidr` (e.g. `169.254.255.1/32`) to `lo`.
    pub fn add_address_lo(&self, cidr: &str) -> Result<()> {
        self.add_address("lo", cidr)
    }

    /// `ip route replace <spec>`, e.g. `ns.route("169.254.255.1/32 via 192.0.2.1")`.
    pub fn route(&self, spec: &str) -> Result<()> {
        let mut args = vec!["route", "replace"];
        args.extend(spec.split_whitespace());
        if spec.contains(':') {
            args.insert(0, "-6");
        }
        self.ip(&args).map(drop)
    }

    /// Turns on IPv4 and IPv6 forwarding inside this namespace only.
    pub fn enable_forwarding(&self) -> Result<()> {
        self.exec_checked(&["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])?;
        self.exec_checked(&["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"])?;
        Ok(())
    }

    /// Creates an up interface `name` with no traffic of its own, e.g. for VIPs that must not sit on
    /// `lo`: a `dummy` device, or — on kernels built without the dummy driver, like this test
    /// machine's — a veth whose peer (`<name>p`, cut to 15 characters) stays down in the same namespace.
    pub fn add_dummy(&self, name: &str) -> Result<()> {
        if self.ip(&["link", "add", name, "type", "dummy"]).is_err() {
            let mut peer = format!("{name}p");
            peer.truncate(15);
            self.ip(&["link", "add", name, "type", "veth", "peer", "name", &peer])?;
        }
        self.ip(&["link", "set", name, "up"]).map(drop)
    }

    /// Addresses on `dev` (both families).
    pub fn addresses(&self, dev: &str) -> Result<Vec<KernelAddress>> {
        let json = self.ip(&["-j", "addr", "show", "dev", dev])?;
        parse_addresses(&json)
    }

    /// Routes of the main table of one family (`4` or `6`), every protocol.
    pub fn routes(&self, family: u8) -> Result<Vec<KernelRoute>> {
        let flag = if family == 6 { "-6" } else { "-4" };
        let json = self.ip(&["-j", flag, "route", "show", "table", "main"])?;
        parse_routes(&json)
    }

    /// A fresh file path in the lab directory, for configs and logs of things run in this namespace.
    pub fn lab_file(&self, stem: &str, ext: &str) -> std::path::PathBuf {
        self.shared.file(&format!("{}-{stem}", self.role), ext)
    }
}

fn json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| TestbedError::Parse {
        what: what.into(),
        detail: e.to_string(),
    })
}

fn parse_addresses(text: &str) -> Result<Vec<KernelAddress>> {
    let value = json(text, "ip -j addr")?;
    let mut out = Vec::new();
    for link in value.as_array().into_iter().flatten() {
        for info in link["addr_info"].as_array().into_iter().flatten() {
            let Some(address) = info["local"].as_str().and_then(|a| a.parse().ok()) else {
                continue;
            };
            out.push(KernelAddress {
                address,
                prefix_len: info["prefixlen"]
                    .as_u64()
                    .and_then(|p| u8::try_from(p).ok())
                    .unwrap_or(0),
                protocol: info.get("protocol").map(value_text),
                label: info["label"].as_str().map(str::to_string),
            });
        }
    }
    Ok(out)
}

fn parse_routes(text: &str) -> Result<Vec<KernelRoute>> {
    let value = json(text, "ip -j route")?;
    Ok(value
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| KernelRoute {
            dst: r["dst"].as_str().unwrap_or_default().to_string(),
            gateway: r["gateway"].as_str().map(str::to_string),
            dev: r["dev"].as_str().map(str::to_string),
            protocol: r.get("protocol").map(value_text).unwrap_or_default(),
        })
        .collect())
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_json_routes() {
        let text = r#"[{"dst":"169.254.255.1","gateway":"192.0.2.1","dev":"n0","protocol":"250","flags":[]},
                       {"dst":"192.0.2.0/24","dev":"n0","protocol":"kernel","scope":"link"}]"#;
        let routes = parse_routes(text).unwrap();
        assert_eq!(routes[0].gateway.as_deref(), Some("192.0.2.1"));
        assert_eq!(routes[0].protocol, "250");
        assert_eq!(routes[1].protocol, "kernel");
    }

    #[test]
    fn parses_ip_json_addresses() {
        let text = r#"[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"label":"lo"},
                       {"family":"inet6","local":"2001:db8::1","prefixlen":128,"protocol":"0x2a"}]}]"#;
        let addrs = parse_addresses(text).unwrap();
        assert_eq!(addrs.len(), 2);
        assert_eq!(addrs[1].prefix_len, 128);
        assert_eq!(addrs[1].protocol.as_deref(), Some("0x2a"));
    }
}
