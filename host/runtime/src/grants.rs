//! Operator grants (`--allow-host host[:port]`) and the address rules applied after resolving.

use std::fmt;
use std::net::IpAddr;

use crate::errors::GrantError;

/// A `host:port` origin; `host` is lowercase, IPv6 without brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl HostPort {
    /// The origin of an `http(s)://` URL, port defaulting from the scheme.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|err| format!("{url:?} is not a URL: {err}"))?;
        let default_port = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            Some(other) => return Err(format!("{url:?}: scheme {other:?} is not http or https")),
            None => return Err(format!("{url:?} has no scheme (http:// or https://)")),
        };
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| format!("{url:?} has no host"))?;
        Ok(Self {
            host: normalize_host(host),
            port: uri.port_u16().unwrap_or(default_port),
        })
    }

    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: normalize_host(host),
            port,
        }
    }

    /// The host as an IP literal, if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// One `--allow-host` entry; no port = any port the provider declares for that host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    host: String,
    port: Option<u16>,
}

impl Grant {
    fn matches(&self, host: &str, port: u16) -> bool {
        self.port.is_none_or(|granted| granted == port) && same_host(&self.host, host)
    }
}

fn same_host(a: &str, b: &str) -> bool {
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a.to_canonical() == b.to_canonical(),
        _ => a == b,
    }
}

/// The hosts the operator allows providers to reach (each must also be declared by the provider).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    items: Vec<Grant>,
}

impl Grants {
    /// Parse `host`, `host:port`, `1.2.3.4:port`, `[::1]:port` or a bare IPv6 address.
    pub fn parse(items: &[String]) -> Result<Self, GrantError> {
        let items = items
            .iter()
            .map(|item| parse_grant(item))
            .collect::<Result<_, _>>()?;
        Ok(Self { items })
    }

    /// No outgoing HTTP at all.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn is_granted(&self, origin: &HostPort) -> bool {
        self.items
            .iter()
            .any(|grant| grant.matches(&origin.host, origin.port))
    }

    /// Whether this exact address was granted (needed to reach loopback or link-local targets).
    pub fn is_ip_granted(&self, ip: IpAddr, port: u16) -> bool {
        self.items
            .iter()
            .any(|grant| grant.matches(&ip.to_string(), port))
    }
}

fn parse_grant(value: &str) -> Result<Grant, GrantError> {
    let invalid = |reason: &str| GrantError::Invalid {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(GrantError::Empty);
    }
    let (host, port) = if let Some(rest) = trimmed.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| invalid("missing ']'"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("expected ':port' after ']'"))?,
            ),
        };
        (host, port)
    } else if trimmed.matches(':').count() > 1 {
        (trimmed, None)
    } else {
        match trimmed.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (trimmed, None),
        }
    };
    let port = match port {
        Some(text) => match text.parse::<u16>() {
            Ok(0) | Err(_) => return Err(invalid("port must be 1-65535")),
            Ok(port) => Some(port),
        },
        None => None,
    };
    let host = normalize_host(host);
    let is_ip = host.parse::<IpAddr>().is_ok();
    let is_name = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !host.contains(':');
    if !is_ip && !is_name {
        return Err(invalid("not a host name or IP address"));
    }
    if value.contains("://") || value.contains('/') {
        return Err(invalid("give host[:port], not a URL"));
    }
    Ok(Grant { host, port })
}

/// Why an address may not be reached through a granted *name*: these only work when the exact
/// IP is granted, so a DNS answer cannot point a provider at the host itself or cloud metadata.
pub fn restricted_kind(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) if v4.is_loopback() => Some("loopback"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("link-local"),
        IpAddr::V4(v4) if v4.is_unspecified() => Some("unspecified"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("loopback"),
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("link-local"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("unspecified"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn grants(items: &[&str]) -> Grants {
        Grants::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn grant_forms_parse_and_match() {
        let g = grants(&[
            "api.equinix.com",
            "localhost:8080",
            "[::1]:9000",
            "127.0.0.1:80",
            "fe80::1",
        ]);
        assert!(g.is_granted(&HostPort::new("API.equinix.com", 443)));
        assert!(g.is_granted(&HostPort::new("localhost", 8080)));
        assert!(!g.is_granted(&HostPort::new("localhost", 8081)));
        assert!(g.is_ip_granted("::1".parse().unwrap(), 9000));
        assert!(g.is_ip_granted("::ffff:127.0.0.1".parse().unwrap(), 80));
        assert!(g.is_ip_granted("fe80::1".parse().unwrap(), 1234));
    }

    #[test]
    fn bad_grants_are_rejected() {
        for bad in ["", "http://x", "host:0", "host:99999", "[::1", "a b", "x/y"] {
            assert!(
                Grants::parse(&[bad.to_string()]).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn urls_give_origins_with_scheme_ports() {
        assert_eq!(
            HostPort::from_url("https://api.equinix.com").unwrap(),
            HostPort::new("api.equinix.com", 443)
        );
        assert_eq!(
            HostPort::from_url("http://[::1]:8080/x").unwrap(),
            HostPort::new("::1", 8080)
        );
        assert_eq!(
            HostPort::from_url("http://a.b/").unwrap().to_string(),
            "a.b:80"
        );
        assert!(HostPort::from_url("ftp://a.b/").is_err());
        assert!(HostPort::from_url("a.b").is_err());
    }

    #[test]
    fn restricted_addresses() {
        for ip in [
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(restricted_kind(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["192.0.2.1", "10.0.0.1", "2001:db8::1"] {
            assert!(restricted_kind(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }
}
