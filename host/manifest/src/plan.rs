//! From flags to what goes into the Pod: the checks, then the container's arguments, env vars,
//! mounts and placement. The documents (`pod`, `daemonset`) only lay this out.

use crate::checks;
use crate::cli::AgentFlags;
use crate::error::ManifestError;
use crate::image::{self, Image};
use crate::mounts::{
    CACHE_DIR, DEFAULT_HOST_KUBECONFIG, KUBECONFIG_IN_CONTAINER, Mount, Mounts, REGISTRY_CONFIG,
};
use crate::secrets::{self, BGP_PEERS, METAL_KEY, PEER_PASS, SecretKind};
use crate::values::Listen;

/// The agent's default listener for /metrics, /healthz and /readyz.
pub const DEFAULT_METRICS_PORT: u16 = 2112;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Pod,
    DaemonSet,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: EnvValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    /// The downward API (`fieldRef.fieldPath`).
    Field(&'static str),
    Secret {
        name: String,
        key: String,
    },
}

/// Where the agent's registry credentials come from; the manifest names them, never holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryAuth<'a> {
    /// `--registry-secret NAME` (DaemonSet): a `kubernetes.io/dockerconfigjson` Secret.
    Secret(&'a str),
    /// `--registry-config-file FILE` (static Pod): a host file, a Docker config.json.
    HostFile(&'a str),
}

impl RegistryAuth<'_> {
    fn flag(self) -> &'static str {
        match self {
            RegistryAuth::Secret(_) => "--registry-secret",
            RegistryAuth::HostFile(_) => "--registry-config-file",
        }
    }
}

/// For the header: the registry an `oci://` provider is pulled from, and the Secret name or host
/// file holding its credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryCredentials {
    pub registry: String,
    pub source: String,
}

/// Everything the documents need.
#[derive(Debug)]
pub struct Plan {
    pub workload: Workload,
    pub image: Image,
    /// Starts with `agent`.
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    pub mounts: Vec<Mount>,
    pub in_cluster: bool,
    /// Port and probe host of /healthz and /readyz; `None` when the listener is off.
    pub probes: Option<(u16, Option<String>)>,
    /// DaemonSet: only on control-plane nodes (tolerations and required affinity).
    pub control_plane_only: bool,
    /// The host kubeconfig mounted (for the header), when not in-cluster.
    pub host_kubeconfig: Option<String>,
    pub secrets: Vec<&'static SecretKind>,
    /// `--registry-secret` / `--registry-config-file`, mounted and given as --registry-config.
    pub registry_credentials: Option<RegistryCredentials>,
    /// For stderr: decisions the operator should know about. Never a secret value.
    pub notes: Vec<String>,
}

