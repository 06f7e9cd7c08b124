//! The static agent configuration: the model and its construction from kube-vip-style flags.
//!
//! The binary parses the command line into [`StaticFlags`] (typed, `None` = not given);
//! [`AgentConfig::from_flags`] applies defaults, reads the files, merges the peer sources and
//! validates. Every error names the flag and the bad value; passwords are never echoed.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::bgp_peers::{PeerEntry, check_password_length, parse_bgp_peers};
use crate::error::ConfigError;
use crate::secret::Secret;
use crate::vips::read_vips_file;

/// kube-vip's defaults, kept so migrated configs behave the same.
pub const DEFAULT_LOCAL_ASN: u32 = 65000;
pub const DEFAULT_PEER_ASN: u32 = 65000;
pub const DEFAULT_HOLD_TIME: u16 = 30;
pub const DEFAULT_KEEPALIVE: u16 = 10;
pub const DEFAULT_PORT: u16 = 179;
/// Enough for a peer one router away (Equinix's 169.254.255.x); kube-vip always uses 50.
pub const DEFAULT_MULTIHOP_TTL: u8 = 2;
pub const DEFAULT_INTERFACE: &str = "lo";
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_GRACEFUL_RESTART_TIME: u16 = 120;

/// Raw flag values as given on the command line or in the environment.
#[derive(Debug, Clone, Default)]
pub struct StaticFlags {
    pub local_asn: Option<u32>,
    pub router_id: Option<Ipv4Addr>,
    pub peer_address: Option<IpAddr>,
    pub peer_asn: Option<u32>,
    pub peer_password: Option<Secret>,
    pub peer_password_file: Option<PathBuf>,
    pub peer_port: Option<u16>,
    pub multihop: bool,
    pub multihop_ttl: Option<u8>,
    pub peer_gateways: Vec<IpAddr>,
    pub source_ip: Option<IpAddr>,
    /// Raw `--bgppeers` values; secret because they may hold passwords.
    pub bgp_peers: Vec<Secret>,
    pub vips: Vec<IpNet>,
    pub vips_file: Option<PathBuf>,
    pub interface: Option<String>,
    pub hold_time: Option<u16>,
    pub keepalive: Option<u16>,
    pub graceful_restart: bool,
    pub graceful_restart_time: Option<u16>,
    pub shutdown_timeout: Option<Duration>,
    pub announce_only: bool,
}

/// Settings of the one BGP speaker; fixed for the life of the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerSettings {
    pub router_id: Ipv4Addr,
    pub local_asn: u32,
    /// Graceful-restart time (seconds) advertised to peers; `None` = no graceful restart.
    pub graceful_restart_time: Option<u16>,
}

/// One BGP peer, with every global default already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    pub address: IpAddr,
    pub port: u16,
    pub asn: u32,
    /// The ASN presented to this peer; `None` = the speaker's (`--localAS`).
    pub local_asn: Option<u32>,
    pub password: Option<Secret>,
    /// `None` = directly connected (TTL 1 for eBGP).
    pub multihop_ttl: Option<u8>,
    pub source_address: Option<IpAddr>,
    /// Gateway for a /32 or /128 route to the peer that Herald installs, if the peer needs one.
    pub route_via: Option<IpAddr>,
    pub hold_time: u16,
    pub keepalive: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    pub speaker: SpeakerSettings,
    pub peers: Vec<PeerSpec>,
    /// Addresses for the interface, with their prefix length; their networks are announced.
    pub vips: Vec<IpNet>,
    pub interface: String,
    /// Put the VIPs on the interface (kube-vip's behaviour); `false` = announce only.
    pub vip_addresses: bool,
    pub shutdown_timeout: Duration,
}

/// What the flags say in either mode: the peers given on the command line (maybe none, when a
/// provider finds them), the VIPs, the timers and the speaker identity if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSettings {
    /// `--bgpRouterID`, else an IPv4 `--sourceIP`.
    pub router_id: Option<Ipv4Addr>,
    /// `--localAS`.
    pub local_asn: Option<u32>,
    pub graceful_restart_time: Option<u16>,
    pub static_peers: Vec<PeerSpec>,
    pub vips: Vec<IpNet>,
    pub interface: String,
    pub vip_addresses: bool,
    pub shutdown_timeout: Duration,
    /// Hold time and keepalive for peers that do not bring their own.
    pub hold_time: u16,
    pub keepalive: u16,
    /// TTL for multihop peers given on the command line.
    pub multihop_ttl: u8,
}

