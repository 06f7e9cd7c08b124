//! GoBGP (`gobgpd` + the `gobgp` CLI over its gRPC API on 127.0.0.1 inside the namespace).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde_json::Value;

use crate::error::{Result, TestbedError};
use crate::netns::Netns;
use crate::process::{DaemonProcess, poll};
use crate::route::{Family, RouteEntry};
use crate::session::PeerConfig;

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// gRPC port; each namespace has its own loopback, so a fixed port never collides.
const API_PORT: &str = "50051";

/// A running `gobgpd` inside a namespace; killed when dropped (and when its lab drops).
#[derive(Debug)]
pub struct GoBgp {
    ns: Netns,
    process: Arc<DaemonProcess>,
}

impl GoBgp {
    /// Renders a gobgpd TOML config for `sessions` (global AS and router id from the first one).
    /// Routes in [`PeerConfig::announce`] are not part of the file: [`GoBgp::start_sessions`] adds them.
    pub fn config(sessions: &[PeerConfig]) -> String {
        let (local_as, router_id) = sessions
            .first()
            .map_or((65000, "192.0.2.254".to_string()), |s| {
                (s.local_as, s.router_id.to_string())
            });
        let mut c = format!("[global.config]\n  as = {local_as}\n  router-id = \"{router_id}\"\n");
        for s in sessions {
            c.push_str("\n[[neighbors]]\n  [neighbors.config]\n");
            let _ = writeln!(c, "    neighbor-address = \"{}\"", s.neighbor_address);
            let _ = writeln!(c, "    peer-as = {}", s.neighbor_as);
            if let Some(pw) = &s.password {
                let _ = writeln!(c, "    auth-password = \"{pw}\"");
            }
            c.push_str("  [neighbors.transport.config]\n");
            let _ = writeln!(c, "    local-address = \"{}\"", s.local_address);
            if s.passive {
                c.push_str("    passive-mode = true\n");
            }
            c.push_str("  [neighbors.timers.config]\n    connect-retry = 1\n");
            let _ = writeln!(
                c,
                "    hold-time = {}\n    keepalive-interval = {}",
                s.hold_time,
                (s.hold_time / 3).max(1)
            );
            if let Some(ttl) = s.multihop {
                let _ = writeln!(
                    c,
                    "  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = {ttl}"
                );
            }
            if s.graceful_restart {
                c.push_str("  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120\n");
            }
            for (on, name) in [(s.ipv4, "ipv4-unicast"), (s.ipv6, "ipv6-unicast")] {
                if !on {
                    continue;
                }
                let _ = writeln!(
                    c,
                    "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{name}\""
                );
                if s.graceful_restart {
                    c.push_str("    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n");
                }
            }
        }
        c
    }

    /// Starts gobgpd in `ns` with `toml` config; returns once its API answers.
    pub fn start(ns: &Netns, toml: &str) -> Result<GoBgp> {
        let conf = ns.lab_file("gobgpd", "toml");
        std::fs::write(&conf, toml)?;
        let log = ns.lab_file("gobgpd", "log");
        let mut cmd = ns.command("gobgpd");
        cmd.arg("-f")
            .arg(&conf)
            .args(["-l", "info", "-p", "--pprof-disable"])
            .arg(format!("--api-hosts=127.0.0.1:{API_PORT}"));
        let label = format!("gobgpd in {}", ns.role());
        let process = Arc::new(DaemonProcess::spawn(label.clone(), cmd, &log)?);
        ns.shared().register_daemon(Arc::clone(&process));
        let gobgp = GoBgp {
            ns: ns.clone(),
            process,
        };
        poll(READY_TIMEOUT, POLL_INTERVAL, || {
            if let Some(status) = gobgp.process.exited() {
                return Err(format!("gobgpd exited: {status}"));
            }
            gobgp.cli(&["global"]).map(drop).map_err(|e| e.to_string())
        })
        .map_err(|detail| TestbedError::NotReady {
            daemon: label,
            timeout: READY_TIMEOUT,
            detail,
            log: gobgp.process.log_tail(2000),
        })?;
        Ok(gobgp)
    }

    /// Starts gobgpd with [`GoBgp::config`] of `sessions`, then originates their announced prefixes
    /// (with [`PeerConfig::next_hop_v4`]/[`PeerConfig::next_hop_v6`] as next hop when set).
    pub fn start_sessions(ns: &Netns, sessions: &[PeerConfig]) -> Result<GoBgp> {
        let gobgp = Self::start(ns, &Self::config(sessions))?;
        for s in sessions {
            for prefix in &s.announce {
                let nh: Option<IpAddr> = match prefix {
                    IpNet::V4(_) => s.next_hop_v4.map(IpAddr::from),
                    IpNet::V6(_) => s.next_hop_v6.map(IpAddr::from),
                };
                gobgp.announce(prefix, nh)?;
            }
        }
        Ok(gobgp)
    }

