//! Ready-made topologies: the Equinix-like upstream and a plain shared subnet.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::lab::{Lab, Link};
use crate::netns::Netns;
use crate::session::PeerConfig;

/// Node address on the shared link (IPv4).
pub const NODE_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// Router (gateway) address on the shared link (IPv4).
pub const ROUTER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// Node address on the shared link (IPv6).
pub const NODE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 2);
/// Router address on the shared link (IPv6).
pub const ROUTER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1);
/// First Equinix-style BGP peer address, on the router's `lo`.
pub const PEER1_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 255, 1);
/// Second Equinix-style BGP peer address, on the router's `lo`.
pub const PEER2_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 255, 2);
/// IPv6 BGP peer address on the router's `lo` (Equinix uses a provider address; this is documentation space).
pub const PEER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
/// The Equinix side's AS.
pub const EQUINIX_AS: u32 = 65530;

/// Options of [`Lab::equinix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquinixOptions {
    /// Add `169.254.255.{1,2}/32 via 192.0.2.1` and `2001:db8:ffff::1/128 via 2001:db8:ff::1` in the
    /// node namespace, as Equinix's docs ask operators to. Set false to test Herald installing them.
    pub peer_routes: bool,
}

impl Default for EquinixOptions {
    fn default() -> Self {
        Self { peer_routes: true }
    }
}

/// Node ↔ router, Equinix-like: the router's BGP addresses live on its `lo`, two hops away for the node.
#[derive(Debug, Clone)]
pub struct EquinixLab {
    /// Where Herald runs: 192.0.2.2/24, 2001:db8:ff::2/64.
    pub node: Netns,
    /// The upstream: 192.0.2.1/24, 2001:db8:ff::1/64; on `lo` 169.254.255.1, 169.254.255.2, 2001:db8:ffff::1.
    pub router: Netns,
    pub link: Link,
}

impl EquinixLab {
    /// The router's side of a session to the node at peer address `peer` (one of [`PEER1_V4`],
    /// [`PEER2_V4`], [`PEER_V6`]): AS 65530, multihop 2, neighbor the node's link address of the same
    /// family, IPv4 + IPv6. Named `herald` for PEER1/PEER_V6 and `herald2` for PEER2.
    pub fn router_session(&self, peer: IpAddr, node_as: u32) -> PeerConfig {
        let node: IpAddr = match peer {
            IpAddr::V4(_) => NODE_V4.into(),
            IpAddr::V6(_) => NODE_V6.into(),
        };
        let name = if peer == IpAddr::V4(PEER2_V4) {
            "herald2"
        } else {
            "herald"
        };
        PeerConfig::new(peer, EQUINIX_AS, node, node_as)
            .router_id(PEER1_V4)
            .name(name)
            .multihop(2)
    }

    /// The node's side of a session to `peer` (what Herald would be told), for a daemon standing in
    /// for Herald in the node namespace. IPv6 routes get the node's link address as next hop.
    pub fn node_session(&self, peer: IpAddr, node_as: u32) -> PeerConfig {
        let local: IpAddr = match peer {
            IpAddr::V4(_) => NODE_V4.into(),
            IpAddr::V6(_) => NODE_V6.into(),
        };
        PeerConfig::new(local, node_as, peer, EQUINIX_AS)
            .router_id(NODE_V4)
            .name("upstream")
            .multihop(2)
            .next_hop_v4(NODE_V4)
            .next_hop_v6(NODE_V6)
    }
}

/// Node ↔ peer on one shared subnet (eBGP between directly connected neighbors).
#[derive(Debug, Clone)]
pub struct DirectLab {
    /// 192.0.2.2/24, 2001:db8:ff::2/64.
    pub node: Netns,
    /// 192.0.2.1/24, 2001:db8:ff::1/64.
    pub peer: Netns,
    pub link: Link,
}

/// Node → router → peer: the peer's BGP address 169.254.255.1 lives on the peer namespace's `lo`
/// behind a forwarding router, so a packet from the node arrives only with an IP TTL of 2 or more.
/// Proves eBGP multihop TTL on the wire (in [`EquinixLab`] the address is on the router itself, so
/// any TTL arrives).
#[derive(Debug, Clone)]
pub struct RoutedLab {
    /// 192.0.2.2/24; `169.254.255.1/32 via 192.0.2.1`.
    pub node: Netns,
    /// 192.0.2.1/24 towards the node, 203.0.113.1/24 towards the peer; forwards.
    pub router: Netns,
    /// 203.0.113.2/24; on `lo` 169.254.255.1; `192.0.2.0/24 via 203.0.113.1`.
    pub peer: Netns,
}

impl Lab {
    /// Builds [`RoutedLab`], panicking on failure.
    pub fn routed(&self) -> RoutedLab {
        let node = self.namespace("node");
        let router = self.namespace("router");
        let peer = self.namespace("peer");
        self.link(&node, &["192.0.2.2/24"], &router, &["192.0.2.1/24"]);
        self.link(&router, &["203.0.113.1/24"], &peer, &["203.0.113.2/24"]);
        router
            .enable_forwarding()
            .unwrap_or_else(|e| panic!("router forwarding: {e}"));
        peer.add_address_lo("169.254.255.1/32")
            .unwrap_or_else(|e| panic!("peer lo: {e}"));
        for (ns, spec) in [
            (&node, "169.254.255.1/32 via 192.0.2.1"),
            (&router, "169.254.255.1/32 via 203.0.113.2"),
            (&peer, "192.0.2.0/24 via 203.0.113.1"),
        ] {
            ns.route(spec)
                .unwrap_or_else(|e| panic!("{} route {spec}: {e}", ns.role()));
        }
        RoutedLab { node, router, peer }
    }

    /// Builds the Equinix-like topology (like the shared `netns-up.sh`), panicking on failure.
    pub fn equinix(&self, options: EquinixOptions) -> EquinixLab {
        let node = self.namespace("node");
        let router = self.namespace("router");
        let link = self.link(
            &node,
            &["192.0.2.2/24", "2001:db8:ff::2/64"],
            &router,
            &["192.0.2.1/24", "2001:db8:ff::1/64"],
        );
        for addr in [
            "169.254.255.1/32",
            "169.254.255.2/32",
            "2001:db8:ffff::1/128",
        ] {
            router
                .add_address_lo(addr)
                .unwrap_or_else(|e| panic!("router lo {addr}: {e}"));
        }
        if options.peer_routes {
            for spec in [
                "169.254.255.1/32 via 192.0.2.1",
                "169.254.255.2/32 via 192.0.2.1",
                "2001:db8:ffff::1/128 via 2001:db8:ff::1",
            ] {
                node.route(spec)
                    .unwrap_or_else(|e| panic!("node route {spec}: {e}"));
            }
        }
        EquinixLab { node, router, link }
    }

    /// Builds node ↔ peer on 192.0.2.0/24 and 2001:db8:ff::/64, panicking on failure.
    pub fn direct(&self) -> DirectLab {
        let node = self.namespace("node");
        let peer = self.namespace("peer");
        let link = self.link(
            &node,
            &["192.0.2.2/24", "2001:db8:ff::2/64"],
            &peer,
            &["192.0.2.1/24", "2001:db8:ff::1/64"],
        );
        DirectLab { node, peer, link }
    }
}
