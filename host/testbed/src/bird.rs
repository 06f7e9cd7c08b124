//! BIRD 2 in a namespace: config rendering, start/stop, RIB and protocol readers (via `birdc`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use crate::error::{Result, TestbedError};
use crate::netns::Netns;
use crate::process::{DaemonProcess, poll, run_checked};
use crate::route::{RouteEntry, parse_community, parse_large_community};
use crate::session::PeerConfig;

const READY_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A running BIRD (`bird -f`) inside a namespace; killed when dropped (and when its lab drops).
#[derive(Debug)]
pub struct Bird {
    ns: Netns,
    socket: PathBuf,
    config: PathBuf,
    process: Arc<DaemonProcess>,
}

impl Bird {
    /// Renders a complete BIRD config for `sessions` (router id from the first one): `device` and
    /// `direct` protocols (so next hops resolve), one `static` protocol per family holding the
    /// announced prefixes (blackhole), and one `bgp` protocol per session that imports everything
    /// and exports only those static routes. Timers are short so sessions come up within ~1–2 s.
    pub fn config(sessions: &[PeerConfig]) -> String {
        let router_id = sessions
            .first()
            .map_or_else(|| "192.0.2.254".to_string(), |s| s.router_id.to_string());
        let mut c = format!(
            "router id {router_id};\nlog stderr all;\nprotocol device {{ scan time 10; }}\n\
             protocol direct {{ ipv4; ipv6; interface \"*\"; }}\n"
        );
        let mut v4: Vec<&IpNet> = sessions.iter().flat_map(|s| s.announced(false)).collect();
        let mut v6: Vec<&IpNet> = sessions.iter().flat_map(|s| s.announced(true)).collect();
        v4.dedup();
        v6.dedup();
        for (name, channel, prefixes) in [("static4", "ipv4", v4), ("static6", "ipv6", v6)] {
            let _ = writeln!(c, "protocol static {name} {{\n  {channel};");
            for p in prefixes {
                let _ = writeln!(c, "  route {p} blackhole;");
            }
            c.push_str("}\n");
        }
        for s in sessions {
            c.push_str(&bgp_protocol(s));
        }
        c
    }

    /// Starts BIRD in `ns` with `config` text; returns once its control socket answers.
    pub fn start(ns: &Netns, config: &str) -> Result<Bird> {
        let conf_path = ns.lab_file("bird", "conf");
        std::fs::write(&conf_path, config)?;
        let socket = ns.lab_file("bird", "ctl");
        let pid = ns.lab_file("bird", "pid");
        let log = ns.lab_file("bird", "log");
        let mut cmd = ns.command("bird");
        cmd.arg("-f")
            .arg("-c")
            .arg(&conf_path)
            .arg("-s")
            .arg(&socket)
            .arg("-P")
            .arg(&pid);
        let label = format!("bird in {}", ns.role());
        let process = Arc::new(DaemonProcess::spawn(label.clone(), cmd, &log)?);
        ns.shared().register_daemon(Arc::clone(&process));
        let bird = Bird {
            ns: ns.clone(),
            socket,
            config: conf_path,
            process,
        };
        poll(READY_TIMEOUT, POLL_INTERVAL, || {
            if let Some(status) = bird.process.exited() {
                return Err(format!("bird exited: {status}"));
            }
            match bird.cmd("show status") {
                Ok(text) if text.contains("Daemon is up and running") => Ok(()),
                Ok(text) => Err(text),
                Err(e) => Err(e.to_string()),
            }
        })
        .map_err(|detail| TestbedError::NotReady {
            daemon: label,
            timeout: READY_TIMEOUT,
            detail,
            log: bird.process.log_tail(2000),
        })?;
        Ok(bird)
    }

    /// Starts BIRD with [`Bird::config`] of `sessions`.
    pub fn start_sessions(ns: &Netns, sessions: &[PeerConfig]) -> Result<Bird> {
        Self::start(ns, &Self::config(sessions))
    }

    /// The namespace BIRD runs in.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// The control socket path (for `birdc -s <path>` by hand while debugging).
    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    /// Runs a `birdc` command (e.g. `"show route count"`) and returns its text output.
    pub fn cmd(&self, command: &str) -> Result<String> {
        run_checked(
            Command::new("birdc")
                .arg("-s")
                .arg(&self.socket)
                .args(command.split_whitespace()),
        )
    }

    /// Replaces the config file with `config` and runs `birdc configure`.
    pub fn reconfigure(&self, config: &str) -> Result<()> {
        std::fs::write(&self.config, config)?;
        let out = self.cmd("configure")?;
        if out.contains("Reconfigured") || out.contains("Reconfiguration in progress") {
            Ok(())
        } else {
            Err(TestbedError::Command {
                command: "birdc configure".into(),
                detail: out,
            })
        }
    }

