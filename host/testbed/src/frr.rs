//! FRR 8.4 (`zebra` + `bgpd`) in a namespace, with all state inside the lab directory.
//!
//! The daemons run as user/group `frr` (FRR refuses `-u root` unless root is in group `frrvty`),
//! with `-i <pid>`, `-z <zserv socket>`, `--vty_socket <dir>`, `-f <config>`, `-P 0` (no TCP vty) and
//! `--log stdout`; `vtysh --vty_socket <dir> -d bgpd -c …` talks to bgpd.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use serde_json::Value;

use crate::error::{Result, TestbedError};
use crate::netns::Netns;
use crate::process::{DaemonProcess, poll, run_checked};
use crate::route::{Family, RouteEntry, parse_community, parse_large_community};
use crate::session::PeerConfig;

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const FRR_BIN: &str = "/usr/lib/frr";

/// zebra + bgpd running inside a namespace; both killed when dropped (and when the lab drops).
#[derive(Debug)]
pub struct Frr {
    ns: Netns,
    dir: PathBuf,
    zebra: Arc<DaemonProcess>,
    bgpd: Arc<DaemonProcess>,
}

impl Frr {
    /// Renders a `bgpd.conf` for `sessions` (AS and router id from the first one), with
    /// `no bgp ebgp-requires-policy` (FRR 8 otherwise drops eBGP routes without a policy) and
    /// `no bgp network import-check` so announced prefixes need no kernel route.
    pub fn config(sessions: &[PeerConfig]) -> String {
        let (local_as, router_id) = sessions
            .first()
            .map_or((65000, "192.0.2.254".to_string()), |s| {
                (s.local_as, s.router_id.to_string())
            });
        let mut c = format!(
            "frr defaults traditional\nhostname herald-testbed\nlog stdout\n!\nrouter bgp {local_as}\n \
             bgp router-id {router_id}\n no bgp ebgp-requires-policy\n no bgp network import-check\n"
        );
        if sessions.iter().any(|s| s.graceful_restart) {
            c.push_str(" bgp graceful-restart\n");
        }
        for s in sessions {
            let n = s.neighbor_address;
            let _ = writeln!(c, " neighbor {n} remote-as {}", s.neighbor_as);
            let _ = writeln!(c, " neighbor {n} update-source {}", s.local_address);
            if let Some(ttl) = s.multihop {
                let _ = writeln!(c, " neighbor {n} ebgp-multihop {ttl}");
            }
            if let Some(pw) = &s.password {
                let _ = writeln!(c, " neighbor {n} password {pw}");
            }
            if s.passive {
                let _ = writeln!(c, " neighbor {n} passive");
            }
            let _ = writeln!(
                c,
                " neighbor {n} timers {} {}\n neighbor {n} timers connect 1",
                (s.hold_time / 3).max(1),
                s.hold_time
            );
        }
        for (v6, af) in [(false, "ipv4"), (true, "ipv6")] {
            let _ = writeln!(c, " address-family {af} unicast");
            for s in sessions {
                let n = s.neighbor_address;
                let on = if v6 { s.ipv6 } else { s.ipv4 };
                let _ = writeln!(c, "  {}neighbor {n} activate", if on { "" } else { "no " });
                if on && v6 && s.next_hop_v6.is_some() {
                    let _ = writeln!(c, "  neighbor {n} route-map {} out", nh6_map(s));
                }
                for p in s.announced(v6) {
                    let _ = writeln!(c, "  network {p}");
                }
            }
            c.push_str(" exit-address-family\n");
        }
        c.push_str("!\n");
        for s in sessions {
            if let Some(nh) = s.next_hop_v6 {
                let _ = writeln!(
                    c,
                    "route-map {} permit 10\n set ipv6 next-hop global {nh}\n!",
                    nh6_map(s)
                );
            }
        }
        c
    }