impl FlagSettings {
    pub fn from_flags(flags: &StaticFlags) -> Result<Self, ConfigError> {
        let (router_id, local_asn, graceful_restart_time) = speaker_flags(flags)?;
        let (hold_time, keepalive) = timers(flags)?;
        let multihop_ttl = match flags.multihop_ttl {
            Some(0) => {
                return Err(ConfigError::invalid(
                    "--multihopTTL",
                    "0",
                    "TTL must be 1 to 255",
                ));
            }
            Some(ttl) => ttl,
            None => DEFAULT_MULTIHOP_TTL,
        };
        let gateways = Gateways::new(&flags.peer_gateways)?;

        let mut peers = Vec::new();
        let mut seen = BTreeSet::new();
        for entry in peer_entries(flags)? {
            if !seen.insert(entry.address) {
                return Err(ConfigError::invalid(
                    "--bgppeers",
                    entry.address.to_string(),
                    "peer given twice (in --peerAddress and/or --bgppeers)",
                ));
            }
            let source_address = flags
                .source_ip
                .filter(|source| source.is_ipv4() == entry.address.is_ipv4());
            peers.push(PeerSpec {
                address: entry.address,
                port: entry.port.unwrap_or(DEFAULT_PORT),
                asn: entry.asn,
                local_asn: None,
                password: entry.password,
                multihop_ttl: entry.multihop.then_some(multihop_ttl),
                source_address,
                route_via: gateways.for_peer(entry.address),
                hold_time,
                keepalive,
            });
        }
        let mut vips: BTreeSet<IpNet> = flags.vips.iter().copied().collect();
        if let Some(path) = &flags.vips_file {
            vips.extend(read_vips_file("--vips-file", path)?);
        }

        check_one_prefix_per_address(&vips)?;

        let interface = flags
            .interface
            .clone()
            .unwrap_or_else(|| DEFAULT_INTERFACE.to_owned());
        check_interface_name(&interface)?;

        Ok(Self {
            router_id,
            local_asn,
            graceful_restart_time,
            static_peers: peers,
            vips: vips.into_iter().collect(),
            interface,
            vip_addresses: !flags.announce_only,
            shutdown_timeout: flags.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            hold_time,
            keepalive,
            multihop_ttl,
        })
    }

    /// The speaker identity: the flags if given, else taken from the peers (the first IPv4 source
    /// address as router ID, the first peer's own local ASN), else kube-vip's default ASN.
    pub fn speaker<'a>(
        &self,
        peers: impl IntoIterator<Item = &'a PeerSpec> + Clone,
    ) -> Result<SpeakerSettings, ConfigError> {
        let router_id = self.router_id.or_else(|| {
            peers
                .clone()
                .into_iter()
                .find_map(|peer| match peer.source_address {
                    Some(IpAddr::V4(source)) => Some(source),
                    _ => None,
                })
        });
        let Some(router_id) = router_id else {
            return Err(ConfigError::Missing {
                flag: "--bgpRouterID",
                hint: "give an IPv4 address, usually the node's own (e.g. --bgpRouterID 192.0.2.2), \
                       or use peers that carry an IPv4 source address",
            });
        };
        let local_asn = self
            .local_asn
            .or_else(|| peers.into_iter().find_map(|peer| peer.local_asn))
            .unwrap_or(DEFAULT_LOCAL_ASN);
        Ok(SpeakerSettings {
            router_id,
            local_asn,
            graceful_restart_time: self.graceful_restart_time,
        })
    }
}

impl AgentConfig {
    /// Static mode: the peers must be on the command line, and the speaker identity follows.
    pub fn from_flags(flags: StaticFlags) -> Result<Self, ConfigError> {
        let settings = FlagSettings::from_flags(&flags)?;
        if settings.static_peers.is_empty() {
            return Err(ConfigError::Missing {
                flag: "--peerAddress",
                hint: "give at least one BGP peer with --peerAddress/--peerAS or --bgppeers",
            });
        }
        let speaker = settings.speaker(&settings.static_peers)?;
        Ok(Self {
            speaker,
            peers: settings.static_peers,
            vips: settings.vips,
            interface: settings.interface,
            vip_addresses: settings.vip_addresses,
            shutdown_timeout: settings.shutdown_timeout,
        })
    }
}

