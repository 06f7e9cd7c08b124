//! The node's network as the host read it before the call (`node-context.network`, WIT 0.2.0):
//! interfaces with their addresses, and the main-table default routes of both families.

use std::net::IpAddr;

/// An IP family, as routes and gateways carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressFamily {
    Ipv4,
    Ipv6,
}

impl AddressFamily {
    /// The family of `address`.
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Self::Ipv4,
            IpAddr::V6(_) => Self::Ipv6,
        }
    }

    /// `ipv4` or `ipv6`, as in the WIT enum and in operator-facing messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
        }
    }
}

impl std::fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An address on an interface, as `ip addr` shows it (`192.0.2.2` with prefix length 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub address: IpAddr,
    pub prefix_length: u8,
}

impl InterfaceAddress {
    pub fn new(address: IpAddr, prefix_length: u8) -> Self {
        Self {
            address,
            prefix_length,
        }
    }

    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(self.address)
    }

    /// Whether `other` lies in this address's prefix (same family only).
    pub fn contains(&self, other: IpAddr) -> bool {
        match (self.address, other) {
            (IpAddr::V4(own), IpAddr::V4(other)) => {
                same_prefix(&own.octets(), &other.octets(), self.prefix_length)
            }
            (IpAddr::V6(own), IpAddr::V6(other)) => {
                same_prefix(&own.octets(), &other.octets(), self.prefix_length)
            }
            _ => false,
        }
    }

    /// IPv4 169.254.0.0/16 or IPv6 fe80::/10.
    pub fn is_link_local(&self) -> bool {
        is_link_local(self.address)
    }
}

/// IPv4 169.254.0.0/16 or IPv6 fe80::/10: addresses that mean nothing without an interface.
pub fn is_link_local(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_unicast_link_local(),
    }
}

/// Whether the first `prefix_length` bits of `a` and `b` agree (a longer prefix counts as all bits).
fn same_prefix(a: &[u8], b: &[u8], prefix_length: u8) -> bool {
    let mut bits = usize::from(prefix_length).min(a.len() * 8);
    for (x, y) in a.iter().zip(b) {
        if bits == 0 {
            return true;
        }
        let take = bits.min(8);
        // `take` is 1..=8, so the shift stays within u8.
        let mask = u8::MAX << (8 - take);
        if x & mask != y & mask {
            return false;
        }
        bits -= take;
    }
    true
}

/// A network interface of the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInterface {
    pub name: String,
    /// Administratively up and with carrier.
    pub up: bool,
    pub addresses: Vec<InterfaceAddress>,
}

impl NetworkInterface {
    /// An up interface with these addresses.
    pub fn new(name: impl Into<String>, addresses: Vec<InterfaceAddress>) -> Self {
        Self {
            name: name.into(),
            up: true,
            addresses,
        }
    }

    /// The interface's addresses of `family`, in the host's order.
    pub fn addresses_of(&self, family: AddressFamily) -> impl Iterator<Item = &InterfaceAddress> {
        self.addresses.iter().filter(move |a| a.family() == family)
    }
}

/// One next hop of a default route (an ECMP default route gives one entry per next hop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultGateway {
    pub family: AddressFamily,
    /// May be link-local for IPv6 (`fe80::1`).
    pub gateway: IpAddr,
    /// The interface the route leaves through, if the kernel names one.
    pub interface: Option<String>,
    /// The route's metric; lower wins (0 when unset).
    pub metric: u32,
}

impl DefaultGateway {
    /// A default route via `gateway` (its family taken from the address).
    pub fn new(gateway: IpAddr, interface: Option<&str>, metric: u32) -> Self {
        Self {
            family: AddressFamily::of(gateway),
            gateway,
            interface: interface.map(str::to_owned),
            metric,
        }
    }
}

/// The node's network, in the network namespace the host runs in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeNetwork {
    pub interfaces: Vec<NetworkInterface>,
    /// Default routes of both families, lowest metric first.
    pub default_gateways: Vec<DefaultGateway>,
}

impl NodeNetwork {
    /// The default routes of `family`, lowest metric first (as the host orders them).
    pub fn default_gateways(&self, family: AddressFamily) -> impl Iterator<Item = &DefaultGateway> {
        self.default_gateways
            .iter()
            .filter(move |g| g.family == family)
    }

    /// The interface called `name`.
    pub fn interface(&self, name: &str) -> Option<&NetworkInterface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str, prefix_length: u8) -> InterfaceAddress {
        InterfaceAddress::new(text.parse().unwrap(), prefix_length)
    }

    #[test]
    fn prefix_containment() {
        let v4 = addr("192.0.2.2", 24);
        assert!(v4.contains("192.0.2.1".parse().unwrap()));
        assert!(!v4.contains("192.0.3.1".parse().unwrap()));
        assert!(!v4.contains("2001:db8::1".parse().unwrap()));
        let odd = addr("192.0.2.130", 25);
        assert!(odd.contains("192.0.2.129".parse().unwrap()));
        assert!(!odd.contains("192.0.2.1".parse().unwrap()));
        let v6 = addr("2001:db8:1::2", 64);
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db8:2::1".parse().unwrap()));
        assert!(addr("0.0.0.0", 0).contains("198.51.100.1".parse().unwrap()));
        assert!(addr("192.0.2.2", 32).contains("192.0.2.2".parse().unwrap()));
        assert!(!addr("192.0.2.2", 200).contains("192.0.2.3".parse().unwrap()));
    }

    #[test]
    fn link_local() {
        assert!(addr("fe80::1", 64).is_link_local());
        assert!(addr("169.254.1.1", 16).is_link_local());
        assert!(!addr("2001:db8::1", 64).is_link_local());
    }

    #[test]
    fn lookups_by_family_and_name() {
        let network = NodeNetwork {
            interfaces: vec![NetworkInterface::new("eth0", vec![addr("192.0.2.2", 24)])],
            default_gateways: vec![
                DefaultGateway::new("192.0.2.1".parse().unwrap(), Some("eth0"), 0),
                DefaultGateway::new("2001:db8:1::1".parse().unwrap(), Some("eth0"), 0),
            ],
        };
        let v6: Vec<_> = network.default_gateways(AddressFamily::Ipv6).collect();
        assert_eq!(v6.len(), 1);
        assert_eq!(v6[0].family, AddressFamily::Ipv6);
        assert!(network.interface("eth0").is_some_and(|i| i.up));
        assert!(network.interface("eth1").is_none());
    }
}
