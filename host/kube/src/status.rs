//! Writing `status.loadBalancer.ingress` of a Service.

use std::net::IpAddr;

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::wire::ServiceWire;
use crate::{KubeError, ObjectKey, ServicePort};

/// Writes status.loadBalancer.ingress = [{ip, ipMode: "VIP", ports: [{port, protocol}]}] through
/// the status subresource (merge patch) — only the caller decides when (it compares first).
///
/// A merge patch replaces the whole `ingress` list and touches nothing else; the status
/// subresource ignores `spec`, so a concurrent spec edit is never overwritten.
pub async fn write_service_ingress(
    client: &kube::Client,
    key: &ObjectKey,
    ips: &[IpAddr],
    ports: &[ServicePort],
) -> Result<(), KubeError> {
    let api: Api<ServiceWire> = Api::namespaced(client.clone(), &key.namespace);
    let patch = ingress_patch(ips, ports);
    api.patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| KubeError::api(format!("writing status of Service {key}"), e))?;
    Ok(())
}

fn ingress_patch(ips: &[IpAddr], ports: &[ServicePort]) -> serde_json::Value {
    let ports: Vec<_> = ports
        .iter()
        .map(|p| json!({"port": p.port, "protocol": p.protocol}))
        .collect();
    let ingress: Vec<_> = ips
        .iter()
        // ipMode VIP: kube-proxy keeps routing the VIP locally (KEP-1860), as kube-vip expects.
        .map(|ip| json!({"ip": ip.to_string(), "ipMode": "VIP", "ports": ports}))
        .collect();
    json!({"status": {"loadBalancer": {"ingress": ingress}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_has_one_entry_per_ip_with_ports_and_ip_mode() {
        let ips: Vec<IpAddr> = vec![
            "198.51.100.10".parse().unwrap(),
            "2001:db8::a".parse().unwrap(),
        ];
        let ports = [ServicePort {
            port: 443,
            protocol: "TCP".into(),
        }];
        let patch = ingress_patch(&ips, &ports);
        assert_eq!(
            patch,
            json!({"status": {"loadBalancer": {"ingress": [
                {"ip": "198.51.100.10", "ipMode": "VIP", "ports": [{"port": 443, "protocol": "TCP"}]},
                {"ip": "2001:db8::a", "ipMode": "VIP", "ports": [{"port": 443, "protocol": "TCP"}]}
            ]}}})
        );
    }

    #[test]
    fn no_ips_clears_the_list() {
        assert_eq!(
            ingress_patch(&[], &[]),
            json!({"status": {"loadBalancer": {"ingress": []}}})
        );
    }
}