/// `--bgpRouterID` (or an IPv4 `--sourceIP`), `--localAS`, graceful restart: each optional.
type SpeakerFlags = (Option<Ipv4Addr>, Option<u32>, Option<u16>);

fn speaker_flags(flags: &StaticFlags) -> Result<SpeakerFlags, ConfigError> {
    if flags.local_asn == Some(0) {
        return Err(ConfigError::invalid("--localAS", "0", "AS 0 is reserved"));
    }
    // kube-vip requires the router ID; an IPv4 source address is an obvious stand-in.
    let router_id = match (flags.router_id, flags.source_ip) {
        (Some(id), _) => Some(id),
        (None, Some(IpAddr::V4(source))) => Some(source),
        (None, _) => None,
    };
    if let Some(router_id) = router_id
        && router_id.is_unspecified()
    {
        return Err(ConfigError::invalid(
            "--bgpRouterID",
            router_id.to_string(),
            "0.0.0.0 is not a valid router ID",
        ));
    }
    let graceful_restart_time = match (flags.graceful_restart, flags.graceful_restart_time) {
        (false, _) => None,
        (true, Some(time)) if time > 4095 => {
            return Err(ConfigError::invalid(
                "--gracefulRestartTime",
                time.to_string(),
                "the restart time is a 12-bit field: at most 4095 seconds",
            ));
        }
        (true, time) => Some(time.unwrap_or(DEFAULT_GRACEFUL_RESTART_TIME)),
    };
    Ok((router_id, flags.local_asn, graceful_restart_time))
}

fn timers(flags: &StaticFlags) -> Result<(u16, u16), ConfigError> {
    let hold_time = flags.hold_time.unwrap_or(DEFAULT_HOLD_TIME);
    herald_peer_rules::check_hold_time(hold_time)
        .map_err(|reason| ConfigError::invalid("--holdTime", hold_time.to_string(), reason))?;
    let keepalive = match flags.keepalive {
        Some(keepalive) => keepalive,
        None if hold_time == 0 => 0,
        None => DEFAULT_KEEPALIVE.min(hold_time / 3).max(1),
    };
    if hold_time == 0 && keepalive != 0 {
        return Err(ConfigError::invalid(
            "--keepalive",
            keepalive.to_string(),
            "must be 0 when --holdTime is 0",
        ));
    }
    if hold_time != 0 && (keepalive == 0 || keepalive >= hold_time) {
        return Err(ConfigError::invalid(
            "--keepalive",
            keepalive.to_string(),
            format!("must be at least 1 and less than --holdTime ({hold_time})"),
        ));
    }
    Ok((hold_time, keepalive))
}

/// Peers from `--peerAddress` (first) and every `--bgppeers` value.
fn peer_entries(flags: &StaticFlags) -> Result<Vec<PeerEntry>, ConfigError> {
    let mut entries = Vec::new();
    if let Some(address) = flags.peer_address {
        let asn = flags.peer_asn.unwrap_or(DEFAULT_PEER_ASN);
        if asn == 0 {
            return Err(ConfigError::invalid("--peerAS", "0", "AS 0 is reserved"));
        }
        if flags.peer_port == Some(0) {
            return Err(ConfigError::invalid(
                "--peerPort",
                "0",
                "port must be 1 to 65535",
            ));
        }
        entries.push(PeerEntry {
            address,
            asn,
            password: single_peer_password(flags)?,
            multihop: flags.multihop,
            port: flags.peer_port,
        });
    }
    for value in &flags.bgp_peers {
        entries.extend(parse_bgp_peers(value.expose())?);
    }
    Ok(entries)
}

fn single_peer_password(flags: &StaticFlags) -> Result<Option<Secret>, ConfigError> {
    let password = match (&flags.peer_password, &flags.peer_password_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Unsupported {
                flag: "--peerPassFile",
                reason: "give either --peerPass or --peerPassFile, not both".to_owned(),
            });
        }
        (Some(password), None) => Some((password.clone(), "--peerPass")),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                flag: "--peerPassFile",
                path: path.clone(),
                source,
            })?;
            // A trailing newline from `echo` or a Secret volume is not part of the password.
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(ConfigError::invalid(
                    "--peerPassFile",
                    path.display().to_string(),
                    "the file is empty",
                ));
            }
            Some((Secret::new(password), "--peerPassFile"))
        }
        (None, None) => None,
    };
    match password {
        // kube-vip treats an empty password as none.
        Some((password, _)) if password.is_empty() => Ok(None),
        Some((password, flag)) => {
            check_password_length(flag, &password)?;
            Ok(Some(password))
        }
        None => Ok(None),
    }
}

