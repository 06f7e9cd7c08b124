//! `herald provider run` on the example providers (`examples/`) and on Cherry Servers nodes:
//! the real binary, the built components, fixtures from the examples' own test directories,
//! HTTP from a local fixture server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use herald_provider_testkit::{FixtureServer, Route};

const VULTR_FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/vultr-metadata/tests/fixtures"
);
const KUBE_ROUTER_FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/kube-router-annotations/tests/fixtures"
);
const CHERRY_FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../providers/equinix-annotations/tests/fixtures/cherry"
);

/// Secrets the fixtures carry: neither may ever be printed.
const VULTR_PASSWORD: &str = "ExampleVultrBgpPass";
const KUBE_ROUTER_PASSWORD: &str = "ExamplePass123";
const KUBE_ROUTER_PASSWORD_B64: &str = "RXhhbXBsZVBhc3MxMjM=";

fn herald(args: &[&str]) -> Output {
    let cache =
        std::env::temp_dir().join(format!("herald-examples-cli-cache-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env_remove("HERALD_PROVIDER_DIR")
        .env("HERALD_CACHE_DIR", cache)
        .env("HERALD_LOG", "warn")
        .output()
        .unwrap()
}

fn component(path: &str) -> &str {
    assert!(
        Path::new(path).is_file(),
        "{path} is missing: the example did not build for wasm32-wasip2 (see the herald-artifacts warnings)"
    );
    path
}

fn fixture(dir: &str, name: &str) -> String {
    let path = PathBuf::from(dir).join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path.display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// One peer as `--output json` prints it.
fn peer_json(
    address: &str,
    peer_asn: u32,
    local_asn: u32,
    source: Option<&str>,
    password_set: bool,
    multihop_ttl: Option<u8>,
    port: Option<u16>,
) -> String {
    let quoted = |v: Option<&str>| v.map_or("null".to_owned(), |v| format!("{v:?}"));
    let number = |v: Option<String>| v.unwrap_or_else(|| "null".to_owned());
    format!(
        r#"{{"peer_address":"{address}","peer_asn":{peer_asn},"local_asn":{local_asn},"source_address":{},"password_set":{password_set},"multihop_ttl":{},"route_via":null,"hold_time_seconds":null,"port":{},"keepalive_seconds":null}}"#,
        quoted(source),
        number(multihop_ttl.map(|t| t.to_string())),
        number(port.map(|p| p.to_string())),
    )
}

fn peers_json(peers: &[String]) -> String {
    format!(r#"{{"peers":[{}]}}"#, peers.join(","))
}

#[track_caller]
fn assert_no_secret(output: &Output, secrets: &[&str]) {
    for stream in [text(&output.stdout), text(&output.stderr)] {
        for secret in secrets {
            assert!(!stream.contains(secret), "secret leaked: {stream}");
        }
    }
}

/// A fixture server on its own runtime: the test thread blocks on the herald child process.
fn serve(body: &str) -> (tokio::runtime::Runtime, FixtureServer) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(FixtureServer::start(vec![(
            "/v1.json".into(),
            Route::json(200, body),
        )]))
        .unwrap();
    (runtime, server)
}

#[test]
fn vultr_metadata_prints_both_sessions_without_the_password() {
    let document = std::fs::read_to_string(fixture(VULTR_FIXTURES, "metadata-v4-v6.json")).unwrap();
    let (_runtime, server) = serve(&document);
    let dir = std::env::temp_dir().join(format!("herald-examples-vultr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let password_file = dir.join("bgp-password");
    std::fs::write(&password_file, VULTR_PASSWORD).unwrap();

    let output = herald(&[
        "provider",
        "run",
        component(herald_artifacts::VULTR_METADATA_COMPONENT),
        "--node",
        &fixture(VULTR_FIXTURES, "node-k8s-w-2.yaml"),
        "--config",
        &format!("metadata-url={}/v1.json", server.origin()),
        "--config",
        &format!("password=@{}", password_file.display()),
        "--allow-host",
        &server.grant(),
        "--output",
        "json",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let expected = peers_json(&[
        peer_json(
            "169.254.169.254",
            64515,
            65513,
            Some("192.0.2.21"),
            true,
            Some(2),
            None,
        ),
        peer_json(
            "2001:19f0:ffff::1",
            64515,
            65513,
            Some("2001:db8:5400:1c2b:5400:4ff:fe6b:6f2b"),
            true,
            Some(2),
            None,
        ),
    ]);
    assert_eq!(text(&output.stdout).trim_end(), expected);
    assert_no_secret(&output, &[VULTR_PASSWORD]);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn vultr_metadata_without_bgp_is_not_ready_and_needs_the_grant() {
    let document =
        std::fs::read_to_string(fixture(VULTR_FIXTURES, "metadata-bgp-empty.json")).unwrap();
    let (_runtime, server) = serve(&document);
    let url = format!("metadata-url={}/v1.json", server.origin());
    // The instance of metadata-bgp-empty.json, a Node without providerID.
    let dir = std::env::temp_dir().join(format!("herald-examples-w4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let node_file = dir.join("node.yaml");
    std::fs::write(&node_file, "kind: Node\nmetadata:\n  name: k8s-w-4\n").unwrap();
    let node = node_file.display().to_string();
    let grant = server.grant();
    let run = |grant: Option<&str>| {
        let mut args = vec![
            "provider",
            "run",
            component(herald_artifacts::VULTR_METADATA_COMPONENT),
            "--node",
            &node,
            "--config",
            &url,
        ];
        args.extend(grant.map(|g| ["--allow-host", g]).into_iter().flatten());
        herald(&args)
    };

    let not_ready = run(Some(&grant));
    assert_eq!(
        not_ready.status.code(),
        Some(2),
        "{}",
        text(&not_ready.stderr)
    );
    assert!(
        text(&not_ready.stderr).contains("BGP is not enabled"),
        "{}",
        text(&not_ready.stderr)
    );

    let denied = run(None);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        text(&denied.stderr).contains(&format!("--allow-host {grant}")),
        "{}",
        text(&denied.stderr)
    );
}

#[test]
fn kube_router_annotations_prints_the_peers_annotation() {
    let output = herald(&[
        "provider",
        "run",
        component(herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT),
        "--node",
        &fixture(KUBE_ROUTER_FIXTURES, "node-peers-annotation.yaml"),
        "--output",
        "json",
    ]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let expected = peers_json(&[
        peer_json(
            "192.0.2.1",
            65000,
            65100,
            Some("192.0.2.10"),
            true,
            None,
            None,
        ),
        peer_json("192.0.2.2", 65000, 65100, None, false, None, Some(1790)),
    ]);
    assert_eq!(text(&output.stdout).trim_end(), expected);
    assert_no_secret(&output, &[KUBE_ROUTER_PASSWORD, KUBE_ROUTER_PASSWORD_B64]);
}

#[test]
fn kube_router_annotations_deprecated_lists_and_precedence() {
    let deprecated = herald(&[
        "provider",
        "run",
        component(herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT),
        "--node",
        &fixture(KUBE_ROUTER_FIXTURES, "node-deprecated-annotations.yaml"),
        "--config",
        "multihop-ttl=2",
        "--output",
        "json",
    ]);
    assert!(
        deprecated.status.success(),
        "stderr: {}",
        text(&deprecated.stderr)
    );
    let expected = peers_json(&[
        peer_json(
            "192.0.2.1",
            65000,
            65100,
            Some("192.0.2.11"),
            true,
            Some(2),
            Some(179),
        ),
        peer_json("192.0.2.2", 65000, 65100, None, false, Some(2), Some(1790)),
    ]);
    assert_eq!(text(&deprecated.stdout).trim_end(), expected);
    assert_no_secret(
        &deprecated,
        &[KUBE_ROUTER_PASSWORD, KUBE_ROUTER_PASSWORD_B64],
    );

    let both = herald(&[
        "provider",
        "run",
        component(herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT),
        "--node",
        &fixture(KUBE_ROUTER_FIXTURES, "node-both-formats.yaml"),
        "--output",
        "json",
    ]);
    assert!(both.status.success(), "stderr: {}", text(&both.stderr));
    assert_eq!(
        text(&both.stdout).trim_end(),
        peers_json(&[peer_json(
            "192.0.2.5",
            65005,
            65100,
            None,
            false,
            None,
            None
        )])
    );
}

#[test]
fn kube_router_annotations_reserved_asn_is_exit_1_naming_the_annotation() {
    let output = herald(&[
        "provider",
        "run",
        component(herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT),
        "--node",
        &fixture(KUBE_ROUTER_FIXTURES, "node-invalid-asn.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("provider \"kube-router-annotations\" 0.1.0: invalid input")
            && stderr.contains("kube-router.io/peers[1].remoteasn"),
        "{stderr}"
    );
    assert!(text(&output.stdout).is_empty());
}

#[test]
fn cherry_servers_nodes_through_equinix_annotations() {
    let output = herald(&[
        "provider",
        "run",
        // By path: a name may resolve to an older build elsewhere in the checkout.
        component(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT),
        "--node",
        &fixture(CHERRY_FIXTURES, "node-partial-pre-v1.35.3.yaml"),
        "--config",
        "prefix=cherryservers.com",
        "--output",
        "json",
    ]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let cherry = |address: &str| peer_json(address, 16125, 65012, None, false, Some(2), None);
    assert_eq!(
        text(&output.stdout).trim_end(),
        peers_json(&[cherry("203.0.113.122"), cherry("203.0.113.123")])
    );
}
