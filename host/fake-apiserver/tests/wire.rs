//! The wire itself, with a minimal HTTP/1.1 client: exact Status bodies, content types, outages
//! closing connections without a response, tables, paths kube-rs does not use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Conn;
use herald_fake_apiserver::FakeApiServer;
use serde_json::{Value, json};

#[test]
fn not_found_bodies_are_the_apiservers() {
    let server = FakeApiServer::start();
    let mut c = Conn::open(server.addr());
    let r = c.get("/api/v1/namespaces/default/services/x");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
               "message":"services \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"services"},"code":404})
    );
    let r = c.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x");
    assert_eq!(
        r.json()["message"],
        "leases.coordination.k8s.io \"x\" not found"
    );
    assert_eq!(
        r.json()["details"],
        json!({"name": "x", "kind": "leases", "group": "coordination.k8s.io"})
    );
    for path in [
        "/openapi/v2",
        "/openapi/v3",
        "/apis/apps/v1/deployments",
        "/api/v1/widgets",
    ] {
        let r = c.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.json()["message"],
            "the server could not find the requested resource"
        );
    }
    assert_eq!(
        c.get("/api/v1/services/x").status,
        404,
        "namespaced objects need their namespace"
    );
    let r = c
        .send(
            "POST",
            "/api/v1/services",
            &[("Content-Type", "application/json")],
            b"{}",
        )
        .unwrap();
    assert_eq!(r.status, 405);
}

#[test]
fn discovery_documents() {
    let server = FakeApiServer::start();
    let mut c = Conn::open(server.addr());
    assert_eq!(c.get("/version").json()["minor"], "33");
    assert_eq!(c.get("/api").json()["versions"], json!(["v1"]));
    let groups = c.get("/apis").json();
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["discovery.k8s.io", "coordination.k8s.io", "events.k8s.io"]
    );
    let core = c.get("/api/v1").json();
    let svc = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "services")
        .unwrap()
        .clone();
    assert_eq!(svc["shortNames"], json!(["svc"]));
    assert_eq!(svc["namespaced"], true);
    assert!(svc["verbs"].as_array().unwrap().contains(&json!("watch")));
    let leases = c.get("/apis/coordination.k8s.io/v1").json();
    assert_eq!(leases["resources"][0]["kind"], "Lease");
}

#[test]
fn create_conflicts_and_unsupported_patches() {
    let server = FakeApiServer::start();
    let mut c = Conn::open(server.addr());
    let ct = [("Content-Type", "application/json")];
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"cfg-"},"data":{"a":"1"}}"#;
    let r = c
        .send("POST", "/api/v1/namespaces/default/configmaps", &ct, body)
        .unwrap();
    assert_eq!(r.status, 201);
    let created = r.json();
    let name = created["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("cfg-") && name.len() == 9, "{name}");
    assert_eq!(created["metadata"]["namespace"], "default");

    let r = c
        .send(
            "POST",
            "/api/v1/namespaces/other/configmaps",
            &ct,
            br#"{"metadata":{"name":"x","namespace":"default"}}"#,
        )
        .unwrap();
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (400, json!("BadRequest"))
    );
    let r = c
        .send(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &ct,
            br#"{"metadata":{}}"#,
        )
        .unwrap();
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (422, json!("Invalid"))
    );

    let path = format!("/api/v1/namespaces/default/configmaps/{name}");
    let r = c
        .send("PATCH", &path, &[("Content-Type", "text/plain")], b"{}")
        .unwrap();
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (415, json!("UnsupportedMediaType"))
    );
    let r = c
        .send(
            "PATCH",
            &path,
            &[("Content-Type", "application/apply-patch+yaml")],
            b"data: {b: '2'}",
        )
        .unwrap();
    assert_eq!(r.status, 422, "apply needs a fieldManager");
    let r = c
        .send(
            "PATCH",
            &format!("{path}?fieldManager=t"),
            &[("Content-Type", "application/apply-patch+yaml")],
            b"data: {b: '2'}",
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"], json!({"a": "1", "b": "2"}));

    // DELETE with a stale precondition conflicts; a plain DELETE answers with a success Status.
    let r = c
        .send(
            "DELETE",
            &path,
            &ct,
            br#"{"preconditions":{"resourceVersion":"1"}}"#,
        )
        .unwrap();
    assert_eq!(r.status, 409);
    let r = c.send("DELETE", &path, &ct, b"").unwrap();
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("Success"))
    );
    assert_eq!(c.send("DELETE", &path, &ct, b"").unwrap().status, 404);

    // dryRun=All answers like a write and stores nothing.
    let before = server.resource_version();
    let r = c
        .send(
            "POST",
            "/api/v1/namespaces/default/configmaps?dryRun=All",
            &ct,
            br#"{"metadata":{"name":"dry"}}"#,
        )
        .unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(server.resource_version(), before);
    assert!(
        server
            .get("v1", "ConfigMap", Some("default"), "dry")
            .is_none()
    );
}

