//! `herald provider inspect|run|new|build|push`: look at, run, start, build or publish a
//! provider component without a cluster.
//!
//! Exit codes: 0 success, 1 any error (bad flags, load failure, denial, trap, provider failure),
//! 2 the provider reported `not-ready` (its inputs are not there yet; try again later).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use herald_runtime::recording::Recording;
use herald_runtime::{Grants, HttpTap, ProviderConfig, Runtime, RuntimeConfig};

#[path = "provider/mod.rs"]
pub(crate) mod provider;

use self::provider::{builder, config_args, locate, new, node, oci, output};

/// Exit code when the provider says its inputs are not ready yet.
pub const EXIT_NOT_READY: i32 = 2;

#[derive(Debug, clap::Subcommand)]
pub enum ProviderCommand {
    /// Print a provider's metadata: name, version, WIT version, declared hosts, config keys.
    Inspect(InspectArgs),
    /// Run a provider once against a Node manifest and print the peers it finds.
    Run(RunArgs),
    /// Write a new provider project (Rust on herald-sdk, or Python with componentize-py).
    New(new::NewArgs),
    /// Build a provider project of either language; prints the component's path last.
    Build(builder::BuildArgs),
    /// Push a provider component to an OCI registry; prints the pinned reference
    /// (`oci://registry/repository:tag@sha256:…`) to give `--provider`.
    Push(PushArgs),
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The provider component (.wasm); it must load as a Herald provider.
    component: PathBuf,
    /// Where to push it: `registry[:port]/repository:tag` (`oci://` may be written before it).
    #[arg(value_name = "REGISTRY/REPOSITORY:TAG")]
    reference: String,
    #[command(flatten)]
    registry: oci::RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A .wasm path, a provider name looked up in the provider directories, or a pinned
    /// `oci://registry/repository[:tag]@sha256:<hex>` reference.
    provider: String,
    #[command(flatten)]
    dirs: locate::ProviderDirArgs,
    #[arg(long, value_enum, default_value = "table")]
    output: output::Format,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A .wasm path, a provider name looked up in the provider directories, or a pinned
    /// `oci://registry/repository[:tag]@sha256:<hex>` reference.
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
    #[arg(long, default_value_t = DEFAULT_DEADLINE_MS)]
    deadline_ms: u64,
    /// Memory cap for the provider, in MiB.
    #[arg(long, default_value_t = DEFAULT_MEMORY_LIMIT_MIB)]
    memory_limit_mib: usize,
    /// Save every HTTP exchange of the run to FILE (credential headers and secret config values
    /// redacted), for `--replay` and the SDK's `testing::Replay`.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Answer the provider's HTTP from FILE (written by `--record`), with no network; a request
    /// the file lacks fails the run, naming the request. Declared and granted hosts still apply.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
}

/// Defaults of `--deadline-ms` and `--memory-limit-mib` (`herald doctor` uses the same).
pub(crate) const DEFAULT_DEADLINE_MS: u64 = 2000;
pub(crate) const DEFAULT_MEMORY_LIMIT_MIB: usize = 64;

/// The runtime a one-off provider run uses (`provider run`, `doctor`): these limits, the cache.
pub(crate) fn one_off_runtime(
    deadline_ms: u64,
    memory_limit_mib: usize,
) -> anyhow::Result<Runtime> {
    if deadline_ms == 0 || memory_limit_mib == 0 {
        anyhow::bail!("--deadline-ms and --memory-limit-mib must be positive");
    }
    Ok(Runtime::new(RuntimeConfig {
        call_deadline: Duration::from_millis(deadline_ms),
        memory_limit_bytes: memory_limit_mib.saturating_mul(1024 * 1024),
        cache_dir: locate::cache_dir(),
    })?)
}

pub async fn run(cmd: ProviderCommand) -> anyhow::Result<()> {
    match cmd {
        ProviderCommand::Inspect(args) => inspect(args).await,
        ProviderCommand::Push(args) => push(args).await,
        ProviderCommand::Run(args) => run_provider(args).await,
        ProviderCommand::New(args) => {
            let dir = new::new_project(&args)?;
            eprintln!(
                "created {}: `cd {0}`, run its tests, then `herald provider build .`",
                dir.display()
            );
            Ok(())
        }
        ProviderCommand::Build(args) => {
            let component = builder::build(&args)?;
            println!("{}", component.display());
            Ok(())
        }
    }
}

async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let path = locate::resolve_provider(&args.provider, &args.dirs).await?;
    let metadata = Runtime::inspect(&path)?;
    print!("{}", output::render_metadata(&metadata, args.output)?);
    Ok(())
}

async fn run_provider(args: RunArgs) -> anyhow::Result<()> {
    let path = locate::resolve_provider(&args.provider, &args.dirs).await?;
    let mut node = node::read_node(&args.node)?;
    // This process's namespace: `ip netns exec NS herald provider run …` shows NS's network.
    node.network = herald_agent::node_network::read_node_network().await;
    let pairs = config_args::parse_config_args(&args.config)?;
    let grants = Grants::parse(&args.allow_host)?;
    let runtime = one_off_runtime(args.deadline_ms, args.memory_limit_mib)?;
    let tap = match &args.replay {
        Some(file) => HttpTap::replay(read_recording(file)?),
        None if args.record.is_some() => HttpTap::recorder(),
        None => HttpTap::live(),
    };
    let provider = runtime.load(&path)?;
    let config = ProviderConfig::from_pairs(pairs);
    tracing::debug!(provider = provider.identity(), config = ?config.redacted(provider.metadata()), "running provider");
    let outcome = provider
        .discover_tapped(&config, &grants, &node, &tap)
        .await;
    if let (Some(file), Some(recording)) = (&args.record, tap.recording()) {
        std::fs::write(file, recording.to_json())
            .with_context(|| format!("--record: writing {}", file.display()))?;
        eprintln!(
            "recorded {} HTTP exchange(s) to {}",
            recording.exchanges.len(),
            file.display()
        );
    }
    match outcome {
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

/// Checks that the file is a provider this host loads (its metadata, WIT version and export),
/// so nothing unusable reaches the registry, then pushes it and prints the pinned reference.
async fn push(args: PushArgs) -> anyhow::Result<()> {
    let reference = oci::parse(&args.reference)?;
    let metadata = Runtime::inspect(&args.component).with_context(|| {
        format!(
            "refusing to push {}: it is not a Herald provider component",
            args.component.display()
        )
    })?;
    let options = args.registry.options(&reference)?;
    let digest = herald_oci::push(&args.component, &reference, &options)
        .await
        .with_context(|| format!("pushing {} to {reference}", args.component.display()))?;
    let pinned = reference.with_digest(digest);
    eprintln!(
        "pushed provider {} {} (WIT {}); run it with --provider {pinned}",
        metadata.name, metadata.version, metadata.wit_version
    );
    println!("{pinned}");
    Ok(())
}

fn read_recording(file: &std::path::Path) -> anyhow::Result<Recording> {
    Recording::read(file).context("--replay")
}
