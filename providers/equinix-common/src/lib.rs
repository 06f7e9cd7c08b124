//! Equinix Metal knowledge shared by the `equinix-metadata` and `equinix-api` providers (and the
//! multihop rules used by `equinix-annotations`): the `BgpNeighborData` shape both sources return,
//! the private IPv4 gateway, and the conversion to [`herald_sdk::BgpPeer`]s.

mod addresses;
mod multihop;
mod neighbors;

pub use addresses::{IpAddressInfo, private_ipv4_gateway};
pub use multihop::{DEFAULT_MULTIHOP_TTL, MULTIHOP_TTL_KEY, multihop_ttl, needs_private_route};
pub use neighbors::{BgpNeighbor, PeerOptions, peers_from_neighbors};

use std::net::IpAddr;

use herald_sdk::ProviderError;

/// Parses an address from a source document, normalising it (expanded IPv6 included);
/// `what` names the field for the error.
pub fn parse_ip(text: &str, what: &str) -> Result<IpAddr, ProviderError> {
    text.trim()
        .parse()
        .map_err(|_| ProviderError::InvalidInput(format!("{what}: {text:?} is not an IP address")))
}
