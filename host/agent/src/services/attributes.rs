//! Per-Service BGP attributes from annotations (documented in docs/agent.md):
//! `bgp.herald.dev/communities` ("65000:100,no-export"), `bgp.herald.dev/large-communities`
//! ("65000:1:2,…") and `bgp.herald.dev/local-pref` ("200", iBGP peers only).

use herald_bgp::RouteAttributes;
use herald_kube::ServiceInfo;

pub const ANNOTATION_COMMUNITIES: &str = "bgp.herald.dev/communities";
pub const ANNOTATION_LARGE_COMMUNITIES: &str = "bgp.herald.dev/large-communities";
pub const ANNOTATION_LOCAL_PREF: &str = "bgp.herald.dev/local-pref";

/// RFC 1997 well-known communities, by the names BIRD, FRR and GoBGP use.
const WELL_KNOWN: &[(&str, u32)] = &[
    ("no-export", 0xFFFF_FF01),
    ("no-advertise", 0xFFFF_FF02),
    ("no-export-subconfed", 0xFFFF_FF03),
    ("blackhole", 0xFFFF_029A),
];

/// The attributes the Service asks for, or an error naming the annotation and the bad entry.
pub fn route_attributes(service: &ServiceInfo) -> Result<RouteAttributes, String> {
    let mut attributes = RouteAttributes::default();
    if let Some(list) = service.annotations.get(ANNOTATION_COMMUNITIES) {
        attributes.communities = entries(list)
            .map(|entry| community(entry).ok_or_else(|| bad(ANNOTATION_COMMUNITIES, entry, "ASN:VALUE with both 0–65535, or no-export, no-advertise, no-export-subconfed, blackhole")))
            .collect::<Result<_, _>>()?;
        attributes.communities.sort_unstable();
        attributes.communities.dedup();
    }
    if let Some(list) = service.annotations.get(ANNOTATION_LARGE_COMMUNITIES) {
        attributes.large_communities = entries(list)
            .map(|entry| {
                large_community(entry).ok_or_else(|| {
                    bad(
                        ANNOTATION_LARGE_COMMUNITIES,
                        entry,
                        "GLOBAL:LOCAL1:LOCAL2, each 0–4294967295",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        attributes.large_communities.sort_unstable();
        attributes.large_communities.dedup();
    }
    if let Some(text) = service.annotations.get(ANNOTATION_LOCAL_PREF) {
        let text = text.trim();
        attributes.local_pref = Some(
            text.parse()
                .map_err(|_| bad(ANNOTATION_LOCAL_PREF, text, "a number 0–4294967295"))?,
        );
    }
    Ok(attributes)
}

/// Two Services on one address: one route carries what both ask for (union of the communities,
/// the higher local-pref), so the result does not depend on which Service came first.
pub fn merge(into: &mut RouteAttributes, other: &RouteAttributes) {
    into.communities.extend(&other.communities);
    into.communities.sort_unstable();
    into.communities.dedup();
    into.large_communities.extend(&other.large_communities);
    into.large_communities.sort_unstable();
    into.large_communities.dedup();
    into.local_pref = into.local_pref.max(other.local_pref);
    into.med = into.med.min(other.med).or(into.med).or(other.med);
}

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

fn bad(annotation: &str, entry: &str, expected: &str) -> String {
    format!("annotation {annotation}: {entry:?} is not valid (expected {expected})")
}

fn community(entry: &str) -> Option<u32> {
    if let Some((_, value)) = WELL_KNOWN.iter().find(|(name, _)| *name == entry) {
        return Some(*value);
    }
    let (asn, value) = entry.split_once(':')?;
    let asn: u16 = asn.parse().ok()?;
    let value: u16 = value.parse().ok()?;
    Some((u32::from(asn) << 16) | u32::from(value))
}

fn large_community(entry: &str) -> Option<(u32, u32, u32)> {
    let mut parts = entry.split(':').map(|part| part.parse::<u32>().ok());
    let triple = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(triple)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::service;

    #[test]
    fn all_three_annotations() {
        let mut web = service("web");
        web.annotations.insert(
            ANNOTATION_COMMUNITIES.into(),
            "65000:100, no-export,65000:100".into(),
        );
        web.annotations
            .insert(ANNOTATION_LARGE_COMMUNITIES.into(), "4200000001:1:2".into());
        web.annotations
            .insert(ANNOTATION_LOCAL_PREF.into(), " 200 ".into());
        let attributes = route_attributes(&web).unwrap();
        assert_eq!(
            attributes.communities,
            vec![(65000 << 16) | 100, 0xFFFF_FF01]
        );
        assert_eq!(attributes.large_communities, vec![(4_200_000_001, 1, 2)]);
        assert_eq!(attributes.local_pref, Some(200));
    }

    #[test]
    fn no_annotations_no_attributes() {
        assert_eq!(
            route_attributes(&service("web")).unwrap(),
            RouteAttributes::default()
        );
    }

    #[test]
    fn errors_name_annotation_and_entry() {
        for (key, value) in [
            (ANNOTATION_COMMUNITIES, "65536:1"),
            (ANNOTATION_COMMUNITIES, "no-such-name"),
            (ANNOTATION_LARGE_COMMUNITIES, "1:2"),
            (ANNOTATION_LARGE_COMMUNITIES, "1:2:3:4"),
            (ANNOTATION_LOCAL_PREF, "high"),
        ] {
            let mut web = service("web");
            web.annotations.insert(key.into(), value.into());
            let error = route_attributes(&web).unwrap_err();
            assert!(error.contains(key) && error.contains(value), "{error}");
        }
    }

    #[test]
    fn merging_is_order_independent() {
        let a = RouteAttributes {
            communities: vec![2, 1],
            local_pref: Some(100),
            ..Default::default()
        };
        let b = RouteAttributes {
            communities: vec![3],
            local_pref: Some(300),
            ..Default::default()
        };
        let mut ab = a.clone();
        merge(&mut ab, &b);
        let mut ba = b.clone();
        merge(&mut ba, &a);
        assert_eq!(ab.communities, vec![1, 2, 3]);
        assert_eq!(ab.local_pref, Some(300));
        assert_eq!(ab, ba);
    }
}
