//! `herald manifest` flags: kube-vip's names (so a kube-vip command line carries over) plus
//! Herald's own. Boolean flags behave like the agent's: `--services` or `--services=true`.
//!
//! Unlike kube-vip's generator, no flag is read from the environment: the shell that runs the
//! generator must not change the manifest behind the operator's back.

use clap::ArgAction;
use clap::builder::BoolishValueParser;

use crate::values::{
    Listen, parse_absolute_path, parse_config_pair, parse_listen, parse_secret_name, parse_vip,
};

#[derive(Clone, Debug, clap::Subcommand)]
pub enum ManifestCommand {
    /// A static Pod for the kubelet's manifest directory (`/etc/kubernetes/manifests`).
    Pod(PodFlags),
    /// A DaemonSet `herald-ds` in kube-system (apply `herald manifest rbac` too).
    Daemonset(DaemonSetFlags),
    /// ServiceAccount `herald`, ClusterRole `system:herald-role` and its ClusterRoleBinding.
    Rbac(RbacFlags),
}

#[derive(Clone, Debug, clap::Args)]
pub struct PodFlags {
    #[command(flatten)]
    pub agent: AgentFlags,

    /// Host file with the registry credentials of an `oci://` provider (a Docker config.json
    /// with inline `auths`), mounted read-only at /etc/herald/registry/config.json and given to
    /// the agent as --registry-config. A static Pod cannot read Secrets.
    #[arg(long = "registry-config-file", value_name = "FILE", value_parser = parse_absolute_path)]
    pub registry_config_file: Option<String>,
}

#[derive(Clone, Debug, clap::Args)]
pub struct DaemonSetFlags {
    #[command(flatten)]
    pub agent: AgentFlags,

    /// Run on control-plane nodes only: tolerate their taints and require the
    /// node-role.kubernetes.io/control-plane (or master) label.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub taint: Option<bool>,

    /// Secret (type kubernetes.io/dockerconfigjson, in kube-system) with the registry credentials
    /// of an `oci://` provider: its key .dockerconfigjson is mounted read-only as
    /// /etc/herald/registry/config.json and given to the agent as --registry-config.
    #[arg(long = "registry-secret", value_name = "NAME", value_parser = parse_secret_name)]
    pub registry_secret: Option<String>,
}

#[derive(Clone, Debug, clap::Args)]
pub struct RbacFlags {
    /// Name of the control-plane Lease the agent may read and renew (as the agent's --leaseName).
    #[arg(
        long = "leaseName",
        value_name = "NAME",
        default_value = "plndr-cp-lock"
    )]
    pub lease_name: String,
}

