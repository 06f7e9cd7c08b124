//! `herald doctor`: checks a node the way an operator would by hand and explains what it finds
//! (annotation format, the provider's answer, routes and source addresses of the peers, the
//! running agent's sessions and VIPs). The checks live in herald-doctor; this module gathers
//! their inputs: the node (file or apiserver), one provider run exactly like `herald provider
//! run`, the kernel's routes and addresses, and the agent's `/status`.
//!
//! Exit status: 0 every check passed, 1 something is wrong (the report says what), 2 the doctor
//! itself could not run (bad flags, provider file not found, node unreadable, no netlink).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use herald_agent::node_agent::provider::error_class;
use herald_doctor::annotations::DEFAULT_PREFIX;
use herald_doctor::fetch::{AgentUrl, fetch_status};
use herald_doctor::{AgentOutcome, Inputs, Peer, ProviderOutcome, Report, diagnose};
use herald_runtime::{
    BgpPeer, CallError, Grants, LoadedProvider, NodeContext, NodeNetwork, ProviderConfig, Runtime,
};

use crate::provider_cmd::provider::{config_args, locate, node};
use crate::provider_cmd::{DEFAULT_DEADLINE_MS, DEFAULT_MEMORY_LIMIT_MIB, one_off_runtime};

/// Exit status when a check failed.
const EXIT_PROBLEMS: i32 = 1;
/// Exit status when the doctor could not run.
const EXIT_CANNOT_RUN: i32 = 2;
/// Budget for reading the agent's `/status` (it answers from memory).
const AGENT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The provider to run: a name in the provider directories (`equinix-annotations`), a
    /// `.wasm` path, or a pinned `oci://registry/repository[:tag]@sha256:<hex>`.
    #[arg(long, env = "HERALD_PROVIDER", value_name = "NAME|PATH|OCI-REF")]
    provider: String,
    /// Provider configuration `key=value`, or `key=@file`. Repeatable. Values are never printed.
    #[arg(long = "config", value_name = "KEY=VALUE|KEY=@FILE")]
    config: Vec<String>,
    /// Let the provider reach this host (it must also declare it): `host`, `host:port`. Repeatable.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    allow_host: Vec<String>,
    #[command(flatten)]
    dirs: locate::ProviderDirArgs,
    /// The Node as `kubectl get node NAME -o yaml` prints it. Wins over --nodeName.
    #[arg(long = "node", value_name = "FILE")]
    node_file: Option<PathBuf>,
    /// Read the Node NAME from the apiserver (as the agent watches it).
    #[arg(long = "nodeName", env = "HERALD_NODENAME", value_name = "NAME")]
    node_name: Option<String>,
    /// Kubeconfig for --nodeName (default: $KUBECONFIG, else the in-cluster ServiceAccount).
    #[arg(
        long = "k8sConfigPath",
        env = "HERALD_K8SCONFIGPATH",
        value_name = "FILE"
    )]
    k8s_config_path: Option<PathBuf>,
    /// The running agent's observability address (`--prometheusHTTPServer`), e.g.
    /// `http://127.0.0.1:2112`; `/status` unless a path is given. Unreachable = a problem.
    #[arg(long, value_name = "URL")]
    agent: Option<AgentUrl>,
    /// The interface the agent puts VIPs on.
    #[arg(long, default_value = "lo", value_name = "IFACE")]
    interface: String,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Deadline of the provider call, in milliseconds.
    #[arg(long, default_value_t = DEFAULT_DEADLINE_MS)]
    deadline_ms: u64,
    /// Memory cap for the provider, in MiB.
    #[arg(long, default_value_t = DEFAULT_MEMORY_LIMIT_MIB)]
    memory_limit_mib: usize,
    /// Check again every half second until every check passes or SECONDS have passed, then
    /// print the last report (for scripts that have just started the agent).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    wait: u64,
}

/// How often `--wait` checks again.
const RECHECK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

/// Prints the report and exits 0, 1 or 2 (see the module docs).
pub async fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let code = match examine_until_ok(&args)
        .await
        .and_then(|report| Ok((render(&report, args.output)?, report.ok)))
    {
        Ok((text, ok)) => {
            print!("{text}");
            if ok { 0 } else { EXIT_PROBLEMS }
        }
        Err(error) => {
            eprintln!("Error: {error:#}");
            EXIT_CANNOT_RUN
        }
    };
    std::io::stdout().flush()?;
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

fn render(report: &Report, output: Output) -> anyhow::Result<String> {
    Ok(match output {
        Output::Text => herald_doctor::text::render_text(report),
        Output::Json => serde_json::to_string_pretty(report)? + "\n",
    })
}

