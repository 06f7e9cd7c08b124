//! Where a Service's VIPs come from, in kube-vip's order (kube-vip.md §4.2): the
//! `kube-vip.io/loadbalancerIPs` annotation, else `status.loadBalancer.ingress` (with a differing
//! `spec.loadBalancerIP` of the same family winning), else `spec.loadBalancerIP`.

use std::net::IpAddr;

use herald_kube::ServiceInfo;

pub const ANNOTATION_LOADBALANCER_IPS: &str = "kube-vip.io/loadbalancerIPs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    Annotation,
    Status,
    Spec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressChoice {
    /// Sorted, without duplicates.
    pub addresses: Vec<IpAddr>,
    pub source: AddressSource,
}

impl AddressChoice {
    /// Herald writes the status when it took the addresses from the spec or the annotation and
    /// the status does not list exactly them yet.
    pub fn status_needs_write(&self, service: &ServiceInfo) -> bool {
        self.source != AddressSource::Status && ingress_ips(service) != self.addresses
    }
}

/// The addresses to announce, `Ok(None)` when the Service has none yet (no IPAM has run), or an
/// error naming the field whose value is not an IP address.
pub fn service_addresses(service: &ServiceInfo) -> Result<Option<AddressChoice>, String> {
    if let Some(list) = service.annotations.get(ANNOTATION_LOADBALANCER_IPS) {
        let addresses = parse_list(list).map_err(|bad| {
            format!("annotation {ANNOTATION_LOADBALANCER_IPS}: {bad:?} is not an IP address (Herald does not resolve names)")
        })?;
        if addresses.is_empty() {
            return Ok(None);
        }
        return Ok(Some(AddressChoice {
            addresses,
            source: AddressSource::Annotation,
        }));
    }
    let spec = match service.load_balancer_ip.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| format!("spec.loadBalancerIP: {text:?} is not an IP address"))?,
        ),
    };
    let status = ingress_ips(service);
    if !status.is_empty() {
        let mut addresses = status.clone();
        if let Some(spec) = spec {
            // The spec wins over a status entry of its family (kube-vip: a changed loadBalancerIP).
            if !addresses.contains(&spec) {
                addresses.retain(|address| address.is_ipv4() != spec.is_ipv4());
                addresses.push(spec);
                addresses.sort();
                return Ok(Some(AddressChoice {
                    addresses,
                    source: AddressSource::Spec,
                }));
            }
        }
        return Ok(Some(AddressChoice {
            addresses,
            source: AddressSource::Status,
        }));
    }
    Ok(spec.map(|address| AddressChoice {
        addresses: vec![address],
        source: AddressSource::Spec,
    }))
}

/// The IP entries of `status.loadBalancer.ingress` (hostnames are not Herald's), sorted.
fn ingress_ips(service: &ServiceInfo) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = service
        .ingress
        .iter()
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

fn parse_list(list: &str) -> Result<Vec<IpAddr>, String> {
    let mut addresses = list
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| item.parse::<IpAddr>().map_err(|_| item.to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::service;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|ip| ip.parse().unwrap()).collect()
    }

    #[test]
    fn annotation_wins_and_is_dual_stack() {
        let mut web = service("web");
        web.annotations.insert(
            ANNOTATION_LOADBALANCER_IPS.into(),
            "2001:db8::10, 203.0.113.10".into(),
        );
        web.load_balancer_ip = Some("198.51.100.1".into());
        web.ingress = vec!["198.51.100.2".into()];
        let choice = service_addresses(&web).unwrap().unwrap();
        assert_eq!(choice.addresses, ips(&["203.0.113.10", "2001:db8::10"]));
        assert_eq!(choice.source, AddressSource::Annotation);
        assert!(choice.status_needs_write(&web));
        web.ingress = vec!["2001:db8::10".into(), "203.0.113.10".into()];
        assert!(!choice.status_needs_write(&web));
    }

    #[test]
    fn status_is_used_and_not_rewritten() {
        let mut web = service("web");
        web.ingress = vec!["203.0.113.7".into()];
        let choice = service_addresses(&web).unwrap().unwrap();
        assert_eq!(choice.source, AddressSource::Status);
        assert!(!choice.status_needs_write(&web));
    }

    #[test]
    fn a_changed_spec_address_replaces_the_status_one_of_its_family() {
        let mut web = service("web");
        web.ingress = vec!["203.0.113.7".into(), "2001:db8::7".into()];
        web.load_balancer_ip = Some("203.0.113.8".into());
        let choice = service_addresses(&web).unwrap().unwrap();
        assert_eq!(choice.addresses, ips(&["203.0.113.8", "2001:db8::7"]));
        assert!(choice.status_needs_write(&web));
    }

    #[test]
    fn spec_alone_and_nothing_at_all() {
        let mut web = service("web");
        assert_eq!(service_addresses(&web).unwrap(), None);
        web.load_balancer_ip = Some("198.51.100.9".into());
        let choice = service_addresses(&web).unwrap().unwrap();
        assert_eq!(
            (choice.addresses, choice.source),
            (ips(&["198.51.100.9"]), AddressSource::Spec)
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut web = service("web");
        web.annotations
            .insert(ANNOTATION_LOADBALANCER_IPS.into(), "web.example.com".into());
        let error = service_addresses(&web).unwrap_err();
        assert!(error.contains("kube-vip.io/loadbalancerIPs") && error.contains("web.example.com"));
        let mut web = service("web");
        web.load_balancer_ip = Some("300.1.1.1".into());
        assert!(
            service_addresses(&web)
                .unwrap_err()
                .contains("spec.loadBalancerIP")
        );
    }
}
