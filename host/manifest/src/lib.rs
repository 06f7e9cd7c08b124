//! Kubernetes manifests for Herald (static Pod, DaemonSet, RBAC) from kube-vip-named flags.
//!
//! `herald manifest pod|daemonset|rbac` parses [`ManifestCommand`] and calls [`render`]. The
//! container runs `herald agent` with explicit flags; secrets are never arguments and a secret
//! the operator typed is never written (see `secrets`). Output is deterministic: the same flags
//! give the same bytes, which the golden-file tests hold to.

mod args;
mod checks;
mod cli;
mod daemonset;
mod error;
mod image;
mod mounts;
mod plan;
mod pod;
mod pod_spec;
mod rbac;
mod secrets;
mod values;
mod yaml;

pub use cli::{AgentFlags, DaemonSetFlags, ManifestCommand, PodFlags, RbacFlags};
pub use error::ManifestError;

/// A manifest, and notes for stderr (decisions the operator should know; never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub yaml: String,
    pub notes: Vec<String>,
}

pub fn render(command: &ManifestCommand) -> Result<Rendered, ManifestError> {
    match command {
        ManifestCommand::Pod(flags) => {
            let plan = plan::plan(
                plan::Workload::Pod,
                &flags.agent,
                false,
                flags
                    .registry_config_file
                    .as_deref()
                    .map(plan::RegistryAuth::HostFile),
            )?;
            Ok(Rendered {
                yaml: yaml::write_documents(&pod::header(&plan), &[pod::document(&plan)]),
                notes: plan.notes,
            })
        }
        ManifestCommand::Daemonset(flags) => {
            let taint = flags.taint.unwrap_or(false);
            let plan = plan::plan(
                plan::Workload::DaemonSet,
                &flags.agent,
                taint,
                flags
                    .registry_secret
                    .as_deref()
                    .map(plan::RegistryAuth::Secret),
            )?;
            Ok(Rendered {
                yaml: yaml::write_documents(
                    &daemonset::header(&plan),
                    &[daemonset::document(&plan)],
                ),
                notes: plan.notes,
            })
        }
        ManifestCommand::Rbac(flags) => Ok(Rendered {
            yaml: yaml::write_documents(&rbac::header(), &rbac::documents(&flags.lease_name)),
            notes: Vec::new(),
        }),
    }
}
