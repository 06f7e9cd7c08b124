//! `herald doctor` end to end: the real binary inside a lab node namespace, with the
//! equinix-annotations component, a router namespace running BIRD, and `herald agent` serving
//! `/status`.
//!
//! The lab is Equinix's private /31 in documentation space: the node holds 192.0.2.2/31, the
//! router (the "private gateway") 192.0.2.3/31 and the BGP address 169.254.255.1 on its `lo`.
//! The node's annotations say `network-4-private: 192.0.2.0/24` and `src-ip: 192.0.2.2`, so the
//! provider derives `route_via` 192.0.2.3, the /31 partner (providers/equinix-annotations/src/gateway.rs).
//!
//! Needs root (network namespaces) and, for the agent test, BIRD: skipped with a note outside CI,
//! fails under CI=true.
//! Every test runs doctor inside namespaces it creates; only the flag test runs in the host
//! namespace, and it stops before reading anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process_log;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use herald_fake_apiserver::FakeApiServer;
use herald_testbed::{Bird, EQUINIX_AS, Lab, Link, Netns, PEER1_V4, PeerConfig, Process};
use process_log::plain_log;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const NODE_NAME: &str = "k8s-node-1";
const NODE_ADDRESS: &str = "192.0.2.2";
/// The /31 partner of NODE_ADDRESS: the route_via the provider derives.
const GATEWAY: &str = "192.0.2.3";
const VIP: &str = "203.0.113.10";
const OBSERVE: &str = "127.0.0.1:2112";
const PASSWORD: &str = "Doctor-MD5-Secret-42";
/// base64 of PASSWORD, as the CCM writes `bgp-pass`.
const PASSWORD_B64: &str = "RG9jdG9yLU1ENS1TZWNyZXQtNDI=";
const API_TOKEN: &str = "FakeMetalApiTokenDoNotUse0000000";
const FIX: &str = "ip route add 169.254.255.1/32 via 192.0.2.3";

/// The node as the CCM (v3.3+) annotates it, adapted to the lab's addresses.
fn node_yaml() -> String {
    format!(
        "apiVersion: v1
kind: Node
metadata:
  name: {NODE_NAME}
  annotations:
    metal.equinix.com/network-4-private: \"192.0.2.0/24\"
    metal.equinix.com/bgp-peers-0-node-asn: \"65000\"
    metal.equinix.com/bgp-peers-0-peer-asn: \"{EQUINIX_AS}\"
    metal.equinix.com/bgp-peers-0-peer-ip: \"{PEER1_V4}\"
    metal.equinix.com/bgp-peers-0-src-ip: \"{NODE_ADDRESS}\"
    metal.equinix.com/bgp-peers-0-bgp-pass: \"{PASSWORD_B64}\"
spec:
  providerID: equinixmetal://a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739
"
    )
}

struct DoctorLab {
    node: Netns,
    router: Netns,
    link: Link,
    node_file: PathBuf,
    // Last: dropping the lab kills the daemons and deletes the namespaces.
    lab: Lab,
}

impl DoctorLab {
    /// Node ↔ router on the /31, the peer address on the router, no route to it on the node.
    fn new(name: &str) -> Option<Self> {
        let lab = Lab::for_test(name)?;
        let node = lab.namespace("node");
        let router = lab.namespace("router");
        let link = lab.link(
            &node,
            &[&format!("{NODE_ADDRESS}/31")],
            &router,
            &[&format!("{GATEWAY}/31")],
        );
        router.add_address_lo(&format!("{PEER1_V4}/32")).unwrap();
        let node_file = lab.dir().join("node.yaml");
        std::fs::write(&node_file, node_yaml()).unwrap();
        Some(Self {
            node,
            router,
            link,
            node_file,
            lab,
        })
    }

    fn node_file(&self) -> &str {
        self.node_file.to_str().unwrap()
    }

    /// `herald doctor --provider <equinix-annotations> --node <file> <args…>` in the node namespace.
    fn doctor(&self, args: &[&str]) -> Output {
        let mut all = vec!["--node", self.node_file()];
        all.extend_from_slice(args);
        doctor_in(
            &self.node,
            herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
            &all,
        )
    }