    /// All paths of table `master4`.
    pub fn routes_v4(&self) -> Result<Vec<RouteEntry>> {
        self.routes("master4")
    }

    /// All paths of table `master6`.
    pub fn routes_v6(&self) -> Result<Vec<RouteEntry>> {
        self.routes("master6")
    }

    /// All BGP-learned paths of `table` (static/direct/device routes left out), parsed from
    /// `show route all table <table>`. `stale` is set on paths of sessions for which BIRD says
    /// "Neighbor graceful restart active" (BIRD 2.0 does not print a per-route stale flag).
    pub fn routes(&self, table: &str) -> Result<Vec<RouteEntry>> {
        let text = self.cmd(&format!("show route all table {table}"))?;
        let mut routes = parse_show_route_all(&text)?;
        let protocols = self.bgp_protocols()?;
        for r in &mut routes {
            let Some(info) = protocols
                .iter()
                .find(|p| Some(&p.name) == r.protocol.as_ref())
            else {
                continue;
            };
            r.stale = info.graceful_restart_active;
            // BIRD prints "from <peer>" only when it differs from the gateway.
            r.from = r.from.or(info.neighbor);
        }
        Ok(routes)
    }

    /// Number of BGP-learned routes in `table` (`show route count table <table> where source = RTS_BGP`;
    /// the connected routes of the `direct` protocol are not counted).
    pub fn route_count(&self, table: &str) -> Result<usize> {
        let text = self.cmd(&format!(
            "show route count table {table} where source = RTS_BGP"
        ))?;
        parse_route_count(&text)
    }

    /// The BGP state of protocol `name` (`Established`, `Active`, `Connect`, `Idle`, …).
    pub fn protocol_state(&self, name: &str) -> Result<String> {
        let text = self.cmd(&format!("show protocols all {name}"))?;
        text.lines()
            .find_map(|l| l.trim().strip_prefix("BGP state:"))
            .map(|s| s.trim().to_string())
            .ok_or_else(|| TestbedError::Parse {
                what: format!("state of protocol {name}"),
                detail: text.clone(),
            })
    }

    /// Waits until protocol `name` is `Established`; returns how long that took.
    pub fn wait_established(&self, name: &str, timeout: Duration) -> Result<Duration> {
        poll(timeout, POLL_INTERVAL, || match self.protocol_state(name) {
            Ok(s) if s == "Established" => Ok(()),
            Ok(s) => Err(s),
            Err(e) => Err(e.to_string()),
        })
        .map(|(_, took)| took)
        .map_err(|last| self.timeout(format!("protocol {name} Established"), timeout, last))
    }

    /// Waits until `table` holds exactly `count` routes (0 waits for a full withdrawal).
    pub fn wait_routes(&self, table: &str, count: usize, timeout: Duration) -> Result<Duration> {
        self.wait_route_count(table, |n| n == count, timeout)
            .map_err(|e| match e {
                TestbedError::Timeout { timeout, last, .. } => {
                    self.timeout(format!("{count} routes in {table}"), timeout, last)
                }
                other => other,
            })
    }

    /// Waits until the route count of `table` satisfies `done`; returns how long that took.
    pub fn wait_route_count(
        &self,
        table: &str,
        done: impl Fn(usize) -> bool,
        timeout: Duration,
    ) -> Result<Duration> {
        poll(timeout, POLL_INTERVAL, || match self.route_count(table) {
            Ok(n) if done(n) => Ok(()),
            Ok(n) => Err(format!("{n} routes")),
            Err(e) => Err(e.to_string()),
        })
        .map(|(_, took)| took)
        .map_err(|last| self.timeout(format!("route count of {table}"), timeout, last))
    }

    /// True while BIRD keeps protocol `name`'s routes for a graceful-restarting neighbor.
    pub fn graceful_restart_active(&self, name: &str) -> Result<bool> {
        let text = self.cmd(&format!("show protocols all {name}"))?;
        Ok(text.contains("Neighbor graceful restart active"))
    }

    /// The daemon's log so far (BIRD logs to stderr, captured in the lab dir).
    pub fn log(&self) -> String {
        self.process.log_tail(64 * 1024)
    }

    /// Kills BIRD now (SIGKILL), e.g. to make its peer start a graceful restart.
    pub fn kill(&self) {
        self.process.stop();
    }

    /// Per BGP protocol: its neighbor address and whether graceful restart is active for it.
    fn bgp_protocols(&self) -> Result<Vec<BgpProtocolInfo>> {
        let text = self.cmd("show protocols all")?;
        Ok(parse_protocols_all(&text))
    }