#[test]
fn lists_omit_item_type_meta_and_tables_have_default_columns() {
    let server = FakeApiServer::start();
    server.upsert(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}));
    let mut c = Conn::open(server.addr());
    let list = c.get("/api/v1/nodes").json();
    assert_eq!(
        (list["kind"].clone(), list["apiVersion"].clone()),
        (json!("NodeList"), json!("v1"))
    );
    assert!(list["items"][0].get("kind").is_none());
    assert_eq!(
        list["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
    let table = c
        .send(
            "GET",
            "/api/v1/nodes",
            &[(
                "Accept",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            )],
            b"",
        )
        .unwrap()
        .json();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["rows"][0]["cells"][0], "n1");
    assert_eq!(table["columnDefinitions"][1]["name"], "Created At");
}

#[test]
fn outage_closes_connections_without_a_response() {
    let server = FakeApiServer::start();
    let mut kept = Conn::open(server.addr());
    assert_eq!(kept.get("/version").status, 200);

    server.set_available(false);
    assert!(
        kept.send("GET", "/version", &[], b"").is_none(),
        "a kept-alive connection is closed"
    );
    let mut fresh = Conn::open(server.addr());
    assert!(
        fresh.send("GET", "/version", &[], b"").is_none(),
        "a new connection is closed"
    );
    server.set_available(true);
    assert_eq!(Conn::open(server.addr()).get("/version").status, 200);

    // A timed outage ends by itself; requests during it are not recorded as served.
    let served = server.requests().len();
    server.outage(Duration::from_millis(300));
    assert!(
        Conn::open(server.addr())
            .send("GET", "/api/v1/nodes", &[], b"")
            .is_none()
    );
    assert_eq!(server.requests().len(), served);
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(Conn::open(server.addr()).get("/api/v1/nodes").status, 200);
}

#[test]
fn an_open_watch_is_cut_by_an_outage() {
    let server = FakeApiServer::start();
    server.upsert(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}));
    let stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    reader
        .get_mut()
        .write_all(b"GET /api/v1/nodes?watch=1 HTTP/1.1\r\nHost: fake\r\n\r\n")
        .unwrap();
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        head.push_str(&line);
    }
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let mut size = String::new();
    reader.read_line(&mut size).unwrap();
    let mut chunk = vec![0; usize::from_str_radix(size.trim(), 16).unwrap() + 2];
    reader.read_exact(&mut chunk).unwrap();
    let event: Value = serde_json::from_slice(&chunk[..chunk.len() - 2]).unwrap();
    assert_eq!(
        (
            event["type"].clone(),
            event["object"]["metadata"]["name"].clone()
        ),
        (json!("ADDED"), json!("n1"))
    );

    let started = Instant::now();
    server.outage(Duration::from_secs(5));
    // The stream stops without the terminating zero-length chunk: the connection just drops.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        !String::from_utf8_lossy(&rest).contains("0\r\n\r\n"),
        "{rest:?}"
    );
}

#[test]
fn ten_thousand_creates_over_one_connection() {
    let server = FakeApiServer::start();
    let mut c = Conn::open(server.addr());
    let started = Instant::now();
    for i in 0..10_000 {
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"name":"s{i}"}},"spec":{{"ports":[{{"port":80}}]}}}}"#
        );
        let r = c
            .send(
                "POST",
                "/api/v1/namespaces/default/services",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 201);
    }
    let elapsed = started.elapsed();
    eprintln!("10000 creates over HTTP in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(60));
    let started = Instant::now();
    let list = c.get("/api/v1/services?limit=20000").json();
    assert_eq!(list["items"].as_array().unwrap().len(), 10_000);
    eprintln!("listed 10000 in {:?}", started.elapsed());
}

#[test]
fn stop_closes_the_port() {
    let server = FakeApiServer::start();
    let addr = server.addr();
    assert_eq!(Conn::open(addr).get("/healthz").status, 200);
    let clone = server.clone();
    drop(server);
    assert_eq!(
        Conn::open(addr).get("/healthz").status,
        200,
        "a clone keeps it running"
    );
    clone.stop();
    assert!(TcpStream::connect(addr).is_err());
    drop(clone);
}

#[test]
fn a_hung_up_watch_is_released() {
    let server = FakeApiServer::start();
    let mut c = Conn::open(server.addr());
    let r = c.get("/api/v1/nodes?watch=1&timeoutSeconds=1");
    assert_eq!(r.status, 200);
    assert!(
        common::wait_sync(Duration::from_secs(5), || server.open_watches() == 0),
        "timeoutSeconds ended it"
    );

    let mut raw = TcpStream::connect(server.addr()).unwrap();
    raw.write_all(b"GET /api/v1/nodes?watch=1 HTTP/1.1\r\nHost: fake\r\n\r\n")
        .unwrap();
    assert!(common::wait_sync(Duration::from_secs(5), || server
        .open_watches()
        == 1));
    drop(raw);
    assert!(
        common::wait_sync(Duration::from_secs(5), || server.open_watches() == 0),
        "released on hang-up"
    );
}
