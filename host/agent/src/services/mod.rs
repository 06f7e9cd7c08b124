//! LoadBalancer Services: which ones this agent handles, their addresses, their BGP attributes.

pub mod addresses;
pub mod attributes;

pub use addresses::{AddressChoice, AddressSource, service_addresses};
pub use attributes::{
    ANNOTATION_COMMUNITIES, ANNOTATION_LARGE_COMMUNITIES, ANNOTATION_LOCAL_PREF, route_attributes,
};

use herald_kube::ServiceInfo;

/// kube-vip's default `loadBalancerClass`.
pub const DEFAULT_LB_CLASS: &str = "kube-vip.io/kube-vip-class";
/// `"true"` makes kube-vip (and Herald) leave the Service alone.
pub const ANNOTATION_IGNORE: &str = "kube-vip.io/ignore";

/// Which Services are ours (kube-vip's "legacy handling", its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPolicy {
    /// `--lbClassName`.
    pub class_name: String,
    /// `--lbClassOnly`: Services without a class are not ours.
    pub class_only: bool,
}

impl Default for ClassPolicy {
    fn default() -> Self {
        Self {
            class_name: DEFAULT_LB_CLASS.to_owned(),
            class_only: false,
        }
    }
}

impl ClassPolicy {
    pub fn handles(&self, service: &ServiceInfo) -> bool {
        if service
            .annotations
            .get(ANNOTATION_IGNORE)
            .is_some_and(|value| value == "true")
        {
            return false;
        }
        match &service.load_balancer_class {
            Some(class) => *class == self.class_name,
            None => !self.class_only,
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::BTreeMap;

    use herald_kube::{ObjectKey, ServiceInfo, ServicePort};

    pub fn service(name: &str) -> ServiceInfo {
        ServiceInfo {
            key: ObjectKey {
                namespace: "default".into(),
                name: name.into(),
            },
            uid: format!("uid-{name}"),
            load_balancer_class: None,
            load_balancer_ip: None,
            ingress: Vec::new(),
            external_traffic_policy_local: false,
            ports: vec![ServicePort {
                port: 80,
                protocol: "TCP".into(),
            }],
            annotations: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::service;
    use super::*;

    #[test]
    fn class_policy_follows_kube_vip_legacy_handling() {
        let policy = ClassPolicy::default();
        let mut web = service("web");
        assert!(policy.handles(&web));
        web.load_balancer_class = Some(DEFAULT_LB_CLASS.into());
        assert!(policy.handles(&web));
        web.load_balancer_class = Some("metallb.io/metallb".into());
        assert!(!policy.handles(&web));

        let only = ClassPolicy {
            class_only: true,
            ..ClassPolicy::default()
        };
        let mut classless = service("plain");
        assert!(!only.handles(&classless));
        classless.load_balancer_class = Some(DEFAULT_LB_CLASS.into());
        assert!(only.handles(&classless));
    }

    #[test]
    fn ignored_services_are_not_handled() {
        let mut web = service("web");
        web.annotations
            .insert(ANNOTATION_IGNORE.into(), "true".into());
        assert!(!ClassPolicy::default().handles(&web));
    }
}
