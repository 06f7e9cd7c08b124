//! Services: only type LoadBalancer, compact, deduplicated; resync on start.

use herald_kube::{KubeEvent, ObjectKey, ServicePort};
use serde_json::json;

use crate::common::{cluster, watch};

pub fn lb_service(ns: &str, name: &str, ip: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"),
            "annotations": {
                "kube-vip.io/loadbalancerIPs": ip,
                "bgp.herald.dev/local-pref": "200",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"big\":\"blob\"}",
                "example.com/other": "x"
            },
            "labels": {"app": name}},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "kube-vip.io/kube-vip-class",
            "loadBalancerIP": ip, "externalTrafficPolicy": "Local",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                      {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}]},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}
    })
}

#[tokio::test]
async fn load_balancer_services_are_compact_and_filtered() {
    let c = cluster().await;
    c.fake.upsert(lb_service("default", "pre", "198.51.100.1"));
    c.fake.upsert(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "pre-cip", "namespace": "default"},
        "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}
    }));
    let mut ev = watch(&c, "n1", true, false);

    // Initial list → one resync with only the LoadBalancer Service.
    let KubeEvent::ServicesResynced(all) = ev.next().await else {
        panic!("expected ServicesResynced first");
    };
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].key, ObjectKey::new("default", "pre"));

    // ClusterIP → nothing.
    c.fake.upsert(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "cip", "namespace": "prod"},
        "spec": {"type": "ClusterIP", "ports": [{"port": 443}]}
    }));
    ev.assert_quiet().await;

    // LoadBalancer → ServiceUpserted with the compact fields.
    c.fake.upsert(lb_service("prod", "web", "198.51.100.10"));
    let KubeEvent::ServiceUpserted(web) = ev.next().await else {
        panic!("expected ServiceUpserted");
    };
    assert_eq!(web.key, ObjectKey::new("prod", "web"));
    assert_eq!(web.uid, "uid-web");
    assert_eq!(
        web.load_balancer_class.as_deref(),
        Some("kube-vip.io/kube-vip-class")
    );
    assert_eq!(web.load_balancer_ip.as_deref(), Some("198.51.100.10"));
    assert_eq!(web.ingress, ["198.51.100.10"]);
    assert!(web.external_traffic_policy_local);
    assert_eq!(
        web.ports,
        [
            ServicePort {
                port: 80,
                protocol: "TCP".into()
            },
            ServicePort {
                port: 53,
                protocol: "UDP".into()
            }
        ]
    );
    let keys: Vec<_> = web.annotations.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["bgp.herald.dev/local-pref", "kube-vip.io/loadbalancerIPs"]
    );

    // A change Herald does not read (a label) → nothing.
    c.fake
        .merge_patch(
            "v1",
            "Service",
            Some("prod"),
            "web",
            json!({"metadata": {"labels": {"tier": "x"}}}),
        )
        .unwrap();
    ev.assert_quiet().await;

    // A change it reads → one upsert.
    c.fake
        .merge_patch(
            "v1",
            "Service",
            Some("prod"),
            "web",
            json!({"status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.11"}]}}}),
        )
        .unwrap();
    let KubeEvent::ServiceUpserted(web2) = ev.next().await else {
        panic!("expected ServiceUpserted");
    };
    assert_eq!(web2.ingress, ["198.51.100.11"]);

    // Type changed away → ServiceDeleted.
    c.fake
        .merge_patch(
            "v1",
            "Service",
            Some("prod"),
            "web",
            json!({"spec": {"type": "ClusterIP"}}),
        )
        .unwrap();
    assert_eq!(
        ev.next().await,
        KubeEvent::ServiceDeleted(ObjectKey::new("prod", "web"))
    );

    // Deleting a LoadBalancer Service → ServiceDeleted; deleting a ClusterIP one → nothing.
    assert!(c.fake.delete("v1", "Service", Some("default"), "pre"));
    assert_eq!(
        ev.next().await,
        KubeEvent::ServiceDeleted(ObjectKey::new("default", "pre"))
    );
    assert!(c.fake.delete("v1", "Service", Some("prod"), "cip"));
    ev.assert_quiet().await;
}

#[tokio::test]
async fn namespace_scope_limits_services() {
    let c = cluster().await;
    c.fake.upsert(lb_service("a", "one", "198.51.100.1"));
    c.fake.upsert(lb_service("b", "two", "198.51.100.2"));
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let handle = herald_kube::spawn_watchers(
        c.client.clone(),
        herald_kube::WatchConfig {
            node_name: "n1".into(),
            services: true,
            endpoint_slices: false,
            namespace: Some("b".into()),
        },
        tx,
    );
    let mut ev = crate::common::Events {
        rx,
        _handle: handle,
    };
    let KubeEvent::ServicesResynced(all) = ev.next().await else {
        panic!("expected ServicesResynced");
    };
    let keys: Vec<_> = all.iter().map(|s| s.key.to_string()).collect();
    assert_eq!(keys, ["b/two"]);
    c.fake.upsert(lb_service("a", "three", "198.51.100.3"));
    ev.assert_quiet().await;
}
