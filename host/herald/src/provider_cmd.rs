//! `herald provider inspect|run`: look at or run one provider component without a cluster.
//!
//! Exit codes: 0 success, 1 any error (bad flags, load failure, denial, trap, provider failure),
//! 2 the provider reported `not-ready` (its inputs are not there yet; try again later).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use herald_runtime::{Grants, ProviderConfig, Runtime, RuntimeConfig};

#[path = "provider/mod.rs"]
pub(crate) mod provider;

use self::provider::{config_args, locate, node, output};

/// Exit code when the provider says its inputs are not ready yet.
pub const EXIT_NOT_READY: i32 = 2;

#[derive(Debug, clap::Subcommand)]
pub enum ProviderCommand {
    /// Print a provider's metadata: name, version, WIT version, declared hosts, config keys.
    Inspect(InspectArgs),
    /// Run a provider once against a Node manifest and print the peers it finds.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A .wasm path, or a provider name looked up in the provider directories.
    provider: String,
    #[command(flatten)]
    dirs: locate::ProviderDirArgs,
    #[arg(long, value_enum, default_value = "table")]
    output: output::Format,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A .wasm path, or a provider name looked up in the provider directories.
    provider: String,
    /// A Node as `kubectl get node NAME -o yaml` prints it.
    #[arg(long)]
    node: PathBuf,
    /// Provider configuration: `key=value`, or `key=@file` to read the value from a file.
    #[arg(long = "config", value_name = "KEY=VALUE|KEY=@FILE")]
    config: Vec<String>,
    /// Let the provider reach this host (it must also declare it): `host`, `host:port`, `ip:port`.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    allow_host: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    output: output::Format,
    #[command(flatten)]
    dirs: locate::ProviderDirArgs,
    /// Deadline for the whole call, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    deadline_ms: u64,
    /// Memory cap for the provider, in MiB.
    #[arg(long, default_value_t = 64)]
    memory_limit_mib: usize,
}

pub async fn run(cmd: ProviderCommand) -> anyhow::Result<()> {
    match cmd {
        ProviderCommand::Inspect(args) => inspect(args),
        ProviderCommand::Run(args) => run_provider(args).await,
    }
}

fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let path = locate::find_provider(&args.provider, &args.dirs)?;
    let metadata = Runtime::inspect(&path)?;
    print!("{}", output::render_metadata(&metadata, args.output)?);
    Ok(())
}

async fn run_provider(args: RunArgs) -> anyhow::Result<()> {
    let path = locate::find_provider(&args.provider, &args.dirs)?;
    let node = node::read_node(&args.node)?;
    let pairs = config_args::parse_config_args(&args.config)?;
    let grants = Grants::parse(&args.allow_host)?;
    if args.deadline_ms == 0 || args.memory_limit_mib == 0 {
        anyhow::bail!("--deadline-ms and --memory-limit-mib must be positive");
    }
    let runtime = Runtime::new(RuntimeConfig {
        call_deadline: Duration::from_millis(args.deadline_ms),
        memory_limit_bytes: args.memory_limit_mib.saturating_mul(1024 * 1024),
        cache_dir: locate::cache_dir(),
    })?;
    let provider = runtime.load(&path)?;
    let config = ProviderConfig::from_pairs(pairs);
    tracing::debug!(provider = provider.identity(), config = ?config.redacted(provider.metadata()), "running provider");
    match provider.discover(&config, &grants, &node).await {
        Ok(discovery) => {
            print!("{}", output::render_discovery(&discovery, args.output)?);
            Ok(())
        }
        Err(err) if err.is_not_ready() => {
            eprintln!("Error: {err}");
            std::process::exit(EXIT_NOT_READY);
        }
        Err(err) => Err(err).with_context(|| format!("running {}", path.display())),
    }
}
