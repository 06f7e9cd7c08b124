//! Test support for `herald agent` in Kubernetes mode: the Equinix-like namespace lab, a fake
//! apiserver listening inside the node namespace (where the agent runs), BIRD as the upstream,
//! and readers for the agent's /status, /readyz and /metrics.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use herald_fake_apiserver::FakeApiServer;
use herald_testbed::{
    Bird, EQUINIX_AS, EquinixLab, EquinixOptions, Lab, NODE_V4, PeerConfig, Process, poll,
};
use serde_json::{Value, json};

pub use crate::process_log::plain_log;

pub const WAIT: Duration = Duration::from_secs(30);
pub const NODE: &str = "k8s-node-1";
pub const VIP: &str = "203.0.113.10";
pub const PASSWORD: &str = "herald-md5";
/// base64 of PASSWORD, as the CCM writes `bgp-pass`.
pub const PASSWORD_B64: &str = "aGVyYWxkLW1kNQ==";
pub const OBSERVE: &str = "127.0.0.1:2112";
pub const PEER3_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 255, 3);

pub struct KubeLab {
    pub topo: EquinixLab,
    pub api: FakeApiServer,
    pub kubeconfig: PathBuf,
    // Last: dropping the lab kills the daemons and deletes the namespaces.
    pub lab: Lab,
}