    /// The namespace gobgpd runs in.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// Runs the `gobgp` CLI inside the namespace against this daemon; returns stdout.
    pub fn cli(&self, args: &[&str]) -> Result<String> {
        let mut argv = vec!["gobgp", "-u", "127.0.0.1", "-p", API_PORT];
        argv.extend_from_slice(args);
        self.ns.exec_checked(&argv)
    }

    /// Originates `prefix` (`gobgp global rib add`), optionally with an explicit next hop.
    pub fn announce(&self, prefix: &IpNet, next_hop: Option<IpAddr>) -> Result<()> {
        let family = family_flag(Family::of(prefix));
        let text = prefix.to_string();
        let nh = next_hop.map(|a| a.to_string());
        let mut args = vec!["global", "rib", "-a", family, "add", text.as_str()];
        if let Some(nh) = &nh {
            args.extend(["nexthop", nh.as_str()]);
        }
        self.cli(&args).map(drop)
    }

    /// Withdraws a prefix originated with [`GoBgp::announce`].
    pub fn withdraw(&self, prefix: &IpNet) -> Result<()> {
        let text = prefix.to_string();
        self.cli(&[
            "global",
            "rib",
            "-a",
            family_flag(Family::of(prefix)),
            "del",
            &text,
        ])
        .map(drop)
    }

    /// Every path of the global RIB of `family` (`gobgp -j global rib -a ipv4|ipv6`).
    pub fn rib(&self, family: Family) -> Result<Vec<RouteEntry>> {
        let text = self.cli(&["-j", "global", "rib", "-a", family_flag(family)])?;
        parse_rib(&text)
    }

    /// Session state of the neighbor at `address` (`Established`, `Active`, …), `None` if unknown.
    pub fn neighbor_state(&self, address: IpAddr) -> Result<Option<String>> {
        let text = self.cli(&["-j", "neighbor"])?;
        parse_neighbor_state(&text, address)
    }

    /// Waits until the neighbor at `address` is `Established`; returns how long that took.
    pub fn wait_established(&self, address: IpAddr, timeout: Duration) -> Result<Duration> {
        poll(timeout, POLL_INTERVAL, || {
            match self.neighbor_state(address) {
                Ok(Some(s)) if s == "Established" => Ok(()),
                Ok(s) => Err(format!("{s:?}")),
                Err(e) => Err(e.to_string()),
            }
        })
        .map(|(_, took)| took)
        .map_err(|last| TestbedError::Timeout {
            what: format!("gobgpd ({}) neighbor {address} Established", self.ns.role()),
            timeout,
            last,
        })
    }

    /// Waits until the global RIB of `family` holds exactly `count` prefixes.
    pub fn wait_routes(&self, family: Family, count: usize, timeout: Duration) -> Result<Duration> {
        poll(timeout, POLL_INTERVAL, || {
            let flag = family_flag(family);
            let text = self
                .cli(&["global", "rib", "-a", flag, "summary"])
                .map_err(|e| e.to_string())?;
            let n = parse_summary_destinations(&text).map_err(|e| e.to_string())?;
            if n == count {
                Ok(())
            } else {
                Err(format!("{n} prefixes"))
            }
        })
        .map(|(_, took)| took)
        .map_err(|last| TestbedError::Timeout {
            what: format!("{count} {family:?} prefixes in gobgpd ({})", self.ns.role()),
            timeout,
            last,
        })
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        self.process.log_tail(64 * 1024)
    }

    /// Kills gobgpd now (SIGKILL).
    pub fn kill(&self) {
        self.process.stop();
    }
}

fn family_flag(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
}

fn parse_error(what: &str, detail: impl ToString) -> TestbedError {
    TestbedError::Parse {
        what: what.into(),
        detail: detail.to_string(),
    }
}

/// `gobgp global rib summary`: "Table ipv4-unicast\nDestination: 3, Path: 3".
fn parse_summary_destinations(text: &str) -> Result<usize> {
    text.split_once("Destination:")
        .and_then(|(_, rest)| rest.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| parse_error("gobgp rib summary", text))
}

