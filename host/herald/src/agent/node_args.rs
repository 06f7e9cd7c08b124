//! Flags of Kubernetes mode (kube-vip names, `HERALD_*` variables, kube-vip's own variables as a
//! fallback): what to announce, election, the apiserver, observability, and the provider.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::ArgAction;
use clap::builder::BoolishValueParser;
use herald_agent::node_agent::KubeSettings;
use herald_agent::services::{ClassPolicy, DEFAULT_LB_CLASS};
use herald_kube::LeaseConfig;

use super::kubevip_env::{EnvSource, fallback, fallback_bool};
use crate::provider_cmd::provider::locate::ProviderDirArgs;

/// kube-vip's Lease defaults (seconds).
const LEASE_DURATION: u64 = 15;
const LEASE_RENEW_DEADLINE: u64 = 10;
const LEASE_RETRY_PERIOD: u64 = 2;
const DEFAULT_LEASE_NAME: &str = "plndr-cp-lock";
const DEFAULT_NAMESPACE: &str = "kube-system";
/// In a pod, the namespace it runs in (kube-vip uses it for its Leases too).
const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// Provider that finds the BGP peers: a name in the providers directory (`equinix-annotations`),
    /// a `.wasm` path, or a pinned `oci://registry/repository[:tag]@sha256:<hex>` (pulled once,
    /// verified, cached by digest; the cache serves it when the registry is down).
    #[arg(long, env = "HERALD_PROVIDER", value_name = "NAME|PATH|OCI-REF")]
    pub provider: Option<String>,

    /// Provider configuration `key=value`, or `key=@file` to read the value from a file. Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE|KEY=@FILE")]
    pub config: Vec<String>,

    /// Let the provider reach this host (it must also declare it): `host`, `host:port`. Repeatable.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_host: Vec<String>,

    #[command(flatten)]
    pub provider_dirs: ProviderDirArgs,

    /// kube-vip's annotation mode: equinix-annotations with `prefix=PREFIX` (e.g. metal.equinix.com).
    #[arg(
        long = "annotations",
        env = "HERALD_ANNOTATIONS",
        value_name = "PREFIX"
    )]
    pub annotations: Option<String>,

    /// kube-vip's Equinix Metal API mode: equinix-api with --metalKey and --metalProjectID.
    #[arg(long, env = "HERALD_METAL", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub metal: Option<bool>,

    /// Equinix Metal API token (prefer --metalKeyFile or --provider-config: arguments show in `ps`).
    #[arg(
        long = "metalKey",
        env = "HERALD_METALKEY",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metal_key: Option<String>,

    /// File holding the Equinix Metal API token (a hostPath or Secret volume).
    #[arg(
        long = "metalKeyFile",
        env = "HERALD_METALKEYFILE",
        value_name = "FILE"
    )]
    pub metal_key_file: Option<PathBuf>,

    /// Equinix Metal project ID.
    #[arg(
        long = "metalProjectID",
        env = "HERALD_METALPROJECTID",
        value_name = "UUID"
    )]
    pub metal_project_id: Option<String>,

    /// The CCM's `cloud-sa.json` (kube-vip's meaning): equinix-api with the token and project in it.
    #[arg(
        long = "provider-config",
        env = "HERALD_PROVIDER_CONFIG",
        value_name = "FILE"
    )]
    pub provider_config: Option<PathBuf>,

    /// Announce the control-plane VIP (--vip/--address).
    #[arg(long, env = "HERALD_CONTROLPLANE", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub controlplane: Option<bool>,

    /// Announce the addresses of LoadBalancer Services.
    #[arg(long, env = "HERALD_SERVICES", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub services: Option<bool>,

    /// Only the holder of a Lease announces the control-plane VIP (default: every control-plane node, ECMP).
    #[arg(long = "leaderElection", env = "HERALD_LEADERELECTION", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = ArgAction::Set,
          value_parser = BoolishValueParser::new())]
    pub leader_election: Option<bool>,

    /// Name of the control-plane Lease (default plndr-cp-lock, kube-vip's).
    #[arg(long = "leaseName", env = "HERALD_LEASENAME", value_name = "NAME")]
    pub lease_name: Option<String>,

    /// Lease duration, seconds (default 15).
    #[arg(long = "leaseDuration", env = "HERALD_LEASEDURATION", value_name = "S")]
    pub lease_duration: Option<u64>,

    /// Renew deadline, seconds (default 10).
    #[arg(
        long = "leaseRenewDuration",
        env = "HERALD_LEASERENEWDURATION",
        value_name = "S"
    )]
    pub lease_renew: Option<u64>,

    /// Retry period, seconds (default 2).
    #[arg(long = "leaseRetry", env = "HERALD_LEASERETRY", value_name = "S")]
    pub lease_retry: Option<u64>,

    /// Namespace of the Lease (default: the pod's own, else kube-system).
    #[arg(long, short = 'n', env = "HERALD_NAMESPACE", value_name = "NS")]
    pub namespace: Option<String>,

    /// This node's name (default: the hostname); the pod spec passes `spec.nodeName`.
    #[arg(long = "nodeName", env = "HERALD_NODENAME", value_name = "NAME")]
    pub node_name: Option<String>,

    /// A Node as `kubectl get node -o yaml` prints it: the node context before (or without) an apiserver.
    #[arg(long = "node", env = "HERALD_NODE", value_name = "FILE")]
    pub node_file: Option<PathBuf>,

    /// Kubeconfig (default: $KUBECONFIG, else the in-cluster ServiceAccount).
    #[arg(
        long = "k8sConfigPath",
        env = "HERALD_K8SCONFIGPATH",
        value_name = "FILE"
    )]
    pub k8s_config_path: Option<PathBuf>,

    /// Watch Services of this namespace only (default: all).
    #[arg(
        long = "servicesNamespace",
        env = "HERALD_SERVICESNAMESPACE",
        value_name = "NS"
    )]
    pub services_namespace: Option<String>,

    /// Handle only Services whose loadBalancerClass is --lbClassName.
    #[arg(long = "lbClassOnly", env = "HERALD_LBCLASSONLY", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = ArgAction::Set,
          value_parser = BoolishValueParser::new())]
    pub lb_class_only: Option<bool>,

    /// The loadBalancerClass Herald answers to (default kube-vip.io/kube-vip-class).
    #[arg(long = "lbClassName", env = "HERALD_LBCLASSNAME", value_name = "CLASS")]
    pub lb_class_name: Option<String>,

    /// Address of /metrics, /healthz, /readyz, /status (default :2112; `off` to disable).
    #[arg(
        long = "prometheusHTTPServer",
        env = "HERALD_PROMETHEUSHTTPSERVER",
        value_name = "ADDR"
    )]
    pub prometheus_http_server: Option<String>,

    /// Deadline of one provider call, milliseconds.
    #[arg(
        long = "providerTimeout",
        env = "HERALD_PROVIDERTIMEOUT",
        value_name = "MS",
        default_value_t = 2000
    )]
    pub provider_timeout_ms: u64,
}