    /// Starts zebra and bgpd in `ns` with `bgpd_conf`; returns once bgpd answers vtysh.
    pub fn start(ns: &Netns, bgpd_conf: &str) -> Result<Frr> {
        let dir = ns.lab_file("frr", "d");
        std::fs::create_dir_all(&dir)?;
        // The daemons drop to user frr: it must traverse the lab dir and own its state dir.
        let lab_dir = dir.parent().unwrap_or(Path::new("/"));
        run_checked(Command::new("chmod").arg("0755").arg(lab_dir))?;
        std::fs::write(dir.join("zebra.conf"), "hostname herald-testbed\n")?;
        std::fs::write(dir.join("bgpd.conf"), bgpd_conf)?;
        run_checked(Command::new("chown").arg("-R").arg("frr:frr").arg(&dir))?;
        let zebra = Self::spawn(ns, &dir, "zebra")?;
        let bgpd = Self::spawn(ns, &dir, "bgpd")?;
        let frr = Frr {
            ns: ns.clone(),
            dir,
            zebra,
            bgpd,
        };
        poll(READY_TIMEOUT, POLL_INTERVAL, || {
            for d in [&frr.zebra, &frr.bgpd] {
                if let Some(status) = d.exited() {
                    return Err(format!("{} exited: {status}", d.label));
                }
            }
            frr.vtysh("show bgp summary")
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .map_err(|detail| TestbedError::NotReady {
            daemon: format!("frr in {}", ns.role()),
            timeout: READY_TIMEOUT,
            detail,
            log: format!("{}\n{}", frr.zebra.log_tail(1000), frr.bgpd.log_tail(2000)),
        })?;
        Ok(frr)
    }

    /// Starts FRR with [`Frr::config`] of `sessions`.
    pub fn start_sessions(ns: &Netns, sessions: &[PeerConfig]) -> Result<Frr> {
        Self::start(ns, &Self::config(sessions))
    }

    fn spawn(ns: &Netns, dir: &Path, daemon: &str) -> Result<Arc<DaemonProcess>> {
        let mut cmd = ns.command(&format!("{FRR_BIN}/{daemon}"));
        cmd.args(["-u", "frr", "-g", "frr", "-P", "0", "--log", "stdout"])
            .arg("-i")
            .arg(dir.join(format!("{daemon}.pid")))
            .arg("-z")
            .arg(dir.join("zserv.api"))
            .arg("--vty_socket")
            .arg(dir)
            .arg("-f")
            .arg(dir.join(format!("{daemon}.conf")));
        let log = dir.join(format!("{daemon}.log"));
        let process = Arc::new(DaemonProcess::spawn(
            format!("{daemon} in {}", ns.role()),
            cmd,
            &log,
        )?);
        ns.shared().register_daemon(Arc::clone(&process));
        if daemon == "zebra" {
            // bgpd connects to zebra's socket at start; give zebra a moment to create it.
            let sock = dir.join("zserv.api");
            let _ = poll(Duration::from_secs(5), Duration::from_millis(20), || {
                if sock.exists() {
                    Ok(())
                } else {
                    Err("no zserv socket".into())
                }
            });
        }
        Ok(process)
    }

    /// The namespace FRR runs in.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// Runs one vtysh command against bgpd; returns its text.
    pub fn vtysh(&self, command: &str) -> Result<String> {
        self.ns.exec_checked(&[
            "vtysh",
            "--vty_socket",
            &self.dir.to_string_lossy(),
            "-d",
            "bgpd",
            "-c",
            command,
        ])
    }

    /// Runs a vtysh command ending in `json` and parses its output.
    pub fn vtysh_json(&self, command: &str) -> Result<Value> {
        let text = self.vtysh(command)?;
        serde_json::from_str(&text).map_err(|e| TestbedError::Parse {
            what: format!("vtysh {command}"),
            detail: format!("{e}: {text}"),
        })
    }

    /// Every path of the BGP table of `family` (`show bgp ipv4|ipv6 unicast json`).
    pub fn rib(&self, family: Family) -> Result<Vec<RouteEntry>> {
        let af = match family {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        };
        let value = self.vtysh_json(&format!("show bgp {af} unicast json"))?;
        parse_rib(&value)
    }

    /// `bgpState` of the neighbor at `address` (`Established`, `Active`, …), `None` if unknown.
    pub fn neighbor_state(&self, address: IpAddr) -> Result<Option<String>> {
        let value = self.vtysh_json("show bgp neighbors json")?;
        Ok(value[address.to_string()]["bgpState"]
            .as_str()
            .map(str::to_string))
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
            what: format!("FRR ({}) neighbor {address} Established", self.ns.role()),
            timeout,
            last,
        })
    }

