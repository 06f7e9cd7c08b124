//! kube-vip's environment variable names, read when neither the flag nor its `HERALD_*` variable
//! is set, so a kube-vip Pod spec keeps working. Precedence: flag > `HERALD_*` > kube-vip name.

use std::str::FromStr;

use anyhow::anyhow;

/// Where kube-vip variables come from (the process environment, or a map in tests).
pub trait EnvSource {
    fn get(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        // kube-vip ignores empty values; so do we.
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    }
}

/// The kube-vip variables Herald reads, with the Herald flag each stands for.
pub const KUBE_VIP_ENV: &[(&str, &str)] = &[
    ("bgp_enable", "--bgp"),
    ("bgp_as", "--localAS"),
    ("bgp_routerid", "--bgpRouterID"),
    ("bgp_peeraddress", "--peerAddress"),
    ("bgp_peeras", "--peerAS"),
    ("bgp_peerpass", "--peerPass"),
    ("bgp_multihop", "--multihop"),
    ("bgp_peers", "--bgppeers"),
    ("bgp_sourceip", "--sourceIP"),
    ("bgp_hold_time", "--holdTime"),
    ("bgp_keepalive_interval", "--keepalive"),
    ("vip_interface", "--interface"),
    ("vip_address", "--vip"),
    ("cp_enable", "--controlplane"),
    ("svc_enable", "--services"),
    ("vip_leaderelection", "--leaderElection"),
    ("vip_leasename", "--leaseName"),
    ("vip_leaseduration", "--leaseDuration"),
    ("vip_renewdeadline", "--leaseRenewDuration"),
    ("vip_retryperiod", "--leaseRetry"),
    ("cp_namespace", "--namespace"),
    ("vip_nodename", "--nodeName"),
    ("k8s_config_file", "--k8sConfigPath"),
    ("svc_namespace", "--servicesNamespace"),
    ("lb_class_only", "--lbClassOnly"),
    ("lb_class_name", "--lbClassName"),
    ("prometheus_server", "--prometheusHTTPServer"),
    ("annotation", "--annotations"),
    ("vip_packet", "--metal"),
    ("vip_packetprojectid", "--metalProjectID"),
    ("provider_config", "--provider-config"),
];

/// `current` if set, else the parsed kube-vip variable `name`.
pub fn fallback<T: FromStr>(
    env: &dyn EnvSource,
    current: Option<T>,
    name: &str,
) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    if current.is_some() {
        return Ok(current);
    }
    match env.get(name) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|error| anyhow!("environment variable {name} (kube-vip name for {}): invalid value {text:?}: {error}", flag_for(name))),
    }
}

/// A kube-vip boolean (Go's `strconv.ParseBool` spellings).
pub fn fallback_bool(
    env: &dyn EnvSource,
    current: Option<bool>,
    name: &str,
) -> anyhow::Result<Option<bool>> {
    if current.is_some() {
        return Ok(current);
    }
    match env.get(name) {
        None => Ok(None),
        Some(text) => match text.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Some(true)),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Some(false)),
            _ => Err(anyhow!(
                "environment variable {name} (kube-vip name for {}): invalid value {text:?}: expected true or false",
                flag_for(name)
            )),
        },
    }
}

fn flag_for(name: &str) -> &'static str {
    KUBE_VIP_ENV
        .iter()
        .find(|(env, _)| *env == name)
        .map_or("?", |(_, flag)| flag)
}
