//! The report for people: one line per check (`✓` passed, `✗` failed, `-` for information),
//! details and fix commands indented below it, a verdict at the end.

use std::fmt::Write as _;

use crate::agent::{AgentReport, SessionCheck};
use crate::annotations::{AnnotationSet, Format, FormatReport};
use crate::report::{PeerCheck, ProviderReport, Report};
use crate::status::Status;

fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "✓",
        Status::Fail => "✗",
        Status::Info => "-",
    }
}

pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let line = &mut out;
    writeln!(
        line,
        "herald doctor: node {} ({})",
        report.node.name, report.node.source
    )
    .ok();
    annotations(line, &report.annotations);
    provider(line, &report.provider);
    for check in &report.peers {
        peer(line, check, report.agent.as_ref());
    }
    match &report.agent {
        Some(agent) => agent_lines(line, agent, &report.peers),
        None => {
            writeln!(
                line,
                "- agent: not checked (--agent http://127.0.0.1:2112 reads the running agent's /status)"
            )
            .ok();
        }
    }
    match report.problems.len() {
        0 => writeln!(line, "All checks passed.").ok(),
        1 => writeln!(line, "1 problem found.").ok(),
        n => writeln!(line, "{n} problems found.").ok(),
    };
    out
}

fn annotations(out: &mut String, report: &FormatReport) {
    let Some(used) = report.used else {
        writeln!(
            out,
            "- annotations: no BGP annotations (looked for {}, {}, {})",
            Format::BgpPeersN.keys(&report.prefix),
            Format::Legacy.keys(&report.prefix),
            Format::PacketV1.keys(&report.prefix)
        )
        .ok();
        return;
    };
    let sets = match report.sets.len() {
        1 => "1 set".to_owned(),
        n => format!("{n} sets"),
    };
    write!(
        out,
        "{} annotations: {}: {}, {sets}",
        mark(report.status),
        used.name(),
        used.keys(&report.prefix)
    )
    .ok();
    if report.mixed() {
        let ignored: Vec<&str> = report.found[1..].iter().map(|f| f.name()).collect();
        write!(
            out,
            "; mixed node: also {} (ignored: {} wins)",
            ignored.join(", "),
            name_only(used)
        )
        .ok();
    }
    out.push('\n');
    for set in &report.sets {
        annotation_set(out, set);
    }
}

fn name_only(format: Format) -> &'static str {
    match format {
        Format::BgpPeersN => "bgp-peers-N",
        Format::Legacy => "legacy",
        Format::PacketV1 => "packet.com",
    }
}

fn annotation_set(out: &mut String, set: &AnnotationSet) {
    let mut parts = Vec::new();
    for (name, value) in [
        ("peer-ip", &set.peer_ip),
        ("peer-asn", &set.peer_asn),
        ("node-asn", &set.node_asn),
        ("src-ip", &set.src_ip),
        ("peer-multi-hop", &set.multihop),
    ] {
        if let Some(value) = value {
            parts.push(format!("{name} {value}"));
        }
    }
    parts.push(format!("md5: {}", if set.md5 { "set" } else { "none" }));
    let label = set
        .index
        .as_ref()
        .map(|n| format!("bgp-peers-{n}"))
        .unwrap_or_else(|| "keys".into());
    writeln!(out, "    {label}: {}", parts.join(", ")).ok();
    if !set.missing.is_empty() {
        writeln!(
            out,
            "    missing: {} (the provider waits for the CCM to write them)",
            set.missing.join(", ")
        )
        .ok();
    }
}

fn provider(out: &mut String, report: &ProviderReport) {
    let result = match (&report.error, report.peers) {
        (Some(error), _) => format!("{}: {}", error.class, error.message),
        (None, Some(1)) => "1 peer".to_owned(),
        (None, Some(n)) => format!("{n} peers"),
        (None, None) => "no answer".to_owned(),
    };
    writeln!(
        out,
        "{} provider {}: {result}",
        mark(report.status),
        report.name
    )
    .ok();
}

fn peer(out: &mut String, check: &PeerCheck, agent: Option<&AgentReport>) {
    let p = &check.peer;
    let mut facts = vec![
        format!("AS {}", p.peer_asn),
        format!("local AS {}", p.local_asn),
    ];
    if let Some(source) = &p.source_address {
        facts.push(format!("source {source}"));
    }
    facts.push(format!("md5: {}", if p.md5 { "set" } else { "none" }));
    if let Some(ttl) = p.multihop_ttl {
        facts.push(format!("multihop {ttl}"));
    }
    if let Some(via) = &p.route_via {
        facts.push(format!("route via {via}"));
    }
    if let Some(port) = p.port {
        facts.push(format!("port {port}"));
    }
    writeln!(out, "peer {}: {}", p.address, facts.join(", ")).ok();
    let route = &check.route;
    writeln!(out, "  {} route: {}", mark(route.status), route.summary).ok();
    if let Some(fix) = &route.fix {
        writeln!(out, "      fix: {fix}").ok();
    }
    if let Some(note) = &route.note {
        writeln!(out, "      note: {note}").ok();
    }
    writeln!(
        out,
        "  {} source: {}",
        mark(check.source.status),
        check.source.summary
    )
    .ok();
    let Some(agent) = agent.filter(|a| a.error.is_none()) else {
        return;
    };
    match agent.sessions.iter().find(|s| s.address == p.address) {
        Some(session) => writeln!(
            out,
            "  {} session: {}",
            mark(session.status),
            session_text(session)
        )
        .ok(),
        None => writeln!(
            out,
            "  ✗ session: the agent has no session with {}",
            p.address
        )
        .ok(),
    };
}

