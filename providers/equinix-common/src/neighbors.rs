//! `BgpNeighborData` (metadata `bgp_neighbors[]`, API `GET /devices/{id}/bgp/neighbors`) → peers.

use std::net::{IpAddr, Ipv4Addr};

use herald_sdk::{BgpPeer, Password, ProviderError, log};
use serde::Deserialize;

use crate::parse_ip;

/// One BGP neighbour entry. Every field may be absent or `null` (real responses carry nulls the
/// spec does not allow). No `Debug`: it holds the MD5 password.
#[derive(Clone, Default, Deserialize)]
pub struct BgpNeighbor {
    #[serde(default)]
    pub address_family: Option<u8>,
    #[serde(default)]
    pub customer_as: Option<u32>,
    #[serde(default)]
    pub customer_ip: Option<String>,
    #[serde(default)]
    pub md5_enabled: Option<bool>,
    #[serde(default)]
    pub md5_password: Option<String>,
    #[serde(default)]
    pub multihop: Option<bool>,
    #[serde(default)]
    pub peer_as: Option<u32>,
    #[serde(default)]
    pub peer_ips: Option<Vec<String>>,
}

/// How neighbour entries become peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerOptions {
    /// TTL for `multihop: true` entries.
    pub multihop_ttl: u8,
    /// Next hop for routes to IPv4 multihop peers (the private IPv4 gateway), if known.
    pub private_gateway: Option<Ipv4Addr>,
}

/// One peer per entry and peer IP, for every address family, in document order; a peer IP seen
/// twice counts once. `source` names the list in error messages (e.g. `bgp_neighbors`).
///
/// Per entry: `customer_as` → local ASN, `peer_as` → peer ASN, `customer_ip` → source address,
/// `md5_enabled` decides the password (`md5_password`; when `md5_enabled` is null, a non-empty
/// password counts), `multihop` → multihop TTL and, for IPv4, a route via the private gateway.
pub fn peers_from_neighbors(
    neighbors: &[BgpNeighbor],
    source: &str,
    options: PeerOptions,
) -> Result<Vec<BgpPeer>, ProviderError> {
    let mut peers: Vec<BgpPeer> = Vec::new();
    let mut missing_gateway = false;
    for (index, neighbor) in neighbors.iter().enumerate() {
        let at = format!("{source}[{index}]");
        let peer_ips = neighbor.peer_ips.as_deref().unwrap_or_default();
        if peer_ips.is_empty() {
            continue;
        }
        let family = match neighbor.address_family {
            None => None,
            Some(family @ (4 | 6)) => Some(family),
            Some(other) => {
                return Err(invalid(format!(
                    "{at}.address_family: {other} is neither 4 nor 6"
                )));
            }
        };
        let local_asn = asn(neighbor.customer_as, &format!("{at}.customer_as"))?;
        let peer_asn = asn(neighbor.peer_as, &format!("{at}.peer_as"))?;
        let source_address = match neighbor
            .customer_ip
            .as_deref()
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
        {
            Some(ip) => Some(checked_family(
                parse_ip(ip, &format!("{at}.customer_ip"))?,
                family,
                &format!("{at}.customer_ip"),
            )?),
            None => None,
        };
        let password = password(neighbor, &at)?;
        let multihop = neighbor.multihop.unwrap_or(false);

        for (ip_index, text) in peer_ips.iter().enumerate() {
            let what = format!("{at}.peer_ips[{ip_index}]");
            let address = checked_family(parse_ip(text, &what)?, family, &what)?;
            if peers.iter().any(|p| p.peer_address == address) {
                continue;
            }
            let mut peer = BgpPeer::new(address, peer_asn, local_asn);
            peer.source_address = source_address;
            peer.password.clone_from(&password);
            if multihop {
                peer.multihop_ttl = Some(options.multihop_ttl);
                if address.is_ipv4() {
                    peer.route_via = options.private_gateway.map(IpAddr::V4);
                    missing_gateway |= options.private_gateway.is_none();
                }
            }
            peers.push(peer);
        }
    }
    if missing_gateway {
        log::warn(
            "IPv4 multihop peers found but no private IPv4 gateway is known: no route-via set for them",
        );
    }
    Ok(peers)
}

fn asn(value: Option<u32>, what: &str) -> Result<u32, ProviderError> {
    match value {
        Some(0) => Err(invalid(format!("{what}: 0 is not a valid ASN"))),
        Some(asn) => Ok(asn),
        None => Err(invalid(format!("{what} is missing"))),
    }
}

fn checked_family(
    address: IpAddr,
    family: Option<u8>,
    what: &str,
) -> Result<IpAddr, ProviderError> {
    match (family, address) {
        (Some(4), IpAddr::V6(_)) | (Some(6), IpAddr::V4(_)) => Err(invalid(format!(
            "{what}: {address} does not match address_family {}",
            family.unwrap_or_default()
        ))),
        _ => Ok(address),
    }
}

fn password(neighbor: &BgpNeighbor, at: &str) -> Result<Option<Password>, ProviderError> {
    let given = neighbor.md5_password.as_deref().filter(|p| !p.is_empty());
    match (neighbor.md5_enabled.unwrap_or(given.is_some()), given) {
        (false, _) => Ok(None),
        (true, Some(password)) => {
            herald_sdk::rules::check_md5_password(password)
                .map_err(|reason| invalid(format!("{at}: md5_password: {reason}")))?;
            Ok(Some(Password::new(password)))
        }
        (true, None) => Err(invalid(format!(
            "{at}: md5_enabled is true but md5_password is empty"
        ))),
    }
}

