//! Printing metadata and discovered peers as a table or as JSON. Passwords are never printed,
//! only whether one is set.

use std::fmt::Write as _;

use herald_runtime::{DeclaredHost, Discovery, ProviderMetadata};
use serde::Serialize;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Serialize)]
struct PeersJson {
    peers: Vec<PeerJson>,
}

#[derive(Serialize)]
struct PeerJson {
    peer_address: String,
    peer_asn: u32,
    local_asn: u32,
    source_address: Option<String>,
    password_set: bool,
    multihop_ttl: Option<u8>,
    route_via: Option<String>,
    hold_time_seconds: Option<u16>,
    port: Option<u16>,
    keepalive_seconds: Option<u16>,
}

pub fn render_discovery(discovery: &Discovery, format: Format) -> anyhow::Result<String> {
    let peers: Vec<PeerJson> = discovery
        .peers
        .iter()
        .map(|peer| PeerJson {
            peer_address: peer.peer_address.to_string(),
            peer_asn: peer.peer_asn,
            local_asn: peer.local_asn,
            source_address: peer.source_address.map(|a| a.to_string()),
            password_set: peer.password.is_some(),
            multihop_ttl: peer.multihop_ttl,
            route_via: peer.route_via.map(|a| a.to_string()),
            hold_time_seconds: peer.hold_time_seconds,
            port: peer.port,
            keepalive_seconds: peer.keepalive_seconds,
        })
        .collect();
    match format {
        Format::Json => Ok(serde_json::to_string(&PeersJson { peers })? + "\n"),
        Format::Table => Ok(peer_table(&peers)),
    }
}

fn peer_table(peers: &[PeerJson]) -> String {
    let dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let mut rows = vec![
        [
            "PEER",
            "PEER-ASN",
            "LOCAL-ASN",
            "SOURCE",
            "PASSWORD",
            "MULTIHOP",
            "ROUTE-VIA",
            "HOLD",
            "KEEPALIVE",
            "PORT",
        ]
        .map(String::from),
    ];
    for peer in peers {
        rows.push([
            peer.peer_address.clone(),
            peer.peer_asn.to_string(),
            peer.local_asn.to_string(),
            dash(peer.source_address.clone()),
            if peer.password_set { "set" } else { "-" }.to_string(),
            dash(peer.multihop_ttl.map(|t| t.to_string())),
            dash(peer.route_via.clone()),
            dash(peer.hold_time_seconds.map(|t| t.to_string())),
            dash(peer.keepalive_seconds.map(|t| t.to_string())),
            dash(peer.port.map(|p| p.to_string())),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|col| rows.iter().map(|row| row[col].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end()).ok();
    }
    if peers.is_empty() {
        out.push_str("(no peers)\n");
    }
    out
}

pub fn render_metadata(metadata: &ProviderMetadata, format: Format) -> anyhow::Result<String> {
    if let Format::Json = format {
        return Ok(serde_json::to_string_pretty(metadata)? + "\n");
    }
    let mut out = String::new();
    writeln!(out, "name:         {}", metadata.name).ok();
    writeln!(out, "version:      {}", metadata.version).ok();
    writeln!(
        out,
        "wit:          herald:provider@{}",
        metadata.wit_version
    )
    .ok();
    writeln!(out, "description:  {}", metadata.description).ok();
    if metadata.hosts.is_empty() {
        writeln!(out, "hosts:        (none: no outgoing HTTP)").ok();
    } else {
        writeln!(out, "hosts:").ok();
        for host in &metadata.hosts {
            match host {
                DeclaredHost::Url { url } => writeln!(out, "  {url}").ok(),
                DeclaredHost::FromConfig { from_config } => {
                    let default = metadata
                        .config_key(from_config)
                        .and_then(|key| key.default.as_deref())
                        .map(|d| format!(" (default {d})"))
                        .unwrap_or_default();
                    writeln!(out, "  from config {from_config}{default}").ok()
                }
            };
        }
    }
    if metadata.config.is_empty() {
        writeln!(out, "config:       (none)").ok();
    } else {
        writeln!(out, "config:").ok();
        for key in &metadata.config {
            let mut flags = Vec::new();
            if key.secret {
                flags.push("secret".to_string());
            }
            if key.required {
                flags.push("required".to_string());
            }
            if let Some(default) = &key.default {
                flags.push(format!("default {default}"));
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", flags.join(", "))
            };
            writeln!(out, "  {}{flags}: {}", key.key, key.description).ok();
        }
    }
    Ok(out)
}
