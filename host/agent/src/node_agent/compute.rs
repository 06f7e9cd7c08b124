//! Inputs → desired state: peers (discovered ∪ flags), the control-plane VIP when this node should
//! announce it, and every eligible Service's VIPs with their attributes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use herald_bgp::RouteAttributes;
use herald_kube::{ObjectKey, ServiceInfo, ServicePort};
use ipnet::IpNet;

use crate::desired::DesiredState;
use crate::discovered::merge_peers;
use crate::node_agent::config::NodeAgentConfig;
use crate::node_agent::inputs::Inputs;
use crate::services::{self, attributes, service_addresses};

/// A `status.loadBalancer.ingress` write the agent should make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWrite {
    pub service: ObjectKey,
    pub addresses: Vec<IpAddr>,
    pub ports: Vec<ServicePort>,
    /// `status.loadBalancer.ingress` as last seen, to tell "not written yet" from "written,
    /// the watch has not caught up".
    pub observed: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Computed {
    pub desired: DesiredState,
    /// Services whose VIPs are in `desired`.
    pub services_announced: usize,
    pub status_writes: Vec<StatusWrite>,
    /// Services with bad input, and what was wrong (for Events; never a secret).
    pub problems: Vec<(ServiceInfo, String)>,
}

/// Attributes last parsed without error, per Service: a bad edit of an annotation keeps the last
/// good attributes instead of dropping them.
pub type AttributeMemory = HashMap<ObjectKey, RouteAttributes>;

pub fn compute(
    config: &NodeAgentConfig,
    inputs: &Inputs,
    memory: &mut AttributeMemory,
) -> Computed {
    let mut computed = Computed::default();
    let discovered = inputs.discovered.as_deref().unwrap_or_default();
    let peers = merge_peers(discovered, &config.flags.static_peers);
    let desired = &mut computed.desired;
    desired.peer_routes = peers
        .values()
        .filter_map(|peer| peer.route_via.map(|gateway| (peer.address, gateway)))
        .collect();
    desired.peers = peers;

    let mut vips: BTreeMap<IpNet, RouteAttributes> = BTreeMap::new();
    if config.control_plane && (config.election.is_none() || inputs.leader) {
        for vip in &config.flags.vips {
            vips.entry(*vip).or_default();
        }
    }
    if config.services {
        let ready_here = services_ready_here(inputs);
        memory.retain(|key, _| inputs.services.contains_key(key));
        for service in inputs.services.values() {
            if !config.class_policy.handles(service) {
                continue;
            }
            let choice = match service_addresses(service) {
                Ok(Some(choice)) => choice,
                Ok(None) => continue,
                Err(problem) => {
                    computed.problems.push((service.clone(), problem));
                    continue;
                }
            };
            if service.external_traffic_policy_local && !ready_here.contains(&service.key) {
                continue;
            }
            let route = match services::route_attributes(service) {
                Ok(route) => {
                    // Only non-default attributes are remembered: no entry means none.
                    if route == RouteAttributes::default() {
                        memory.remove(&service.key);
                    } else {
                        memory.insert(service.key.clone(), route.clone());
                    }
                    route
                }
                Err(problem) => {
                    computed.problems.push((service.clone(), problem));
                    memory.get(&service.key).cloned().unwrap_or_default()
                }
            };
            for address in &choice.addresses {
                let entry = vips.entry(IpNet::from(*address)).or_default();
                attributes::merge(entry, &route);
            }
            if choice.status_needs_write(service) {
                computed.status_writes.push(StatusWrite {
                    service: service.key.clone(),
                    addresses: choice.addresses.clone(),
                    ports: service.ports.clone(),
                    observed: service.ingress.clone(),
                });
            }
            computed.services_announced += 1;
        }
    }
    let desired = &mut computed.desired;
    if config.flags.vip_addresses {
        desired.addresses = vips.keys().copied().collect();
    }
    desired.prefixes = vips
        .into_iter()
        .map(|(vip, route)| (vip.trunc(), route))
        .collect();
    computed
}