/// `--peerGateway`: at most one gateway per address family, used for every peer of that family.
struct Gateways {
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
}

impl Gateways {
    fn new(gateways: &[IpAddr]) -> Result<Self, ConfigError> {
        let mut result = Self { v4: None, v6: None };
        for gateway in gateways {
            let slot = if gateway.is_ipv4() {
                &mut result.v4
            } else {
                &mut result.v6
            };
            if slot.is_some_and(|existing| existing != *gateway) {
                return Err(ConfigError::invalid(
                    "--peerGateway",
                    gateway.to_string(),
                    "at most one gateway per address family",
                ));
            }
            if gateway.is_unspecified() || gateway.is_multicast() {
                return Err(ConfigError::invalid(
                    "--peerGateway",
                    gateway.to_string(),
                    "not a usable gateway address",
                ));
            }
            *slot = Some(*gateway);
        }
        Ok(result)
    }

    fn for_peer(&self, peer: IpAddr) -> Option<IpAddr> {
        if peer.is_ipv4() { self.v4 } else { self.v6 }
    }
}

/// The interface gets each VIP's host address, so one address with two prefix lengths would be
/// one address owned by two VIPs.
fn check_one_prefix_per_address(vips: &BTreeSet<IpNet>) -> Result<(), ConfigError> {
    let mut seen = std::collections::BTreeMap::new();
    for vip in vips {
        if let Some(other) = seen.insert(vip.addr(), *vip) {
            return Err(ConfigError::invalid(
                "--vip",
                vip.to_string(),
                format!("the address is also given as {other}; give each address once"),
            ));
        }
    }
    Ok(())
}

