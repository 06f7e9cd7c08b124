//! Which provider the agent runs: `--provider` as given, or kube-vip's switches mapped onto the
//! shipped providers (`--annotations PREFIX` → equinix-annotations; `--metal`/`--provider-config`
//! → equinix-api, granting the Metal API host). Loads and checks it before the agent starts.

use std::time::Duration;

use anyhow::{Context, bail};
use herald_agent::node_agent::ProviderSetup;
use herald_runtime::{Grants, ProviderConfig, Runtime, RuntimeConfig};

use super::kubevip_env::{EnvSource, fallback, fallback_bool};
use super::node_args::NodeArgs;
use crate::provider_cmd::provider::{config_args, locate};

/// The Metal API host granted by `--metal` and `--provider-config`.
const METAL_API_HOST: &str = "api.equinix.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChoice {
    pub provider: String,
    /// Implied by the switch, before the operator's own `--config` (later values win).
    pub config: Vec<(String, String)>,
    pub grants: Vec<String>,
}

pub fn choose(args: &NodeArgs, env: &dyn EnvSource) -> anyhow::Result<Option<ProviderChoice>> {
    let annotations = fallback(env, args.annotations.clone(), "annotation")?;
    let provider_config = fallback(env, args.provider_config.clone(), "provider_config")?;
    let metal =
        fallback_bool(env, args.metal, "vip_packet")?.unwrap_or(false) || provider_config.is_some();
    let switches = [args.provider.is_some(), annotations.is_some(), metal];
    if switches.iter().filter(|on| **on).count() > 1 {
        bail!("choose one peer source: --provider, --annotations, or --metal/--provider-config");
    }
    if let Some(prefix) = annotations {
        return Ok(Some(ProviderChoice {
            provider: "equinix-annotations".into(),
            config: vec![("prefix".into(), prefix)],
            grants: Vec::new(),
        }));
    }
    if metal {
        let mut config = Vec::new();
        if let Some(path) = &provider_config {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--provider-config: cannot read {}", path.display()))?;
            config.push(("cloud-sa-json".into(), text));
        }
        let key = match (&args.metal_key, &args.metal_key_file) {
            (Some(_), Some(_)) => bail!("give either --metalKey or --metalKeyFile, not both"),
            (Some(key), None) => Some(key.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("--metalKeyFile: cannot read {}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => env.get("PACKET_AUTH_TOKEN"),
        };
        if let Some(key) = key {
            config.push(("api-token".into(), key));
        }
        if let Some(project) = fallback(env, args.metal_project_id.clone(), "vip_packetprojectid")?
        {
            config.push(("project-id".into(), project));
        }
        if provider_config.is_none() && !config.iter().any(|(key, _)| key == "api-token") {
            bail!(
                "--metal needs the API token: --metalKey, --metalKeyFile or --provider-config (a cloud-sa.json)"
            );
        }
        return Ok(Some(ProviderChoice {
            provider: "equinix-api".into(),
            config,
            grants: vec![METAL_API_HOST.into()],
        }));
    }
    Ok(args.provider.clone().map(|provider| ProviderChoice {
        provider,
        config: Vec::new(),
        grants: Vec::new(),
    }))
}

/// Finds, compiles (or loads from the cache) and configures the provider once, so a bad file or a
/// bad configuration stops the agent at start with a clear message.
pub async fn load(choice: ProviderChoice, args: &NodeArgs) -> anyhow::Result<ProviderSetup> {
    let path = locate::resolve_provider(&choice.provider, &args.provider_dirs).await?;
    if args.provider_timeout_ms == 0 {
        bail!("--providerTimeout must be positive");
    }
    let runtime = Runtime::new(RuntimeConfig {
        call_deadline: Duration::from_millis(args.provider_timeout_ms),
        cache_dir: locate::cache_dir(),
        ..RuntimeConfig::default()
    })?;
    let provider = runtime.load(&path)?;
    let mut pairs = choice.config;
    pairs.extend(config_args::parse_config_args(&args.config)?);
    let config = ProviderConfig::from_pairs(pairs);
    let mut grants = choice.grants;
    grants.extend(args.allow_host.iter().cloned());
    let grants = Grants::parse(&grants)?;
    provider
        .configure(&config, &grants)
        .await
        .with_context(|| format!("configuring {}", provider.identity()))?;
    tracing::info!(provider = provider.identity(), path = %path.display(), config = ?config.redacted(provider.metadata()), "provider loaded");
    Ok(ProviderSetup {
        provider,
        config,
        grants,
    })
}
