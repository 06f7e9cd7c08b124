//! `kubectl` against the fake: get, create, annotate, delete, watch, apply. Skipped (with a note)
//! when kubectl is not installed, unless CI=true, where a missing kubectl fails the test. `KUBECTL`
//! names a specific binary (checked with kubectl 1.20 from Debian bookworm and 1.27–1.33).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_fake_apiserver::FakeApiServer;
use serde_json::{Value, json};

fn kubectl_binary() -> Option<PathBuf> {
    let found = match std::env::var_os("KUBECTL") {
        Some(explicit) => Some(PathBuf::from(explicit)).filter(|p| p.is_file()),
        None => std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
            .map(|dir| dir.join("kubectl"))
            .find(|p| p.is_file()),
    };
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl is not installed (required with CI=true)"
        );
        eprintln!("SKIPPED: kubectl is not installed");
    }
    found
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    cache: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(server: &FakeApiServer) -> Option<Self> {
        let bin = kubectl_binary()?;
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();
        Some(Self {
            bin,
            kubeconfig,
            cache: dir.path().join("cache"),
            _dir: dir,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .arg("--request-timeout=15s")
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs to completion, killed after 30 s at the latest.
    fn run(&self, args: &[&str]) -> Output {
        let mut child = self.command(args).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn kubectl_get_create_annotate_delete() {
    let server = FakeApiServer::start();
    let Some(k) = Kubectl::new(&server) else {
        return;
    };
    server.upsert(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                         "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}),
    );

    let nodes: Value = serde_json::from_str(&k.ok(&["get", "nodes", "-o", "json"])).unwrap();
    assert_eq!(nodes["items"][0]["metadata"]["name"], "n1");
    assert_eq!(
        nodes["items"][0]["status"]["addresses"][0]["address"],
        "10.0.0.1"
    );
    assert!(
        k.ok(&["get", "nodes"]).contains("n1"),
        "human (Table) output"
    );

    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {app: web}\n\
         spec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports:\n  - port: 80\n",
    );
    // kubectl validates against OpenAPI, which the fake does not serve.
    let out = k.ok(&[
        "create",
        "--validate=false",
        "-f",
        manifest.to_str().unwrap(),
    ]);
    assert!(out.contains("service/web created"), "{out}");
    let stored = server.get("v1", "Service", Some("default"), "web").unwrap();
    assert_eq!(stored["spec"]["type"], "LoadBalancer");

    let out = k.ok(&[
        "annotate",
        "node",
        "n1",
        "metal.equinix.com/bgp-peer=169.254.255.1",
    ]);
    assert!(out.contains("node/n1 annotate"), "{out}"); // 1.27 prints "annotate"
    let annotated = server.get("v1", "Node", None, "n1").unwrap();
    assert_eq!(
        annotated["metadata"]["annotations"]["metal.equinix.com/bgp-peer"],
        "169.254.255.1"
    );
    assert_eq!(
        annotated["status"]["addresses"][0]["address"], "10.0.0.1",
        "annotating keeps status"
    );

    let services: Value = serde_json::from_str(&k.ok(&["get", "svc", "-o", "json"])).unwrap();
    assert_eq!(services["items"][0]["metadata"]["name"], "web");
    assert!(services["items"][0]["spec"]["clusterIP"].is_string());

    let out = k.ok(&["delete", "svc", "web"]);
    assert!(out.contains("service \"web\" deleted"), "{out}");
    assert!(
        server
            .get("v1", "Service", Some("default"), "web")
            .is_none()
    );
    let missing = k.run(&["get", "svc", "web"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("Error from server (NotFound): services \"web\" not found"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let writes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.method)
        .collect();
    assert_eq!(writes, ["POST", "PATCH", "DELETE"]);
}

#[test]
fn kubectl_watch_sees_a_change() {
    let server = FakeApiServer::start();
    let Some(k) = Kubectl::new(&server) else {
        return;
    };
    server.upsert(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}));

    let mut child = k
        .command(&["get", "nodes", "--watch", "-o", "json"])
        .spawn()
        .unwrap();
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = output.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let objects = |output: &Arc<Mutex<Vec<u8>>>| -> Vec<Value> {
        let bytes = output.lock().unwrap().clone();
        serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .map_while(Result::ok)
            .collect()
    };
    let wait_for = |pred: &dyn Fn(&[Value]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if pred(&objects(&output)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };

    let listed = wait_for(&|objs| objs.iter().any(|o| o["metadata"]["name"] == "n1"));
    if listed {
        server.merge_patch(
            "v1",
            "Node",
            None,
            "n1",
            json!({"metadata": {"annotations": {"seen": "yes"}}}),
        );
    }
    let changed = listed
        && wait_for(&|objs| {
            objs.iter()
                .any(|o| o["metadata"]["annotations"]["seen"] == "yes")
        });
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(listed, "initial list not printed: {stderr}");
    assert!(
        changed,
        "the change was not printed: {:?} {stderr}",
        objects(&output)
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/api/v1/nodes" && r.query.contains("watch=true"))
    );
}

#[test]
fn kubectl_apply_client_and_server_side() {
    let server = FakeApiServer::start();
    let Some(k) = Kubectl::new(&server) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let svc = |target: u16| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: LoadBalancer\n  ports:\n\
             \x20 - {{name: http, port: 80}}\n  - {{name: https, port: 443, targetPort: {target}}}\n"
        )
    };
    let first = write(dir.path(), "v1.yaml", &svc(443));
    let second = write(dir.path(), "v2.yaml", &svc(8443));
    assert!(
        k.ok(&["apply", "--validate=false", "-f", first.to_str().unwrap()])
            .contains("created")
    );
    let created = server.get("v1", "Service", Some("default"), "web").unwrap();
    assert!(
        k.ok(&["apply", "--validate=false", "-f", second.to_str().unwrap()])
            .contains("configured")
    );
    let updated = server.get("v1", "Service", Some("default"), "web").unwrap();
    let ports = updated["spec"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert_eq!(ports[1]["targetPort"], 8443);
    assert_eq!(
        ports[0]["nodePort"], created["spec"]["ports"][0]["nodePort"],
        "merged by key, allocations kept"
    );
    assert!(
        !updated.to_string().contains("$patch"),
        "directives are never stored"
    );

    let out = k.ok(&[
        "apply",
        "--server-side",
        "--validate=false",
        "-f",
        first.to_str().unwrap(),
    ]);
    assert!(out.contains("serverside-applied"), "{out}");
    let applied = server.get("v1", "Service", Some("default"), "web").unwrap();
    assert_eq!(applied["spec"]["ports"][1]["targetPort"], 443);
}
