//! Choosing, per family, the default gateways the node actually uses and the address to source a
//! session to each from.

use std::net::IpAddr;

use herald_sdk::{AddressFamily, DefaultGateway, InterfaceAddress, NodeNetwork};

/// A gateway to peer with, and the node's address facing it (if it has a usable one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub gateway: IpAddr,
    pub source: Option<IpAddr>,
}

/// What one family of the node's network gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyChoice {
    /// Every distinct gateway of the lowest-metric default route(s), in the host's order.
    pub chosen: Vec<Chosen>,
    /// Gateways of those routes left out for being IPv6 link-local: Herald's speaker cannot
    /// peer with them (a peer address carries no interface scope).
    pub link_local: Vec<DefaultGateway>,
}

impl FamilyChoice {
    /// No default route of this family at all.
    pub fn no_route(&self) -> bool {
        self.chosen.is_empty() && self.link_local.is_empty()
    }
}

/// The gateways of `family`'s preferred default route(s). Every next hop of an ECMP route is
/// used (the kernel spreads traffic over all of them); higher-metric routes are backups the
/// kernel does not use while the preferred one exists, so they are not peers either.
pub fn gateways_of(network: &NodeNetwork, family: AddressFamily) -> FamilyChoice {
    let mut choice = FamilyChoice::default();
    // The host orders routes lowest metric first; taking the minimum keeps the choice
    // independent of that order.
    let Some(best) = network.default_gateways(family).map(|g| g.metric).min() else {
        return choice;
    };
    for route in network
        .default_gateways(family)
        .filter(|g| g.metric == best)
    {
        if is_ipv6_link_local(route.gateway) {
            choice.link_local.push(route.clone());
        } else if !choice.chosen.iter().any(|c| c.gateway == route.gateway) {
            // (The same gateway over a second interface needs no second session.)
            choice.chosen.push(Chosen {
                gateway: route.gateway,
                source: source_for(network, route),
            });
        }
    }
    choice
}

fn is_ipv6_link_local(address: IpAddr) -> bool {
    matches!(address, IpAddr::V6(v6) if v6.is_unicast_link_local())
}

/// The node's address to source the session from: on the route's interface (or, when the
/// kernel names none, on any interface), up, in the gateway's family, not link-local;
/// preferring one whose prefix holds the gateway (the address the kernel would pick for it).
fn source_for(network: &NodeNetwork, route: &DefaultGateway) -> Option<IpAddr> {
    let family = AddressFamily::of(route.gateway);
    let candidates: Vec<&InterfaceAddress> = network
        .interfaces
        .iter()
        .filter(|i| i.up)
        .filter(|i| route.interface.as_deref().is_none_or(|name| i.name == name))
        .flat_map(|i| i.addresses_of(family))
        .filter(|a| !a.is_link_local())
        .collect();
    let on_link = candidates.iter().find(|a| a.contains(route.gateway));
    match (on_link, &route.interface) {
        (Some(address), _) => Some(address.address),
        // Without a named interface, only an on-link address is known to face this gateway.
        (None, None) => None,
        (None, Some(_)) => candidates.first().map(|a| a.address),
    }
}
