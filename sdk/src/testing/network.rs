//! Building a [`NodeNetwork`] for tests, in the shape the host hands providers: interfaces with
//! `ip addr`-style addresses and default routes ordered lowest metric first.

use std::net::IpAddr;

use crate::{DefaultGateway, InterfaceAddress, NetworkInterface, NodeContext, NodeNetwork};

/// Builds a node's network fact by fact:
///
/// ```
/// use herald_sdk::testing::NetworkBuilder;
///
/// let node = NetworkBuilder::new()
///     .interface("eth0", &["192.0.2.2/24", "2001:db8:1::2/64"])
///     .default_route("192.0.2.1", "eth0", 100)
///     .node("k8s-node-1");
/// assert_eq!(node.network.default_gateways[0].metric, 100);
/// ```
///
/// A test helper: text that does not parse panics, naming it.
#[derive(Debug, Clone, Default)]
pub struct NetworkBuilder {
    network: NodeNetwork,
}

impl NetworkBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// An up interface with these addresses (`"192.0.2.2/24"`; without `/len`, a host prefix).
    #[must_use]
    pub fn interface(self, name: &str, addresses: &[&str]) -> Self {
        self.push_interface(name, true, addresses)
    }

    /// An interface that is down (or without carrier), with these addresses.
    #[must_use]
    pub fn down_interface(self, name: &str, addresses: &[&str]) -> Self {
        self.push_interface(name, false, addresses)
    }

    /// A default route (or one ECMP next hop of it) via `gateway` out of `interface`. Routes are
    /// kept lowest metric first, as the host orders them; equal metrics keep the order given.
    #[must_use]
    pub fn default_route(self, gateway: &str, interface: &str, metric: u32) -> Self {
        self.push_route(gateway, Some(interface), metric)
    }

    /// A default route the kernel names no interface for.
    #[must_use]
    pub fn default_route_without_interface(self, gateway: &str, metric: u32) -> Self {
        self.push_route(gateway, None, metric)
    }

    pub fn build(self) -> NodeNetwork {
        self.network
    }

    /// A node called `name` with no annotations or labels, and this network.
    pub fn node(self, name: &str) -> NodeContext {
        NodeContext {
            node_name: name.to_owned(),
            network: self.network,
            ..NodeContext::default()
        }
    }

    fn push_interface(mut self, name: &str, up: bool, addresses: &[&str]) -> Self {
        let addresses = addresses.iter().map(|text| parse_cidr(text)).collect();
        self.network.interfaces.push(NetworkInterface {
            name: name.to_owned(),
            up,
            addresses,
        });
        self
    }

    fn push_route(mut self, gateway: &str, interface: Option<&str>, metric: u32) -> Self {
        let gateway = parse_ip(gateway);
        let gateways = &mut self.network.default_gateways;
        let at = gateways.partition_point(|g| g.metric <= metric);
        gateways.insert(at, DefaultGateway::new(gateway, interface, metric));
        self
    }
}

fn parse_cidr(text: &str) -> InterfaceAddress {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (
            parse_ip(address),
            prefix
                .parse()
                .unwrap_or_else(|_| panic!("NetworkBuilder: bad prefix length in {text:?}")),
        ),
        None => {
            let address = parse_ip(text);
            (address, if address.is_ipv4() { 32 } else { 128 })
        }
    };
    InterfaceAddress::new(address, prefix)
}

fn parse_ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|_| panic!("NetworkBuilder: {text:?} is not an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AddressFamily;

    #[test]
    fn routes_are_kept_lowest_metric_first() {
        let network = NetworkBuilder::new()
            .default_route("192.0.2.1", "eth0", 200)
            .default_route("198.51.100.1", "eth1", 100)
            .default_route("192.0.2.254", "eth0", 200)
            .default_route_without_interface("2001:db8:1::1", 0)
            .build();
        let order: Vec<String> = network
            .default_gateways
            .iter()
            .map(|g| g.gateway.to_string())
            .collect();
        assert_eq!(
            order,
            ["2001:db8:1::1", "198.51.100.1", "192.0.2.1", "192.0.2.254"]
        );
        assert_eq!(network.default_gateways[0].family, AddressFamily::Ipv6);
        assert_eq!(network.default_gateways[0].interface, None);
    }

    #[test]
    fn interfaces_with_addresses() {
        let node = NetworkBuilder::new()
            .interface("eth0", &["192.0.2.2/24", "2001:db8:1::2"])
            .down_interface("eth1", &["198.51.100.2/24"])
            .node("n1");
        assert_eq!(node.node_name, "n1");
        let eth0 = node.network.interface("eth0").unwrap();
        assert!(eth0.up);
        assert_eq!(
            eth0.addresses,
            vec![
                InterfaceAddress::new("192.0.2.2".parse().unwrap(), 24),
                InterfaceAddress::new("2001:db8:1::2".parse().unwrap(), 128),
            ]
        );
        assert!(!node.network.interface("eth1").unwrap().up);
    }
}
