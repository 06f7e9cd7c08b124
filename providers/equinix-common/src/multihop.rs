//! Which Equinix peers are multihop, and with which TTL.

use std::net::IpAddr;

use herald_sdk::{Config, ProviderError};

/// Config key (all three providers) for the eBGP multihop TTL of multihop peers.
pub const MULTIHOP_TTL_KEY: &str = "multihop-ttl";

/// TTL for multihop peers: the 169.254.255.x routers sit behind the private gateway, one
/// routed hop away; 2 leaves room for the second switch of the MLAG pair answering through the
/// first. Operators can raise it with `multihop-ttl`.
pub const DEFAULT_MULTIHOP_TTL: u8 = 2;

/// The configured multihop TTL (1..=255) or the default.
pub fn multihop_ttl(config: &Config) -> Result<u8, ProviderError> {
    match config.parse::<u8>(MULTIHOP_TTL_KEY)? {
        Some(0) => Err(ProviderError::InvalidInput(format!(
            "config key `{MULTIHOP_TTL_KEY}` must be 1..=255"
        ))),
        Some(ttl) => Ok(ttl),
        None => Ok(DEFAULT_MULTIHOP_TTL),
    }
}

/// Whether `peer` is one of Equinix's link-local multihop routers (169.254.0.0/16), which are
/// reached through the private gateway rather than on a local link.
pub fn needs_private_route(peer: IpAddr) -> bool {
    match peer {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_default_and_override() {
        assert_eq!(multihop_ttl(&Config::default()).unwrap(), 2);
        assert_eq!(
            multihop_ttl(&Config::from_pairs([("multihop-ttl", "5")])).unwrap(),
            5
        );
        assert!(multihop_ttl(&Config::from_pairs([("multihop-ttl", "0")])).is_err());
        assert!(multihop_ttl(&Config::from_pairs([("multihop-ttl", "300")])).is_err());
    }

    #[test]
    fn only_ipv4_link_local_needs_the_private_route() {
        assert!(needs_private_route("169.254.255.1".parse().unwrap()));
        assert!(!needs_private_route("10.99.40.130".parse().unwrap()));
        assert!(!needs_private_route("fc00::e".parse().unwrap()));
    }
}
