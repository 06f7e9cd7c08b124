//! Device addresses (`network.addresses` in metadata, `ip_addresses` in the API: same shape).

use std::net::Ipv4Addr;

use serde::Deserialize;

/// The fields of an address entry the providers use; everything else is ignored and every
/// field may be absent or `null`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IpAddressInfo {
    #[serde(default)]
    pub address_family: Option<u8>,
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default)]
    pub management: Option<bool>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
}

/// The gateway of the device's private IPv4 address (`public == false`, `address_family == 4`),
/// preferring the management address: the next hop for the routes to the 169.254.255.x peers.
/// Entries whose gateway does not parse are skipped.
pub fn private_ipv4_gateway(addresses: &[IpAddressInfo]) -> Option<Ipv4Addr> {
    let private = addresses
        .iter()
        .filter(|a| a.address_family == Some(4) && a.public == Some(false));
    let gateway = |a: &IpAddressInfo| {
        a.gateway
            .as_deref()
            .and_then(|g| g.trim().parse::<Ipv4Addr>().ok())
    };
    private
        .clone()
        .filter(|a| a.management == Some(true))
        .find_map(gateway)
        .or_else(|| private.clone().find_map(gateway))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(
        family: u8,
        public: bool,
        management: Option<bool>,
        gateway: Option<&str>,
    ) -> IpAddressInfo {
        IpAddressInfo {
            address_family: Some(family),
            public: Some(public),
            management,
            address: None,
            gateway: gateway.map(str::to_owned),
        }
    }

    #[test]
    fn picks_the_private_ipv4_management_gateway() {
        let addresses = [
            address(4, true, Some(true), Some("203.0.113.10")),
            address(6, false, Some(true), Some("fd00::1")),
            address(4, false, Some(false), Some("10.1.1.1")),
            address(4, false, Some(true), Some("10.70.17.8")),
        ];
        assert_eq!(
            private_ipv4_gateway(&addresses),
            Some("10.70.17.8".parse().unwrap())
        );
    }

    #[test]
    fn falls_back_to_any_private_ipv4_and_tolerates_nulls() {
        let addresses = [
            address(4, false, None, None),
            address(4, false, None, Some("10.1.1.1")),
        ];
        assert_eq!(
            private_ipv4_gateway(&addresses),
            Some("10.1.1.1".parse().unwrap())
        );
        assert_eq!(
            private_ipv4_gateway(&[address(4, true, Some(true), Some("203.0.113.10"))]),
            None
        );
    }
}