pub(crate) fn parse_neighbor_state(text: &str, address: IpAddr) -> Result<Option<String>> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| parse_error("gobgp -j neighbor", e))?;
    let wanted = address.to_string();
    for n in value.as_array().into_iter().flatten() {
        let addr = n["state"]["neighbor_address"]
            .as_str()
            .or_else(|| n["conf"]["neighbor_address"].as_str());
        if addr != Some(wanted.as_str()) {
            continue;
        }
        let state = &n["state"]["session_state"];
        let name = match state {
            Value::Number(num) => match num.as_u64() {
                Some(1) => "Idle",
                Some(2) => "Connect",
                Some(3) => "Active",
                Some(4) => "OpenSent",
                Some(5) => "OpenConfirm",
                Some(6) => "Established",
                _ => "Unknown",
            }
            .to_string(),
            Value::String(s) => capitalize(s),
            _ => "Unknown".to_string(),
        };
        return Ok(Some(name));
    }
    Ok(None)
}

fn capitalize(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "established" => "Established".into(),
        "openconfirm" => "OpenConfirm".into(),
        "opensent" => "OpenSent".into(),
        _ => {
            let mut c = lower.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

pub(crate) fn parse_rib(text: &str) -> Result<Vec<RouteEntry>> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| parse_error("gobgp -j global rib", e))?;
    let mut out = Vec::new();
    let Some(map) = value.as_object() else {
        return Ok(out); // an empty RIB prints `null`
    };
    for (prefix, paths) in map {
        let prefix: IpNet = prefix.parse().map_err(|e| parse_error("gobgp prefix", e))?;
        for path in paths.as_array().into_iter().flatten() {
            let mut r = RouteEntry::new(prefix);
            r.stale = path["stale"].as_bool().unwrap_or(false);
            r.from = path["neighbor-ip"]
                .as_str()
                .or_else(|| path["neighbor_ip"].as_str())
                .and_then(|a| a.parse().ok())
                .filter(|a: &IpAddr| !a.is_unspecified());
            for attr in path["attrs"].as_array().into_iter().flatten() {
                apply_attr(&mut r, attr);
            }
            out.push(r);
        }
    }
    Ok(out)
}

fn apply_attr(r: &mut RouteEntry, attr: &Value) {
    let as_u32 = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    match attr["type"].as_u64() {
        Some(2) => {
            r.as_path = attr["as_paths"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|seg| seg["asns"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| as_u32(&a))
                .collect();
        }
        Some(3 | 14) => {
            r.next_hop = attr["nexthop"].as_str().and_then(|a| a.parse().ok());
        }
        Some(4) => r.med = as_u32(&attr["metric"]),
        Some(5) => r.local_pref = as_u32(&attr["value"]),
        Some(8) => {
            r.communities = attr["communities"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(as_u32)
                .filter_map(|c| {
                    Some((
                        u16::try_from(c >> 16).ok()?,
                        u16::try_from(c & 0xffff).ok()?,
                    ))
                })
                .collect();
        }
        Some(32) => {
            r.large_communities = attr["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    Some((
                        as_u32(&c["ASN"])?,
                        as_u32(&c["LocalData1"])?,
                        as_u32(&c["LocalData2"])?,
                    ))
                })
                .collect();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rib_json() {
        let text = r#"{"198.51.100.9/32":[{"nlri":{"prefix":"198.51.100.9/32"},"age":1,"best":true,
          "attrs":[{"type":1,"value":2},{"type":2,"as_paths":[{"segment_type":2,"num":1,"asns":[4200000001]}]},
          {"type":8,"communities":[4259840009]},{"type":32,"value":[{"ASN":65000,"LocalData1":1,"LocalData2":2}]},
          {"type":3,"nexthop":"192.0.2.2"}],"stale":true,"neighbor-ip":"192.0.2.2"}]}"#;
        let routes = parse_rib(text).unwrap();
        assert_eq!(routes.len(), 1);
        let r = &routes[0];
        assert_eq!(r.communities, vec![(65000, 9)]);
        assert_eq!(r.large_communities, vec![(65000, 1, 2)]);
        assert_eq!(r.as_path, vec![4_200_000_001]);
        assert_eq!(r.next_hop, Some("192.0.2.2".parse().unwrap()));
        assert!(r.stale);
        assert!(parse_rib("null").unwrap().is_empty());
    }

    #[test]
    fn parses_neighbor_state() {
        let text = r#"[{"conf":{"neighbor_address":"169.254.255.1"},"state":{"neighbor_address":"169.254.255.1","session_state":6}}]"#;
        let s = parse_neighbor_state(text, "169.254.255.1".parse().unwrap()).unwrap();
        assert_eq!(s.as_deref(), Some("Established"));
        assert_eq!(
            parse_neighbor_state(text, "192.0.2.9".parse().unwrap()).unwrap(),
            None
        );
    }

    #[test]
    fn parses_summary() {
        assert_eq!(
            parse_summary_destinations("Table ipv4-unicast\nDestination: 3, Path: 3\n").unwrap(),
            3
        );
    }
}
