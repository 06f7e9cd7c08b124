//! The node agent's settings: the flags' part plus what Kubernetes mode adds.

use std::net::SocketAddr;
use std::path::PathBuf;

use herald_kube::LeaseConfig;
use herald_runtime::NodeContext;

use crate::config::FlagSettings;
use crate::services::ClassPolicy;

/// How to reach the apiserver.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KubeSettings {
    /// `--k8sConfigPath`; `None` = `$KUBECONFIG`, else in-cluster.
    pub config_path: Option<PathBuf>,
    /// Watch Services in this namespace only; `None` = all.
    pub services_namespace: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NodeAgentConfig {
    pub flags: FlagSettings,
    /// The node context before (or without) the apiserver: `--nodeName`, or a `--node` file.
    pub local_node: NodeContext,
    /// Announce `flags.vips` as the control-plane VIP.
    pub control_plane: bool,
    /// Announce LoadBalancer Services.
    pub services: bool,
    pub class_policy: ClassPolicy,
    /// `--leaderElection`: only the Lease holder announces the control-plane VIP.
    pub election: Option<LeaseConfig>,
    /// `None` = never contact an apiserver (`--kubernetes=false` with a provider).
    pub kubernetes: Option<KubeSettings>,
    /// `--prometheusHTTPServer`: /metrics, /healthz, /readyz, /status.
    pub observe_addr: Option<SocketAddr>,
}

impl NodeAgentConfig {
    pub fn node_name(&self) -> &str {
        &self.local_node.node_name
    }
}