/// [`examine`], again and again within `--wait` while something is wrong: the agent's
/// `/status` trails its sessions by up to a tick, and a just-started agent needs a few seconds.
async fn examine_until_ok(args: &DoctorArgs) -> anyhow::Result<Report> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait);
    let setup = Setup::new(args).await?;
    loop {
        let report = examine(args, &setup).await?;
        if report.ok || tokio::time::Instant::now() + RECHECK > deadline {
            return Ok(report);
        }
        tokio::time::sleep(RECHECK).await;
    }
}

/// What a bad invocation fails on, checked once before anything runs.
struct Setup {
    path: PathBuf,
    pairs: Vec<(String, String)>,
    grants: Grants,
    runtime: Runtime,
}

impl Setup {
    async fn new(args: &DoctorArgs) -> anyhow::Result<Self> {
        Ok(Self {
            path: locate::resolve_provider(&args.provider, &args.dirs).await?,
            pairs: config_args::parse_config_args(&args.config)?,
            grants: Grants::parse(&args.allow_host)?,
            runtime: one_off_runtime(args.deadline_ms, args.memory_limit_mib)?,
        })
    }
}

/// One round of every check. The node, the provider's answer, the kernel and the agent are read
/// afresh each time (under `--wait` any of them may be what changes).
async fn examine(args: &DoctorArgs, setup: &Setup) -> anyhow::Result<Report> {
    let Setup {
        path,
        pairs,
        grants,
        runtime,
    } = setup;
    let pairs = pairs.clone();
    let (mut node, node_source) = read_node(args).await?;
    // One read serves both the route checks and the provider, which sees the network the
    // agent's call would: this namespace's, read now.
    let net = herald_net::inspect::snapshot()
        .await
        .context("reading the node's routes and addresses over netlink")?;
    node.network = herald_agent::node_network::node_network(&net);
    let prefix = pairs
        .iter()
        .rev()
        .find(|(key, _)| key == "prefix")
        .map_or(DEFAULT_PREFIX, |(_, value)| value.as_str())
        .to_owned();
    // The raw `bgp-pass` annotations are secrets too, whichever prefix they carry.
    let mut secrets: Vec<String> = node
        .annotations
        .iter()
        .filter(|(key, _)| key.ends_with("bgp-pass"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    let (provider_name, outcome) = match runtime.load(path) {
        Ok(provider) => {
            secrets.extend(
                pairs
                    .iter()
                    .filter(|(key, _)| provider.metadata().is_secret(key))
                    .map(|(_, value)| value.clone()),
            );
            let outcome = discover(&provider, pairs, grants, &node, &mut secrets).await;
            let metadata = provider.metadata();
            (format!("{} {}", metadata.name, metadata.version), outcome)
        }
        Err(error) => {
            // Without metadata no key is known to be public: treat every value as secret.
            secrets.extend(pairs.into_iter().map(|(_, value)| value));
            (
                args.provider.clone(),
                ProviderOutcome::Failed {
                    class: "load".into(),
                    message: error.problem.to_string(),
                },
            )
        }
    };
    let agent = match &args.agent {
        Some(url) => Some((url.to_string(), agent_outcome(url).await)),
        None => None,
    };
    Ok(diagnose(&Inputs {
        node_name: node.node_name,
        node_source,
        annotations: node.annotations,
        prefix,
        provider: provider_name,
        provider_path: path.display().to_string(),
        outcome,
        net,
        interface: args.interface.clone(),
        agent,
        secrets,
    }))
}

/// The node context the provider gets: from the file as `herald provider run` and
/// `herald agent --node` read it, or from the apiserver as the agent's Node watch sees it.
async fn read_node(args: &DoctorArgs) -> anyhow::Result<(NodeContext, String)> {
    if let Some(path) = &args.node_file {
        return Ok((
            node::read_node(path)?,
            format!("node file {}", path.display()),
        ));
    }
    let Some(name) = &args.node_name else {
        bail!(
            "which node? give --node FILE (kubectl get node NAME -o yaml) or --nodeName NAME (read from the apiserver)"
        );
    };
    let client = herald_kube::connect(args.k8s_config_path.as_deref()).await?;
    let info = herald_kube::get_node(&client, name).await?;
    // The same mapping as the agent's inputs (node_agent/inputs.rs).
    let context = NodeContext {
        node_name: info.name,
        provider_id: info.provider_id,
        annotations: info.annotations,
        labels: info.labels,
        network: NodeNetwork::default(),
    };
    Ok((context, format!("Node {name} from the apiserver")))
}

/// `configure` then `discover` in a fresh instance, as `herald provider run` calls it.
async fn discover(
    provider: &LoadedProvider,
    pairs: Vec<(String, String)>,
    grants: &Grants,
    node: &NodeContext,
    secrets: &mut Vec<String>,
) -> ProviderOutcome {
    let config = ProviderConfig::from_pairs(pairs);
    tracing::debug!(provider = provider.identity(), config = ?config.redacted(provider.metadata()), "running provider");
    match provider.discover(&config, grants, node).await {
        Ok(discovery) => {
            secrets.extend(
                discovery
                    .peers
                    .iter()
                    .filter_map(|peer| peer.password.as_ref())
                    .map(|password| password.expose().to_owned()),
            );
            ProviderOutcome::Peers(discovery.peers.iter().map(peer_of).collect())
        }
        Err(error) => ProviderOutcome::Failed {
            class: error_class(&error).0.to_owned(),
            message: call_message(&error, provider.identity()),
        },
    }
}

/// The error without the provider's name in front (the report names it already).
fn call_message(error: &CallError, identity: &str) -> String {
    match error {
        CallError::Provider(provider) => return provider.message.clone(),
        CallError::InvalidConfig { message, .. } => return message.clone(),
        _ => {}
    }
    let text = error.to_string();
    text.strip_prefix(identity)
        .and_then(|rest| rest.strip_prefix(": "))
        .map_or_else(|| text.clone(), str::to_owned)
}

/// The peer without its password: the doctor only reports whether one is set.
fn peer_of(peer: &BgpPeer) -> Peer {
    Peer {
        address: peer.peer_address,
        peer_asn: peer.peer_asn,
        local_asn: peer.local_asn,
        source: peer.source_address,
        md5: peer.password.is_some(),
        multihop_ttl: peer.multihop_ttl,
        route_via: peer.route_via,
        port: peer.port,
        hold_time_seconds: peer.hold_time_seconds,
    }
}

async fn agent_outcome(url: &AgentUrl) -> AgentOutcome {
    match fetch_status(url, AGENT_TIMEOUT).await {
        Ok(status) => AgentOutcome::Status(Box::new(status)),
        Err(error) => AgentOutcome::Failed(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use herald_agent::observe::StatusReport;
    use herald_agent::observe::status::PeerReport;
    use herald_doctor::agent::AgentStatus;

    use super::*;

    /// The doctor's view of `/status` must parse what the agent serves.
    #[test]
    fn the_doctor_reads_the_agents_status_report() {
        let report = StatusReport {
            node: "k8s-node-1".into(),
            ready: true,
            peers: vec![PeerReport {
                address: "169.254.255.1".into(),
                port: 179,
                asn: 65530,
                local_asn: Some(65000),
                md5: true,
                multihop_ttl: Some(2),
                source_address: Some("192.0.2.2".into()),
                route_via: Some("192.0.2.3".into()),
                hold_time_seconds: Some(30),
                keepalive_seconds: Some(10),
                state: "Established".into(),
                established: true,
                uptime_seconds: Some(5),
                prefixes_advertised: 1,
                last_error: None,
            }],
            provider: Some(herald_agent::node_agent::provider::ProviderReport {
                provider: "provider \"equinix-annotations\" 0.1.0".into(),
                result: "ok".into(),
                peers: Some(1),
                error: None,
                at_unix_seconds: 1,
                calls: 1,
            }),
            announced: vec!["203.0.113.10/32".into()],
            announced_total: 1,
            addresses: vec!["203.0.113.10/32".into()],
            addresses_total: 1,
            ..StatusReport::default()
        };
        let json = serde_json::to_string_pretty(&report).unwrap();
        let status: AgentStatus = serde_json::from_str(&json).unwrap();
        assert!(status.ready);
        assert_eq!(status.peers[0].state, "Established");
        assert_eq!(status.peers[0].uptime_seconds, Some(5));
        assert_eq!(status.addresses, ["203.0.113.10/32"]);
        assert_eq!(status.provider.unwrap().peers, Some(1));
        let empty: AgentStatus =
            serde_json::from_str(&serde_json::to_string(&StatusReport::default()).unwrap())
                .unwrap();
        assert!(!empty.ready && empty.peers.is_empty());
    }

    #[test]
    fn call_errors_lose_the_provider_name_prefix() {
        let identity = "provider \"x\" 0.1.0";
        let timeout = CallError::Timeout {
            provider: identity.into(),
            deadline: Duration::from_millis(2000),
        };
        assert_eq!(
            call_message(&timeout, identity),
            "call stopped after its 2000 ms deadline"
        );
        assert_eq!(error_class(&timeout).0, "timeout");
    }
}
