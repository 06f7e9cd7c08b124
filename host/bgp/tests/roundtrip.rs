//! Property tests: every message Herald sends decodes (through the same path the
//! session uses for received bytes) back to what was meant.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::BytesMut;
use herald_bgp::codec::{self, DecodeContext, Received};
use herald_bgp::message::{self, OpenParams};
use herald_bgp::rfc7606::UpdateVerdict;
use herald_bgp::update_builder::{self, ExportPolicy};
use herald_bgp::wire::BgpMessage;
use herald_bgp::{AddressType, RouteAttributes};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

fn roundtrip(msg: &BgpMessage, asn4: bool) -> Received {
    let bytes = codec::encode_to_bytes(msg).unwrap();
    assert!(bytes.len() <= codec::MAX_MESSAGE_LEN);
    let mut buf = BytesMut::from(&bytes[..]);
    let frame = codec::next_frame(&mut buf)
        .unwrap()
        .expect("complete frame");
    assert!(buf.is_empty());
    codec::decode_frame(&frame, &mut DecodeContext::new(asn4, false)).unwrap()
}

fn decoded_message(msg: &BgpMessage, asn4: bool) -> BgpMessage {
    match roundtrip(msg, asn4) {
        Received::Message(m) => m,
        Received::Update(u) => {
            assert_eq!(u.verdict, UpdateVerdict::Valid);
            BgpMessage::Update(u.message.expect("decoded UPDATE"))
        }
    }
}

fn v4_prefix() -> impl Strategy<Value = IpNet> {
    // Unicast space only: netgauze refuses multicast/broadcast NLRI.
    (0x0100_0000u32..0xdf00_0000, 8u8..=32)
        .prop_map(|(a, len)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc()))
}

fn v6_prefix() -> impl Strategy<Value = IpNet> {
    (any::<u64>(), 16u8..=128).prop_map(|(low, len)| {
        let addr = Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(low));
        IpNet::V6(Ipv6Net::new(addr, len).unwrap().trunc())
    })
}