fn check_interface_name(name: &str) -> Result<(), ConfigError> {
    // IFNAMSIZ is 16 including the terminating NUL.
    if name.is_empty() || name.len() > 15 || name.contains(['/', ' ', '\0']) {
        return Err(ConfigError::invalid(
            "--interface",
            name,
            "not a valid interface name (1 to 15 characters, no '/' or spaces)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn minimal() -> StaticFlags {
        StaticFlags {
            router_id: Some(Ipv4Addr::new(192, 0, 2, 2)),
            peer_address: Some("169.254.255.1".parse().unwrap()),
            peer_asn: Some(65530),
            ..StaticFlags::default()
        }
    }

    #[test]
    fn defaults_follow_kube_vip() {
        let config = AgentConfig::from_flags(minimal()).unwrap();
        assert_eq!(config.speaker.local_asn, 65000);
        assert_eq!(config.speaker.graceful_restart_time, None);
        assert_eq!(config.interface, "lo");
        assert!(config.vip_addresses);
        let peer = &config.peers[0];
        assert_eq!((peer.port, peer.hold_time, peer.keepalive), (179, 30, 10));
        assert_eq!(peer.multihop_ttl, None);
        assert_eq!(peer.route_via, None);
        assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
    }

    #[test]
    fn equinix_style_single_peer() {
        let mut flags = minimal();
        flags.multihop = true;
        flags.peer_gateways = vec!["192.0.2.1".parse().unwrap()];
        flags.source_ip = Some("192.0.2.2".parse().unwrap());
        flags.peer_port = Some(1179);
        flags.vips = vec!["203.0.113.10/32".parse().unwrap()];
        let config = AgentConfig::from_flags(flags).unwrap();
        let peer = &config.peers[0];
        assert_eq!(peer.multihop_ttl, Some(DEFAULT_MULTIHOP_TTL));
        assert_eq!(peer.route_via, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(peer.source_address, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(peer.port, 1179);
    }

    #[test]
    fn peer_address_and_bgppeers_merge_with_per_family_settings() {
        let mut flags = minimal();
        flags.bgp_peers = vec![Secret::new(
            "169.254.255.2:65530:pw:true,[2001:db8::1]:65531",
        )];
        flags.multihop_ttl = Some(5);
        flags.source_ip = Some("192.0.2.2".parse().unwrap());
        flags.peer_gateways = vec![
            "192.0.2.1".parse().unwrap(),
            "2001:db8:ff::1".parse().unwrap(),
        ];
        let config = AgentConfig::from_flags(flags).unwrap();
        assert_eq!(config.peers.len(), 3);
        assert_eq!(config.peers[1].multihop_ttl, Some(5));
        assert_eq!(
            config.peers[2].source_address, None,
            "an IPv4 source is not used for an IPv6 peer"
        );
        assert_eq!(
            config.peers[2].route_via,
            Some("2001:db8:ff::1".parse().unwrap())
        );
    }

    #[test]
    fn duplicate_peer_is_an_error() {
        let mut flags = minimal();
        flags.bgp_peers = vec![Secret::new("169.254.255.1:65530")];
        let error = AgentConfig::from_flags(flags).unwrap_err().to_string();
        assert!(
            error.contains("169.254.255.1") && error.contains("twice"),
            "{error}"
        );
    }

    #[test]
    fn missing_inputs_name_the_flag() {
        let mut flags = minimal();
        flags.router_id = None;
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--bgpRouterID"
        );
        let mut flags = minimal();
        flags.peer_address = None;
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--peerAddress"
        );
    }

    #[test]
    fn timers_are_validated() {
        let mut flags = minimal();
        flags.hold_time = Some(2);
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--holdTime"
        );
        let mut flags = minimal();
        flags.hold_time = Some(9);
        flags.keepalive = Some(9);
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--keepalive"
        );
        let mut flags = minimal();
        flags.hold_time = Some(9);
        let config = AgentConfig::from_flags(flags).unwrap();
        assert_eq!(
            config.peers[0].keepalive, 3,
            "default keepalive is hold/3 when hold is short"
        );
        let mut flags = minimal();
        flags.hold_time = Some(0);
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap().peers[0].keepalive,
            0
        );
    }

    #[test]
    fn graceful_restart_time() {
        let mut flags = minimal();
        flags.graceful_restart = true;
        assert_eq!(
            AgentConfig::from_flags(flags.clone())
                .unwrap()
                .speaker
                .graceful_restart_time,
            Some(120)
        );
        flags.graceful_restart_time = Some(5000);
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--gracefulRestartTime"
        );
    }

    #[test]
    fn password_file_is_read_and_trimmed_and_never_shown() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "herald-md5").unwrap();
        let mut flags = minimal();
        flags.peer_password_file = Some(file.path().to_owned());
        let config = AgentConfig::from_flags(flags).unwrap();
        assert_eq!(
            config.peers[0].password.as_ref().map(Secret::expose),
            Some("herald-md5")
        );
        assert!(!format!("{config:?}").contains("herald-md5"));
    }

    #[test]
    fn both_password_sources_conflict() {
        let mut flags = minimal();
        flags.peer_password = Some(Secret::new("a"));
        flags.peer_password_file = Some("/nonexistent".into());
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--peerPassFile"
        );
    }

    #[test]
    fn unreadable_files_name_flag_and_path() {
        let mut flags = minimal();
        flags.vips_file = Some("/nonexistent/vips".into());
        let error = AgentConfig::from_flags(flags).unwrap_err().to_string();
        assert!(
            error.contains("--vips-file") && error.contains("/nonexistent/vips"),
            "{error}"
        );
    }

    #[test]
    fn vips_from_flags_and_file_are_merged_and_deduplicated() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "192.0.2.10\n2001:db8::10").unwrap();
        let mut flags = minimal();
        flags.vips = vec!["192.0.2.10/32".parse().unwrap()];
        flags.vips_file = Some(file.path().to_owned());
        assert_eq!(AgentConfig::from_flags(flags).unwrap().vips.len(), 2);
    }

    #[test]
    fn one_address_with_two_prefix_lengths_is_refused() {
        let mut flags = minimal();
        flags.vips = vec![
            "198.51.100.7/32".parse().unwrap(),
            "198.51.100.7/24".parse().unwrap(),
        ];
        assert_eq!(AgentConfig::from_flags(flags).unwrap_err().flag(), "--vip");
    }

    #[test]
    fn gateways_one_per_family() {
        let mut flags = minimal();
        flags.peer_gateways = vec!["192.0.2.1".parse().unwrap(), "192.0.2.3".parse().unwrap()];
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--peerGateway"
        );
    }

    #[test]
    fn interface_name_is_checked() {
        let mut flags = minimal();
        flags.interface = Some("a-very-long-interface-name".to_owned());
        assert_eq!(
            AgentConfig::from_flags(flags).unwrap_err().flag(),
            "--interface"
        );
    }
}
