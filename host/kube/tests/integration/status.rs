//! write_service_ingress: lands in status through /status, leaves spec alone.

use std::net::IpAddr;

use herald_kube::{ObjectKey, ServicePort, write_service_ingress};
use serde_json::json;

use crate::common::cluster;
use crate::services::lb_service;

#[tokio::test]
async fn ingress_is_written_to_status_only() {
    let c = cluster().await;
    let mut svc = lb_service("prod", "web", "198.51.100.10");
    svc["status"] = json!({});
    c.fake.upsert(svc);
    let before = c.fake.get("v1", "Service", Some("prod"), "web").unwrap();

    let ips: Vec<IpAddr> = vec![
        "198.51.100.10".parse().unwrap(),
        "2001:db8::10".parse().unwrap(),
    ];
    let ports = [ServicePort {
        port: 80,
        protocol: "TCP".into(),
    }];
    let key = ObjectKey::new("prod", "web");
    write_service_ingress(&c.client, &key, &ips, &ports)
        .await
        .unwrap();

    let after = c.fake.get("v1", "Service", Some("prod"), "web").unwrap();
    assert_eq!(
        after["status"]["loadBalancer"]["ingress"],
        json!([
            {"ip": "198.51.100.10", "ipMode": "VIP", "ports": [{"port": 80, "protocol": "TCP"}]},
            {"ip": "2001:db8::10", "ipMode": "VIP", "ports": [{"port": 80, "protocol": "TCP"}]}
        ])
    );
    assert_eq!(after["spec"], before["spec"]);
    assert_eq!(
        after["metadata"]["annotations"],
        before["metadata"]["annotations"]
    );
    let requests = c.fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "PATCH" && r.path == "/api/v1/namespaces/prod/services/web/status"),
        "no PATCH to the status subresource: {requests:?}"
    );

    // A shorter list replaces the longer one (merge patch replaces lists whole).
    write_service_ingress(&c.client, &key, &ips[..1], &ports)
        .await
        .unwrap();
    let after = c.fake.get("v1", "Service", Some("prod"), "web").unwrap();
    assert_eq!(
        after["status"]["loadBalancer"]["ingress"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn writing_status_of_a_missing_service_names_it() {
    let c = cluster().await;
    let key = ObjectKey::new("default", "missing");
    let err = write_service_ingress(&c.client, &key, &[], &[])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("writing status of Service default/missing: "),
        "{text}"
    );
    assert!(err.is_not_found(), "{err:?}");
}
