//! The provider natively against the kube-router fixtures (copied from the reference set), and
//! every parsing rule and trap of kube-router's annotations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use herald_sdk::metadata::{HostDeclaration, ProviderMetadata};
use herald_sdk::testing::{MockHttp, node_from_yaml};
use herald_sdk::{BgpPeer, Config, Discovery, NodeContext, Password, Provider, ProviderError};
use kube_router_annotations::KubeRouterAnnotations;

const PEERS: &str = include_str!("fixtures/node-peers-annotation.yaml");
const DEPRECATED: &str = include_str!("fixtures/node-deprecated-annotations.yaml");
const BOTH: &str = include_str!("fixtures/node-both-formats.yaml");
const INVALID_ASN: &str = include_str!("fixtures/node-invalid-asn.yaml");

/// base64 of `ExamplePass123`, as in the fixtures.
const PASSWORD_B64: &str = "RXhhbXBsZVBhc3MxMjM=";

fn discover_with(config: &[(&str, &str)], node: &NodeContext) -> Result<Discovery, ProviderError> {
    let mut provider = KubeRouterAnnotations::default();
    provider.configure(&Config::from_pairs(config.iter().copied()))?;
    let http = MockHttp::new();
    let found = provider.discover(node, &http);
    assert!(http.requests().is_empty(), "no network access");
    found
}

