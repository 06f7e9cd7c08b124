//! Packs announcements and withdrawals into as few UPDATEs as possible: prefixes with
//! identical attributes share one UPDATE, each UPDATE fills up to 4096 bytes.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bgp_pkt::community::{Community, LargeCommunity};
use netgauze_bgp_pkt::nlri::{Ipv4Unicast, Ipv4UnicastAddress, Ipv6Unicast, Ipv6UnicastAddress};
use netgauze_bgp_pkt::path_attribute::{
    As2PathSegment, As4Path, As4PathSegment, AsPath, AsPathSegmentType, Communities,
    LargeCommunities, LocalPreference, MpReach, MpUnreach, MultiExitDiscriminator, NextHop, Origin,
    PathAttribute, PathAttributeValue,
};
use netgauze_bgp_pkt::update::BgpUpdateMessage;
use netgauze_iana::address_family::AddressType;
use netgauze_parse_utils::WritablePdu;

use crate::codec::{HEADER_LEN, MAX_MESSAGE_LEN};
use crate::config::RouteAttributes;
use crate::message::AS_TRANS;

/// Per-session export settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPolicy {
    /// iBGP session (LOCAL_PREF sent, own ASN not prepended).
    pub ibgp: bool,
    /// Our ASN on this session.
    pub local_asn: u32,
    /// The peer speaks 4-octet ASNs.
    pub asn4: bool,
    /// NEXT_HOP for IPv4 prefixes; `None`: IPv4 prefixes are not sent.
    pub next_hop_v4: Option<Ipv4Addr>,
    /// MP_REACH next hop for IPv6 prefixes; `None`: IPv6 prefixes are not sent.
    pub next_hop_v6: Option<Ipv6Addr>,
}

impl ExportPolicy {
    /// Whether this session carries `prefix` at all.
    pub fn carries(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(_) => self.next_hop_v4.is_some(),
            IpNet::V6(_) => self.next_hop_v6.is_some(),
        }
    }
}

/// UPDATE header, withdrawn-length and attribute-length fields.
const UPDATE_FIXED_LEN: usize = HEADER_LEN + 2 + 2;

/// Wire size of one prefix in NLRI/withdrawn form.
fn prefix_wire_len(prefix_len: u8) -> usize {
    1 + usize::from(prefix_len).div_ceil(8)
}

/// One attribute. `None` only if netgauze rejected the flags, which the proptests rule
/// out: every call passes the flags RFC 4271/4760 fix for its type.
fn attr(
    optional: bool,
    transitive: bool,
    value: PathAttributeValue,
    value_len: usize,
) -> Option<PathAttribute> {
    PathAttribute::from(optional, transitive, false, value_len > 255, value).ok()
}

/// Attributes shared by all prefixes of one family and attribute set (without NLRI).
fn common_attributes(
    attrs: &RouteAttributes,
    policy: &ExportPolicy,
    v4_next_hop: Option<Ipv4Addr>,
) -> Vec<PathAttribute> {
    let mut out = Vec::with_capacity(8);
    out.extend(attr(
        false,
        true,
        PathAttributeValue::Origin(Origin::IGP),
        1,
    ));
    let path: Vec<u32> = if policy.ibgp {
        vec![]
    } else {
        vec![policy.local_asn]
    };
    let segments = if path.is_empty() {
        vec![]
    } else {
        vec![path.clone()]
    };
    if policy.asn4 {
        let segs: Vec<_> = segments
            .iter()
            .map(|s| As4PathSegment::new(AsPathSegmentType::AsSequence, s.clone()))
            .collect();
        out.extend(attr(
            false,
            true,
            PathAttributeValue::AsPath(AsPath::As4PathSegments(segs.into())),
            6,
        ));
    } else {
        let segs: Vec<_> = segments
            .iter()
            .map(|s| {
                let asns: Vec<u16> = s
                    .iter()
                    .map(|a| u16::try_from(*a).unwrap_or(AS_TRANS))
                    .collect();
                As2PathSegment::new(AsPathSegmentType::AsSequence, asns)
            })
            .collect();
        out.extend(attr(
            false,
            true,
            PathAttributeValue::AsPath(AsPath::As2PathSegments(segs.into())),
            4,
        ));
        if path.iter().any(|a| *a > u32::from(u16::MAX)) {
            let segs: Vec<_> = segments
                .iter()
                .map(|s| As4PathSegment::new(AsPathSegmentType::AsSequence, s.clone()))
                .collect();
            out.extend(attr(
                true,
                true,
                PathAttributeValue::As4Path(As4Path::new(segs)),
                6,
            ));
        }
    }
    if let Some(nh) = v4_next_hop {
        out.extend(attr(
            false,
            true,
            PathAttributeValue::NextHop(NextHop::new(nh)),
            4,
        ));
    }
    if let Some(med) = attrs.med {
        out.extend(attr(
            true,
            false,
            PathAttributeValue::MultiExitDiscriminator(MultiExitDiscriminator::new(med)),
            4,
        ));
    }
    if policy.ibgp {
        let lp = attrs.local_pref.unwrap_or(100);
        out.extend(attr(
            false,
            true,
            PathAttributeValue::LocalPreference(LocalPreference::new(lp)),
            4,
        ));
    }
    if !attrs.communities.is_empty() {
        let list: Vec<_> = attrs
            .communities
            .iter()
            .map(|c| Community::new(*c))
            .collect();
        let len = list.len() * 4;
        out.extend(attr(
            true,
            true,
            PathAttributeValue::Communities(Communities::new(list)),
            len,
        ));
    }
    if !attrs.large_communities.is_empty() {
        let list: Vec<_> = attrs
            .large_communities
            .iter()
            .map(|(a, b, c)| LargeCommunity::new(*a, *b, *c))
            .collect();
        let len = list.len() * 12;
        out.extend(attr(
            true,
            true,
            PathAttributeValue::LargeCommunities(LargeCommunities::new(list)),
            len,
        ));
    }
    out
}