impl KubeLab {
    /// The lab with Herald installing its own routes to the peers (no `peer_routes`), a third
    /// peer address 169.254.255.3 on the router, and the fake apiserver on the node's 127.0.0.1.
    pub fn new(name: &str) -> Option<Self> {
        let lab = Lab::for_test(name)?;
        let topo = lab.equinix(EquinixOptions { peer_routes: false });
        topo.router.add_address_lo("169.254.255.3/32").unwrap();
        let listener = topo
            .node
            .run(|| std::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let api = FakeApiServer::start_on(listener);
        let kubeconfig = lab.dir().join("kubeconfig");
        api.write_kubeconfig(&kubeconfig).unwrap();
        Some(Self {
            topo,
            api,
            kubeconfig,
            lab,
        })
    }

    /// One BIRD per `(peer address, protocol name)` on the router, MD5 PASSWORD. One daemon per
    /// address: BIRD holds one session per neighbour address, and every session here has the same
    /// neighbour (the node); `strict bind` lets the daemons share port 179.
    pub fn birds(&self, peers: &[(Ipv4Addr, &str)]) -> Vec<Bird> {
        self.birds_with_password(peers, Some(PASSWORD))
    }

    pub fn birds_with_password(
        &self,
        peers: &[(Ipv4Addr, &str)],
        password: Option<&str>,
    ) -> Vec<Bird> {
        peers
            .iter()
            .map(|(address, name)| {
                let session = PeerConfig::new((*address).into(), EQUINIX_AS, NODE_V4.into(), 65000)
                    .router_id(*address)
                    .name(name)
                    .multihop(2)
                    .hold_time(9);
                let session = match password {
                    Some(password) => session.password(password),
                    None => session,
                };
                let config = Bird::config(&[session]).replace(
                    &format!("  local {address} as {EQUINIX_AS};"),
                    &format!("  local {address} as {EQUINIX_AS};\n  strict bind on;"),
                );
                assert!(config.contains("strict bind"), "{config}");
                Bird::start(&self.topo.router, &config).unwrap()
            })
            .collect()
    }

    /// `herald agent` in the node namespace, talking to the fake apiserver.
    pub fn start_agent(&self, args: &[&str]) -> Process {
        self.start_agent_with_env(&[], args)
    }

    /// As [`KubeLab::start_agent`], with `NAME=value` pairs added to the agent's environment.
    pub fn start_agent_with_env(&self, env: &[&str], args: &[&str]) -> Process {
        let kubeconfig = self.kubeconfig.display().to_string();
        // Providers by name come from the components built for these tests.
        let provider_dir = format!("HERALD_PROVIDER_DIR={}", herald_artifacts::PROVIDER_DIR);
        let mut argv = vec![
            "env",
            &provider_dir,
            "HERALD_LOG=debug,kube=info,kube_client=info,kube_runtime=info,tower=info,hyper_util=info,hyper=info,herald_runtime=info,wasmtime=info,cranelift=info",
        ];
        argv.extend_from_slice(env);
        argv.extend_from_slice(&[
            env!("CARGO_BIN_EXE_herald"),
            "agent",
            "--k8sConfigPath",
            &kubeconfig,
            "--nodeName",
            NODE,
            "--interface",
            "lo",
            "--prometheusHTTPServer",
            OBSERVE,
            "--holdTime",
            "9",
            "--keepalive",
            "3",
        ]);
        argv.extend_from_slice(args);
        self.topo.node.spawn(&argv).unwrap()
    }

    /// Creates or replaces the Node as the CCM and kubelet see it.
    pub fn upsert_node(&self, annotations: &[(String, String)]) {
        let annotations: serde_json::Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        self.api.upsert(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE,
                "labels": {"kubernetes.io/hostname": NODE, "node-role.kubernetes.io/control-plane": ""},
                "annotations": annotations,
            },
            "spec": {"providerID": "equinixmetal://a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }));
    }

    /// GET `path` from the agent's observability server (inside the node namespace).
    pub fn http_get(&self, path: &str) -> Option<(u16, String)> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n");
        self.topo.node.run(move || {
            let mut stream = std::net::TcpStream::connect(OBSERVE).ok()?;
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            stream.write_all(request.as_bytes()).ok()?;
            let mut response = String::new();
            stream.read_to_string(&mut response).ok()?;
            let status = response.split_whitespace().nth(1)?.parse().ok()?;
            let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
            Some((status, body))
        })
    }

    pub fn status(&self) -> Value {
        let (code, body) = self.http_get("/status").expect("/status answers");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Waits for `/readyz` to answer `code`.
    #[track_caller]
    pub fn wait_readyz(&self, code: u16, herald: &Process) {
        poll(WAIT, Duration::from_millis(100), || {
            match self.http_get("/readyz") {
                Some((got, _)) if got == code => Ok(()),
                other => Err(format!("/readyz: {other:?}")),
            }
        })
        .unwrap_or_else(|last| panic!("{last}\nherald log:\n{}", plain_log(herald)));
    }

    /// The uptime Herald reports for its session with `peer`.
    pub fn peer_uptime(&self, peer: &str) -> Option<u64> {
        self.status()["peers"]
            .as_array()?
            .iter()
            .find(|p| p["address"] == peer)?["uptime_seconds"]
            .as_u64()
    }

    /// Events as `kubectl get events.events.k8s.io -o json` would list them.
    pub fn events(&self) -> Vec<Value> {
        self.api.list("events.k8s.io/v1", "Event")
    }

    #[track_caller]
    pub fn wait_event(&self, reason: &str, note_contains: &str, herald: &Process) -> Value {
        poll(WAIT, Duration::from_millis(100), || {
            self.events()
                .into_iter()
                .find(|e| {
                    e["reason"] == reason
                        && e["note"]
                            .as_str()
                            .is_some_and(|n| n.contains(note_contains))
                })
                .ok_or_else(|| {
                    format!(
                        "no {reason} Event with {note_contains:?}: {:?}",
                        self.events()
                    )
                })
        })
        .unwrap_or_else(|last| panic!("{last}\nherald log:\n{}", plain_log(herald)))
        .0
    }
}

/// The CCM v3.3 annotations for the node's peers: one `bgp-peers-N-*` set per peer address.
pub fn equinix_annotations(peers: &[&str]) -> Vec<(String, String)> {
    let mut annotations = vec![(
        "metal.equinix.com/network-4-private".to_owned(),
        "192.0.2.0/24".to_owned(),
    )];
    for (n, peer) in peers.iter().enumerate() {
        for (key, value) in [
            ("node-asn", "65000"),
            ("peer-asn", "65530"),
            ("peer-ip", peer),
            ("src-ip", "192.0.2.2"),
            ("bgp-pass", PASSWORD_B64),
        ] {
            annotations.push((
                format!("metal.equinix.com/bgp-peers-{n}-{key}"),
                value.to_owned(),
            ));
        }
    }
    annotations
}

/// True when BIRD's `protocol` holds a route for `prefix` (e.g. "203.0.113.10/32").
pub fn bird_has(bird: &Bird, protocol: &str, prefix: &str) -> bool {
    bird.cmd(&format!("show route protocol {protocol}"))
        .is_ok_and(|out| {
            out.lines()
                .any(|line| line.starts_with(prefix) || line.contains(&format!("{prefix} ")))
        })
}

#[track_caller]
pub fn wait_bird(bird: &Bird, protocol: &str, prefix: &str, present: bool, herald: &Process) {
    poll(WAIT, Duration::from_millis(100), || {
        if bird_has(bird, protocol, prefix) == present {
            Ok(())
        } else {
            Err(format!("{protocol}: {prefix} present={}", !present))
        }
    })
    .unwrap_or_else(|last| {
        panic!(
            "{last}\nbird routes:\n{}\nherald log:\n{}",
            bird.cmd("show route all").unwrap_or_default(),
            plain_log(herald)
        )
    });
}

#[track_caller]
pub fn wait_established(bird: &Bird, protocol: &str, herald: &Process) {
    if let Err(error) = bird.wait_established(protocol, WAIT) {
        panic!(
            "{protocol} not up: {error}\nbird protocols:\n{}\nbird log:\n{}\nherald log:\n{}",
            bird.cmd("show protocols all").unwrap_or_default(),
            bird.log(),
            plain_log(herald)
        );
    }
}

/// The peer's `show protocols` line says Established.
pub fn bird_established(bird: &Bird, protocol: &str) -> bool {
    bird.protocol_state(protocol)
        .is_ok_and(|state| state.contains("Established"))
}

pub fn lo_has(lab: &KubeLab, address: &str) -> bool {
    let address: IpAddr = address.parse().unwrap();
    lab.topo
        .node
        .addresses("lo")
        .unwrap()
        .iter()
        .any(|a| a.address == address)
}

/// Routes Herald installed in the node namespace (protocol 72), by destination.
pub fn herald_routes(lab: &KubeLab) -> Vec<String> {
    let mut routes: Vec<String> = lab
        .topo
        .node
        .routes(4)
        .unwrap()
        .into_iter()
        .filter(|r| r.protocol == "72")
        .map(|r| format!("{} via {}", r.dst, r.gateway.unwrap_or_default()))
        .collect();
    routes.sort();
    routes
}

/// SIGTERM, then the exit (its status as text) within the wait.
#[track_caller]
pub fn terminate(herald: &Process) -> String {
    herald.signal(libc::SIGTERM).unwrap();
    herald
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("herald did not exit\n{}", plain_log(herald)))
}

/// No secret in any text the agent showed.
#[track_caller]
pub fn assert_no_secret(what: &str, text: &str) {
    for secret in [PASSWORD, PASSWORD_B64, "ExamplePass123"] {
        assert!(
            !text.contains(secret),
            "{what} shows a secret ({secret}):\n{text}"
        );
    }
}