fn peers_of(yaml: &str) -> Vec<BgpPeer> {
    discover_with(&[], &node_from_yaml(yaml).unwrap())
        .unwrap()
        .peers
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn peer(address: &str, asn: u32) -> BgpPeer {
    BgpPeer::new(ip(address), asn, 65100)
}

/// A node with `annotations` (kube-router.io/node.asn 65100 unless given).
fn node(annotations: &[(&str, &str)]) -> NodeContext {
    let mut node = NodeContext {
        node_name: "n1".into(),
        ..NodeContext::default()
    };
    node.annotations
        .insert("kube-router.io/node.asn".into(), "65100".into());
    for (key, value) in annotations {
        node.annotations.insert((*key).into(), (*value).into());
    }
    node
}

fn peers_yaml(yaml: &str) -> Result<Vec<BgpPeer>, ProviderError> {
    discover_with(&[], &node(&[("kube-router.io/peers", yaml)])).map(|d| d.peers)
}

#[track_caller]
fn assert_invalid(result: Result<Vec<BgpPeer>, ProviderError>, needles: &[&str]) {
    match result {
        Err(ProviderError::InvalidInput(message)) => {
            for needle in needles {
                assert!(message.contains(needle), "{needle:?} not in {message:?}");
            }
        }
        other => panic!("expected invalid-input {needles:?}, got {other:?}"),
    }
}

#[test]
fn peers_annotation_fixture() {
    assert_eq!(
        discover_with(&[], &node_from_yaml(PEERS).unwrap()).unwrap(),
        Discovery {
            peers: vec![
                BgpPeer {
                    source_address: Some(ip("192.0.2.10")),
                    password: Some(Password::new("ExamplePass123")),
                    ..peer("192.0.2.1", 65000)
                },
                BgpPeer {
                    port: Some(1790),
                    ..peer("192.0.2.2", 65000)
                },
            ],
            refresh_after_seconds: None,
        }
    );
}

#[test]
fn deprecated_lists_fixture() {
    assert_eq!(
        peers_of(DEPRECATED),
        [
            BgpPeer {
                source_address: Some(ip("192.0.2.11")),
                password: Some(Password::new("ExamplePass123")),
                port: Some(179),
                ..peer("192.0.2.1", 65000)
            },
            BgpPeer {
                port: Some(1790),
                ..peer("192.0.2.2", 65000)
            },
        ]
    );
}

#[test]
fn peers_annotation_wins_over_the_lists() {
    assert_eq!(peers_of(BOTH), [peer("192.0.2.5", 65005)]);
    // Even invalid lists are ignored once kube-router.io/peers exists.
    let mut both = node_from_yaml(BOTH).unwrap();
    both.annotations
        .insert("kube-router.io/peer.asns".into(), "sixty-five".into());
    assert_eq!(discover_with(&[], &both).unwrap().peers.len(), 1);
}

#[test]
fn a_reserved_asn_rejects_the_whole_annotation() {
    let err = discover_with(&[], &node_from_yaml(INVALID_ASN).unwrap()).unwrap_err();
    assert_invalid(
        Err(err),
        &[
            "kube-router.io/peers[1].remoteasn",
            "reserved ASN number \"64500\"",
        ],
    );
}

#[test]
fn kube_router_asn_ranges_apply_to_peers_in_both_formats() {
    for refused in [
        "0",
        "23456",
        "64000",
        "64511",
        "65535",
        "65536",
        "131071",
        "4294967295",
    ] {
        assert_invalid(
            peers_yaml(&format!("- remoteip: 192.0.2.1\n  remoteasn: {refused}\n")),
            &["kube-router.io/peers[0].remoteasn", "reserved"],
        );
        let lists = node(&[
            ("kube-router.io/peer.ips", "192.0.2.1"),
            ("kube-router.io/peer.asns", refused),
        ]);
        assert_invalid(
            discover_with(&[], &lists).map(|d| d.peers),
            &["kube-router.io/peer.asns[0]", "reserved"],
        );
    }
    for allowed in ["1", "64512", "65534", "131072", "4200000000", "4294967294"] {
        let peers = peers_yaml(&format!("- remoteip: 192.0.2.1\n  remoteasn: {allowed}\n"));
        assert_eq!(peers.unwrap()[0].peer_asn.to_string(), allowed);
    }
}

#[test]
fn asn_text_is_plain_decimal_never_octal() {
    // kube-router's ParseUint(s, 0, 32) reads 065000 as octal 27136: refused, never 65000.
    for go_style in ["065000", "0x10", "65_000", "0o17"] {
        assert_invalid(
            peers_yaml(&format!("- remoteip: 192.0.2.1\n  remoteasn: {go_style}\n")),
            &["kube-router.io/peers[0].remoteasn", "plain decimal"],
        );
        let lists = node(&[
            ("kube-router.io/peer.ips", "192.0.2.1"),
            ("kube-router.io/peer.asns", go_style),
        ]);
        assert_invalid(
            discover_with(&[], &lists).map(|d| d.peers),
            &["kube-router.io/peer.asns[0]", "plain decimal"],
        );
        let mut node_asn = node_from_yaml(PEERS).unwrap();
        node_asn
            .annotations
            .insert("kube-router.io/node.asn".into(), go_style.into());
        assert_invalid(
            discover_with(&[], &node_asn).map(|d| d.peers),
            &["kube-router.io/node.asn", "plain decimal"],
        );
    }
}

#[test]
fn yaml_types_are_checked() {
    // A quoted number is a string: refused rather than converted.
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: \"65000\"\n"),
        &["kube-router.io/peers[0].remoteasn", "quoted"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: -65000\n"),
        &["kube-router.io/peers[0].remoteasn"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: 65000\n  port: '1790'\n"),
        &["kube-router.io/peers[0].port", "quoted"],
    );
    for port in ["0", "65536", "x"] {
        assert_invalid(
            peers_yaml(&format!(
                "- remoteip: 192.0.2.1\n  remoteasn: 65000\n  port: {port}\n"
            )),
            &["kube-router.io/peers[0].port"],
        );
    }
    assert_invalid(
        peers_yaml("- remoteip: [192.0.2.1]\n  remoteasn: 65000\n"),
        &["kube-router.io/peers[0].remoteip", "single value"],
    );
    assert_invalid(
        peers_yaml("remoteip: 192.0.2.1\nremoteasn: 65000\n"),
        &["kube-router.io/peers", "list"],
    );
    assert_invalid(
        peers_yaml("- 192.0.2.1\n"),
        &["kube-router.io/peers[0]", "mapping"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: 65000\n  remoteasn: 65001\n"),
        &["kube-router.io/peers[0]", "twice"],
    );
    assert_invalid(
        peers_yaml(
            "- remoteip: 192.0.2.1\n  remoteasn: 65000\n- {remoteip: 192.0.2.1, remoteasn: 65001}\n",
        ),
        &["kube-router.io/peers[1]", "listed twice"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n    remoteasn: 65000\n"),
        &["kube-router.io/peers", "YAML"],
    );
    assert_invalid(
        peers_yaml("- &p {remoteip: 192.0.2.1, remoteasn: 65000}\n- *p\n"),
        &["kube-router.io/peers", "aliases"],
    );
}

#[test]
fn required_fields_and_addresses() {
    assert_invalid(
        peers_yaml("- remoteasn: 65000\n"),
        &["kube-router.io/peers[0].remoteip", "missing"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: null\n"),
        &["kube-router.io/peers[0].remoteasn", "missing"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.300\n  remoteasn: 65000\n"),
        &["kube-router.io/peers[0].remoteip", "not an IP"],
    );
    assert_invalid(
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: 65000\n  localip: eth0\n"),
        &["kube-router.io/peers[0].localip"],
    );
    // Unquoted IPv6 is still a string; an empty localip means the node's address.
    let peers =
        peers_yaml("- remoteip: 2001:db8::1\n  remoteasn: 65000\n  localip: \"\"\n").unwrap();
    assert_eq!(
        (peers[0].peer_address, peers[0].source_address),
        (ip("2001:db8::1"), None)
    );
    // Unknown keys and bfd are ignored, as kube-router ignores them.
    let peers = peers_yaml(
        "- remoteip: 192.0.2.1\n  remoteasn: 65000\n  description: rack router\n  bfd:\n    enabled: true\n",
    )
    .unwrap();
    assert_eq!(peers, [peer("192.0.2.1", 65000)]);
}

#[test]
fn passwords_are_base64_decoded_exactly_and_never_quoted() {
    // kube-router's docs example: `echo` added a newline, which is part of the password.
    let peers =
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: 65000\n  password: U2VjdXJlUGFzc3dvcmQK\n")
            .unwrap();
    assert_eq!(peers[0].password, Some(Password::new("SecurePassword\n")));
    let peers =
        peers_yaml("- remoteip: 192.0.2.1\n  remoteasn: 65000\n  password: \"\"\n").unwrap();
    assert_eq!(peers[0].password, None);

    let secret = "U2VjcmV0IQ";
    let err = peers_yaml(&format!(
        "- remoteip: 192.0.2.1\n  remoteasn: 65000\n  password: {secret}\n"
    ))
    .unwrap_err();
    assert!(!err.to_string().contains(secret), "{err}");
    assert_invalid(Err(err), &["kube-router.io/peers[0].password", "base64"]);

    let long = "eHh4".repeat(27); // 81 bytes decoded
    assert_invalid(
        peers_yaml(&format!(
            "- remoteip: 192.0.2.1\n  remoteasn: 65000\n  password: {long}\n"
        )),
        &["kube-router.io/peers[0].password", "80"],
    );
    let lists = node(&[
        ("kube-router.io/peer.ips", "192.0.2.1,192.0.2.2"),
        ("kube-router.io/peer.asns", "65000,65000"),
        ("kube-router.io/peer.passwords", &format!(",{secret}")),
    ]);
    let err = discover_with(&[], &lists).unwrap_err();
    assert!(!err.to_string().contains(secret), "{err}");
    assert_invalid(Err(err), &["kube-router.io/peer.passwords[1]", "base64"]);
}

#[test]
fn lists_split_on_commas_exactly() {
    let spaced = node(&[
        ("kube-router.io/peer.ips", "192.0.2.1, 192.0.2.2"),
        ("kube-router.io/peer.asns", "65000,65000"),
    ]);
    assert_invalid(
        discover_with(&[], &spaced).map(|d| d.peers),
        &["kube-router.io/peer.ips[1]", "\" 192.0.2.2\""],
    );
    let blank_port = node(&[
        ("kube-router.io/peer.ips", "192.0.2.1,192.0.2.2"),
        ("kube-router.io/peer.asns", "65000,65000"),
        ("kube-router.io/peer.ports", "179,"),
    ]);
    assert_invalid(
        discover_with(&[], &blank_port).map(|d| d.peers),
        &["kube-router.io/peer.ports[1]"],
    );
    let empty_ips = node(&[
        ("kube-router.io/peer.ips", ""),
        ("kube-router.io/peer.asns", "65000"),
    ]);
    assert_invalid(
        discover_with(&[], &empty_ips).map(|d| d.peers),
        &["kube-router.io/peer.ips[0]"],
    );
}

#[test]
fn list_counts_must_match() {
    let base = [
        ("kube-router.io/peer.ips", "192.0.2.1,192.0.2.2"),
        ("kube-router.io/peer.asns", "65000,65000"),
    ];
    let with = |extra: (&str, &str)| {
        let mut annotations = base.to_vec();
        annotations.push(extra);
        discover_with(&[], &node(&annotations)).map(|d| d.peers)
    };
    assert_invalid(
        with(("kube-router.io/peer.asns", "65000")),
        &["kube-router.io/peer.asns", "1 ASNs for 2"],
    );
    for key in [
        "kube-router.io/peer.passwords",
        "kube-router.io/peer.localips",
        "kube-router.io/peer.ports",
    ] {
        assert_invalid(with((key, "")), &[key, "1 items for 2"]);
    }
    // Blank passwords and local IPs are "none", one per peer.
    let peers = with(("kube-router.io/peer.localips", ",192.0.2.12")).unwrap();
    assert_eq!(peers[1].source_address, Some(ip("192.0.2.12")));
    assert_invalid(
        with(("kube-router.io/peer.ips", "192.0.2.1,192.0.2.1")),
        &["kube-router.io/peer.ips[1]", "listed twice"],
    );
}

#[test]
fn missing_or_empty_annotations_are_not_ready() {
    let bare = NodeContext {
        node_name: "bare".into(),
        ..NodeContext::default()
    };
    for node in [
        bare,
        node(&[]),
        node(&[("kube-router.io/peers", "")]),
        node(&[("kube-router.io/peers", "[]")]),
        node(&[("kube-router.io/peers", "# none yet\n")]),
        node(&[("kube-router.io/peer.ips", "192.0.2.1")]),
        node(&[("kube-router.io/peer.asns", "65000")]),
        node(&[("kube-router.io/peer.passwords", PASSWORD_B64)]),
    ] {
        let err = discover_with(&[], &node).unwrap_err();
        assert!(matches!(err, ProviderError::NotReady(_)), "{err}");
    }
    let err = discover_with(&[], &node(&[("kube-router.io/peer.ips", "192.0.2.1")])).unwrap_err();
    assert!(err.message().contains("kube-router.io/peer.asns"), "{err}");
}

#[test]
fn local_asn_from_node_or_cluster_asn() {
    let mut without = node_from_yaml(BOTH).unwrap();
    without.annotations.remove("kube-router.io/node.asn");
    assert_eq!(
        discover_with(&[], &without).unwrap().peers[0].local_asn,
        64512
    );
    assert_eq!(
        discover_with(&[("cluster-asn", "4200000001")], &without)
            .unwrap()
            .peers[0]
            .local_asn,
        4_200_000_001
    );
    // node.asn wins over cluster-asn, and is not range-checked beyond what the host refuses.
    assert_eq!(
        discover_with(&[("cluster-asn", "65001")], &node_from_yaml(BOTH).unwrap())
            .unwrap()
            .peers[0]
            .local_asn,
        65100
    );
    for bad in ["", "0", "23456", "AS65100", " 65100"] {
        let mut bad_node = node_from_yaml(BOTH).unwrap();
        bad_node
            .annotations
            .insert("kube-router.io/node.asn".into(), bad.into());
        assert_invalid(
            discover_with(&[], &bad_node).map(|d| d.peers),
            &["kube-router.io/node.asn"],
        );
    }
}

#[test]
fn multihop_and_hold_time_come_from_config() {
    let peers = discover_with(
        &[("multihop-ttl", "4"), ("hold-time-seconds", "30")],
        &node_from_yaml(PEERS).unwrap(),
    )
    .unwrap()
    .peers;
    assert!(
        peers
            .iter()
            .all(|p| p.multihop_ttl == Some(4) && p.hold_time_seconds == Some(30))
    );
    let direct = discover_with(&[("multihop-ttl", "1")], &node_from_yaml(PEERS).unwrap()).unwrap();
    assert!(direct.peers.iter().all(|p| p.multihop_ttl.is_none()));
    for config in [
        [("multihop-ttl", "0")],
        [("multihop-ttl", "256")],
        [("hold-time-seconds", "2")],
        [("hold-time-seconds", "70000")],
        [("cluster-asn", "0")],
        [("cluster-asn", "065000")],
        [("peer-router-ips", "x")],
    ] {
        let mut provider = KubeRouterAnnotations::default();
        let err = provider.configure(&Config::from_pairs(config)).unwrap_err();
        assert!(
            matches!(err, ProviderError::InvalidInput(_)),
            "{config:?}: {err}"
        );
    }
}

#[test]
fn metadata_declares_no_hosts_and_the_config_keys() {
    let metadata =
        ProviderMetadata::parse(kube_router_annotations::PROVIDER_METADATA_JSON.as_bytes())
            .unwrap();
    assert_eq!(metadata.name, "kube-router-annotations");
    assert_eq!(metadata.hosts, Vec::<HostDeclaration>::new());
    let keys: Vec<(&str, Option<&str>)> = metadata
        .config
        .iter()
        .map(|k| (k.key.as_str(), k.default.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("cluster-asn", Some("64512")),
            ("multihop-ttl", None),
            ("hold-time-seconds", None),
        ]
    );
}
