//! A daemon-neutral description of one BGP session, rendered into BIRD, GoBGP or FRR config.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// One BGP session as seen from the daemon being configured, plus the routes it originates.
///
/// ```
/// # use herald_testbed::PeerConfig;
/// // An Equinix-like upstream: AS 65530 on 169.254.255.1, waiting for the node 192.0.2.2 (AS 4200000001).
/// let upstream = PeerConfig::new("169.254.255.1".parse().unwrap(), 65530, "192.0.2.2".parse().unwrap(), 4_200_000_001)
///     .multihop(2)
///     .password("herald-md5");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// Session name (BIRD protocol name); `herald` unless changed.
    pub name: String,
    pub local_address: IpAddr,
    pub local_as: u32,
    /// Router id; defaults to the local address when that is IPv4, else 192.0.2.254.
    pub router_id: Ipv4Addr,
    pub neighbor_address: IpAddr,
    pub neighbor_as: u32,
    /// TCP MD5 password (never printed by `Debug`).
    pub password: Option<String>,
    /// eBGP multihop TTL; `None` for a directly connected peer.
    pub multihop: Option<u8>,
    pub ipv4: bool,
    pub ipv6: bool,
    /// Advertise graceful restart (BIRD `graceful restart on`, GoBGP/FRR enabled). Off means helper
    /// only where the daemon has that mode (BIRD `aware`).
    pub graceful_restart: bool,
    pub hold_time: u16,
    /// Only accept connections, never connect.
    pub passive: bool,
    /// Prefixes this daemon originates (static routes / `network` statements / `rib add`).
    pub announce: Vec<IpNet>,
    /// Next hop for originated IPv4 routes (default: the daemon's choice, usually the local address).
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Next hop for originated IPv6 routes; needed when the session runs over IPv4.
    pub next_hop_v6: Option<Ipv6Addr>,
}

impl PeerConfig {
    /// A session from `local_address` (AS `local_as`) to `neighbor_address` (AS `neighbor_as`),
    /// IPv4 + IPv6 unicast, hold time 90, graceful restart helper, no password, directly connected.
    pub fn new(
        local_address: IpAddr,
        local_as: u32,
        neighbor_address: IpAddr,
        neighbor_as: u32,
    ) -> Self {
        let router_id = match local_address {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::new(192, 0, 2, 254),
        };
        Self {
            name: "herald".into(),
            local_address,
            local_as,
            router_id,
            neighbor_address,
            neighbor_as,
            password: None,
            multihop: None,
            ipv4: true,
            ipv6: true,
            graceful_restart: false,
            hold_time: 90,
            passive: false,
            announce: Vec::new(),
            next_hop_v4: None,
            next_hop_v6: None,
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
    pub fn router_id(mut self, id: Ipv4Addr) -> Self {
        self.router_id = id;
        self
    }
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.into());
        self
    }
    pub fn multihop(mut self, ttl: u8) -> Self {
        self.multihop = Some(ttl);
        self
    }
    pub fn families(mut self, ipv4: bool, ipv6: bool) -> Self {
        self.ipv4 = ipv4;
        self.ipv6 = ipv6;
        self
    }
    pub fn graceful_restart(mut self, on: bool) -> Self {
        self.graceful_restart = on;
        self
    }
    pub fn hold_time(mut self, seconds: u16) -> Self {
        self.hold_time = seconds;
        self
    }
    pub fn passive(mut self, on: bool) -> Self {
        self.passive = on;
        self
    }
    /// Adds prefixes to originate, e.g. `&["198.51.100.7/32", "2001:db8:1::1/128"]`. Panics on bad text.
    pub fn announce(mut self, prefixes: &[&str]) -> Self {
        self.announce.extend(prefixes.iter().map(|p| {
            p.parse::<IpNet>()
                .unwrap_or_else(|e| panic!("prefix {p}: {e}"))
        }));
        self
    }
    pub fn next_hop_v4(mut self, nh: Ipv4Addr) -> Self {
        self.next_hop_v4 = Some(nh);
        self
    }
    pub fn next_hop_v6(mut self, nh: Ipv6Addr) -> Self {
        self.next_hop_v6 = Some(nh);
        self
    }

    pub(crate) fn announced(&self, v6: bool) -> impl Iterator<Item = &IpNet> {
        self.announce
            .iter()
            .filter(move |p| matches!(p, IpNet::V6(_)) == v6)
    }
}

impl fmt::Debug for PeerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerConfig")
            .field("name", &self.name)
            .field("local_address", &self.local_address)
            .field("local_as", &self.local_as)
            .field("neighbor_address", &self.neighbor_address)
            .field("neighbor_as", &self.neighbor_as)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("multihop", &self.multihop)
            .field("ipv4", &self.ipv4)
            .field("ipv6", &self.ipv6)
            .field("graceful_restart", &self.graceful_restart)
            .field("passive", &self.passive)
            .field("announce", &self.announce)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let p = PeerConfig::new(
            "192.0.2.1".parse().unwrap(),
            1,
            "192.0.2.2".parse().unwrap(),
            2,
        )
        .password("s3cret");
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