    /// Waits until the table of `family` holds exactly `count` prefixes learned from peers.
    pub fn wait_routes(&self, family: Family, count: usize, timeout: Duration) -> Result<Duration> {
        poll(timeout, POLL_INTERVAL, || {
            let rib = self.rib(family).map_err(|e| e.to_string())?;
            let mut learned: Vec<IpNet> = rib
                .iter()
                .filter(|r| r.from.is_some())
                .map(|r| r.prefix)
                .collect();
            learned.dedup();
            let n = learned.len();
            if n == count {
                Ok(())
            } else {
                Err(format!("{n} prefixes"))
            }
        })
        .map(|(_, took)| took)
        .map_err(|last| TestbedError::Timeout {
            what: format!("{count} {family:?} prefixes in FRR ({})", self.ns.role()),
            timeout,
            last,
        })
    }

    /// bgpd's log so far.
    pub fn log(&self) -> String {
        self.bgpd.log_tail(64 * 1024)
    }

    /// Kills bgpd now (SIGKILL), e.g. to make its peer start a graceful restart.
    pub fn kill_bgpd(&self) {
        self.bgpd.stop();
    }
}

fn nh6_map(s: &PeerConfig) -> String {
    format!("herald-nh6-{}", s.name)
}

pub(crate) fn parse_rib(value: &Value) -> Result<Vec<RouteEntry>> {
    let mut out = Vec::new();
    let Some(routes) = value["routes"].as_object() else {
        return Ok(out);
    };
    for (prefix, paths) in routes {
        let prefix: IpNet =
            prefix
                .parse()
                .map_err(|e: ipnet::AddrParseError| TestbedError::Parse {
                    what: "FRR prefix".into(),
                    detail: format!("{prefix}: {e}"),
                })?;
        for p in paths.as_array().into_iter().flatten() {
            let mut r = RouteEntry::new(prefix);
            r.from = p["peerId"].as_str().and_then(|a| a.parse().ok());
            r.next_hop = p["nexthops"][0]["ip"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .filter(|a: &IpAddr| !a.is_unspecified());
            r.as_path = p["path"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|a| a.parse().ok())
                .collect();
            r.stale = p["stale"].as_bool().unwrap_or(false);
            r.local_pref = p["locPrf"].as_u64().and_then(|n| u32::try_from(n).ok());
            r.med = p["metric"].as_u64().and_then(|n| u32::try_from(n).ok());
            // Present only in detailed output; kept for callers that pass such JSON.
            if let Some(list) = p["community"]["string"].as_str() {
                r.communities = list
                    .split_whitespace()
                    .filter_map(parse_community)
                    .collect();
            }
            if let Some(list) = p["largeCommunity"]["string"].as_str() {
                r.large_communities = list
                    .split_whitespace()
                    .filter_map(parse_large_community)
                    .collect();
            }
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frr_json() {
        let v: Value = serde_json::from_str(
            r#"{"routes": { "198.51.100.1/32": [{"valid":true,"bestpath":true,"peerId":"192.0.2.2",
                "path":"4200000001","origin":"IGP","nexthops":[{"ip":"192.0.2.2","afi":"ipv4","used":true}]}],
                "198.51.100.2/32": [{"valid":true,"peerId":"(unspec)","path":"","nexthops":[{"ip":"0.0.0.0"}]}]}}"#,
        )
        .unwrap();
        let mut routes = parse_rib(&v).unwrap();
        routes.sort_by_key(|r| r.prefix);
        assert_eq!(routes[0].from, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(routes[0].as_path, vec![4_200_000_001]);
        assert_eq!(routes[1].from, None);
        assert_eq!(routes[1].next_hop, None);
    }
}