    /// BIRD on the router: AS 65530 on 169.254.255.1, the node (AS 65000) two hops away, MD5.
    fn bird(&self) -> Bird {
        let session = PeerConfig::new(
            PEER1_V4.into(),
            EQUINIX_AS,
            NODE_ADDRESS.parse().unwrap(),
            65000,
        )
        .router_id(PEER1_V4)
        .multihop(2)
        .hold_time(9)
        .password(PASSWORD);
        Bird::start_sessions(&self.router, &[session]).unwrap()
    }

    /// `herald agent` in static node mode: the node file, the provider, one control-plane VIP.
    fn agent(&self) -> Process {
        let argv = [
            env!("CARGO_BIN_EXE_herald"),
            "agent",
            "--kubernetes=false",
            "--node",
            self.node_file(),
            "--provider",
            herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
            "--interface",
            "lo",
            "--controlplane",
            "--vip",
            VIP,
            "--bgpRouterID",
            NODE_ADDRESS,
            "--prometheusHTTPServer",
            OBSERVE,
            "--holdTime",
            "9",
            "--keepalive",
            "3",
        ];
        self.node.spawn(&argv).unwrap()
    }
}

/// `herald doctor --provider PROVIDER <args…>` inside `ns`, with a cache of its own.
fn doctor_in(ns: &Netns, provider: &str, args: &[&str]) -> Output {
    let cache =
        std::env::temp_dir().join(format!("herald-doctor-test-cache-{}", std::process::id()));
    let mut command = ns.command(env!("CARGO_BIN_EXE_herald"));
    command
        .args(["doctor", "--provider", provider])
        .args(args)
        .env("HERALD_CACHE_DIR", cache)
        .env("HERALD_LOG", "warn");
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", stdout(output), stderr(output)))
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

#[track_caller]
fn assert_no_secrets(output: &Output) {
    for text in [stdout(output), stderr(output)] {
        for secret in [PASSWORD, PASSWORD_B64, API_TOKEN] {
            assert!(!text.contains(secret), "{secret} printed:\n{text}");
        }
    }
}

#[test]
fn a_missing_peer_route_is_reported_with_the_command_that_fixes_it() {
    let Some(lab) = DoctorLab::new("doctor_noroute") else {
        return;
    };
    let text = lab.doctor(&[]);
    assert_exit(&text, 1);
    let out = stdout(&text);
    assert!(
        out.contains(&format!(
            "  ✗ route: no route to 169.254.255.1: it must go via {GATEWAY}\n      fix: {FIX}\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("✓ annotations: bgp-peers-N (CCM v3.3+): metal.equinix.com/bgp-peers-N-*"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  ✓ source: {NODE_ADDRESS} is on {}",
            lab.link.a_if
        )),
        "{out}"
    );
    assert!(out.contains("md5: set"), "{out}");
    assert_no_secrets(&text);

    let as_json = lab.doctor(&["--output", "json"]);
    assert_exit(&as_json, 1);
    let report = json(&as_json);
    assert_eq!(report["ok"], false);
    let route = &report["peers"][0]["route"];
    assert_eq!(route["finding"], "missing", "{report:#}");
    assert_eq!(route["fix"], FIX);
    assert_eq!(route["expected_via"], GATEWAY);
    assert_eq!(report["peers"][0]["source"]["status"], "ok");
    assert_eq!(report["annotations"]["used"], "bgp-peers-N");
    assert_eq!(report["provider"]["peers"], 1);
    assert_no_secrets(&as_json);

    // The fix works: run it, and the route check passes.
    lab.node
        .exec_checked(&FIX.split_whitespace().collect::<Vec<_>>())
        .unwrap();
    let after = lab.doctor(&[]);
    assert_exit(&after, 0);
    assert!(
        stdout(&after).contains(&format!("  ✓ route: 169.254.255.1 is routed via {GATEWAY}")),
        "{}",
        stdout(&after)
    );
}

#[test]
fn a_default_route_via_another_gateway_is_the_trap_it_explains() {
    let Some(lab) = DoctorLab::new("doctor_trap") else {
        return;
    };
    // A "public" link with the default route, as every Equinix server has.
    let public = lab.lab.link(
        &lab.node,
        &["198.51.100.2/24"],
        &lab.router,
        &["198.51.100.1/24"],
    );
    lab.node.route("default via 198.51.100.1").unwrap();

    let output = lab.doctor(&[]);
    assert_exit(&output, 1);
    let out = stdout(&output);
    assert!(
        out.contains(&format!(
            "169.254.255.1 is routed by `default via 198.51.100.1 dev {}` (the default route), not via {GATEWAY}",
            public.a_if
        )),
        "{out}"
    );
    assert!(out.contains(&format!("      fix: {FIX}\n")), "{out}");
    let report = json(&lab.doctor(&["--output", "json"]));
    assert_eq!(report["peers"][0]["route"]["finding"], "wrong_gateway");
    assert_eq!(
        report["peers"][0]["route"]["kernel_route"]["next_hops"][0]["gateway"],
        "198.51.100.1"
    );
    // --wait checks again while something is wrong, then gives the same verdict.
    let started = std::time::Instant::now();
    assert_exit(&lab.doctor(&["--wait", "1"]), 1);
    assert!(started.elapsed() >= Duration::from_millis(500));
}

/// BIRD is needed as the upstream: without it the test is skipped with a note, as `Lab::for_test`
/// does without root, and fails under CI=true.
fn bird_installed(test: &str) -> bool {
    if std::process::Command::new("bird")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !in_ci,
        "network test {test} cannot run under CI=true: bird is not installed"
    );
    eprintln!("SKIPPED network test {test}: bird is not installed");
    false
}

