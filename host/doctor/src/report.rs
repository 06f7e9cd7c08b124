//! The whole report: every check of one node, built from plain inputs by [`diagnose`]. Its JSON
//! form is `herald doctor --output json`; field names are stable, `summary`/`note` texts are not.

use std::collections::BTreeMap;

use herald_net::inspect::NetSnapshot;
use serde::Serialize;

use crate::agent::{AgentOutcome, AgentReport, agent_check};
use crate::annotations::{FormatReport, annotation_format};
use crate::peer::{Peer, PeerView};
use crate::redact::Redactor;
use crate::route::{RouteCheck, route_check};
use crate::source::{SourceCheck, source_check};
use crate::status::Status;

/// What the provider call gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderOutcome {
    Peers(Vec<Peer>),
    /// `class` as the agent names it in `/status` and metrics (`not_ready`, `invalid_input`,
    /// `unreachable`, `unauthorized`, `denied`, `timeout`, `trap`, `load`, …).
    Failed {
        class: String,
        message: String,
    },
}

/// Everything the doctor looked at.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub node_name: String,
    /// Where the node came from, for people: `node file /path` or `apiserver`.
    pub node_source: String,
    pub annotations: BTreeMap<String, String>,
    /// Annotation prefix of the metal.equinix.com formats.
    pub prefix: String,
    /// The provider's identity (`provider "equinix-annotations" 0.1.0`), or the name given.
    pub provider: String,
    pub provider_path: String,
    pub outcome: ProviderOutcome,
    pub net: NetSnapshot,
    /// The VIP interface (`--interface`).
    pub interface: String,
    /// `--agent`: the URL and what fetching it gave.
    pub agent: Option<(String, AgentOutcome)>,
    /// Values that must never appear in the report (MD5 passwords, secret config values).
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeReport {
    pub name: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderError {
    pub class: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderReport {
    pub status: Status,
    pub name: String,
    pub path: String,
    /// How many peers it returned (`None` when it failed).
    pub peers: Option<usize>,
    pub error: Option<ProviderError>,
}

/// One peer with its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerCheck {
    #[serde(flatten)]
    pub peer: PeerView,
    pub route: RouteCheck,
    pub source: SourceCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// No check failed (exit status 0).
    pub ok: bool,
    /// One line per failed check (free text).
    pub problems: Vec<String>,
    pub node: NodeReport,
    pub annotations: FormatReport,
    pub provider: ProviderReport,
    pub peers: Vec<PeerCheck>,
    /// `None` without `--agent`.
    pub agent: Option<AgentReport>,
}

/// Runs every check over `inputs`.
pub fn diagnose(inputs: &Inputs) -> Report {
    let redactor = Redactor::new(inputs.secrets.iter().cloned());
    let annotations = annotation_format(&inputs.annotations, &inputs.prefix, &redactor);
    let (provider, peers) = provider_report(inputs, &redactor);
    let checks: Vec<PeerCheck> = peers
        .unwrap_or_default()
        .iter()
        .map(|peer| PeerCheck {
            peer: PeerView::from(peer),
            route: route_check(peer.address, peer.route_via, &inputs.net.routes),
            source: source_check(peer.source, &inputs.net),
        })
        .collect();
    let agent = inputs.agent.as_ref().map(|(url, outcome)| {
        agent_check(
            url,
            outcome,
            peers,
            &inputs.net,
            &inputs.interface,
            &redactor,
        )
    });
    let mut report = Report {
        ok: true,
        problems: Vec::new(),
        node: NodeReport {
            name: inputs.node_name.clone(),
            source: inputs.node_source.clone(),
        },
        annotations,
        provider,
        peers: checks,
        agent,
    };
    report.problems = problems(&report);
    report.ok = report.problems.is_empty();
    report
}

fn provider_report<'a>(
    inputs: &'a Inputs,
    redactor: &Redactor,
) -> (ProviderReport, Option<&'a [Peer]>) {
    let mut report = ProviderReport {
        status: Status::Fail,
        name: inputs.provider.clone(),
        path: inputs.provider_path.clone(),
        peers: None,
        error: None,
    };
    match &inputs.outcome {
        ProviderOutcome::Peers(peers) => {
            report.status = Status::of(!peers.is_empty());
            report.peers = Some(peers.len());
            (report, Some(peers))
        }
        ProviderOutcome::Failed { class, message } => {
            report.error = Some(ProviderError {
                class: class.clone(),
                message: redactor.scrub(message),
            });
            (report, None)
        }
    }
}

