//! Parsers for flag values, so a bad value fails when the manifest is generated, with clap naming
//! the flag, rather than later in a crash-looping Pod.

use std::net::{IpAddr, SocketAddr};

/// A VIP as the agent takes it: an address (/32, /128) or address/prefix. Kept as written.
pub fn parse_vip(text: &str) -> Result<String, String> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("{address:?} is not an IP address"))?;
    if let Some(prefix) = prefix {
        let max = if address.is_ipv4() { 32 } else { 128 };
        match prefix.parse::<u8>() {
            Ok(length) if length <= max => {}
            _ => return Err(format!("/{prefix}: the prefix length must be 0..={max}")),
        }
    }
    Ok(text.to_owned())
}

/// An absolute path: the agent runs in the container, where a relative path means nothing useful.
pub fn parse_absolute_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!("{text:?} must be an absolute path"));
    }
    if text.ends_with('/') {
        return Err(format!("{text:?} must name a file, not a directory"));
    }
    Ok(text.to_owned())
}

/// A Secret's name (a DNS subdomain: lowercase letters, digits, `-` and `.`, at most 253
/// characters, starting and ending with a letter or digit), so the apiserver accepts the DaemonSet.
pub fn parse_secret_name(text: &str) -> Result<String, String> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !text.is_empty()
        && text.len() <= 253
        && text.chars().all(valid_char)
        && text.starts_with(alnum)
        && text.ends_with(alnum);
    if !ok {
        return Err(format!(
            "{text:?} is not a Secret name (lowercase letters, digits, '-' and '.', \
             starting and ending with a letter or digit, at most 253 characters)"
        ));
    }
    Ok(text.to_owned())
}

/// `KEY=VALUE` or `KEY=@FILE` (the agent's `--config`).
pub fn parse_config_pair(text: &str) -> Result<String, String> {
    match text.split_once('=') {
        Some((key, _)) if !key.is_empty() => Ok(text.to_owned()),
        _ => Err(format!("{text:?} is not KEY=VALUE or KEY=@FILE")),
    }
}

/// `--prometheusHTTPServer`: where `/metrics`, `/healthz` and `/readyz` listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// `off` (or empty): no listener, so no probes either.
    Off,
    /// `:PORT` (every address) or `HOST:PORT`; `probe_host` is set when the agent listens on one
    /// address only, which the kubelet's probe must then use.
    At {
        text: String,
        port: u16,
        probe_host: Option<String>,
    },
}

pub fn parse_listen(text: &str) -> Result<Listen, String> {
    let text = text.trim();
    if text.is_empty() || text == "off" {
        return Ok(Listen::Off);
    }
    // The agent's rule: `:2112` means every address, as Go's listener takes it.
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_owned()
    };
    let address: SocketAddr = full
        .parse()
        .map_err(|_| format!("{text:?} is not ADDRESS:PORT, :PORT or off"))?;
    if address.port() == 0 {
        return Err("the port must not be 0: the probes need a fixed port".into());
    }
    let probe_host = (!address.ip().is_unspecified()).then(|| address.ip().to_string());
    Ok(Listen::At {
        text: text.to_owned(),
        port: address.port(),
        probe_host,
    })
}

/// A `--bgppeers` value: `address:AS[:password[:multihop[:port]]]`, comma-separated, IPv6 in
/// brackets. Checked only as far as the manifest needs (addresses, AS numbers, whether any peer
/// carries a password, which decides where the value may be written); the agent checks the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerList {
    pub text: String,
    pub has_password: bool,
}

pub fn parse_peer_list(text: &str) -> Result<PeerList, String> {
    let mut has_password = false;
    for (index, entry) in text
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let number = index + 1;
        let (address, rest) = match entry.strip_prefix('[') {
            Some(bracketed) => bracketed
                .split_once(']')
                .map(|(address, rest)| (address, rest.strip_prefix(':').unwrap_or(rest)))
                .ok_or_else(|| format!("peer {number}: missing ']' after the IPv6 address"))?,
            None => entry.split_once(':').unwrap_or((entry, "")),
        };
        address.parse::<IpAddr>().map_err(|_| {
            format!("peer {number}: {address:?} is not an IP address (IPv6 goes in brackets)")
        })?;
        let mut fields = rest.split(':');
        let asn = fields.next().unwrap_or_default();
        asn.parse::<u32>()
            .map_err(|_| format!("peer {number}: {asn:?} is not an AS number"))?;
        if fields.next().is_some_and(|password| !password.is_empty()) {
            has_password = true;
        }
    }
    Ok(PeerList {
        text: text.to_owned(),
        has_password,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn vips_keep_their_spelling_and_check_the_prefix() {
        assert_eq!(parse_vip("192.0.2.10").unwrap(), "192.0.2.10");
        assert_eq!(parse_vip("2001:db8::1/128").unwrap(), "2001:db8::1/128");
        assert!(parse_vip("192.0.2.10/33").unwrap_err().contains("0..=32"));
        assert!(parse_vip("V").unwrap_err().contains("not an IP"));
    }

    #[test]
    fn listen_addresses_follow_the_agent() {
        assert_eq!(parse_listen("off").unwrap(), Listen::Off);
        assert_eq!(
            parse_listen(":9000").unwrap(),
            Listen::At {
                text: ":9000".into(),
                port: 9000,
                probe_host: None
            }
        );
        assert_eq!(
            parse_listen("127.0.0.1:2112").unwrap(),
            Listen::At {
                text: "127.0.0.1:2112".into(),
                port: 2112,
                probe_host: Some("127.0.0.1".into())
            }
        );
        assert!(parse_listen("2112").is_err());
        assert!(parse_listen(":0").is_err());
    }

    #[test]
    fn peer_lists_report_passwords() {
        let plain = parse_peer_list("192.168.0.10:65000::false,[2001:db8::1]:65001").unwrap();
        assert!(!plain.has_password);
        let secret = parse_peer_list("192.168.0.10:65000:s3cret:true").unwrap();
        assert!(secret.has_password);
        assert!(parse_peer_list("2001:db8::1:65000").is_err());
        assert!(
            parse_peer_list("192.0.2.1:abc")
                .unwrap_err()
                .contains("AS number")
        );
    }

    #[test]
    fn secret_names_are_dns_subdomains() {
        assert_eq!(
            parse_secret_name("herald-registry").unwrap(),
            "herald-registry"
        );
        assert_eq!(parse_secret_name("a.b-1").unwrap(), "a.b-1");
        for bad in ["", "Herald", "-x", "x-", "a_b", "a/b", &"a".repeat(254)] {
            assert!(parse_secret_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_and_config_pairs() {
        assert!(parse_absolute_path("etc/key").is_err());
        assert!(parse_absolute_path("/etc/").is_err());
        assert_eq!(parse_absolute_path("/etc/key").unwrap(), "/etc/key");
        assert!(parse_config_pair("=x").is_err());
        assert!(parse_config_pair("prefix").is_err());
        assert_eq!(parse_config_pair("token=@/f").unwrap(), "token=@/f");
    }
}
