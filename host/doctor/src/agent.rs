//! The running agent, from its `/status` document: session states, last errors, the VIPs it
//! announces and holds, and whether those addresses really are on the VIP interface.
//!
//! [`AgentStatus`] reads the fields the doctor uses from the agent's `StatusReport`
//! (host/agent/src/observe/status.rs) and ignores the rest, so an agent one release apart still
//! parses; `herald`'s tests check the two stay compatible.

use std::net::IpAddr;

use herald_net::inspect::NetSnapshot;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::peer::Peer;
use crate::redact::Redactor;
use crate::status::Status;

/// The agent's `/status`, as far as the doctor reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AgentStatus {
    #[serde(default)]
    pub node: String,
    pub ready: bool,
    #[serde(default)]
    pub not_ready_reason: String,
    #[serde(default)]
    pub provider: Option<AgentProvider>,
    pub peers: Vec<AgentPeer>,
    #[serde(default)]
    pub announced: Vec<String>,
    #[serde(default)]
    pub announced_total: usize,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub addresses_total: usize,
}

/// The provider's last result inside the agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct AgentProvider {
    /// The agent writes the runtime's `provider "name" version`; the report shows `name version`.
    #[serde(default)]
    pub provider: String,
    /// `ok`, or the error class (`not_ready`, `unreachable`, `timeout`, …).
    pub result: String,
    #[serde(default)]
    pub peers: Option<usize>,
    #[serde(default)]
    pub error: Option<String>,
}

