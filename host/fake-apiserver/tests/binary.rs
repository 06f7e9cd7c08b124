//! The `fake-apiserver` binary: flags, stdout, the `/_fake/` side channel, SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Conn;
use serde_json::json;

#[test]
fn binary_serves_the_side_channel_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    let second = lines.next().unwrap().unwrap();
    assert_eq!(second, format!("kubeconfig {}", kubeconfig.display()));
    assert!(std::fs::read_to_string(&kubeconfig).unwrap().contains(&url));
    let addr: SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();

    let mut c = Conn::open(addr);
    let yaml = b"apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n";
    let r = c
        .send(
            "POST",
            "/_fake/upsert",
            &[("Content-Type", "application/yaml")],
            yaml,
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let nodes = c.get("/api/v1/nodes").json();
    assert_eq!(nodes["items"].as_array().unwrap().len(), 2);

    // A watch, then the watch log records what it was sent.
    let r = c.get("/api/v1/nodes?watch=1&resourceVersion=1&timeoutSeconds=1");
    assert_eq!(
        String::from_utf8_lossy(&r.body).lines().count(),
        2,
        "only the nodes, not the namespaces: {r:?}"
    );
    let log = c.get("/_fake/watch-log").json();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[0]["name"], "n1");
    assert_eq!(log[0]["eventType"], "ADDED");

    let r = c.send("POST", "/_fake/compact", &[], b"").unwrap();
    assert_eq!(r.status, 200);
    let r = c.get("/api/v1/nodes?watch=1&resourceVersion=1");
    assert!(String::from_utf8_lossy(&r.body).contains("too old resource version"));

    // During an outage the API refuses and the side channel still answers.
    let r = c
        .send("POST", "/_fake/outage?seconds=0.5", &[], b"")
        .unwrap();
    assert_eq!(r.json(), json!({"outageSeconds": 0.5}));
    assert!(
        Conn::open(addr)
            .send("GET", "/api/v1/nodes", &[], b"")
            .is_none()
    );
    let r = Conn::open(addr)
        .send(
            "POST",
            "/_fake/upsert",
            &[],
            br#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n3"}}"#,
        )
        .unwrap();
    assert_eq!(r.status, 200);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        Conn::open(addr).get("/api/v1/nodes").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(
        Conn::open(addr)
            .get("/_fake/requests")
            .json()
            .as_array()
            .unwrap()
            .len()
            >= 4
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn binary_rejects_unknown_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: fake-apiserver"));
}