fn invalid(message: String) -> ProviderError {
    ProviderError::InvalidInput(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: PeerOptions = PeerOptions {
        multihop_ttl: 2,
        private_gateway: Some(Ipv4Addr::new(10, 70, 17, 8)),
    };

    fn neighbors(json: &str) -> Vec<BgpNeighbor> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ibx_neighbours_both_families() {
        let list = neighbors(
            r#"[{"address_family":4,"customer_as":65000,"customer_ip":"10.70.17.9","md5_enabled":true,
                 "md5_password":"ExamplePass123","multihop":true,"peer_as":65530,
                 "peer_ips":["169.254.255.1","169.254.255.2"]},
                {"address_family":6,"customer_as":65000,"customer_ip":"2001:db8:4d1:1800::3","md5_enabled":true,
                 "md5_password":"ExamplePass123","multihop":true,"peer_as":65530,
                 "peer_ips":["fc00:0000:0000:0000:0000:0000:0000:000e","fc00:0000:0000:0000:0000:0000:0000:000f"]}]"#,
        );
        let peers = peers_from_neighbors(&list, "bgp_neighbors", OPTIONS).unwrap();
        let addresses: Vec<String> = peers.iter().map(|p| p.peer_address.to_string()).collect();
        assert_eq!(
            addresses,
            ["169.254.255.1", "169.254.255.2", "fc00::e", "fc00::f"]
        );
        assert_eq!(peers[0].route_via, Some("10.70.17.8".parse().unwrap()));
        assert_eq!(peers[2].route_via, None, "IPv6 peers get no IPv4 route");
        assert!(peers.iter().all(|p| p.multihop_ttl == Some(2)
            && p.password.as_ref().map(Password::expose) == Some("ExamplePass123")));
        assert_eq!(
            peers[3].source_address,
            Some("2001:db8:4d1:1800::3".parse().unwrap())
        );
    }

    #[test]
    fn legacy_direct_neighbour_with_nulls() {
        let list = neighbors(
            r#"[{"address_family":4,"customer_as":65000,"customer_ip":"10.99.40.131","md5_enabled":false,
                 "md5_password":null,"multihop":false,"peer_as":65530,"peer_ips":["10.99.40.130"],"routes_in":null}]"#,
        );
        let peers = peers_from_neighbors(&list, "bgp_neighbors", OPTIONS).unwrap();
        assert_eq!(peers.len(), 1);
        assert_eq!(
            (
                peers[0].multihop_ttl,
                peers[0].route_via,
                &peers[0].password
            ),
            (None, None, &None)
        );
    }

    #[test]
    fn md5_enabled_decides_the_password() {
        let disabled = neighbors(
            r#"[{"customer_as":1,"peer_as":2,"md5_enabled":false,"md5_password":"x","peer_ips":["192.0.2.1"]}]"#,
        );
        assert_eq!(
            peers_from_neighbors(&disabled, "n", OPTIONS).unwrap()[0].password,
            None
        );
        let missing = neighbors(
            r#"[{"customer_as":1,"peer_as":2,"md5_enabled":true,"md5_password":null,"peer_ips":["192.0.2.1"]}]"#,
        );
        let err = peers_from_neighbors(&missing, "n", OPTIONS).err().unwrap();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains("md5_enabled")),
            "{err}"
        );
    }

    #[test]
    fn bad_entries_are_invalid_input_naming_the_field() {
        for (json, field) in [
            (
                r#"[{"customer_as":1,"peer_as":2,"peer_ips":["nope"]}]"#,
                "n[0].peer_ips[0]",
            ),
            (
                r#"[{"peer_as":2,"peer_ips":["192.0.2.1"]}]"#,
                "n[0].customer_as",
            ),
            (
                r#"[{"customer_as":1,"peer_as":0,"peer_ips":["192.0.2.1"]}]"#,
                "n[0].peer_as",
            ),
            (
                r#"[{"address_family":6,"customer_as":1,"peer_as":2,"peer_ips":["192.0.2.1"]}]"#,
                "n[0].peer_ips[0]",
            ),
            (
                r#"[{"address_family":5,"customer_as":1,"peer_as":2,"peer_ips":["192.0.2.1"]}]"#,
                "n[0].address_family",
            ),
        ] {
            let err = peers_from_neighbors(&neighbors(json), "n", OPTIONS)
                .err()
                .unwrap();
            assert!(
                matches!(&err, ProviderError::InvalidInput(m) if m.contains(field)),
                "{json}: {err}"
            );
        }
    }

    #[test]
    fn duplicates_and_empty_entries() {
        let list = neighbors(
            r#"[{"customer_as":1,"peer_as":2,"peer_ips":null},
                {"customer_as":1,"peer_as":2,"peer_ips":["192.0.2.1","192.0.2.1"]},
                {"customer_as":1,"peer_as":2,"peer_ips":["192.0.2.1"]}]"#,
        );
        assert_eq!(peers_from_neighbors(&list, "n", OPTIONS).unwrap().len(), 1);
        assert!(peers_from_neighbors(&[], "n", OPTIONS).unwrap().is_empty());
    }

    #[test]
    fn an_md5_password_over_80_bytes_names_the_field_not_the_value() {
        let neighbor = BgpNeighbor {
            md5_enabled: Some(true),
            md5_password: Some("p".repeat(81)),
            ..BgpNeighbor::default()
        };
        let err = password(&neighbor, "bgp_neighbors[0]")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bgp_neighbors[0]: md5_password") && err.contains("81 bytes"),
            "{err}"
        );
        assert!(!err.contains("ppp"), "{err}");
    }
}
