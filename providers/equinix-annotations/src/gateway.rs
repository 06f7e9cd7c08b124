//! The private gateway the multihop peers are reached through.
//!
//! Equinix gives every server a private IPv4 /31 out of the project's private block (the block
//! is `<prefix>/network-4-private`, e.g. `10.70.17.0/25`; the server holds `10.70.17.9/31`,
//! which is `src-ip`). The gateway is the other address of that /31 (`10.70.17.8`), as the
//! metadata `gateway` field and the legacy direct peers (`10.99.40.131` → `10.99.40.130`) show.
//! The block's first host (`10.70.17.1`) is not on the node's link, so it is not used.

use std::net::{IpAddr, Ipv4Addr};

use herald_sdk::{NodeContext, ProviderError};

/// The private gateway for a peer whose session is sourced from `source`: the /31 partner of
/// `source`, when `source` is a private IPv4 address inside `<prefix>/network-4-private` (or,
/// without that annotation, any RFC 1918 address). `None` when it cannot be derived.
pub fn derive_private_gateway(
    node: &NodeContext,
    prefix: &str,
    source: Option<IpAddr>,
) -> Result<Option<Ipv4Addr>, ProviderError> {
    let network_key = format!("{prefix}/network-4-private");
    let network = node
        .annotation(&network_key)
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let network = network
        .map(|text| parse_ipv4_network(text, &network_key))
        .transpose()?;
    let Some(IpAddr::V4(source)) = source else {
        return Ok(None);
    };
    match network {
        Some(network) if !network.contains(source) => Err(ProviderError::InvalidInput(format!(
            "src-ip {source} is outside {network_key} {network}"
        ))),
        Some(_) => Ok(Some(slash31_partner(source))),
        None if source.is_private() => Ok(Some(slash31_partner(source))),
        None => Ok(None),
    }
}

fn slash31_partner(address: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address) ^ 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ipv4Network {
    address: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Network {
    fn mask(self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix_len))
            .unwrap_or(0)
    }

    fn contains(self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask() == u32::from(self.address) & self.mask()
    }
}

impl std::fmt::Display for Ipv4Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

fn parse_ipv4_network(text: &str, key: &str) -> Result<Ipv4Network, ProviderError> {
    let invalid = || {
        ProviderError::InvalidInput(format!(
            "annotation {key}: {text:?} is not an IPv4 network (a.b.c.d/len)"
        ))
    };
    let (address, prefix_len) = text.split_once('/').ok_or_else(invalid)?;
    let address: Ipv4Addr = address.trim().parse().map_err(|_| invalid())?;
    let prefix_len: u8 = prefix_len.trim().parse().map_err(|_| invalid())?;
    if prefix_len > 32 {
        return Err(invalid());
    }
    Ok(Ipv4Network {
        address,
        prefix_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(network: Option<&str>) -> NodeContext {
        let mut node = NodeContext::default();
        if let Some(network) = network {
            node.annotations
                .insert("metal.equinix.com/network-4-private".into(), network.into());
        }
        node
    }

    fn derive(network: Option<&str>, source: &str) -> Result<Option<Ipv4Addr>, ProviderError> {
        derive_private_gateway(
            &node(network),
            "metal.equinix.com",
            Some(source.parse().unwrap()),
        )
    }

    #[test]
    fn gateway_is_the_other_address_of_the_private_slash31() {
        assert_eq!(
            derive(Some("10.70.17.0/25"), "10.70.17.9").unwrap(),
            Some("10.70.17.8".parse().unwrap())
        );
        assert_eq!(
            derive(Some("10.99.40.128/25"), "10.99.40.131").unwrap(),
            Some("10.99.40.130".parse().unwrap())
        );
        assert_eq!(
            derive(None, "10.70.17.11").unwrap(),
            Some("10.70.17.10".parse().unwrap())
        );
    }

    #[test]
    fn no_gateway_without_a_private_ipv4_source() {
        assert_eq!(derive(None, "203.0.113.11").unwrap(), None);
        assert_eq!(derive(None, "2001:db8::3").unwrap(), None);
        assert_eq!(
            derive_private_gateway(&node(Some("10.70.17.0/25")), "metal.equinix.com", None)
                .unwrap(),
            None
        );
    }

    #[test]
    fn source_outside_the_block_or_bad_block_is_invalid_input() {
        let err = derive(Some("10.70.17.0/25"), "10.70.18.9").unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains("network-4-private")),
            "{err}"
        );
        for bad in ["10.70.17.0", "10.70.17.0/33", "x/25"] {
            let err = derive(Some(bad), "10.70.17.9").unwrap_err();
            assert!(
                matches!(&err, ProviderError::InvalidInput(m) if m.contains("metal.equinix.com/network-4-private")),
                "{err}"
            );
        }
    }
}
