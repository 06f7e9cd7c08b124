//! The container's arguments: `herald agent` with explicit flags, so the manifest reads as the
//! command it runs. Every flag written here is one `herald agent` accepts (a test in the herald
//! binary parses them with the agent's own parser). Secrets are left out: see `secrets`.

use std::fmt::Display;

use crate::checks::Roles;
use crate::cli::AgentFlags;
use crate::values::Listen;

/// `kubeconfig`: the path inside the container, when a host kubeconfig is mounted.
/// `registry_config`: the Docker config file inside the container, when credentials are mounted.
/// `bgp_peers_in_args`: false when a `--bgppeers` value holds a password (it goes to env).
pub fn agent_args(
    flags: &AgentFlags,
    roles: Roles,
    kubeconfig: Option<&str>,
    registry_config: Option<&str>,
    bgp_peers_in_args: bool,
) -> Vec<String> {
    let mut args = Args(vec!["agent".to_owned()]);

    // What it announces.
    args.switch("--controlplane", roles.control_plane);
    args.switch("--services", roles.services);
    args.switch("--leaderElection", flags.leader_election == Some(true));
    for vip in &flags.vip {
        args.value("--vip", vip);
    }
    args.opt("--interface", flags.interface.as_ref());

    // BGP.
    args.opt("--localAS", flags.local_as);
    args.opt("--bgpRouterID", flags.bgp_router_id);
    args.opt("--sourceIP", flags.source_ip);
    args.opt("--peerAddress", flags.peer_address);
    args.opt("--peerAS", flags.peer_as);
    args.opt("--peerPort", flags.peer_port);
    args.switch("--multihop", flags.multihop == Some(true));
    args.opt("--multihopTTL", flags.multihop_ttl);
    args.opt("--peerPassFile", flags.peer_pass_file.as_ref());
    if bgp_peers_in_args {
        for peers in &flags.bgp_peers {
            args.value("--bgppeers", peers);
        }
    }

    // Where the peers come from.
    args.opt("--provider", flags.provider.as_ref());
    for registry in &flags.insecure_registry {
        args.value("--insecure-registry", registry);
    }
    args.opt("--registry-config", registry_config);
    args.opt("--annotations", flags.annotations.as_ref());
    args.switch("--metal", flags.metal == Some(true));
    args.opt("--metalProjectID", flags.metal_project_id.as_ref());
    args.opt("--metalKeyFile", flags.metal_key_file.as_ref());
    args.opt("--provider-config", flags.provider_config.as_ref());
    for pair in &flags.config {
        args.value("--config", pair);
    }
    for host in &flags.allow_host {
        args.value("--allow-host", host);
    }

    // Kubernetes.
    args.opt("--k8sConfigPath", kubeconfig);
    args.opt("--namespace", flags.namespace.as_ref());
    args.opt("--leaseName", flags.lease_name.as_ref());
    args.opt("--leaseDuration", flags.lease_duration);
    args.opt("--leaseRenewDuration", flags.lease_renew);
    args.opt("--leaseRetry", flags.lease_retry);
    args.opt("--servicesNamespace", flags.services_namespace.as_ref());
    args.switch("--lbClassOnly", flags.lb_class_only == Some(true));
    args.opt("--lbClassName", flags.lb_class_name.as_ref());

    // Observability: only when not the default, which the agent applies itself.
    match &flags.prometheus_http_server {
        Some(Listen::At { text, .. }) => args.value("--prometheusHTTPServer", text),
        Some(Listen::Off) => args.value("--prometheusHTTPServer", "off"),
        None => {}
    }
    args.0
}

/// `--flag=value`, one list item per flag: unambiguous even for a value starting with `-`.
struct Args(Vec<String>);

impl Args {
    fn value(&mut self, flag: &str, value: impl Display) {
        self.0.push(format!("{flag}={value}"));
    }

    fn opt(&mut self, flag: &str, value: Option<impl Display>) {
        if let Some(value) = value {
            self.value(flag, value);
        }
    }

    /// The agent's booleans default to false; only `true` is written, as the bare flag.
    fn switch(&mut self, flag: &str, on: bool) {
        if on {
            self.0.push(flag.to_owned());
        }
    }
}
