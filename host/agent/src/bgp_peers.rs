//! The kube-vip peer list: `--bgppeers` / `bgp_peers`.
//!
//! Comma-separated peers, each `<address>:<AS>[:<password>[:<multihop>[:<port>[:<mpbgp>[:<bfd>]]]]]`.
//! IPv6 addresses go in brackets: `[2001:db8::1]:65000::true:179`. Unlike kube-vip, the port is
//! honoured. The MP-BGP and BFD fields are accepted only when empty (Herald does not implement them
//! yet), and `unnumbered:` peers are refused, so a migrated config never silently means less.

use std::net::IpAddr;

use crate::error::ConfigError;
use crate::secret::Secret;

const FLAG: &str = "--bgppeers";

/// One peer as written in `--bgppeers`, before global flags (hold time, TTL, …) are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerEntry {
    pub address: IpAddr,
    pub asn: u32,
    pub password: Option<Secret>,
    pub multihop: bool,
    pub port: Option<u16>,
}

/// Parses a whole `--bgppeers` value (several values may be given; pass each one here).
pub fn parse_bgp_peers(text: &str) -> Result<Vec<PeerEntry>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .enumerate()
        .map(|(index, entry)| parse_entry(index + 1, entry))
        .collect()
}

fn parse_entry(number: usize, entry: &str) -> Result<PeerEntry, ConfigError> {
    let (address_text, rest) = split_address(entry);
    if address_text == "unnumbered" {
        return Err(ConfigError::Unsupported {
            flag: FLAG,
            reason: format!(
                "peer {number}: unnumbered peers are not supported; give the peer's address"
            ),
        });
    }
    let address: IpAddr = address_text.parse().map_err(|_| {
        let hint =
            if address_text.contains(':') || rest.as_deref().is_some_and(|r| r.contains("::")) {
                " (IPv6 peers go in brackets: [2001:db8::1]:65000)"
            } else {
                ""
            };
        ConfigError::invalid(
            FLAG,
            address_text,
            format!("peer {number}: not an IP address{hint}"),
        )
    })?;
    let rest = rest.unwrap_or_default();
    let fields: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(':').collect()
    };
    let context = |what: &str| format!("peer {number} ({address}): {what}");

    let asn_text = fields.first().copied().unwrap_or_default();
    if asn_text.is_empty() {
        return Err(ConfigError::invalid(
            FLAG,
            address.to_string(),
            context("missing AS (format address:AS:password:multihop:port)"),
        ));
    }
    let asn = parse_asn(asn_text)
        .map_err(|reason| ConfigError::invalid(FLAG, asn_text, context(&reason)))?;

    let password = fields
        .get(1)
        .filter(|text| !text.is_empty())
        .map(|text| Secret::new(*text));
    if let Some(password) = &password {
        check_password_length(FLAG, password)?;
    }

    let multihop_text = fields.get(2).copied().unwrap_or_default();
    let multihop = parse_bool(multihop_text).ok_or_else(|| {
        ConfigError::invalid(
            FLAG,
            multihop_text,
            context("multihop must be true or false"),
        )
    })?;

    let port_text = fields.get(3).copied().unwrap_or_default();
    let port = if port_text.is_empty() {
        None
    } else {
        Some(
            parse_port(port_text)
                .map_err(|reason| ConfigError::invalid(FLAG, port_text, context(&reason)))?,
        )
    };

    for (index, name) in [(4, "MP-BGP options"), (5, "BFD options")] {
        if fields.get(index).is_some_and(|text| !text.is_empty()) {
            return Err(ConfigError::Unsupported {
                flag: FLAG,
                reason: context(&format!(
                    "{name} (field {}) are not supported yet; leave the field empty",
                    index + 2
                )),
            });
        }
    }
    if fields.len() > 6 {
        return Err(ConfigError::invalid(
            FLAG,
            address.to_string(),
            context("too many ':'-separated fields (at most 7)"),
        ));
    }
    Ok(PeerEntry {
        address,
        asn,
        password,
        multihop,
        port,
    })
}

/// Splits `[v6]:rest` or `v4:rest` into the address text and what follows the first separator.
fn split_address(entry: &str) -> (&str, Option<String>) {
    if let Some(bracketed) = entry.strip_prefix('[')
        && let Some((address, rest)) = bracketed.split_once(']')
    {
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        return (address, Some(rest.to_owned()));
    }
    match entry.split_once(':') {
        Some((address, rest)) => (address, Some(rest.to_owned())),
        None => (entry, None),
    }
}

