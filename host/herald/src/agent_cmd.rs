//! `herald agent`: kube-vip-named flags (also `HERALD_*` env vars, and kube-vip's env names), then
//! the agent until SIGTERM/SIGINT. Kubernetes mode (the default) runs the node agent: a provider
//! and the Kubernetes watches feed the desired state. `--kubernetes=false` runs on flags alone:
//! static peers, or a provider with `--node FILE`.

#[path = "agent/args.rs"]
mod args;
#[path = "agent/kubevip_env.rs"]
pub(crate) mod kubevip_env;
#[path = "agent/node_args.rs"]
mod node_args;
#[path = "agent/provider_choice.rs"]
mod provider_choice;
#[path = "agent/signals.rs"]
mod signals;

use std::sync::Arc;

use anyhow::{Context, bail};
use herald_agent::live::{LiveBgp, LiveNet};
use herald_agent::node_agent::{NodeAgentConfig, run_node_agent};
use herald_agent::observe::Observed;
use herald_agent::{AgentConfig, FlagSettings, RunSummary, run_static};
use herald_runtime::NodeContext;
use tracing::{info, warn};

pub use args::AgentArgs;

use crate::provider_cmd::provider::node::read_node;

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    let env = kubevip_env::ProcessEnv;
    let mode = args.mode(&env)?;
    if !mode.bgp {
        bail!("--bgp=false: Herald only announces VIPs over BGP; drop the flag or pass --bgp");
    }
    let shutdown = signals::shutdown_requested()?;
    let choice = provider_choice::choose(&args.node, &env)?;
    if !mode.kubernetes && args.node.roles(&env)?.services {
        bail!("--services needs Kubernetes: drop --kubernetes=false");
    }
    let summary = if !mode.kubernetes && choice.is_none() && args.node.node_file.is_none() {
        run_static_mode(&args, &env, shutdown).await?
    } else {
        run_node_mode(&args, &env, mode.kubernetes, choice, shutdown).await?
    };
    if summary.cleanup_failures > 0 {
        bail!(
            "shutdown left {} cleanup step(s) undone (see the warnings above)",
            summary.cleanup_failures
        );
    }
    Ok(())
}

async fn run_static_mode(
    args: &AgentArgs,
    env: &kubevip_env::ProcessEnv,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    let config = AgentConfig::from_flags(args.static_flags(env)?)?;
    log_static_config(&config);
    let reconciler = herald_agent::live::reconciler(&config)
        .await
        .context("starting the BGP speaker and netlink")?;
    Ok(run_static(&config, reconciler, shutdown).await)
}

async fn run_node_mode(
    args: &AgentArgs,
    env: &kubevip_env::ProcessEnv,
    kubernetes: bool,
    choice: Option<provider_choice::ProviderChoice>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    let flags = FlagSettings::from_flags(&args.static_flags(env)?)?;
    let node = &args.node;
    let roles = node.roles(env)?;
    let local_node = match &node.node_file {
        Some(path) => read_node(path)?,
        None => NodeContext {
            node_name: node.node_name(env)?,
            ..NodeContext::default()
        },
    };
    if choice.is_none() && flags.static_peers.is_empty() {
        bail!(
            "no BGP peers: give a provider (--provider, --annotations PREFIX, --metal, --provider-config) \
             or static peers (--peerAddress/--bgppeers)"
        );
    }
    if !roles.control_plane && !roles.services {
        bail!("nothing to announce: give --controlplane (with --vip) and/or --services");
    }
    if roles.control_plane && flags.vips.is_empty() {
        bail!("--controlplane needs the VIP: --vip/--address ADDRESS");
    }
    if !roles.control_plane && !flags.vips.is_empty() {
        warn!("--vip is announced only with --controlplane; ignoring it");
    }
    let provider = match choice {
        Some(choice) => Some(provider_choice::load(choice, node).await?),
        None => None,
    };
    let config = NodeAgentConfig {
        election: node.election(env, &local_node.node_name)?,
        local_node,
        control_plane: roles.control_plane,
        services: roles.services,
        class_policy: node.class_policy(env)?,
        kubernetes: if kubernetes {
            Some(node.kube_settings(env)?)
        } else {
            None
        },
        observe_addr: node.observe_addr(env)?,
        flags,
    };
    info!(
        node = config.node_name(),
        provider = provider.as_ref().map(|p| p.provider.identity()),
        static_peers = config.flags.static_peers.len(),
        control_plane = config.control_plane,
        services = config.services,
        leader_election = config.election.is_some(),
        kubernetes = config.kubernetes.is_some(),
        interface = %config.flags.interface,
        "herald agent starting"
    );
    let observed = Arc::new(Observed::new());
    if let Some(addr) = config.observe_addr {
        herald_agent::observe::http::serve(addr, Arc::clone(&observed))
            .await
            .with_context(|| format!("--prometheusHTTPServer: cannot listen on {addr}"))?;
    }
    let net = LiveNet::open(&config.flags.interface)
        .await
        .with_context(|| format!("netlink on interface {:?}", config.flags.interface))?;
    Ok(run_node_agent(config, provider, net, LiveBgp::start, observed, shutdown).await)
}

fn log_static_config(config: &AgentConfig) {
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
