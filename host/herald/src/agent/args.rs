//! `herald agent` flags. Names follow kube-vip (`--localAS`, `--bgpRouterID`, `--peerAddress`, …);
//! each is also read from `HERALD_<NAME>` (upper case), and some from kube-vip's own variables.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::ArgAction;
use clap::builder::BoolishValueParser;
use herald_agent::vips::parse_vip;
use herald_agent::{Secret, StaticFlags};
use ipnet::IpNet;

use super::kubevip_env::{EnvSource, fallback, fallback_bool};
use super::node_args::NodeArgs;

#[derive(Debug, clap::Args)]
#[command(about = "Run the node agent: BGP sessions, VIPs on the interface, routes to peers")]
pub struct AgentArgs {
    /// Watch Kubernetes (own Node, LoadBalancer Services, Lease). `--kubernetes=false`: flags only
    /// (static peers and VIPs, or a provider with `--node FILE`).
    #[arg(long, env = "HERALD_KUBERNETES", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    kubernetes: Option<bool>,

    /// BGP mode (kube-vip `--bgp`). Herald always speaks BGP; accepted for compatibility.
    #[arg(long, env = "HERALD_BGP", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    bgp: Option<bool>,

    /// Local AS number (default 65000).
    #[arg(long = "localAS", env = "HERALD_LOCALAS", value_name = "ASN")]
    local_as: Option<u32>,

    /// BGP router ID, an IPv4 address (defaults to --sourceIP when that is IPv4).
    #[arg(long = "bgpRouterID", env = "HERALD_BGPROUTERID", value_name = "IPV4")]
    bgp_router_id: Option<Ipv4Addr>,

    /// Address of a single BGP peer (more with --bgppeers).
    #[arg(long = "peerAddress", env = "HERALD_PEERADDRESS", value_name = "IP")]
    peer_address: Option<IpAddr>,

    /// AS number of the --peerAddress peer (default 65000).
    #[arg(long = "peerAS", env = "HERALD_PEERAS", value_name = "ASN")]
    peer_as: Option<u32>,

    /// TCP MD5 password of the --peerAddress peer. Prefer --peerPassFile: arguments are visible in `ps`.
    #[arg(
        long = "peerPass",
        env = "HERALD_PEERPASS",
        value_name = "PASSWORD",
        hide_env_values = true,
        conflicts_with = "peer_pass_file"
    )]
    peer_pass: Option<Secret>,

    /// File holding the TCP MD5 password of the --peerAddress peer (a trailing newline is ignored).
    #[arg(
        long = "peerPassFile",
        env = "HERALD_PEERPASSFILE",
        value_name = "FILE"
    )]
    peer_pass_file: Option<PathBuf>,

    /// TCP port of the --peerAddress peer (default 179).
    #[arg(long = "peerPort", env = "HERALD_PEERPORT", value_name = "PORT")]
    peer_port: Option<u16>,

    /// eBGP multihop for the --peerAddress peer (TTL from --multihopTTL).
    #[arg(long, env = "HERALD_MULTIHOP", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    multihop: Option<bool>,

    /// TTL for every multihop peer (default 2; kube-vip always used 50).
    #[arg(long = "multihopTTL", env = "HERALD_MULTIHOPTTL", value_name = "TTL")]
    multihop_ttl: Option<u8>,

    /// Install a host route to every peer of this address family via GW (Equinix: the private
    /// gateway, for 169.254.255.1/2). Once per family.
    #[arg(
        long = "peerGateway",
        env = "HERALD_PEERGATEWAY",
        value_name = "GW",
        value_delimiter = ','
    )]
    peer_gateway: Vec<IpAddr>,

    /// Source address for every peer of the same address family.
    #[arg(long = "sourceIP", env = "HERALD_SOURCEIP", value_name = "IP")]
    source_ip: Option<IpAddr>,

    /// Peers as `address:AS[:password[:multihop[:port]]]`, comma-separated; IPv6 in brackets
    /// (`[2001:db8::1]:65000`). Repeatable.
    #[arg(
        long = "bgppeers",
        env = "HERALD_BGPPEERS",
        value_name = "PEERS",
        hide_env_values = true
    )]
    bgp_peers: Vec<Secret>,

    /// A VIP: address (/32, /128) or address/prefix. Repeatable, or comma-separated.
    #[arg(long, visible_alias = "address", env = "HERALD_VIP", value_name = "IP[/LEN]",
          value_delimiter = ',', value_parser = parse_vip)]
    vip: Vec<IpNet>,

    /// File of VIPs: one address or prefix per line, `#` comments.
    #[arg(long = "vips-file", env = "HERALD_VIPS_FILE", value_name = "FILE")]
    vips_file: Option<PathBuf>,

    /// Interface the VIPs are put on (default lo).
    #[arg(long, env = "HERALD_INTERFACE", value_name = "IFACE")]
    interface: Option<String>,

    /// Announce the VIPs without putting them on the interface.
    #[arg(long = "announceOnly", env = "HERALD_ANNOUNCEONLY", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = ArgAction::Set,
          value_parser = BoolishValueParser::new())]
    announce_only: Option<bool>,

    /// BGP hold time offered to every peer, seconds (default 30; 0 = no keepalives).
    #[arg(
        long = "holdTime",
        visible_alias = "bgpHoldTimer",
        env = "HERALD_HOLDTIME",
        value_name = "S"
    )]
    hold_time: Option<u16>,

    /// Keepalive interval for every peer, seconds (default 10, at most a third of a short hold time).
    #[arg(
        long,
        visible_alias = "bgpKeepAliveInterval",
        env = "HERALD_KEEPALIVE",
        value_name = "S"
    )]
    keepalive: Option<u16>,

    /// Advertise graceful restart (RFC 4724): after a crash the peers keep our routes for
    /// --gracefulRestartTime seconds. A clean shutdown still withdraws everything.
    #[arg(long = "gracefulRestart", env = "HERALD_GRACEFULRESTART", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", action = ArgAction::Set,
          value_parser = BoolishValueParser::new())]
    graceful_restart: Option<bool>,

    /// Graceful-restart time advertised to peers, seconds (default 120, at most 4095).
    #[arg(
        long = "gracefulRestartTime",
        env = "HERALD_GRACEFULRESTARTTIME",
        value_name = "S"
    )]
    graceful_restart_time: Option<u16>,

    /// Seconds to wait on shutdown for withdrawals to reach the peers (default 5).
    #[arg(
        long = "shutdownTimeout",
        env = "HERALD_SHUTDOWNTIMEOUT",
        value_name = "S"
    )]
    shutdown_timeout: Option<u64>,

    #[command(flatten)]
    pub node: NodeArgs,
}