pub fn plan(
    workload: Workload,
    flags: &AgentFlags,
    taint: bool,
    registry_auth: Option<RegistryAuth<'_>>,
) -> Result<Plan, ManifestError> {
    let mut notes = Vec::new();
    let roles = checks::roles(flags, &mut notes)?;
    let peer_lists = checks::peer_source(flags)?;
    checks::election(flags)?;
    let oci_reference = checks::oci_provider(flags)?;
    let oci_provider = oci_reference.is_some();
    checks::registry_credentials(oci_provider, registry_auth.map(RegistryAuth::flag))?;
    let in_cluster = checks::in_cluster(flags, workload == Workload::DaemonSet)?;

    let mut secrets: Vec<&'static SecretKind> = Vec::new();
    if flags.metal_key.is_some() {
        secrets.push(&METAL_KEY);
    }
    if flags.peer_pass.is_some() {
        secrets.push(&PEER_PASS);
    }
    let peers_hold_passwords = peer_lists.iter().any(|peers| peers.has_password);
    if peers_hold_passwords {
        secrets.push(&BGP_PEERS);
    }
    // The agent reads --nodeName from HERALD_NODENAME; the downward API gives the kubelet's name,
    // which is what the Node object is called (the hostname may differ, kube-vip #1712).
    let mut env = vec![EnvVar {
        name: "HERALD_NODENAME".to_owned(),
        value: EnvValue::Field("spec.nodeName"),
    }];
    for kind in &secrets {
        env.push(secrets::env_var(kind, workload));
        notes.push(secrets::note(kind, workload));
    }

    let mut mounts = Mounts::default();
    let host_kubeconfig = if in_cluster {
        None
    } else {
        let host = flags
            .k8s_config_path
            .clone()
            .unwrap_or_else(|| DEFAULT_HOST_KUBECONFIG.to_owned());
        mounts.host_file("kubeconfig", &host, KUBECONFIG_IN_CONTAINER)?;
        Some(host)
    };
    file_mounts(workload, flags, &mut mounts, &mut notes)?;
    if oci_provider {
        // Pulled once per node and verified by digest; the cache outlives the container, so a
        // restarted agent starts from it while the registry is down.
        mounts.host_cache_dir("provider-cache", CACHE_DIR)?;
        env.push(EnvVar {
            name: "HERALD_CACHE_DIR".to_owned(),
            value: EnvValue::Literal(CACHE_DIR.to_owned()),
        });
        notes.push(format!(
            "--provider oci://…: each node pulls the pinned component once and keeps it in the \
             host's {CACHE_DIR} (hostPath, read-write), from which a restarted agent starts \
             when the registry is down"
        ));
    }
    let registry_credentials = match (&oci_reference, registry_auth) {
        (Some(reference), Some(auth)) => {
            let source = match auth {
                RegistryAuth::Secret(secret) => {
                    mounts.registry_secret("registry-config", secret)?;
                    secret
                }
                RegistryAuth::HostFile(path) => {
                    mounts.host_file("registry-config", path, REGISTRY_CONFIG)?;
                    path
                }
            };
            Some(RegistryCredentials {
                registry: reference.registry().to_owned(),
                source: source.to_owned(),
            })
        }
        _ => None,
    };

    let control_plane_only = workload == Workload::DaemonSet && (taint || roles.control_plane);
    if workload == Workload::DaemonSet && roles.control_plane && !taint {
        notes.push(
            "--controlplane: the DaemonSet runs on control-plane nodes only, as with --taint \
             (another node must not announce the control-plane VIP)"
                .into(),
        );
    }
    if workload == Workload::DaemonSet && !in_cluster && !control_plane_only {
        notes.push(
            "--inCluster=false: the host kubeconfig exists on control-plane nodes only; \
             on other nodes the Pod will not start (add --taint or drop --inCluster=false)"
                .into(),
        );
    }

    let probes = match flags.prometheus_http_server.clone().unwrap_or(Listen::At {
        text: format!(":{DEFAULT_METRICS_PORT}"),
        port: DEFAULT_METRICS_PORT,
        probe_host: None,
    }) {
        Listen::Off => {
            notes.push(
                "--prometheusHTTPServer=off: no /healthz or /readyz, so the Pod has no probes"
                    .into(),
            );
            None
        }
        Listen::At {
            port, probe_host, ..
        } => Some((port, probe_host)),
    };

    let kubeconfig_arg = host_kubeconfig.as_ref().map(|_| KUBECONFIG_IN_CONTAINER);
    Ok(Plan {
        workload,
        image: image::resolve(flags.image.as_deref()),
        args: crate::args::agent_args(
            flags,
            roles,
            kubeconfig_arg,
            registry_credentials.as_ref().map(|_| REGISTRY_CONFIG),
            !peers_hold_passwords,
        ),
        env,
        mounts: mounts.into_vec(),
        in_cluster,
        probes,
        control_plane_only,
        host_kubeconfig,
        secrets,
        registry_credentials,
        notes,
    })
}

/// Key files, the CCM's cloud-sa.json and `--config key=@file`, each mounted at the path the
/// agent is given, so the argument reads the same inside and outside the container.
fn file_mounts(
    workload: Workload,
    flags: &AgentFlags,
    mounts: &mut Mounts,
    notes: &mut Vec<String>,
) -> Result<(), ManifestError> {
    if let Some(path) = &flags.metal_key_file {
        mounts.host_file("metal-key", path, path)?;
    }
    if let Some(path) = &flags.peer_pass_file {
        mounts.host_file("peer-pass", path, path)?;
    }
    if let Some(path) = &flags.provider_config {
        match workload {
            Workload::Pod => mounts.host_file("cloud-sa", path, path)?,
            Workload::DaemonSet => mounts.ccm_secret("cloud-sa", path)?,
        }
    }
    for (index, pair) in flags.config.iter().enumerate() {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        if let Some(file) = value.strip_prefix('@') {
            let file = crate::values::parse_absolute_path(file).map_err(|reason| {
                ManifestError::value("--config", format!("{key}=@…: {reason}"))
            })?;
            mounts.host_file(&format!("config-file-{}", index + 1), &file, &file)?;
        } else if looks_secret(key) {
            notes.push(format!(
                "--config {key}=…: the value is written in clear into the container's args; \
                 for a secret use --config {key}=@FILE (a host file, mounted read-only)"
            ));
        }
    }
    Ok(())
}

/// Provider config keys that usually hold credentials.
fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "token",
        "password",
        "secret",
        "api-key",
        "apikey",
        "credential",
    ]
    .iter()
    .any(|word| key.contains(word))
}