/// Services with a ready endpoint on this node in any of their EndpointSlices.
fn services_ready_here(inputs: &Inputs) -> BTreeSet<ObjectKey> {
    inputs
        .slices
        .values()
        .filter(|slice| slice.ready_on_node)
        .map(|slice| ObjectKey {
            namespace: slice.key.namespace.clone(),
            name: slice.service.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use herald_kube::{LeaseConfig, SliceInfo};
    use herald_runtime::NodeContext;

    use super::*;
    use crate::config::{FlagSettings, PeerSpec};
    use crate::services::test_support::service;
    use crate::services::{ANNOTATION_COMMUNITIES, ClassPolicy};

    fn peer(address: &str, route_via: Option<&str>) -> PeerSpec {
        PeerSpec {
            address: address.parse().unwrap(),
            port: 179,
            asn: 65530,
            local_asn: Some(65000),
            password: None,
            multihop_ttl: Some(2),
            source_address: None,
            route_via: route_via.map(|gw| gw.parse().unwrap()),
            hold_time: 30,
            keepalive: 10,
        }
    }

    fn config() -> NodeAgentConfig {
        NodeAgentConfig {
            flags: FlagSettings {
                router_id: None,
                local_asn: None,
                graceful_restart_time: None,
                static_peers: vec![peer("192.0.2.1", None)],
                vips: vec!["203.0.113.10/32".parse().unwrap()],
                interface: "lo".into(),
                vip_addresses: true,
                shutdown_timeout: Duration::from_secs(5),
                hold_time: 30,
                keepalive: 10,
                multihop_ttl: 2,
            },
            local_node: NodeContext {
                node_name: "n1".into(),
                ..NodeContext::default()
            },
            control_plane: true,
            services: true,
            class_policy: ClassPolicy::default(),
            election: None,
            kubernetes: None,
            observe_addr: None,
        }
    }

    fn prefixes(computed: &Computed) -> Vec<String> {
        computed
            .desired
            .prefixes
            .keys()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn discovered_and_static_peers_with_their_routes() {
        let inputs = Inputs {
            discovered: Some(vec![
                peer("169.254.255.1", Some("192.0.2.1")),
                peer("169.254.255.2", Some("192.0.2.1")),
            ]),
            ..Inputs::default()
        };
        let computed = compute(&config(), &inputs, &mut AttributeMemory::new());
        assert_eq!(computed.desired.peers.len(), 3);
        assert_eq!(computed.desired.peer_routes.len(), 2);
        assert_eq!(prefixes(&computed), ["203.0.113.10/32"]);
        assert_eq!(computed.desired.addresses.len(), 1);
    }

    #[test]
    fn election_gates_only_the_control_plane_vip() {
        let mut config = config();
        config.election = Some(LeaseConfig {
            namespace: "kube-system".into(),
            name: "plndr-cp-lock".into(),
            identity: "n1".into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        });
        let mut inputs = Inputs::default();
        let mut web = service("web");
        web.load_balancer_ip = Some("198.51.100.5".into());
        inputs.services.insert(web.key.clone(), web);
        let follower = compute(&config, &inputs, &mut AttributeMemory::new());
        assert_eq!(prefixes(&follower), ["198.51.100.5/32"]);
        inputs.leader = true;
        let leader = compute(&config, &inputs, &mut AttributeMemory::new());
        assert_eq!(prefixes(&leader), ["198.51.100.5/32", "203.0.113.10/32"]);
    }

    #[test]
    fn local_traffic_policy_needs_a_ready_endpoint_here() {
        let mut inputs = Inputs::default();
        let mut web = service("web");
        web.load_balancer_ip = Some("198.51.100.5".into());
        web.external_traffic_policy_local = true;
        inputs.services.insert(web.key.clone(), web.clone());
        let slice = |name: &str, ready| SliceInfo {
            key: ObjectKey {
                namespace: "default".into(),
                name: name.into(),
            },
            service: "web".into(),
            ready_on_node: ready,
        };
        inputs
            .slices
            .insert(slice("web-a", false).key.clone(), slice("web-a", false));
        let mut config = config();
        config.control_plane = false;
        assert!(
            compute(&config, &inputs, &mut AttributeMemory::new())
                .desired
                .prefixes
                .is_empty()
        );
        inputs
            .slices
            .insert(slice("web-b", true).key.clone(), slice("web-b", true));
        let computed = compute(&config, &inputs, &mut AttributeMemory::new());
        assert_eq!(prefixes(&computed), ["198.51.100.5/32"]);
        assert_eq!(
            computed.status_writes.len(),
            1,
            "the address came from the spec"
        );
    }

    #[test]
    fn a_bad_attribute_edit_keeps_the_last_good_attributes() {
        let mut config = config();
        config.control_plane = false;
        let mut inputs = Inputs::default();
        let mut web = service("web");
        web.ingress = vec!["198.51.100.5".into()];
        web.annotations
            .insert(ANNOTATION_COMMUNITIES.into(), "65000:1".into());
        inputs.services.insert(web.key.clone(), web.clone());
        let mut memory = AttributeMemory::new();
        let good = compute(&config, &inputs, &mut memory);
        web.annotations
            .insert(ANNOTATION_COMMUNITIES.into(), "bogus".into());
        inputs.services.insert(web.key.clone(), web);
        let bad = compute(&config, &inputs, &mut memory);
        assert_eq!(bad.problems.len(), 1);
        assert!(bad.problems[0].1.contains("bogus"));
        assert_eq!(bad.desired.prefixes, good.desired.prefixes);
        assert!(
            bad.status_writes.is_empty(),
            "the address came from the status"
        );
    }

    #[test]
    fn services_are_off_without_the_flag_and_bad_addresses_are_problems() {
        let mut config = config();
        let mut inputs = Inputs::default();
        let mut web = service("web");
        web.load_balancer_ip = Some("not-an-ip".into());
        inputs.services.insert(web.key.clone(), web);
        let computed = compute(&config, &inputs, &mut AttributeMemory::new());
        assert_eq!(computed.problems.len(), 1);
        config.services = false;
        let computed = compute(&config, &inputs, &mut AttributeMemory::new());
        assert!(computed.problems.is_empty());
        assert_eq!(prefixes(&computed), ["203.0.113.10/32"]);
    }
}
