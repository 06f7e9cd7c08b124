//! Routes as a BGP daemon's RIB shows them, in one shape for BIRD, GoBGP and FRR.

use std::net::IpAddr;

use ipnet::IpNet;

/// Address family of a RIB query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    /// The family of `prefix`.
    pub fn of(prefix: &IpNet) -> Self {
        match prefix {
            IpNet::V4(_) => Family::Ipv4,
            IpNet::V6(_) => Family::Ipv6,
        }
    }
}

/// One path for one prefix in a daemon's RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub prefix: IpNet,
    /// The BGP next hop (first one when the daemon lists a global and a link-local).
    pub next_hop: Option<IpAddr>,
    /// The peer the path came from (`None` for locally originated paths).
    pub from: Option<IpAddr>,
    /// The daemon's name for where the path came from (BIRD protocol name), when it reports one.
    pub protocol: Option<String>,
    /// AS_PATH flattened (sets included in order).
    pub as_path: Vec<u32>,
    /// Standard communities as `(asn, value)`.
    pub communities: Vec<(u16, u16)>,
    /// Large communities as `(global, local1, local2)`.
    pub large_communities: Vec<(u32, u32, u32)>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    /// Kept only because the sender is graceful-restarting (see each reader for how it is detected).
    pub stale: bool,
}

impl RouteEntry {
    pub(crate) fn new(prefix: IpNet) -> Self {
        Self {
            prefix,
            next_hop: None,
            from: None,
            protocol: None,
            as_path: Vec::new(),
            communities: Vec::new(),
            large_communities: Vec::new(),
            local_pref: None,
            med: None,
            stale: false,
        }
    }
}

/// Parses `a:b` / `(a,b)` community text.
pub(crate) fn parse_community(text: &str) -> Option<(u16, u16)> {
    let t = text.trim_matches(|c| c == '(' || c == ')');
    let (a, b) = t.split_once([':', ','])?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Parses `a:b:c` / `(a, b, c)` large-community text.
pub(crate) fn parse_large_community(text: &str) -> Option<(u32, u32, u32)> {
    let t = text.trim_matches(|c| c == '(' || c == ')');
    let mut parts = t.split([':', ',']).map(|p| p.trim().parse::<u32>());
    let triple = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    parts.next().is_none().then_some(triple)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities_parse_in_both_notations() {
        assert_eq!(parse_community("(65000,7)"), Some((65000, 7)));
        assert_eq!(parse_community("65000:7"), Some((65000, 7)));
        assert_eq!(parse_large_community("(65000, 1, 2)"), Some((65000, 1, 2)));
        assert_eq!(
            parse_large_community("4200000001:1:2"),
            Some((4_200_000_001, 1, 2))
        );
        assert_eq!(parse_large_community("1:2"), None);
    }
}