/// The agent's flags, as the manifest takes them. Secrets among them (`--metalKey`,
/// `--peerPass`, a `--bgppeers` with passwords) never become container arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct AgentFlags {
    /// Interface the VIPs are put on (the agent's default is lo).
    #[arg(long, value_name = "IFACE")]
    pub interface: Option<String>,

    /// The control-plane VIP: address or address/prefix. Repeatable, or comma-separated.
    #[arg(long, visible_alias = "address", value_name = "IP[/LEN]", value_delimiter = ',',
          value_parser = parse_vip)]
    pub vip: Vec<String>,

    /// Announce the control-plane VIP (needs --vip/--address).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub controlplane: Option<bool>,

    /// Announce the addresses of LoadBalancer Services.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub services: Option<bool>,

    /// kube-vip's BGP mode; Herald always speaks BGP (`--bgp=false` is refused).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub bgp: Option<bool>,

    /// Only the Lease holder announces the control-plane VIP.
    #[arg(long = "leaderElection", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub leader_election: Option<bool>,

    /// Local AS number.
    #[arg(long = "localAS", value_name = "ASN")]
    pub local_as: Option<u32>,

    /// BGP router ID (IPv4).
    #[arg(long = "bgpRouterID", value_name = "IPV4")]
    pub bgp_router_id: Option<std::net::Ipv4Addr>,

    /// Address of a single BGP peer.
    #[arg(long = "peerAddress", value_name = "IP")]
    pub peer_address: Option<std::net::IpAddr>,

    /// AS number of the --peerAddress peer.
    #[arg(long = "peerAS", value_name = "ASN")]
    pub peer_as: Option<u32>,

    /// TCP port of the --peerAddress peer.
    #[arg(long = "peerPort", value_name = "PORT")]
    pub peer_port: Option<u16>,

    /// TCP MD5 password of the --peerAddress peer: written as an env var (a Secret reference in
    /// a DaemonSet, a placeholder in a static Pod), never as an argument.
    #[arg(
        long = "peerPass",
        value_name = "PASSWORD",
        conflicts_with = "peer_pass_file"
    )]
    pub peer_pass: Option<String>,

    /// Host file holding the MD5 password (mounted read-only into the container).
    #[arg(long = "peerPassFile", value_name = "FILE", value_parser = parse_absolute_path)]
    pub peer_pass_file: Option<String>,

    /// eBGP multihop for the --peerAddress peer.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub multihop: Option<bool>,

    /// TTL for multihop peers.
    #[arg(long = "multihopTTL", value_name = "TTL")]
    pub multihop_ttl: Option<u8>,

    /// Source address for the BGP sessions.
    #[arg(long = "sourceIP", value_name = "IP")]
    pub source_ip: Option<std::net::IpAddr>,

    /// Peers as `address:AS[:password[:multihop[:port]]]`, comma-separated. Repeatable. With a
    /// password in it, the whole list is treated as a secret. (Checked after parsing, not by
    /// clap, whose errors would echo the value, password and all.)
    #[arg(long = "bgppeers", value_name = "PEERS")]
    pub bgp_peers: Vec<String>,

    /// kube-vip's annotation mode: the equinix-annotations provider with this prefix.
    #[arg(long, value_name = "PREFIX")]
    pub annotations: Option<String>,

    /// kube-vip's Equinix Metal API mode: the equinix-api provider.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub metal: Option<bool>,

    /// Equinix Metal API token: never written into the manifest (see the output's comments).
    #[arg(
        long = "metalKey",
        value_name = "TOKEN",
        conflicts_with = "metal_key_file"
    )]
    pub metal_key: Option<String>,

    /// Host file holding the Metal API token (mounted read-only into the container).
    #[arg(long = "metalKeyFile", value_name = "FILE", value_parser = parse_absolute_path)]
    pub metal_key_file: Option<String>,

    /// Equinix Metal project ID.
    #[arg(long = "metalProjectID", value_name = "UUID")]
    pub metal_project_id: Option<String>,

    /// The CCM's `cloud-sa.json`: in a DaemonSet the CCM's Secret kube-system/metal-cloud-config
    /// is mounted at this file's directory; in a static Pod the host's file is mounted.
    #[arg(long = "provider-config", value_name = "FILE", value_parser = parse_absolute_path)]
    pub provider_config: Option<String>,

    /// Provider by name (bundled in the image), path, or a pinned
    /// `oci://registry/repository[:tag]@sha256:<hex>` (then a host cache directory,
    /// /var/cache/herald, is mounted so a restarted agent starts from it when the registry is down).
    #[arg(long, value_name = "NAME|PATH|OCI-REF")]
    pub provider: Option<String>,

    /// Registry the agent may reach over plain HTTP for an `oci://` provider (loopback always
    /// may): `host` or `host:port`. Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,

    /// Provider configuration `key=value`, or `key=@file` (the host file is mounted). Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE|KEY=@FILE", value_parser = parse_config_pair)]
    pub config: Vec<String>,

    /// Let the provider reach this host: `host` or `host:port`. Repeatable.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_host: Vec<String>,

    /// Use the ServiceAccount `herald` instead of the host's kubeconfig (default: on for a
    /// DaemonSet, off for a Pod).
    #[arg(long = "inCluster", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub in_cluster: Option<bool>,

    /// Host kubeconfig mounted at /etc/kubernetes/admin.conf (default that same path; kubeadm
    /// >= 1.29, first node: /etc/kubernetes/super-admin.conf).
    #[arg(long = "k8sConfigPath", value_name = "FILE", value_parser = parse_absolute_path)]
    pub k8s_config_path: Option<String>,

    /// Namespace of the control-plane Lease.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,

    /// Name of the control-plane Lease.
    #[arg(long = "leaseName", value_name = "NAME")]
    pub lease_name: Option<String>,

    /// Lease duration, seconds.
    #[arg(long = "leaseDuration", value_name = "S")]
    pub lease_duration: Option<u64>,

    /// Lease renew deadline, seconds.
    #[arg(long = "leaseRenewDuration", value_name = "S")]
    pub lease_renew: Option<u64>,

    /// Lease retry period, seconds.
    #[arg(long = "leaseRetry", value_name = "S")]
    pub lease_retry: Option<u64>,

    /// Watch Services of this namespace only.
    #[arg(long = "servicesNamespace", value_name = "NS")]
    pub services_namespace: Option<String>,

    /// Handle only Services whose loadBalancerClass is --lbClassName.
    #[arg(long = "lbClassOnly", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub lb_class_only: Option<bool>,

    /// The loadBalancerClass Herald answers to.
    #[arg(long = "lbClassName", value_name = "CLASS")]
    pub lb_class_name: Option<String>,

    /// Address of /metrics, /healthz, /readyz (default :2112; `off`: no listener, no probes).
    #[arg(long = "prometheusHTTPServer", value_name = "ADDR", value_parser = parse_listen)]
    pub prometheus_http_server: Option<Listen>,

    /// Container image; without a tag it gets this release's (`v<version>`).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
}