#[test]
fn with_the_route_and_a_running_agent_sessions_and_vips_are_reported() {
    if !bird_installed("doctor_agent") {
        return;
    }
    let Some(lab) = DoctorLab::new("doctor_agent") else {
        return;
    };
    lab.node
        .route(&format!("{PEER1_V4}/32 via {GATEWAY}"))
        .unwrap();
    let bird = lab.bird();
    let agent = lab.agent();
    if let Err(error) = bird.wait_established("herald", WAIT) {
        panic!(
            "session not up: {error}\nagent log:\n{}\nbird log:\n{}",
            plain_log(&agent),
            bird.log()
        );
    }
    let url = format!("http://{OBSERVE}");
    // /status trails the sessions by up to a tick: --wait checks again until all is well.
    let output = lab.doctor(&["--agent", &url, "--wait", "30"]);
    if output.status.code() != Some(0) {
        panic!(
            "doctor never passed:\n{}\nagent log:\n{}",
            stdout(&output),
            plain_log(&agent)
        );
    }
    let out = stdout(&output);
    assert!(out.contains("  ✓ session: Established"), "{out}");
    assert!(
        out.contains(&format!("✓ agent {url}/status: ready (node {NODE_NAME})")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "✓ VIPs: 1 announced ({VIP}/32), 1 held on lo ({VIP}/32)"
        )),
        "{out}"
    );
    assert!(out.ends_with("All checks passed.\n"), "{out}");
    assert_no_secrets(&output);

    let as_json = lab.doctor(&["--agent", &url, "--output", "json"]);
    assert_exit(&as_json, 0);
    let report = json(&as_json);
    let session = &report["agent"]["sessions"][0];
    assert_eq!(session["address"], "169.254.255.1", "{report:#}");
    assert_eq!(session["state"], "Established");
    assert_eq!(session["md5"], true);
    assert_eq!(report["agent"]["vips"]["addresses"][0], format!("{VIP}/32"));
    assert_eq!(report["agent"]["vips"]["announced"][0], format!("{VIP}/32"));
    assert_eq!(report["agent"]["ready"], true);
    assert_eq!(report["problems"], Value::Array(Vec::new()));
    assert_no_secrets(&as_json);

    // The agent gone: `--agent` is now a problem.
    agent.signal(libc::SIGTERM).unwrap();
    assert!(agent.wait_exit(Duration::from_secs(15)).is_some());
    let gone = lab.doctor(&["--agent", &url]);
    assert_exit(&gone, 1);
    assert!(
        stdout(&gone).contains(&format!("✗ agent: cannot connect to {url}/status")),
        "{}",
        stdout(&gone)
    );
}

