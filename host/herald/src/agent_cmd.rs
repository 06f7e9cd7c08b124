//! `herald agent`: kube-vip-named flags (also `HERALD_*` env vars, and some kube-vip env names),
//! then the static-mode agent until SIGTERM/SIGINT.

#[path = "agent/args.rs"]
mod args;
#[path = "agent/kubevip_env.rs"]
mod kubevip_env;
#[path = "agent/signals.rs"]
mod signals;

use anyhow::{Context, bail};
use herald_agent::{AgentConfig, run_static};
use tracing::info;

pub use args::AgentArgs;

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    let mode = args.mode(&kubevip_env::ProcessEnv)?;
    if mode.kubernetes {
        bail!(
            "--kubernetes=true: Kubernetes mode is not yet supported in this build; \
             run with --kubernetes=false and static flags (--peerAddress/--bgppeers, --vip/--vips-file)"
        );
    }
    if !mode.bgp {
        bail!("--bgp=false: Herald only announces VIPs over BGP; drop the flag or pass --bgp");
    }
    let flags = args.into_flags(&kubevip_env::ProcessEnv)?;
    let config = AgentConfig::from_flags(flags)?;
    log_config(&config);

    let reconciler = herald_agent::live::reconciler(&config)
        .await
        .context("starting the BGP speaker and netlink")?;
    let summary = run_static(&config, reconciler, signals::shutdown_requested()?).await;
    if summary.cleanup_failures > 0 {
        bail!(
            "shutdown left {} cleanup step(s) undone (see the warnings above)",
            summary.cleanup_failures
        );
    }
    Ok(())
}

fn log_config(config: &AgentConfig) {
    info!(
        router_id = %config.speaker.router_id,
        local_asn = config.speaker.local_asn,
        graceful_restart_time = ?config.speaker.graceful_restart_time,
        interface = %config.interface,
        vips = config.vips.len(),
        vip_addresses = config.vip_addresses,
        "herald agent starting (static mode)"
    );
    for peer in &config.peers {
        info!(
            peer = %peer.address, port = peer.port, asn = peer.asn, md5 = peer.password.is_some(),
            multihop_ttl = ?peer.multihop_ttl, source = ?peer.source_address, route_via = ?peer.route_via,
            hold_time = peer.hold_time, keepalive = peer.keepalive, "configured peer"
        );
    }
}