fn route_attributes() -> impl Strategy<Value = RouteAttributes> {
    (
        proptest::collection::vec(any::<u32>(), 0..80),
        proptest::collection::vec((any::<u32>(), any::<u32>(), any::<u32>()), 0..30),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(
            |(communities, large_communities, local_pref, med)| RouteAttributes {
                communities,
                large_communities,
                local_pref,
                med,
            },
        )
}

fn policy() -> impl Strategy<Value = ExportPolicy> {
    (any::<bool>(), 1u32..=u32::MAX, any::<bool>()).prop_map(|(ibgp, local_asn, asn4)| {
        ExportPolicy {
            ibgp,
            local_asn,
            asn4,
            next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 2)),
            next_hop_v6: Some("2001:db8:ff::2".parse().unwrap()),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn open_with_all_capabilities(local_asn in 1u32.., hold in prop_oneof![Just(0u16), 3u16..], router_id in 0x0100_0000u32..0xdf00_0000, gr in proptest::option::of((any::<u16>(), any::<bool>()))) {
        let params = OpenParams { local_asn, hold_time: hold, router_id: Ipv4Addr::from(router_id), graceful_restart: gr };
        let msg = message::open(&params);
        prop_assert_eq!(decoded_message(&msg, true), msg.clone());
        let BgpMessage::Open(open) = msg else { unreachable!() };
        prop_assert_eq!(open.my_asn4(), local_asn);
    }

    #[test]
    fn updates_carry_exactly_the_routes(
        routes in proptest::collection::vec((prop_oneof![v4_prefix(), v6_prefix()], prop_oneof![Just(RouteAttributes::default()), route_attributes()]), 1..400),
        policy in policy(),
    ) {
        // Last write wins, as in the RIB.
        let table: std::collections::BTreeMap<IpNet, RouteAttributes> = routes.into_iter().collect();
        let routes: Vec<_> = table.clone().into_iter().collect();
        let msgs = update_builder::announcements(&routes, &policy);
        let mut seen = BTreeSet::new();
        for msg in &msgs {
            let decoded = decoded_message(msg, policy.asn4);
            prop_assert_eq!(&decoded, msg);
            let BgpMessage::Update(update) = decoded else { unreachable!() };
            let summary = message::summarize(&update);
            for prefix in &summary.announced {
                let mut expected = table[prefix].clone();
                expected.local_pref = if policy.ibgp { Some(expected.local_pref.unwrap_or(100)) } else { None };
                prop_assert_eq!(&summary.attributes, &expected);
                prop_assert!(seen.insert(*prefix), "prefix sent twice");
                match prefix {
                    IpNet::V4(_) => prop_assert_eq!(summary.next_hop_v4, policy.next_hop_v4),
                    IpNet::V6(_) => prop_assert_eq!(summary.next_hop_v6, policy.next_hop_v6),
                }
            }
            let expected_path = if policy.ibgp { vec![] } else if policy.asn4 || policy.local_asn <= 65535 { vec![policy.local_asn] } else { vec![23456] };
            prop_assert_eq!(summary.as_path, expected_path);
        }
        prop_assert_eq!(seen, table.keys().copied().collect::<BTreeSet<_>>());
    }

    #[test]
    fn withdrawals_carry_exactly_the_prefixes(prefixes in proptest::collection::btree_set(prop_oneof![v4_prefix(), v6_prefix()], 1..2000)) {
        let list: Vec<_> = prefixes.iter().copied().collect();
        let mut seen = BTreeSet::new();
        for msg in update_builder::withdrawals(&list) {
            let BgpMessage::Update(update) = decoded_message(&msg, true) else { unreachable!() };
            let summary = message::summarize(&update);
            prop_assert!(summary.announced.is_empty());
            seen.extend(summary.withdrawn);
        }
        prop_assert_eq!(seen, prefixes);
    }

    #[test]
    fn shutdown_communication_round_trips(text in ".{0,300}") {
        let msg = BgpMessage::Notification(message::administrative_shutdown(&text));
        let decoded = decoded_message(&msg, true);
        prop_assert_eq!(&decoded, &msg);
        let BgpMessage::Notification(n) = decoded else { unreachable!() };
        let described = message::describe_notification(&n);
        prop_assert!(described.starts_with("Cease/Administrative Shutdown"));
        let value = message::shutdown_communication(&text);
        let back = message::parse_shutdown_communication(&value).unwrap();
        prop_assert!(back.len() <= 255);
        prop_assert!(text.starts_with(&back));
    }

    /// Arbitrary bytes never panic the receive path.
    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), prefix_marker in any::<bool>()) {
        let mut input = if prefix_marker { vec![0xff; 16] } else { vec![] };
        input.extend(bytes);
        let mut buf = BytesMut::from(&input[..]);
        let _ = codec::decode_stream(&mut buf, &mut DecodeContext::default());
    }
}

#[test]
fn keepalive_end_of_rib_route_refresh_and_other_notifications() {
    assert_eq!(
        decoded_message(&BgpMessage::KeepAlive, true),
        BgpMessage::KeepAlive
    );
    for family in [AddressType::Ipv4Unicast, AddressType::Ipv6Unicast] {
        let eor = update_builder::end_of_rib(family);
        let BgpMessage::Update(update) = decoded_message(&eor, true) else {
            panic!()
        };
        assert_eq!(update.end_of_rib(), Some(family));
        let rr = message::route_refresh(family);
        assert_eq!(decoded_message(&rr, true), rr);
    }
    for n in [
        message::peer_deconfigured("bye"),
        message::configuration_changed(),
        message::hold_timer_expired(),
        message::unexpected_message(true),
        message::unexpected_message(false),
    ] {
        let msg = BgpMessage::Notification(n);
        assert_eq!(decoded_message(&msg, true), msg);
    }
}