fn mp_attr(value: PathAttributeValue) -> Option<PathAttribute> {
    // Extended length up front, so adding NLRI never changes the header size.
    PathAttribute::from(true, false, false, true, value).ok()
}

/// Splits `prefixes` into chunks whose wire size fits `budget` bytes each.
fn chunks<T: Copy>(prefixes: &[T], len_of: impl Fn(&T) -> u8, budget: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut used = 0;
    for p in prefixes {
        let size = prefix_wire_len(len_of(p));
        if used + size > budget && !current.is_empty() {
            out.push(std::mem::take(&mut current));
            used = 0;
        }
        used += size;
        current.push(*p);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn v4_addr(net: &Ipv4Net) -> Option<Ipv4UnicastAddress> {
    Ipv4Unicast::from_net(*net)
        .ok()
        .map(Ipv4UnicastAddress::new_no_path_id)
}

fn v6_addr(net: &Ipv6Net) -> Option<Ipv6UnicastAddress> {
    Ipv6Unicast::from_net(*net)
        .ok()
        .map(|n| Ipv6UnicastAddress::new(None, n))
}

/// UPDATEs announcing `routes` (prefixes the policy does not carry are skipped).
pub fn announcements(
    routes: &[(IpNet, RouteAttributes)],
    policy: &ExportPolicy,
) -> Vec<BgpMessage> {
    let mut groups: HashMap<&RouteAttributes, (Vec<Ipv4Net>, Vec<Ipv6Net>)> = HashMap::new();
    let mut order: Vec<&RouteAttributes> = Vec::new();
    for (prefix, attrs) in routes {
        if !policy.carries(prefix) {
            continue;
        }
        let entry = groups.entry(attrs).or_insert_with(|| {
            order.push(attrs);
            (Vec::new(), Vec::new())
        });
        match prefix {
            IpNet::V4(net) => entry.0.push(*net),
            IpNet::V6(net) => entry.1.push(*net),
        }
    }
    let mut out = Vec::new();
    for attrs in order {
        let Some((v4, v6)) = groups.get(attrs) else {
            continue;
        };
        if let (Some(nh), false) = (policy.next_hop_v4, v4.is_empty()) {
            let common = common_attributes(attrs, policy, Some(nh));
            let base = UPDATE_FIXED_LEN + common.iter().map(WritablePdu::len).sum::<usize>();
            for chunk in chunks(v4, Ipv4Net::prefix_len, MAX_MESSAGE_LEN - base) {
                let nlri: Vec<_> = chunk.iter().filter_map(v4_addr).collect();
                out.push(BgpMessage::Update(BgpUpdateMessage::new(
                    vec![],
                    common.clone(),
                    nlri,
                )));
            }
        }
        if let (Some(nh), false) = (policy.next_hop_v6, v6.is_empty()) {
            let common = common_attributes(attrs, policy, None);
            let empty = mp_attr(PathAttributeValue::MpReach(MpReach::Ipv6Unicast {
                next_hop_global: nh,
                next_hop_local: None,
                nlri: Box::new([]),
            }));
            let base = UPDATE_FIXED_LEN
                + common.iter().map(WritablePdu::len).sum::<usize>()
                + empty.as_ref().map_or(0, WritablePdu::len);
            for chunk in chunks(v6, Ipv6Net::prefix_len, MAX_MESSAGE_LEN - base) {
                let nlri: Vec<_> = chunk.iter().filter_map(v6_addr).collect();
                let mut attrs = Vec::with_capacity(common.len() + 1);
                attrs.extend(mp_attr(PathAttributeValue::MpReach(MpReach::Ipv6Unicast {
                    next_hop_global: nh,
                    next_hop_local: None,
                    nlri: nlri.into(),
                })));
                attrs.extend(common.iter().cloned());
                out.push(BgpMessage::Update(BgpUpdateMessage::new(
                    vec![],
                    attrs,
                    vec![],
                )));
            }
        }
    }
    out
}

/// UPDATEs withdrawing `prefixes` (IPv4 in the withdrawn-routes field, IPv6 in MP_UNREACH).
pub fn withdrawals(prefixes: &[IpNet]) -> Vec<BgpMessage> {
    let v4: Vec<Ipv4Net> = prefixes
        .iter()
        .filter_map(|p| if let IpNet::V4(n) = p { Some(*n) } else { None })
        .collect();
    let v6: Vec<Ipv6Net> = prefixes
        .iter()
        .filter_map(|p| if let IpNet::V6(n) = p { Some(*n) } else { None })
        .collect();
    let mut out = Vec::new();
    for chunk in chunks(&v4, Ipv4Net::prefix_len, MAX_MESSAGE_LEN - UPDATE_FIXED_LEN) {
        let withdrawn: Vec<_> = chunk.iter().filter_map(v4_addr).collect();
        out.push(BgpMessage::Update(BgpUpdateMessage::new(
            withdrawn,
            vec![],
            vec![],
        )));
    }
    let empty = mp_attr(PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast {
        nlri: Box::new([]),
    }));
    for chunk in chunks(
        &v6,
        Ipv6Net::prefix_len,
        MAX_MESSAGE_LEN - UPDATE_FIXED_LEN - empty.as_ref().map_or(0, WritablePdu::len),
    ) {
        let nlri: Vec<_> = chunk.iter().filter_map(v6_addr).collect();
        let unreach = mp_attr(PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast {
            nlri: nlri.into(),
        }));
        out.push(BgpMessage::Update(BgpUpdateMessage::new(
            vec![],
            Vec::from_iter(unreach),
            vec![],
        )));
    }
    out
}