/// The mode switches, resolved with kube-vip fallbacks.
pub struct Mode {
    pub kubernetes: bool,
    pub bgp: bool,
}

impl AgentArgs {
    pub fn mode(&self, env: &dyn EnvSource) -> anyhow::Result<Mode> {
        Ok(Mode {
            kubernetes: self.kubernetes.unwrap_or(true),
            bgp: fallback_bool(env, self.bgp, "bgp_enable")?.unwrap_or(true),
        })
    }

    pub fn static_flags(&self, env: &dyn EnvSource) -> anyhow::Result<StaticFlags> {
        let bgp_peers = if self.bgp_peers.is_empty() {
            env.get("bgp_peers").map(Secret::new).into_iter().collect()
        } else {
            self.bgp_peers.clone()
        };
        let vips = if self.vip.is_empty() && self.vips_file.is_none() {
            match env.get("vip_address") {
                Some(text) => text
                    .split(',')
                    .map(|vip| {
                        parse_vip(vip).map_err(|e| {
                            anyhow::anyhow!(
                                "environment variable vip_address (kube-vip name for --vip): {e}"
                            )
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
                None => Vec::new(),
            }
        } else {
            self.vip.clone()
        };
        Ok(StaticFlags {
            local_asn: fallback(env, self.local_as, "bgp_as")?,
            router_id: fallback(env, self.bgp_router_id, "bgp_routerid")?,
            peer_address: fallback(env, self.peer_address, "bgp_peeraddress")?,
            peer_asn: fallback(env, self.peer_as, "bgp_peeras")?,
            peer_password: if self.peer_pass_file.is_some() {
                self.peer_pass.clone()
            } else {
                fallback(env, self.peer_pass.clone(), "bgp_peerpass")?
            },
            peer_password_file: self.peer_pass_file.clone(),
            peer_port: self.peer_port,
            multihop: fallback_bool(env, self.multihop, "bgp_multihop")?.unwrap_or(false),
            multihop_ttl: self.multihop_ttl,
            peer_gateways: self.peer_gateway.clone(),
            source_ip: fallback(env, self.source_ip, "bgp_sourceip")?,
            bgp_peers,
            vips,
            vips_file: self.vips_file.clone(),
            interface: fallback(env, self.interface.clone(), "vip_interface")?,
            hold_time: fallback(env, self.hold_time, "bgp_hold_time")?,
            keepalive: fallback(env, self.keepalive, "bgp_keepalive_interval")?,
            graceful_restart: self.graceful_restart.unwrap_or(false),
            graceful_restart_time: self.graceful_restart_time,
            shutdown_timeout: self.shutdown_timeout.map(Duration::from_secs),
            announce_only: self.announce_only.unwrap_or(false),
        })
    }
}