/// One line per failed check, in report order.
fn problems(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if report.annotations.status.is_fail() {
        let missing: Vec<&str> = report
            .annotations
            .sets
            .iter()
            .flat_map(|set| set.missing.iter().map(String::as_str))
            .collect();
        out.push(format!("annotations: missing {}", missing.join(", ")));
    }
    match (&report.provider.error, report.provider.peers) {
        (Some(error), _) => out.push(format!(
            "provider {}: {}: {}",
            report.provider.name, error.class, error.message
        )),
        (None, Some(0)) => out.push(format!("provider {}: no peers", report.provider.name)),
        _ => {}
    }
    for check in &report.peers {
        if check.route.status.is_fail() {
            out.push(format!("route: {}", check.route.summary));
        }
        if check.source.status.is_fail() {
            out.push(format!(
                "source of {}: {}",
                check.peer.address, check.source.summary
            ));
        }
    }
    if let Some(agent) = &report.agent {
        agent_problems(agent, &mut out);
    }
    out
}

fn agent_problems(agent: &AgentReport, out: &mut Vec<String>) {
    if let Some(error) = &agent.error {
        out.push(format!("agent: {error}"));
        return;
    }
    if agent.ready == Some(false) {
        out.push(format!(
            "agent not ready: {}",
            agent
                .not_ready_reason
                .as_deref()
                .unwrap_or("no reason given")
        ));
    }
    if let Some(provider) = agent.provider.as_ref().filter(|_| agent.provider_failed()) {
        out.push(format!(
            "agent's provider {}: {}: {}",
            provider.provider,
            provider.result,
            provider.error.as_deref().unwrap_or("")
        ));
    }
    for session in agent.sessions.iter().filter(|s| s.status.is_fail()) {
        let error = session
            .last_error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        out.push(format!(
            "session {}: {}{error}",
            session.address, session.state
        ));
    }
    for address in &agent.missing_sessions {
        out.push(format!("agent has no session with {address}"));
    }
    if let Some(vips) = agent.vips.as_ref().filter(|v| v.status.is_fail()) {
        out.push(format!(
            "VIPs not on {}: {}",
            vips.interface,
            vips.not_on_interface.join(", ")
        ));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use herald_net::inspect::{InterfaceInfo, NextHop, RouteInfo, RouteKind};

    use super::*;
    use crate::agent::{AgentPeer, AgentStatus};

    pub(crate) const PASSWORD: &str = "ExamplePass123";
    pub(crate) const TOKEN: &str = "FakeMetalApiTokenDoNotUse0000000";

    fn peer() -> Peer {
        Peer {
            source: Some("192.0.2.2".parse().unwrap()),
            md5: true,
            multihop_ttl: Some(2),
            route_via: Some("192.0.2.3".parse().unwrap()),
            ..Peer::new("169.254.255.1".parse().unwrap(), 65530, 65000)
        }
    }

    fn net(peer_route: bool) -> NetSnapshot {
        let connected = RouteInfo {
            destination: "192.0.2.2/31".parse().unwrap(),
            kind: RouteKind::Unicast,
            next_hops: vec![NextHop {
                gateway: None,
                interface: Some("bond0".into()),
            }],
            source: Some("192.0.2.2".parse().unwrap()),
            metric: 0,
            protocol: 2,
        };
        let mut routes = vec![connected];
        if peer_route {
            routes.push(RouteInfo {
                destination: "169.254.255.1/32".parse().unwrap(),
                next_hops: vec![NextHop {
                    gateway: Some("192.0.2.3".parse().unwrap()),
                    interface: Some("bond0".into()),
                }],
                source: None,
                protocol: 72,
                ..routes[0].clone()
            });
        }
        NetSnapshot {
            routes,
            interfaces: vec![
                InterfaceInfo {
                    name: "lo".into(),
                    up: true,
                    addresses: vec!["203.0.113.10/32".parse().unwrap()],
                },
                InterfaceInfo {
                    name: "bond0".into(),
                    up: true,
                    addresses: vec!["192.0.2.2/31".parse().unwrap()],
                },
            ],
        }
    }

    pub(crate) fn inputs(peer_route: bool, agent: Option<AgentOutcome>) -> Inputs {
        let annotations = [
            ("metal.equinix.com/bgp-peers-0-node-asn", "65000"),
            ("metal.equinix.com/bgp-peers-0-peer-asn", "65530"),
            ("metal.equinix.com/bgp-peers-0-peer-ip", "169.254.255.1"),
            ("metal.equinix.com/bgp-peers-0-src-ip", "192.0.2.2"),
            (
                "metal.equinix.com/bgp-peers-0-bgp-pass",
                "RXhhbXBsZVBhc3MxMjM=",
            ),
        ];
        Inputs {
            node_name: "k8s-node-1".into(),
            node_source: "node file node.yaml".into(),
            annotations: annotations
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            prefix: "metal.equinix.com".into(),
            provider: "provider \"equinix-annotations\" 0.1.0".into(),
            provider_path: "/usr/lib/herald/providers/equinix-annotations.wasm".into(),
            outcome: ProviderOutcome::Peers(vec![peer()]),
            net: net(peer_route),
            interface: "lo".into(),
            agent: agent.map(|outcome| ("http://127.0.0.1:2112/status".into(), outcome)),
            secrets: vec![PASSWORD.into(), "RXhhbXBsZVBhc3MxMjM=".into(), TOKEN.into()],
        }
    }

    pub(crate) fn healthy_agent() -> AgentOutcome {
        AgentOutcome::Status(Box::new(AgentStatus {
            node: "k8s-node-1".into(),
            ready: true,
            peers: vec![AgentPeer {
                address: "169.254.255.1".into(),
                asn: 65530,
                md5: true,
                state: "Established".into(),
                established: true,
                uptime_seconds: Some(12),
                prefixes_advertised: 1,
                ..AgentPeer::default()
            }],
            announced: vec!["203.0.113.10/32".into()],
            announced_total: 1,
            addresses: vec!["203.0.113.10/32".into()],
            addresses_total: 1,
            ..AgentStatus::default()
        }))
    }

    #[test]
    fn a_missing_route_is_the_one_problem() {
        let report = diagnose(&inputs(false, None));
        assert!(!report.ok);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].starts_with("route: no route to 169.254.255.1"));
        assert_eq!(
            report.peers[0].route.fix.as_deref(),
            Some("ip route add 169.254.255.1/32 via 192.0.2.3")
        );
        assert_eq!(report.peers[0].source.status, Status::Ok);
    }

    #[test]
    fn routed_with_a_healthy_agent_is_ok() {
        let report = diagnose(&inputs(true, Some(healthy_agent())));
        assert!(report.ok, "{:?}", report.problems);
        let agent = report.agent.unwrap();
        assert_eq!(agent.sessions[0].state, "Established");
        assert_eq!(agent.vips.unwrap().addresses, ["203.0.113.10/32"]);
    }

    #[test]
    fn provider_errors_and_agent_failures_are_problems_without_secrets() {
        let mut inputs = inputs(true, Some(AgentOutcome::Failed("refused".into())));
        inputs.outcome = ProviderOutcome::Failed {
            class: "unauthorized".into(),
            message: format!("token {TOKEN} refused"),
        };
        let report = diagnose(&inputs);
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(report.peers.is_empty());
        let json = serde_json::to_string(&report).unwrap();
        for secret in [TOKEN, PASSWORD, "RXhhbXBsZVBhc3MxMjM="] {
            assert!(!json.contains(secret), "{json}");
        }
        assert!(json.contains(r#""class":"unauthorized""#), "{json}");
    }

    #[test]
    fn the_json_shape_is_stable() {
        let report = diagnose(&inputs(true, Some(healthy_agent())));
        let json = serde_json::to_value(&report).unwrap();
        let keys = |value: &serde_json::Value| -> Vec<String> {
            // Sorted: the order depends on serde_json's `preserve_order` feature.
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(
            keys(&json),
            [
                "agent",
                "annotations",
                "node",
                "ok",
                "peers",
                "problems",
                "provider"
            ]
        );
        assert_eq!(
            keys(&json["peers"][0]),
            [
                "address",
                "hold_time_seconds",
                "local_asn",
                "md5",
                "multihop_ttl",
                "peer_asn",
                "port",
                "route",
                "route_via",
                "source",
                "source_address"
            ]
        );
        assert_eq!(
            keys(&json["peers"][0]["route"]),
            [
                "expected_via",
                "finding",
                "fix",
                "kernel_route",
                "note",
                "status",
                "summary"
            ]
        );
        assert_eq!(
            keys(&json["agent"]),
            [
                "error",
                "missing_sessions",
                "node",
                "not_ready_reason",
                "provider",
                "ready",
                "sessions",
                "status",
                "url",
                "vips"
            ]
        );
        assert_eq!(json["peers"][0]["route"]["status"], "ok");
        assert_eq!(json["annotations"]["used"], "bgp-peers-N");
    }
}