/// End-of-RIB marker (RFC 4724 §2) for IPv4 or IPv6 unicast.
pub fn end_of_rib(family: AddressType) -> BgpMessage {
    match family {
        AddressType::Ipv6Unicast => {
            let unreach = mp_attr(PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast {
                nlri: Box::new([]),
            }));
            BgpMessage::Update(BgpUpdateMessage::new(
                vec![],
                Vec::from_iter(unreach),
                vec![],
            ))
        }
        _ => BgpMessage::Update(BgpUpdateMessage::new(vec![], vec![], vec![])),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy() -> ExportPolicy {
        ExportPolicy {
            ibgp: false,
            local_asn: 4_200_000_001,
            asn4: true,
            next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 2)),
            next_hop_v6: Some("2001:db8:ff::2".parse().unwrap()),
        }
    }

    #[test]
    fn ten_thousand_v6_host_routes_pack_tightly() {
        let attrs = RouteAttributes {
            communities: vec![65000 << 16 | 1],
            ..Default::default()
        };
        let routes: Vec<_> = (0..10_000u32)
            .map(|i| {
                (
                    IpNet::V6(
                        Ipv6Net::new(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)), 128)
                            .unwrap(),
                    ),
                    attrs.clone(),
                )
            })
            .collect();
        let msgs = announcements(&routes, &policy());
        for m in &msgs {
            assert!(m.len() <= MAX_MESSAGE_LEN, "{}", m.len());
        }
        // 17 bytes per /128: about 235 per UPDATE.
        assert!(msgs.len() <= 45, "{} updates", msgs.len());
        let total: usize = msgs
            .iter()
            .map(|m| crate::message::summarize(update(m)).announced.len())
            .sum();
        assert_eq!(total, 10_000);
    }

    fn update(m: &BgpMessage) -> &BgpUpdateMessage {
        match m {
            BgpMessage::Update(u) => u,
            _ => panic!("not an update"),
        }
    }

    #[test]
    fn groups_by_attributes() {
        let a = RouteAttributes {
            med: Some(10),
            ..Default::default()
        };
        let b = RouteAttributes {
            med: Some(20),
            ..Default::default()
        };
        let routes = vec![
            ("198.51.100.1/32".parse().unwrap(), a.clone()),
            ("198.51.100.2/32".parse().unwrap(), b.clone()),
            ("198.51.100.3/32".parse().unwrap(), a.clone()),
        ];
        let msgs = announcements(&routes, &policy());
        assert_eq!(msgs.len(), 2);
        let first = crate::message::summarize(update(&msgs[0]));
        assert_eq!(first.announced.len(), 2);
        assert_eq!(first.attributes.med, Some(10));
        assert_eq!(first.as_path, vec![4_200_000_001]);
    }

    #[test]
    fn withdrawals_pack_and_fit() {
        let prefixes: Vec<IpNet> = (0..5000u32)
            .map(|i| {
                IpNet::V6(
                    Ipv6Net::new(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(i)), 128)
                        .unwrap(),
                )
            })
            .chain(
                (0..=255u8)
                    .map(|i| IpNet::V4(Ipv4Net::new(Ipv4Addr::new(203, 0, 113, i), 32).unwrap())),
            )
            .collect();
        let msgs = withdrawals(&prefixes);
        assert!(msgs.iter().all(|m| m.len() <= MAX_MESSAGE_LEN));
        let total: usize = msgs
            .iter()
            .map(|m| crate::message::summarize(update(m)).withdrawn.len())
            .sum();
        assert_eq!(total, 5256);
    }
}