/// One BGP session inside the agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AgentPeer {
    pub address: String,
    #[serde(default)]
    pub asn: u32,
    #[serde(default)]
    pub md5: bool,
    pub state: String,
    pub established: bool,
    #[serde(default)]
    pub uptime_seconds: Option<u64>,
    #[serde(default)]
    pub prefixes_advertised: u64,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// What fetching `/status` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentOutcome {
    Status(Box<AgentStatus>),
    /// Unreachable, an HTTP error, or not a status document: the message says which.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionCheck {
    pub status: Status,
    pub address: String,
    pub asn: u32,
    pub state: String,
    pub established: bool,
    pub uptime_seconds: Option<u64>,
    pub prefixes_advertised: u64,
    pub md5: bool,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VipCheck {
    /// `info` when the agent announces nothing.
    pub status: Status,
    pub interface: String,
    /// Announced prefixes (the first ones the agent lists) and how many in all.
    pub announced: Vec<String>,
    pub announced_total: usize,
    /// Addresses the agent holds on the interface, and how many in all.
    pub addresses: Vec<String>,
    pub addresses_total: usize,
    /// Listed addresses the kernel does not have on `interface`.
    pub not_on_interface: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentReport {
    pub status: Status,
    pub url: String,
    /// Why `/status` could not be read (then nothing below is known).
    pub error: Option<String>,
    pub node: Option<String>,
    pub ready: Option<bool>,
    pub not_ready_reason: Option<String>,
    pub provider: Option<AgentProvider>,
    pub sessions: Vec<SessionCheck>,
    /// Peers the provider returned here that the agent has no session with.
    pub missing_sessions: Vec<String>,
    pub vips: Option<VipCheck>,
}

impl AgentReport {
    /// Whether the agent's own provider call failed (it keeps the last good peers meanwhile).
    pub fn provider_failed(&self) -> bool {
        self.provider.as_ref().is_some_and(|p| p.result != "ok")
    }
}

/// Checks the agent at `url` from what fetching its status gave. `peers` are the provider's
/// peers as run by the doctor (`None` when the provider failed), `interface` the VIP interface.
pub fn agent_check(
    url: &str,
    outcome: &AgentOutcome,
    peers: Option<&[Peer]>,
    net: &NetSnapshot,
    interface: &str,
    redactor: &Redactor,
) -> AgentReport {
    let status = match outcome {
        AgentOutcome::Failed(error) => {
            return AgentReport {
                status: Status::Fail,
                url: url.to_owned(),
                error: Some(redactor.scrub(error)),
                node: None,
                ready: None,
                not_ready_reason: None,
                provider: None,
                sessions: Vec::new(),
                missing_sessions: Vec::new(),
                vips: None,
            };
        }
        AgentOutcome::Status(status) => status,
    };
    let sessions: Vec<SessionCheck> = status
        .peers
        .iter()
        .map(|peer| SessionCheck {
            status: Status::of(peer.established),
            address: peer.address.clone(),
            asn: peer.asn,
            state: redactor.scrub(&peer.state),
            established: peer.established,
            uptime_seconds: peer.uptime_seconds,
            prefixes_advertised: peer.prefixes_advertised,
            md5: peer.md5,
            last_error: redactor.scrub_opt(peer.last_error.as_deref()),
        })
        .collect();
    let missing_sessions = peers
        .unwrap_or_default()
        .iter()
        .filter(|peer| {
            !status
                .peers
                .iter()
                .any(|s| same_address(&s.address, peer.address))
        })
        .map(|peer| peer.address.to_string())
        .collect();
    let provider = status.provider.as_ref().map(|p| AgentProvider {
        provider: plain_identity(&p.provider),
        result: p.result.clone(),
        peers: p.peers,
        error: redactor.scrub_opt(p.error.as_deref()),
    });
    AgentReport {
        status: Status::of(status.ready),
        url: url.to_owned(),
        error: None,
        node: Some(status.node.clone()),
        ready: Some(status.ready),
        not_ready_reason: Some(redactor.scrub(&status.not_ready_reason)).filter(|r| !r.is_empty()),
        provider,
        sessions,
        missing_sessions,
        vips: Some(vip_check(status, net, interface)),
    }
}

/// `provider "equinix-annotations" 0.1.0` (the runtime's identity) as `equinix-annotations 0.1.0`,
/// the way the doctor names the provider it ran.
fn plain_identity(identity: &str) -> String {
    identity
        .strip_prefix("provider \"")
        .and_then(|rest| rest.split_once("\" "))
        .map_or_else(
            || identity.to_owned(),
            |(name, version)| format!("{name} {version}"),
        )
}

fn same_address(text: &str, address: IpAddr) -> bool {
    text.parse::<IpAddr>().is_ok_and(|a| a == address)
}

fn vip_check(status: &AgentStatus, net: &NetSnapshot, interface: &str) -> VipCheck {
    let on_interface = net.interfaces.iter().find(|i| i.name == interface);
    let not_on_interface: Vec<String> = status
        .addresses
        .iter()
        .filter(|text| {
            let address = text
                .parse::<IpNet>()
                .map(|net| net.addr())
                .or_else(|_| text.parse::<IpAddr>());
            !matches!((address, on_interface), (Ok(address), Some(iface))
                if iface.addresses.iter().any(|a| a.addr() == address))
        })
        .cloned()
        .collect();
    let status_of = if !not_on_interface.is_empty() {
        Status::Fail
    } else if status.announced_total == 0 && status.addresses_total == 0 {
        Status::Info
    } else {
        Status::Ok
    };
    VipCheck {
        status: status_of,
        interface: interface.to_owned(),
        announced: status.announced.clone(),
        announced_total: status.announced_total,
        addresses: status.addresses.clone(),
        addresses_total: status.addresses_total,
        not_on_interface,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use herald_net::inspect::InterfaceInfo;

    use super::*;

    const STATUS: &str = r#"{
      "node": "k8s-node-1", "ready": false, "not_ready_reason": "no BGP session is Established yet",
      "provider": {"provider": "equinix-annotations 0.1.0", "result": "ok", "peers": 2, "error": null,
                   "at_unix_seconds": 1, "calls": 3},
      "kubernetes": null,
      "peers": [
        {"address": "169.254.255.1", "port": 179, "asn": 65530, "local_asn": 65000, "md5": true,
         "multihop_ttl": 2, "source_address": "192.0.2.2", "route_via": "192.0.2.3",
         "state": "Established", "established": true, "uptime_seconds": 12, "prefixes_advertised": 1,
         "last_error": null},
        {"address": "169.254.255.2", "port": 179, "asn": 65530, "local_asn": 65000, "md5": true,
         "multihop_ttl": 2, "source_address": null, "route_via": null, "state": "Connect",
         "established": false, "uptime_seconds": null, "prefixes_advertised": 0,
         "last_error": "connect: Connection refused, password hunter2-secret"}
      ],
      "announced": ["203.0.113.10/32", "203.0.113.11/32"], "announced_total": 2,
      "addresses": ["203.0.113.10/32", "203.0.113.11/32"], "addresses_total": 2,
      "routes": [], "services_announced": 0, "leader": null
    }"#;

    fn net() -> NetSnapshot {
        NetSnapshot {
            routes: Vec::new(),
            interfaces: vec![InterfaceInfo {
                name: "lo".into(),
                up: true,
                addresses: vec![
                    "127.0.0.1/8".parse().unwrap(),
                    "203.0.113.10/32".parse().unwrap(),
                ],
            }],
        }
    }

    #[test]
    fn sessions_vips_and_missing_peers_are_checked() {
        let status: AgentStatus = serde_json::from_str(STATUS).unwrap();
        let peers = [
            Peer::new("169.254.255.1".parse().unwrap(), 65530, 65000),
            Peer::new("169.254.255.9".parse().unwrap(), 65530, 65000),
        ];
        let redactor = Redactor::new(["hunter2-secret"]);
        let report = agent_check(
            "http://127.0.0.1:2112/status",
            &AgentOutcome::Status(Box::new(status)),
            Some(&peers),
            &net(),
            "lo",
            &redactor,
        );
        assert_eq!(report.status, Status::Fail, "not ready");
        assert_eq!(report.sessions[0].status, Status::Ok);
        assert_eq!(report.sessions[1].status, Status::Fail);
        assert_eq!(
            report.sessions[1].last_error.as_deref(),
            Some("connect: Connection refused, password <redacted>")
        );
        assert_eq!(report.missing_sessions, ["169.254.255.9"]);
        let vips = report.vips.clone().unwrap();
        assert_eq!(vips.status, Status::Fail);
        assert_eq!(vips.not_on_interface, ["203.0.113.11/32"]);
        assert!(!report.provider_failed());
        assert_eq!(
            report.provider.unwrap().provider,
            "equinix-annotations 0.1.0"
        );
        assert_eq!(plain_identity("something else"), "something else");
    }

    #[test]
    fn an_unreachable_agent_is_a_failure_and_a_bare_document_is_not_status() {
        let report = agent_check(
            "http://127.0.0.1:1/status",
            &AgentOutcome::Failed("connection refused".into()),
            None,
            &net(),
            "lo",
            &Redactor::default(),
        );
        assert_eq!(report.status, Status::Fail);
        assert_eq!(report.error.as_deref(), Some("connection refused"));
        assert!(serde_json::from_str::<AgentStatus>("{}").is_err());
    }
}