pub(crate) fn parse_asn(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err("AS 0 is reserved".to_owned()),
        Ok(asn) => Ok(asn),
        Err(_) => Err("AS must be a number from 1 to 4294967295".to_owned()),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(0) | Err(_) => Err("port must be a number from 1 to 65535".to_owned()),
        Ok(port) => Ok(port),
    }
}

/// Go's `strconv.ParseBool` spellings (kube-vip's), plus empty = false.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        _ => None,
    }
}

pub(crate) fn check_password_length(
    flag: &'static str,
    password: &Secret,
) -> Result<(), ConfigError> {
    // An empty value means "no password" on the flags: only the length is checked here.
    if password.is_empty() {
        return Ok(());
    }
    herald_peer_rules::check_md5_password(password.expose())
        .map_err(|reason| ConfigError::invalid(flag, "<redacted>", reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> PeerEntry {
        let mut peers = parse_bgp_peers(text).unwrap();
        assert_eq!(peers.len(), 1);
        peers.remove(0)
    }

    #[test]
    fn kube_vip_docs_example() {
        let peers = parse_bgp_peers("192.168.0.10:65000::false,192.168.0.11:65000::false").unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[1].address.to_string(), "192.168.0.11");
        assert_eq!(peers[1].asn, 65000);
        assert_eq!(peers[1].password, None);
        assert!(!peers[1].multihop);
        assert_eq!(peers[1].port, None);
    }

    #[test]
    fn all_fields_and_four_byte_as() {
        let peer = one("169.254.255.1:4200000001:s3cret:true:1179");
        assert_eq!(peer.asn, 4_200_000_001);
        assert_eq!(peer.password.as_ref().map(Secret::expose), Some("s3cret"));
        assert!(peer.multihop);
        assert_eq!(peer.port, Some(1179));
    }

    #[test]
    fn ipv6_in_brackets_with_empty_trailing_fields() {
        let peer = one("[2001:db8::1]:65501::false::");
        assert_eq!(peer.address.to_string(), "2001:db8::1");
        assert_eq!(peer.asn, 65501);
        assert_eq!(peer.port, None);
    }

    #[test]
    fn bare_ipv6_gets_a_bracket_hint() {
        let error = parse_bgp_peers("2001:db8::1:65000")
            .unwrap_err()
            .to_string();
        assert!(error.contains("--bgppeers"), "{error}");
        assert!(error.contains("brackets"), "{error}");
    }

    #[test]
    fn errors_name_the_flag_and_bad_value_but_not_the_password() {
        let error = parse_bgp_peers("192.0.2.1:abc:topsecret")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--bgppeers") && error.contains("\"abc\""),
            "{error}"
        );
        let error = parse_bgp_peers("192.0.2.1:65000:topsecret:maybe")
            .unwrap_err()
            .to_string();
        assert!(error.contains("maybe"), "{error}");
        assert!(!error.contains("topsecret"), "{error}");
        let error = parse_bgp_peers("192.0.2.1:65000:topsecret:true:99999")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("99999") && !error.contains("topsecret"),
            "{error}"
        );
        let error = parse_bgp_peers("garbage").unwrap_err().to_string();
        assert!(error.contains("garbage"), "{error}");
        assert!(parse_bgp_peers("192.0.2.1").is_err(), "AS is required");
        assert!(parse_bgp_peers("192.0.2.1:0").is_err(), "AS 0 is reserved");
    }

    #[test]
    fn unsupported_fields_are_refused_not_ignored() {
        assert!(parse_bgp_peers("192.0.2.1:65000::false::mpbgp_nexthop=fixed").is_err());
        assert!(parse_bgp_peers("[2001:db8::1]:65501::false:::true;300;300;3").is_err());
        assert!(parse_bgp_peers("unnumbered:eth0:65000").is_err());
    }

    #[test]
    fn long_password_is_refused_without_echoing_it() {
        let long = "x".repeat(81);
        let error = parse_bgp_peers(&format!("192.0.2.1:65000:{long}"))
            .unwrap_err()
            .to_string();
        assert!(!error.contains(&long), "{error}");
    }

    #[test]
    fn empty_entries_are_skipped() {
        assert_eq!(parse_bgp_peers(" , 192.0.2.1:65000 ,").unwrap().len(), 1);
        assert!(parse_bgp_peers("").unwrap().is_empty());
    }
}