    fn timeout(&self, what: String, timeout: Duration, last: String) -> TestbedError {
        TestbedError::Timeout {
            what: format!("{what} in BIRD ({})", self.ns.role()),
            timeout,
            last,
        }
    }
}

fn bgp_protocol(s: &PeerConfig) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "protocol bgp {} {{", s.name);
    let _ = writeln!(c, "  local {} as {};", s.local_address, s.local_as);
    let _ = writeln!(c, "  neighbor {} as {};", s.neighbor_address, s.neighbor_as);
    if let Some(ttl) = s.multihop {
        let _ = writeln!(c, "  multihop {ttl};");
    }
    if let Some(pw) = &s.password {
        let _ = writeln!(c, "  password \"{pw}\";");
    }
    if s.passive {
        c.push_str("  passive on;\n");
    }
    let _ = writeln!(c, "  hold time {};", s.hold_time);
    c.push_str("  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;\n");
    let gr = if s.graceful_restart { "on" } else { "aware" };
    let _ = writeln!(c, "  graceful restart {gr};");
    if s.ipv4 {
        let nh = s
            .next_hop_v4
            .map(|a| format!(" next hop address {a};"))
            .unwrap_or_default();
        let _ = writeln!(
            c,
            "  ipv4 {{ import all; export where proto = \"static4\";{nh} }};"
        );
    }
    if s.ipv6 {
        let nh = s
            .next_hop_v6
            .map(|a| format!(" next hop address {a};"))
            .unwrap_or_default();
        let _ = writeln!(
            c,
            "  ipv6 {{ import all; export where proto = \"static6\";{nh} }};"
        );
    }
    c.push_str("}\n");
    c
}

#[derive(Debug, Default, PartialEq)]
struct BgpProtocolInfo {
    name: String,
    neighbor: Option<std::net::IpAddr>,
    graceful_restart_active: bool,
}