fn session_text(session: &SessionCheck) -> String {
    let mut text = session.state.clone();
    if let Some(uptime) = session.uptime_seconds {
        write!(text, ", up {uptime}s").ok();
    }
    if session.established {
        let s = if session.prefixes_advertised == 1 {
            ""
        } else {
            "es"
        };
        write!(
            text,
            ", {} prefix{s} advertised",
            session.prefixes_advertised
        )
        .ok();
    }
    if let Some(error) = &session.last_error {
        write!(text, ", last error: {error}").ok();
    }
    text
}

fn agent_lines(out: &mut String, agent: &AgentReport, peers: &[PeerCheck]) {
    if let Some(error) = &agent.error {
        writeln!(out, "✗ agent: {error}").ok();
        return;
    }
    let state = match (agent.ready, &agent.not_ready_reason) {
        (Some(true), _) => "ready".to_owned(),
        (_, Some(reason)) => format!("not ready: {reason}"),
        _ => "not ready".to_owned(),
    };
    let node = agent.node.as_deref().unwrap_or("?");
    writeln!(
        out,
        "{} agent {}: {state} (node {node})",
        mark(agent.status),
        agent.url
    )
    .ok();
    if let Some(provider) = &agent.provider {
        let result = match (&provider.error, provider.peers) {
            (Some(error), _) => format!("{}: {error}", provider.result),
            (None, Some(n)) => format!(
                "{}, {n} peer{}",
                provider.result,
                if n == 1 { "" } else { "s" }
            ),
            (None, None) => provider.result.clone(),
        };
        let status = Status::of(!agent.provider_failed());
        writeln!(
            out,
            "{} agent's provider {}: {result}",
            mark(status),
            provider.provider
        )
        .ok();
    }
    // Sessions of peers this run did not find (static peers, another configuration).
    for session in agent
        .sessions
        .iter()
        .filter(|s| !peers.iter().any(|p| p.peer.address == s.address))
    {
        writeln!(
            out,
            "{} session {} (AS {}, not from this provider run): {}",
            mark(session.status),
            session.address,
            session.asn,
            session_text(session)
        )
        .ok();
    }
    if let Some(vips) = &agent.vips {
        let list = |items: &[String], total: usize| {
            if items.is_empty() {
                String::new()
            } else if total > items.len() {
                format!(" ({}, …)", items.join(", "))
            } else {
                format!(" ({})", items.join(", "))
            }
        };
        writeln!(
            out,
            "{} VIPs: {} announced{}, {} held on {}{}",
            mark(vips.status),
            vips.announced_total,
            list(&vips.announced, vips.announced_total),
            vips.addresses_total,
            vips.interface,
            list(&vips.addresses, vips.addresses_total)
        )
        .ok();
        if !vips.not_on_interface.is_empty() {
            writeln!(
                out,
                "      not on {}: {}",
                vips.interface,
                vips.not_on_interface.join(", ")
            )
            .ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnose;
    use crate::report::tests::{PASSWORD, TOKEN, healthy_agent, inputs};

    #[test]
    fn a_missing_route_shows_the_fix_indented_under_the_failed_check() {
        let text = render_text(&diagnose(&inputs(false, None)));
        assert!(
            text.contains(
                "  ✗ route: no route to 169.254.255.1: it must go via 192.0.2.3\n      fix: ip route add 169.254.255.1/32 via 192.0.2.3\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "✓ annotations: bgp-peers-N (CCM v3.3+): metal.equinix.com/bgp-peers-N-*, 1 set"
            ),
            "{text}"
        );
        assert!(text.contains("    bgp-peers-0: peer-ip 169.254.255.1, peer-asn 65530, node-asn 65000, src-ip 192.0.2.2, md5: set"), "{text}");
        assert!(text.contains("  ✓ source: 192.0.2.2 is on bond0"), "{text}");
        assert!(text.contains("- agent: not checked"), "{text}");
        assert!(text.ends_with("1 problem found.\n"), "{text}");
    }

    #[test]
    fn a_healthy_node_reads_as_such_and_never_shows_secrets() {
        let text = render_text(&diagnose(&inputs(true, Some(healthy_agent()))));
        assert!(
            text.contains("  ✓ session: Established, up 12s, 1 prefix advertised"),
            "{text}"
        );
        assert!(
            text.contains("✓ VIPs: 1 announced (203.0.113.10/32), 1 held on lo (203.0.113.10/32)"),
            "{text}"
        );
        assert!(text.contains("md5: set"), "{text}");
        assert!(text.ends_with("All checks passed.\n"), "{text}");
        for secret in [PASSWORD, TOKEN, "RXhhbXBsZVBhc3MxMjM="] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn no_annotations_is_information_not_a_problem() {
        let mut inputs = inputs(true, None);
        inputs.annotations.clear();
        let text = render_text(&diagnose(&inputs));
        assert!(
            text.contains(
                "- annotations: no BGP annotations (looked for metal.equinix.com/bgp-peers-N-*"
            ),
            "{text}"
        );
        assert!(text.ends_with("All checks passed.\n"), "{text}");
    }
}
