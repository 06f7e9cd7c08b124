//! The node agent's loop against the fake apiserver with in-memory actuators: Lease election
//! decides which node announces the control-plane VIP (no namespaces needed).

use std::sync::Arc;
use std::time::Duration;

use herald_fake_apiserver::FakeApiServer;
use herald_kube::LeaseConfig;
use herald_runtime::NodeContext;
use ipnet::IpNet;
use tokio::sync::oneshot;

use crate::config::{FlagSettings, PeerSpec};
use crate::fake::Fake;
use crate::node_agent::{KubeSettings, NodeAgentConfig, run_node_agent};
use crate::observe::Observed;
use crate::services::ClassPolicy;

const VIP: &str = "203.0.113.10/32";

fn config(node: &str, kubeconfig: &std::path::Path, election: bool) -> NodeAgentConfig {
    NodeAgentConfig {
        flags: FlagSettings {
            router_id: Some("192.0.2.2".parse().unwrap()),
            local_asn: Some(65000),
            graceful_restart_time: None,
            static_peers: vec![PeerSpec {
                address: "192.0.2.1".parse().unwrap(),
                port: 179,
                asn: 65530,
                local_asn: None,
                password: None,
                multihop_ttl: None,
                source_address: None,
                route_via: None,
                hold_time: 30,
                keepalive: 10,
            }],
            vips: vec![VIP.parse().unwrap()],
            interface: "lo".into(),
            vip_addresses: true,
            shutdown_timeout: Duration::from_secs(1),
            hold_time: 30,
            keepalive: 10,
            multihop_ttl: 2,
        },
        local_node: NodeContext {
            node_name: node.into(),
            ..NodeContext::default()
        },
        control_plane: true,
        services: false,
        class_policy: ClassPolicy::default(),
        election: election.then(|| LeaseConfig {
            namespace: "kube-system".into(),
            name: "plndr-cp-lock".into(),
            identity: node.into(),
            lease_duration: Duration::from_secs(3),
            renew_deadline: Duration::from_secs(2),
            retry_period: Duration::from_millis(300),
        }),
        kubernetes: Some(KubeSettings {
            config_path: Some(kubeconfig.to_owned()),
            services_namespace: None,
        }),
        observe_addr: None,
    }
}

struct Node {
    world: Fake,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<crate::RunSummary>,
}

impl Node {
    fn start(config: NodeAgentConfig) -> Self {
        let world = Fake::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let (bgp, net) = (world.clone(), world.clone());
        let task = tokio::spawn(run_node_agent(
            config,
            None,
            net,
            move |_| bgp,
            Arc::new(Observed::new()),
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            world,
            stop: Some(stop),
            task,
        }
    }

    fn announces_vip(&self) -> bool {
        let vip: IpNet = VIP.parse().unwrap();
        self.world.world().announced.contains(&vip)
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap();
    }
}

async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_election_one_node_announces_and_the_other_takes_over() {
    let api = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig).unwrap();
    let mut a = Node::start(config("cp-a", &kubeconfig, true));
    let mut b = Node::start(config("cp-b", &kubeconfig, true));

    wait_until("a leader announcing", || {
        a.announces_vip() || b.announces_vip()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        a.announces_vip() != b.announces_vip(),
        "exactly one node announces the control-plane VIP"
    );
    let (leader, follower) = if a.announces_vip() {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    let lease = api
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some("kube-system"),
            "plndr-cp-lock",
        )
        .unwrap();
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .is_some_and(|h| h.starts_with("cp-"))
    );

    // A clean stop withdraws, then releases the Lease: the other node takes over well before
    // the lease would have expired.
    leader.stop().await;
    assert!(!leader.announces_vip(), "the stopped node withdrew");
    wait_until("the follower taking over", || follower.announces_vip()).await;
    follower.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_election_every_control_plane_node_announces() {
    let api = FakeApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig).unwrap();
    let mut a = Node::start(config("cp-a", &kubeconfig, false));
    let mut b = Node::start(config("cp-b", &kubeconfig, false));
    wait_until("both announcing (ECMP)", || {
        a.announces_vip() && b.announces_vip()
    })
    .await;
    assert!(
        api.list("coordination.k8s.io/v1", "Lease").is_empty(),
        "no Lease without election"
    );
    a.stop().await;
    b.stop().await;
}
