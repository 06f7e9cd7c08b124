//! Server-side defaulting and allocation the apiserver performs on write, for the kinds where clients
//! depend on it (a Service gets its clusterIP, policies and nodePorts).

use serde_json::{Value, json};

/// Cluster IPs from 10.96.0.0/12 and node ports from 30000–32767, handed out in order.
#[derive(Debug)]
pub(crate) struct Allocator {
    next_ip: u32,
    next_port: u16,
}

impl Default for Allocator {
    fn default() -> Self {
        // 10.96.0.1 is the `kubernetes` Service in a real cluster; start after it.
        Self {
            next_ip: u32::from_be_bytes([10, 96, 0, 10]),
            next_port: 30000,
        }
    }
}

impl Allocator {
    fn cluster_ip(&mut self) -> String {
        let ip = std::net::Ipv4Addr::from(self.next_ip);
        let end = u32::from_be_bytes([10, 111, 255, 254]);
        self.next_ip = if self.next_ip >= end {
            u32::from_be_bytes([10, 96, 0, 10])
        } else {
            self.next_ip + 1
        };
        ip.to_string()
    }

    fn node_port(&mut self) -> u16 {
        let port = self.next_port;
        self.next_port = if port >= 32767 { 30000 } else { port + 1 };
        port
    }
}

fn set_default(obj: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    if obj
        .get(key)
        .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
    {
        obj.insert(key.to_string(), value);
    }
}

/// Service defaults as in `pkg/apis/core/v1/defaults.go` plus the IP and port allocators.
pub(crate) fn service(new: &mut Value, old: Option<&Value>, alloc: &mut Allocator) {
    let old_spec = old.and_then(|o| o.get("spec"));
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    set_default(spec, "type", json!("ClusterIP"));
    let kind = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    set_default(spec, "sessionAffinity", json!("None"));
    if kind == "ExternalName" {
        return;
    }
    let old_ip = old_spec
        .and_then(|s| s.get("clusterIP"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    if spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let ip = old_ip.map_or_else(|| alloc.cluster_ip(), str::to_string);
        spec.insert("clusterIP".to_string(), json!(ip));
    }
    if let Some(ip) = spec.get("clusterIP").cloned() {
        set_default(spec, "clusterIPs", json!([ip]));
    }
    set_default(spec, "ipFamilies", json!(["IPv4"]));
    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    let external = kind == "NodePort" || kind == "LoadBalancer";
    if external {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    let wants_node_ports = kind == "NodePort"
        || (kind == "LoadBalancer"
            && spec.get("allocateLoadBalancerNodePorts") != Some(&json!(false)));
    let old_ports = old_spec
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array);
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
            if let Some(p) = port.get("port").cloned() {
                set_default(port, "targetPort", p);
            }
            if wants_node_ports
                && port
                    .get("nodePort")
                    .is_none_or(|v| v.is_null() || v == &json!(0))
            {
                let previous = old_ports.and_then(|ops| {
                    ops.iter()
                        .find(|op| {
                            op.get("port") == port.get("port")
                                && op.get("protocol") == port.get("protocol")
                        })
                        .and_then(|op| op.get("nodePort").cloned())
                });
                let node_port = previous.unwrap_or_else(|| json!(alloc.node_port()));
                port.insert("nodePort".to_string(), node_port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_defaults_and_keeps_allocations() {
        let mut alloc = Allocator::default();
        let mut svc = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}});
        service(&mut svc, None, &mut alloc);
        let spec = &svc["spec"];
        assert_eq!(spec["clusterIP"], "10.96.0.10");
        assert_eq!(spec["clusterIPs"], json!(["10.96.0.10"]));
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30000})
        );
        let mut update = json!({"spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 80}]}});
        service(&mut update, Some(&svc), &mut alloc);
        assert_eq!(update["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(update["spec"]["ports"][0]["nodePort"], 30000);
        assert_eq!(update["spec"]["externalTrafficPolicy"], "Local");
    }

    #[test]
    fn headless_and_external_name() {
        let mut alloc = Allocator::default();
        let mut headless = json!({"spec": {"clusterIP": "None"}});
        service(&mut headless, None, &mut alloc);
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        let mut ext = json!({"spec": {"type": "ExternalName", "externalName": "example.com"}});
        service(&mut ext, None, &mut alloc);
        assert!(ext["spec"].get("clusterIP").is_none());
    }
}
