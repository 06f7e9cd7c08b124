//! The `default-gateway` provider through the real `herald provider run`, inside a network
//! namespace with real default routes: the host reads the namespace's interfaces and routes and
//! hands them to the provider (WIT 0.2.0 `node-context.network`).
//!
//! The lab: a node namespace linked to a router namespace by a veth pair, the node holding
//! 192.0.2.2/24 and 2001:db8:1::2/64, the router 192.0.2.1/24 and 2001:db8:1::1/64 (documentation
//! ranges only). Nothing runs in the router: it only gives the link a carrier.
//!
//! Needs root (network namespaces): skipped with a note outside CI, fails under CI=true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Output;

use herald_testbed::{Lab, Link, Netns};
use serde_json::Value;

const NODE_V4: &str = "192.0.2.2";
const NODE_V6: &str = "2001:db8:1::2";
const GATEWAY_V4: &str = "192.0.2.1";
const GATEWAY_V6: &str = "2001:db8:1::1";
/// `herald provider run`'s exit code for a provider answering `not-ready`.
const EXIT_NOT_READY: i32 = 2;

struct GatewayLab {
    node: Netns,
    link: Link,
    node_file: PathBuf,
    // Last: dropping the lab deletes the namespaces (and with them the veth pair).
    lab: Lab,
}

impl GatewayLab {
    /// The node linked to the router, with no default route yet.
    fn new(name: &str) -> Option<Self> {
        let lab = Lab::for_test(name)?;
        let node = lab.namespace("node");
        let router = lab.namespace("router");
        let link = lab.link(
            &node,
            &[&format!("{NODE_V4}/24"), &format!("{NODE_V6}/64")],
            &router,
            &[&format!("{GATEWAY_V4}/24"), &format!("{GATEWAY_V6}/64")],
        );
        let node_file = lab.dir().join("node.yaml");
        std::fs::write(
            &node_file,
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: k8s-node-1\n",
        )
        .unwrap();
        Some(Self {
            node,
            link,
            node_file,
            lab,
        })
    }

    fn default_route(&self, via: &str) {
        self.node
            .route(&format!("default via {via} dev {}", self.link.a_if))
            .unwrap();
    }

    /// `herald provider run <default-gateway> --node <file> --output json` plus `config` pairs,
    /// inside the node namespace.
    fn run(&self, config: &[&str]) -> Output {
        let cache = self.lab.dir().join("cache");
        let mut command = self.node.command(env!("CARGO_BIN_EXE_herald"));
        command
            .args([
                "provider",
                "run",
                herald_artifacts::DEFAULT_GATEWAY_COMPONENT,
                "--node",
                self.node_file.to_str().unwrap(),
                "--output",
                "json",
                "--config",
                "peer-asn=65530",
                "--config",
                "local-asn=65000",
            ])
            .env("HERALD_CACHE_DIR", cache)
            .env("HERALD_LOG", "warn");
        for pair in config {
            command.args(["--config", pair]);
        }
        command.output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// The `peers` of a successful JSON run.
fn peers(output: &Output) -> Vec<Value> {
    assert!(output.status.success(), "{}", describe(output));
    let value: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", describe(output)));
    value["peers"].as_array().cloned().unwrap_or_default()
}

#[track_caller]
fn assert_peer(peer: &Value, address: &str, source: &str) {
    assert_eq!(peer["peer_address"], address, "{peer}");
    assert_eq!(peer["source_address"], source, "{peer}");
    assert_eq!(peer["peer_asn"], 65530, "{peer}");
    assert_eq!(peer["local_asn"], 65000, "{peer}");
    assert_eq!(peer["multihop_ttl"], Value::Null, "on-link: {peer}");
    assert_eq!(peer["route_via"], Value::Null, "on-link: {peer}");
}

#[test]
fn the_namespaces_default_gateways_are_the_peers() {
    let Some(lab) = GatewayLab::new("default_gateway_both") else {
        return;
    };
    lab.default_route(GATEWAY_V4);
    lab.default_route(GATEWAY_V6);
    let output = lab.run(&["families=ipv4,ipv6"]);
    let peers = peers(&output);
    assert_eq!(peers.len(), 2, "{}", describe(&output));
    assert_peer(&peers[0], GATEWAY_V4, NODE_V4);
    assert_peer(&peers[1], GATEWAY_V6, NODE_V6);
}

#[test]
fn no_ipv6_default_route_is_not_ready() {
    let Some(lab) = GatewayLab::new("default_gateway_nov6") else {
        return;
    };
    lab.default_route(GATEWAY_V4);
    let output = lab.run(&["families=ipv6"]);
    assert_eq!(
        output.status.code(),
        Some(EXIT_NOT_READY),
        "{}",
        describe(&output)
    );
    assert!(
        text(&output.stderr).contains("no default route for ipv6 in this node's network namespace"),
        "{}",
        describe(&output)
    );
}

#[test]
fn a_link_local_ipv6_gateway_is_skipped_with_a_warning() {
    let Some(lab) = GatewayLab::new("default_gateway_ll") else {
        return;
    };
    lab.default_route(GATEWAY_V4);
    lab.default_route("fe80::1");
    let output = lab.run(&["families=ipv4,ipv6"]);
    let peers = peers(&output);
    assert_eq!(peers.len(), 1, "{}", describe(&output));
    assert_peer(&peers[0], GATEWAY_V4, NODE_V4);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("fe80::1") && stderr.contains(&lab.link.a_if),
        "the warning names the gateway and interface: {}",
        describe(&output)
    );
}
