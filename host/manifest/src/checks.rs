//! The agent's start-up checks, made when the manifest is generated: a manifest the agent would
//! refuse (no peers, nothing to announce, two peer sources…) is an error here, with the same
//! advice, instead of a crash-looping Pod.

use crate::cli::AgentFlags;
use crate::error::ManifestError;
use crate::values::{PeerList, parse_peer_list};

/// kube-vip's Lease defaults, as the agent applies them (seconds).
const LEASE_DURATION: u64 = 15;
const LEASE_RENEW_DEADLINE: u64 = 10;
const LEASE_RETRY_PERIOD: u64 = 2;

/// What the agent announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub control_plane: bool,
    pub services: bool,
}

pub fn roles(flags: &AgentFlags, notes: &mut Vec<String>) -> Result<Roles, ManifestError> {
    if flags.bgp == Some(false) {
        return Err(ManifestError::flags(
            "--bgp=false: Herald only announces VIPs over BGP; drop the flag or pass --bgp",
        ));
    }
    let roles = Roles {
        control_plane: flags.controlplane.unwrap_or(false),
        services: flags.services.unwrap_or(false),
    };
    if roles.control_plane && flags.vip.is_empty() {
        return Err(ManifestError::flags(
            "--controlplane needs the VIP: give --vip ADDRESS (or --address ADDRESS)",
        ));
    }
    if !roles.control_plane && !roles.services {
        return Err(ManifestError::flags(
            "nothing to announce: give --controlplane (with --vip) and/or --services",
        ));
    }
    if !roles.control_plane && !flags.vip.is_empty() {
        notes.push("--vip is announced only with --controlplane; the agent will ignore it".into());
    }
    Ok(roles)
}

/// Where the peers come from; exactly what the agent accepts.
pub fn peer_source(flags: &AgentFlags) -> Result<Vec<PeerList>, ManifestError> {
    let metal = flags.metal.unwrap_or(false) || flags.provider_config.is_some();
    let sources = [flags.provider.is_some(), flags.annotations.is_some(), metal];
    if sources.iter().filter(|on| **on).count() > 1 {
        return Err(ManifestError::flags(
            "choose one peer source: --provider, --annotations, or --metal/--provider-config",
        ));
    }
    if !metal {
        for (given, flag) in [
            (flags.metal_key.is_some(), "--metalKey"),
            (flags.metal_key_file.is_some(), "--metalKeyFile"),
            (flags.metal_project_id.is_some(), "--metalProjectID"),
        ] {
            if given {
                return Err(ManifestError::flags(format!(
                    "{flag} is used only with --metal: add --metal (or drop {flag})"
                )));
            }
        }
    }
    if metal
        && flags.provider_config.is_none()
        && flags.metal_key.is_none()
        && flags.metal_key_file.is_none()
    {
        return Err(ManifestError::flags(
            "--metal needs the API token: --metalKey, --metalKeyFile or --provider-config (a cloud-sa.json)",
        ));
    }
    let peers = flags
        .bgp_peers
        .iter()
        // The reason names the peer and the bad field, never the value: it may hold a password.
        .map(|text| {
            parse_peer_list(text).map_err(|reason| ManifestError::value("--bgppeers", reason))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let has_provider = sources.iter().any(|on| *on);
    if !has_provider && flags.peer_address.is_none() && peers.is_empty() {
        return Err(ManifestError::flags(
            "no BGP peers: give a provider (--provider, --annotations PREFIX, --metal, --provider-config) \
             or static peers (--peerAddress/--bgppeers)",
        ));
    }
    Ok(peers)
}

/// The `oci://` reference `--provider` gives, if it is one; one without a digest is refused, as
/// the agent would refuse it (a tag can be pushed again: every node must run the same component).
pub fn oci_provider(flags: &AgentFlags) -> Result<Option<herald_oci::Reference>, ManifestError> {
    let provider = flags.provider.as_deref().unwrap_or_default();
    if !["oci://", "http://", "https://"]
        .iter()
        .any(|scheme| provider.starts_with(scheme))
    {
        if !flags.insecure_registry.is_empty() {
            return Err(ManifestError::flags(
                "--insecure-registry is for an oci:// --provider; drop it or give one",
            ));
        }
        return Ok(None);
    }
    let reference = herald_oci::Reference::parse(provider)
        .map_err(|err| ManifestError::value("--provider", err.to_string()))?;
    if reference.digest().is_none() {
        return Err(ManifestError::value(
            "--provider",
            herald_oci::Error::Unpinned {
                reference: reference.to_string(),
            }
            .to_string(),
        ));
    }
    Ok(Some(reference))
}

/// Registry credentials (`--registry-secret`, `--registry-config-file`) serve an `oci://`
/// provider only.
pub fn registry_credentials(oci_provider: bool, flag: Option<&str>) -> Result<(), ManifestError> {
    match flag {
        Some(flag) if !oci_provider => Err(ManifestError::flags(format!(
            "{flag} gives the registry credentials of an oci:// --provider; drop it or give one"
        ))),
        _ => Ok(()),
    }
}

/// The agent's rule: duration > renew deadline > retry period > 0.
pub fn election(flags: &AgentFlags) -> Result<(), ManifestError> {
    let duration = flags.lease_duration.unwrap_or(LEASE_DURATION);
    let renew = flags.lease_renew.unwrap_or(LEASE_RENEW_DEADLINE);
    let retry = flags.lease_retry.unwrap_or(LEASE_RETRY_PERIOD);
    if retry == 0 || renew <= retry || duration <= renew {
        return Err(ManifestError::flags(format!(
            "--leaseDuration ({duration}s) must exceed --leaseRenewDuration ({renew}s), which must exceed --leaseRetry ({retry}s) > 0"
        )));
    }
    Ok(())
}

/// Whether the agent uses the ServiceAccount: by default a DaemonSet does (the host kubeconfig
/// exists on control-plane nodes only) and a static Pod does not (it cannot have one).
pub fn in_cluster(flags: &AgentFlags, default: bool) -> Result<bool, ManifestError> {
    match (flags.in_cluster, &flags.k8s_config_path) {
        (Some(true), Some(_)) => Err(ManifestError::flags(
            "--inCluster uses the ServiceAccount; --k8sConfigPath mounts a host kubeconfig: choose one",
        )),
        (Some(explicit), _) => Ok(explicit),
        (None, Some(_)) => Ok(false),
        (None, None) => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_credentials_need_an_oci_provider() {
        assert_eq!(
            registry_credentials(true, Some("--registry-secret")),
            Ok(())
        );
        assert_eq!(registry_credentials(false, None), Ok(()));
        for flag in ["--registry-secret", "--registry-config-file"] {
            let Err(ManifestError::Flags(message)) = registry_credentials(false, Some(flag)) else {
                panic!("{flag} without an oci:// provider was accepted");
            };
            assert!(message.starts_with(flag), "{message}");
            assert!(message.contains("oci:// --provider"), "{message}");
        }
    }
}