/// Parses `show protocols all` into per-protocol neighbor and graceful-restart facts.
fn parse_protocols_all(text: &str) -> Vec<BgpProtocolInfo> {
    let mut out: Vec<BgpProtocolInfo> = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with("BIRD ") || line.starts_with("Name ") {
            continue;
        }
        if !line.starts_with(' ') {
            out.push(BgpProtocolInfo {
                name: line
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                ..BgpProtocolInfo::default()
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        let trimmed = line.trim();
        if let Some(addr) = trimmed.strip_prefix("Neighbor address:") {
            current.neighbor = addr.trim().split('%').next().and_then(|a| a.parse().ok());
        } else if trimmed == "Neighbor graceful restart active" {
            current.graceful_restart_active = true;
        }
    }
    out
}

/// Parses `show route count …`: "`N of M routes for K networks in table T`" → N.
pub(crate) fn parse_route_count(text: &str) -> Result<usize> {
    text.lines()
        .find(|l| l.contains("routes for"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| TestbedError::Parse {
            what: "birdc show route count".into(),
            detail: text.to_string(),
        })
}

/// Parses `birdc show route all` text into BGP paths (non-BGP routes are skipped).
pub(crate) fn parse_show_route_all(text: &str) -> Result<Vec<RouteEntry>> {
    let mut routes: Vec<RouteEntry> = Vec::new();
    let mut current: Option<RouteEntry> = None;
    let mut current_is_bgp = false;
    let mut last_prefix: Option<IpNet> = None;
    let flush = |current: &mut Option<RouteEntry>, is_bgp: bool, routes: &mut Vec<RouteEntry>| {
        if let Some(r) = current.take()
            && is_bgp
        {
            routes.push(r);
        }
    };
    for line in text.lines() {
        if line.starts_with('\t') {
            let Some(route) = current.as_mut() else {
                continue;
            };
            let attr = line.trim();
            if attr.starts_with("Type: BGP") {
                current_is_bgp = true;
            }
            apply_attribute(route, attr);
            continue;
        }
        if !line.contains('[') {
            continue; // "BIRD 2.0.12 ready.", "Table master4:", blank lines
        }
        flush(&mut current, current_is_bgp, &mut routes);
        current_is_bgp = false;
        let mut words = line.split_whitespace();
        let prefix = if line.starts_with(' ') {
            last_prefix // another path for the same network
        } else {
            let p = words.next().unwrap_or_default();
            Some(p.parse::<IpNet>().map_err(|e| TestbedError::Parse {
                what: "birdc route line".into(),
                detail: format!("{line}: {e}"),
            })?)
        };
        let Some(prefix) = prefix else { continue };
        last_prefix = Some(prefix);
        let mut route = RouteEntry::new(prefix);
        if let Some(bracket) = line.split_once('[').map(|(_, rest)| rest) {
            let mut inner = bracket.split_whitespace();
            route.protocol = inner.next().map(str::to_string);
            if let Some(pos) = bracket.find(" from ") {
                route.from = bracket[pos + 6..]
                    .split(|c: char| c == ']' || c.is_whitespace())
                    .next()
                    .and_then(|a| a.parse().ok());
            }
        }
        current = Some(route);
    }
    flush(&mut current, current_is_bgp, &mut routes);
    Ok(routes)
}

fn apply_attribute(route: &mut RouteEntry, attr: &str) {
    let Some((key, value)) = attr.split_once(": ") else {
        return;
    };
    let value = value.trim();
    match key {
        "BGP.next_hop" => {
            route.next_hop = value.split_whitespace().next().and_then(|a| a.parse().ok());
        }
        "BGP.as_path" => {
            route.as_path = value
                .split(|c: char| c.is_whitespace() || c == '{' || c == '}' || c == ',')
                .filter_map(|a| a.parse().ok())
                .collect();
        }
        "BGP.local_pref" => route.local_pref = value.parse().ok(),
        "BGP.med" => route.med = value.parse().ok(),
        "BGP.community" => {
            route.communities = value.split(") (").filter_map(parse_community).collect();
        }
        "BGP.large_community" => {
            route.large_communities = value
                .split(") (")
                .filter_map(parse_large_community)
                .collect();
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "BIRD 2.0.12 ready.
Table master4:
198.51.100.7/32      unreachable [herald 15:48:55.559 from 192.0.2.2] * (100) [AS4200000001i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 4200000001 65001
\tBGP.next_hop: 192.0.2.2
\tBGP.local_pref: 100
\tBGP.community: (65000,7) (65000,8)
\tBGP.large_community: (65000, 1, 2)
                     unicast [other 15:48:55.559 from 192.0.2.3] (100) [AS65003i]
\tvia 192.0.2.3 on r0
\tType: BGP univ
\tBGP.next_hop: 192.0.2.3
192.0.2.0/24         unicast [direct1 15:48:55.559] * (240)
\tdev r0
\tType: device univ

Table master6:
2001:db8:1::1/128    unreachable [herald 15:48:55.603 from 192.0.2.2] * (100) [AS4200000001i]
\tType: BGP univ
\tBGP.next_hop: 2001:db8:ff::2 fe80::1
";

    #[test]
    fn parses_bgp_paths_and_skips_others() {
        let routes = parse_show_route_all(SAMPLE).unwrap();
        assert_eq!(routes.len(), 3);
        let r = &routes[0];
        assert_eq!(r.prefix.to_string(), "198.51.100.7/32");
        assert_eq!(r.protocol.as_deref(), Some("herald"));
        assert_eq!(r.from, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(r.as_path, vec![4_200_000_001, 65001]);
        assert_eq!(r.communities, vec![(65000, 7), (65000, 8)]);
        assert_eq!(r.large_communities, vec![(65000, 1, 2)]);
        assert_eq!(r.local_pref, Some(100));
        assert_eq!(routes[1].prefix, r.prefix);
        assert_eq!(routes[1].protocol.as_deref(), Some("other"));
        assert_eq!(routes[2].next_hop, Some("2001:db8:ff::2".parse().unwrap()));
    }

    #[test]
    fn parses_protocols_all() {
        let text = "BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     15:48:48.752
herald     BGP        ---        start  15:49:05.808  Connect       Socket: Connection closed
  BGP state:          Connect
    Neighbor address: 192.0.2.2
    Neighbor graceful restart active
    Restart timer:    114.638/-
";
        let p = parse_protocols_all(text);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].name, "herald");
        assert_eq!(p[1].neighbor, Some("192.0.2.2".parse().unwrap()));
        assert!(p[1].graceful_restart_active);
        assert!(!p[0].graceful_restart_active);
    }

    #[test]
    fn parses_route_count() {
        let text = "BIRD 2.0.12 ready.\n1 of 1 routes for 1 networks in table master6\n";
        assert_eq!(parse_route_count(text).unwrap(), 1);
    }

    #[test]
    fn renders_statics_and_md5() {
        let s = PeerConfig::new(
            "192.0.2.2".parse().unwrap(),
            4_200_000_001,
            "169.254.255.1".parse().unwrap(),
            65530,
        )
        .multihop(2)
        .password("pw")
        .announce(&["198.51.100.7/32", "2001:db8:1::1/128"])
        .next_hop_v6("2001:db8:ff::2".parse().unwrap());
        let c = Bird::config(&[s]);
        assert!(c.contains("route 198.51.100.7/32 blackhole;"));
        assert!(c.contains("route 2001:db8:1::1/128 blackhole;"));
        assert!(c.contains("password \"pw\";"));
        assert!(c.contains("multihop 2;"));
        assert!(c.contains("next hop address 2001:db8:ff::2;"));
    }
}
