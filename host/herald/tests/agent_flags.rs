//! `herald agent` flag handling through the real binary. Every case here fails validation before
//! any socket or netlink call, so it runs anywhere (no root, no namespaces).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

const BASE: &[&str] = &[
    "agent",
    "--kubernetes=false",
    "--bgp",
    "--bgpRouterID",
    "192.0.2.2",
    "--peerAddress",
    "192.0.2.1",
    "--peerAS",
    "65530",
];

/// Runs `herald` with a clean environment plus `env`.
fn herald(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn with_base(extra: &[&str]) -> Vec<&'static str> {
    let mut args: Vec<&'static str> = BASE.to_vec();
    for arg in extra {
        args.push(Box::leak(arg.to_string().into_boxed_str()));
    }
    args
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_fails_naming(output: &Output, needles: &[&str]) {
    let text = stderr(output);
    assert!(
        !output.status.success(),
        "expected failure, got {:?}; stderr: {text}",
        output.status
    );
    for needle in needles {
        assert!(text.contains(needle), "stderr lacks {needle:?}: {text}");
    }
}

#[test]
fn non_numeric_local_as_names_the_flag_and_value() {
    let output = herald(&with_base(&["--localAS", "abc"]), &[]);
    assert_fails_naming(&output, &["--localAS", "abc"]);
}

#[test]
fn garbage_bgppeers_names_the_flag_and_value() {
    let output = herald(&with_base(&["--bgppeers", "garbage"]), &[]);
    assert_fails_naming(&output, &["--bgppeers", "garbage"]);
}

#[test]
fn bgppeers_errors_never_print_the_password() {
    let output = herald(
        &with_base(&["--bgppeers", "192.0.2.9:65000:TopSecretPw:maybe"]),
        &[],
    );
    assert_fails_naming(&output, &["--bgppeers", "maybe"]);
    assert!(
        !stderr(&output).contains("TopSecretPw"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bare_ipv6_peer_gets_the_bracket_hint() {
    let output = herald(&with_base(&["--bgppeers", "2001:db8::1:65000"]), &[]);
    assert_fails_naming(&output, &["--bgppeers", "brackets"]);
}

#[test]
fn bad_vip_names_the_flag() {
    let output = herald(&with_base(&["--vip", "300.1.1.1"]), &[]);
    assert_fails_naming(&output, &["--vip", "300.1.1.1"]);
}

#[test]
fn missing_vips_file_names_flag_and_path() {
    let output = herald(
        &with_base(&["--vips-file", "/nonexistent/herald-vips"]),
        &[],
    );
    assert_fails_naming(&output, &["--vips-file", "/nonexistent/herald-vips"]);
}

#[test]
fn short_hold_time_names_the_flag() {
    let output = herald(&with_base(&["--holdTime", "2"]), &[]);
    assert_fails_naming(&output, &["--holdTime", "\"2\""]);
}

#[test]
fn kubernetes_mode_needs_peers_and_something_to_announce() {
    let output = herald(
        &["agent", "--bgp", "--controlplane", "--vip", "203.0.113.10"],
        &[],
    );
    assert_fails_naming(&output, &["no BGP peers", "--provider", "--peerAddress"]);
    let output = herald(&["agent", "--peerAddress", "192.0.2.1"], &[]);
    assert_fails_naming(
        &output,
        &["nothing to announce", "--controlplane", "--services"],
    );
    let output = herald(
        &["agent", "--peerAddress", "192.0.2.1", "--controlplane"],
        &[],
    );
    assert_fails_naming(&output, &["--controlplane needs the VIP"]);
    // kube-vip's variables mean the same.
    let output = herald(
        &["agent", "--peerAddress", "192.0.2.1"],
        &[("cp_enable", "true")],
    );
    assert_fails_naming(&output, &["--controlplane needs the VIP"]);
    let output = herald(
        &[
            "agent",
            "--kubernetes=false",
            "--peerAddress",
            "192.0.2.1",
            "--services",
            "--nodeName",
            "n1",
        ],
        &[],
    );
    assert_fails_naming(&output, &["--services needs Kubernetes"]);
}

#[test]
fn kube_vip_peer_switches_are_checked_and_never_echo_the_token() {
    let output = herald(
        &[
            "agent",
            "--services",
            "--annotations",
            "metal.equinix.com",
            "--metal",
            "--metalKey",
            "hunter2-token",
        ],
        &[],
    );
    assert_fails_naming(&output, &["choose one peer source"]);
    assert!(
        !stderr(&output).contains("hunter2-token"),
        "{}",
        stderr(&output)
    );
    let output = herald(
        &["agent", "--services", "--metal", "--metalProjectID", "p"],
        &[],
    );
    assert_fails_naming(&output, &["--metal needs the API token"]);
    let output = herald(
        &[
            "agent",
            "--services",
            "--provider-config",
            "/nonexistent/cloud-sa.json",
        ],
        &[],
    );
    assert_fails_naming(
        &output,
        &["--provider-config", "/nonexistent/cloud-sa.json"],
    );
    let output = herald(
        &["agent", "--services", "--provider", "no-such-provider"],
        &[],
    );
    assert_fails_naming(&output, &["no-such-provider", "not found"]);
}

#[test]
fn lease_timing_and_observability_address_are_validated() {
    let output = herald(
        &[
            "agent",
            "--peerAddress",
            "192.0.2.1",
            "--controlplane",
            "--vip",
            "203.0.113.10",
            "--leaderElection",
            "--leaseDuration",
            "5",
            "--leaseRenewDuration",
            "10",
            "--nodeName",
            "n1",
        ],
        &[],
    );
    assert_fails_naming(&output, &["--leaseDuration", "--leaseRenewDuration"]);
    let output = herald(
        &[
            "agent",
            "--peerAddress",
            "192.0.2.1",
            "--services",
            "--prometheusHTTPServer",
            "bogus",
            "--nodeName",
            "n1",
        ],
        &[],
    );
    assert_fails_naming(&output, &["--prometheusHTTPServer", "bogus"]);
}

#[test]
fn herald_env_vars_are_read_and_validated() {
    let output = herald(
        &["agent", "--kubernetes=false"],
        &[
            ("HERALD_BGPROUTERID", "192.0.2.2"),
            ("HERALD_PEERADDRESS", "192.0.2.1"),
            ("HERALD_LOCALAS", "abc"),
        ],
    );
    assert_fails_naming(&output, &["--localAS", "abc"]);
}

#[test]
fn kube_vip_env_names_are_read_and_validated() {
    let output = herald(
        &["agent", "--kubernetes=false"],
        &[
            ("bgp_routerid", "192.0.2.2"),
            ("bgp_peeraddress", "192.0.2.1"),
            ("bgp_as", "abc"),
        ],
    );
    assert_fails_naming(&output, &["bgp_as", "--localAS", "abc"]);
    let output = herald(
        &["agent", "--kubernetes=false"],
        &[("bgp_routerid", "192.0.2.2"), ("bgp_peers", "junk")],
    );
    assert_fails_naming(&output, &["--bgppeers", "junk"]);
}

#[test]
fn missing_peer_and_router_id_are_named() {
    let output = herald(
        &["agent", "--kubernetes=false", "--bgpRouterID", "192.0.2.2"],
        &[],
    );
    assert_fails_naming(&output, &["--peerAddress"]);
    let output = herald(
        &["agent", "--kubernetes=false", "--peerAddress", "192.0.2.1"],
        &[],
    );
    assert_fails_naming(&output, &["--bgpRouterID"]);
}

#[test]
fn help_lists_the_kube_vip_flags_and_hides_env_secrets() {
    let output = herald(&["agent", "--help"], &[("HERALD_PEERPASS", "EnvSecretPw")]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    for flag in [
        "--localAS",
        "--bgpRouterID",
        "--peerAddress",
        "--peerAS",
        "--peerPass",
        "--peerPassFile",
        "--multihop",
        "--multihopTTL",
        "--sourceIP",
        "--bgppeers",
        "--vip",
        "--vips-file",
        "--interface",
        "--holdTime",
        "--keepalive",
        "--gracefulRestart",
        "--peerGateway",
        "--peerPort",
        "--shutdownTimeout",
        "HERALD_LOCALAS",
    ] {
        assert!(text.contains(flag), "help lacks {flag}");
    }
    assert!(
        !text.contains("EnvSecretPw"),
        "help shows a secret from the environment"
    );
}
