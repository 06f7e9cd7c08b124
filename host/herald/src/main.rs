//! `herald`: the command-line entry point. Parses flags, sets up logging and hands off to the
//! subcommand modules; all real work lives in the library crates.

mod agent_cmd;
mod doctor_cmd;
mod manifest_cmd;
mod provider_cmd;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "herald",
    version,
    about = "Announce virtual IPs over BGP, with peers found by WebAssembly providers"
)]
struct Cli {
    /// Log format: `text` for humans, `json` for log collectors.
    #[arg(long, global = true, env = "HERALD_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node agent: BGP sessions, VIPs on the interface, routes to peers.
    Agent(Box<agent_cmd::AgentArgs>),
    /// Inspect or run a provider component without a cluster.
    #[command(subcommand)]
    Provider(Box<provider_cmd::ProviderCommand>),
    /// Check this node: annotations, the provider's peers, routes and source addresses, the
    /// running agent's sessions and VIPs. Exit 0 all well, 1 something wrong, 2 could not check.
    Doctor(Box<doctor_cmd::DoctorArgs>),
    /// Print a Kubernetes manifest (kube-vip's flag names): a static Pod, a DaemonSet, or RBAC.
    #[command(subcommand)]
    Manifest(Box<herald_manifest::ManifestCommand>),
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in kubelet's or a test's log capture.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Agent(args) => agent_cmd::run(*args).await,
            Command::Provider(cmd) => provider_cmd::run(*cmd).await,
            Command::Doctor(args) => doctor_cmd::run(*args).await,
            Command::Manifest(cmd) => manifest_cmd::run(&cmd),
        }
    })
}