/// What announces, resolved with kube-vip fallbacks.
pub struct Roles {
    pub control_plane: bool,
    pub services: bool,
}

impl NodeArgs {
    pub fn roles(&self, env: &dyn EnvSource) -> anyhow::Result<Roles> {
        Ok(Roles {
            control_plane: fallback_bool(env, self.controlplane, "cp_enable")?.unwrap_or(false),
            services: fallback_bool(env, self.services, "svc_enable")?.unwrap_or(false),
        })
    }

    pub fn node_name(&self, env: &dyn EnvSource) -> anyhow::Result<String> {
        if let Some(name) = fallback(env, self.node_name.clone(), "vip_nodename")? {
            return Ok(name);
        }
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .context("reading the hostname for --nodeName")?;
        let name = name.trim();
        if name.is_empty() {
            bail!("--nodeName: the hostname is empty; give the node's name");
        }
        Ok(name.to_owned())
    }

    pub fn class_policy(&self, env: &dyn EnvSource) -> anyhow::Result<ClassPolicy> {
        Ok(ClassPolicy {
            class_name: fallback(env, self.lb_class_name.clone(), "lb_class_name")?
                .unwrap_or_else(|| DEFAULT_LB_CLASS.to_owned()),
            class_only: fallback_bool(env, self.lb_class_only, "lb_class_only")?.unwrap_or(false),
        })
    }

    pub fn election(
        &self,
        env: &dyn EnvSource,
        identity: &str,
    ) -> anyhow::Result<Option<LeaseConfig>> {
        if !fallback_bool(env, self.leader_election, "vip_leaderelection")?.unwrap_or(false) {
            return Ok(None);
        }
        let seconds = |value: Option<u64>, name: &str, default: u64| -> anyhow::Result<Duration> {
            Ok(Duration::from_secs(
                fallback(env, value, name)?.unwrap_or(default),
            ))
        };
        let lease_duration = seconds(self.lease_duration, "vip_leaseduration", LEASE_DURATION)?;
        let renew_deadline = seconds(self.lease_renew, "vip_renewdeadline", LEASE_RENEW_DEADLINE)?;
        let retry_period = seconds(self.lease_retry, "vip_retryperiod", LEASE_RETRY_PERIOD)?;
        if retry_period.is_zero()
            || renew_deadline <= retry_period
            || lease_duration <= renew_deadline
        {
            bail!(
                "--leaseDuration ({}s) must exceed --leaseRenewDuration ({}s), which must exceed --leaseRetry ({}s) > 0",
                lease_duration.as_secs(),
                renew_deadline.as_secs(),
                retry_period.as_secs()
            );
        }
        Ok(Some(LeaseConfig {
            namespace: self.lease_namespace(env)?,
            name: fallback(env, self.lease_name.clone(), "vip_leasename")?
                .unwrap_or_else(|| DEFAULT_LEASE_NAME.to_owned()),
            identity: identity.to_owned(),
            lease_duration,
            renew_deadline,
            retry_period,
        }))
    }

    fn lease_namespace(&self, env: &dyn EnvSource) -> anyhow::Result<String> {
        if let Some(namespace) = &self.namespace {
            return Ok(namespace.clone());
        }
        if let Ok(namespace) = std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE)
            && !namespace.trim().is_empty()
        {
            return Ok(namespace.trim().to_owned());
        }
        Ok(fallback(env, None, "cp_namespace")?.unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()))
    }

    pub fn kube_settings(&self, env: &dyn EnvSource) -> anyhow::Result<KubeSettings> {
        Ok(KubeSettings {
            config_path: fallback(env, self.k8s_config_path.clone(), "k8s_config_file")?,
            services_namespace: fallback(env, self.services_namespace.clone(), "svc_namespace")?,
        })
    }

    /// `:2112` means every address, as Go's listener takes it.
    pub fn observe_addr(&self, env: &dyn EnvSource) -> anyhow::Result<Option<SocketAddr>> {
        let text = fallback(
            env,
            self.prometheus_http_server.clone(),
            "prometheus_server",
        )?
        .unwrap_or_else(|| ":2112".to_owned());
        let text = text.trim();
        if text.is_empty() || text == "off" {
            return Ok(None);
        }
        let full = if text.starts_with(':') {
            format!("0.0.0.0{text}")
        } else {
            text.to_owned()
        };
        full.parse().map(Some).with_context(|| {
            format!("--prometheusHTTPServer: {text:?} is not ADDRESS:PORT or :PORT")
        })
    }
}