#[test]
fn no_secret_is_ever_printed_text_or_json() {
    let Some(lab) = DoctorLab::new("doctor_secret") else {
        return;
    };
    for output in [
        lab.doctor(&[]),
        lab.doctor(&["--output", "json"]),
        lab.doctor(&["--agent", "http://127.0.0.1:1", "--output", "json"]),
    ] {
        assert!(stdout(&output).contains("md5"), "{}", stdout(&output));
        assert_no_secrets(&output);
    }
    // A provider taking an API token: the token is never echoed, whatever the provider says.
    for format in ["text", "json"] {
        let output = doctor_in(
            &lab.node,
            herald_artifacts::EQUINIX_API_COMPONENT,
            &[
                "--node",
                lab.node_file(),
                "--config",
                &format!("api-token={API_TOKEN}"),
                "--config",
                "project-id=f7a5ff27-3b9e-4b0c-a1f8-5a4c5c7b1d11",
                "--output",
                format,
            ],
        );
        assert_exit(&output, 1);
        assert!(
            stdout(&output).contains("equinix-api"),
            "{}",
            stdout(&output)
        );
        assert_no_secrets(&output);
    }
}

#[test]
fn the_node_can_come_from_the_apiserver() {
    let Some(lab) = DoctorLab::new("doctor_apiserver") else {
        return;
    };
    // The fake apiserver listens inside the node namespace: the test's traffic stays there.
    let listener = lab
        .node
        .run(|| std::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let api = FakeApiServer::start_on(listener);
    let kubeconfig = lab.lab.dir().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig).unwrap();
    api.upsert_yaml(&node_yaml());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let output = doctor_in(
        &lab.node,
        herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
        &[
            "--nodeName",
            NODE_NAME,
            "--k8sConfigPath",
            kubeconfig,
            "--output",
            "json",
        ],
    );
    assert_exit(&output, 1);
    let report = json(&output);
    assert_eq!(report["node"]["name"], NODE_NAME);
    assert!(
        report["node"]["source"]
            .as_str()
            .unwrap()
            .contains("apiserver"),
        "{report:#}"
    );
    assert_eq!(report["annotations"]["used"], "bgp-peers-N");
    assert_eq!(report["peers"][0]["route_via"], GATEWAY);
    assert_eq!(report["peers"][0]["route"]["fix"], FIX);
    assert_no_secrets(&output);

    let missing = doctor_in(
        &lab.node,
        herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
        &["--nodeName", "no-such-node", "--k8sConfigPath", kubeconfig],
    );
    assert_exit(&missing, 2);
    assert!(
        stderr(&missing).contains("reading Node no-such-node"),
        "{}",
        stderr(&missing)
    );
}

/// Bad invocations exit 2 before reading anything (so this runs in the host namespace).
#[test]
fn doctor_that_cannot_run_exits_2() {
    let herald = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("doctor")
            .args(args)
            .env("HERALD_LOG", "warn")
            .env_remove("HERALD_NODENAME")
            .env_remove("HERALD_PROVIDER")
            .output()
            .unwrap()
    };
    let node =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node-annotations-v3.3.yaml");
    let node = node.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--node", node], "--provider"),
        (
            &["--provider", "no-such-provider", "--node", node],
            "not found",
        ),
        (
            &[
                "--provider",
                herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
            ],
            "--node FILE",
        ),
        (
            &[
                "--provider",
                herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
                "--node",
                "/nonexistent/node.yaml",
            ],
            "cannot read node file",
        ),
        (
            &[
                "--provider",
                herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
                "--node",
                node,
                "--agent",
                "https://127.0.0.1:2112",
            ],
            "only http://",
        ),
    ];
    for (args, needle) in cases {
        let output = herald(args);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains(needle),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?}: {}", stdout(&output));
    }
}
