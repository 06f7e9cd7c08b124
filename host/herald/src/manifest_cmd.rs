//! `herald manifest pod|daemonset|rbac`: the manifest on stdout, the generator's notes (what
//! it decided, e.g. where a secret went) on stderr. The work is in `herald-manifest`.

use std::io::Write;

use herald_manifest::ManifestCommand;

pub fn run(command: &ManifestCommand) -> anyhow::Result<()> {
    let rendered = herald_manifest::render(command)?;
    for note in &rendered.notes {
        eprintln!("herald manifest: note: {note}");
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.yaml.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The manifests' container arguments must mean the same to `herald agent`: parsed here with the
/// agent's own parser, with the container's env vars supplied as the agent would read them.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::net::{IpAddr, Ipv4Addr};
    use std::path::{Path, PathBuf};

    use clap::{CommandFactory, Parser};
    use herald_agent::FlagSettings;
    use serde_yaml::Value;

    use crate::agent_cmd::AgentArgs;
    use crate::agent_cmd::kubevip_env::EnvSource;
    use crate::{Cli, Command};

    /// No kube-vip variables: the manifest passes everything as flags or `HERALD_*` vars.
    struct NoKubeVipEnv;

    impl EnvSource for NoKubeVipEnv {
        fn get(&self, _: &str) -> Option<String> {
            None
        }
    }

    const NODE_NAME: &str = "node-from-downward-api";

    /// `herald manifest <line>` through the real CLI; the first document.
    fn manifest(line: &str) -> Value {
        let cli = Cli::try_parse_from(
            ["herald", "manifest"]
                .into_iter()
                .chain(line.split_whitespace()),
        )
        .unwrap_or_else(|e| panic!("{line}: {e}"));
        let Command::Manifest(command) = cli.command else {
            panic!("{line}: not the manifest subcommand");
        };
        let yaml = herald_manifest::render(&command).unwrap().yaml;
        serde_yaml::from_str(&yaml).unwrap()
    }

    fn container(doc: &Value) -> &Value {
        match doc["kind"].as_str() {
            Some("DaemonSet") => &doc["spec"]["template"]["spec"]["containers"][0],
            _ => &doc["spec"]["containers"][0],
        }
    }

    /// The agent flag that reads env var `name` (clap's `env = …`).
    fn flag_for_env(name: &str) -> String {
        let cli = Cli::command();
        let agent = cli.find_subcommand("agent").unwrap();
        let arg = agent
            .get_arguments()
            .find(|arg| arg.get_env().is_some_and(|env| env == name))
            .unwrap_or_else(|| {
                panic!("the manifest sets {name}, which `herald agent` does not read")
            });
        format!("--{}", arg.get_long().unwrap())
    }

    /// The container's command line, env vars turned into the flags they stand for (a Secret's
    /// value is a stand-in), parsed by `herald agent`'s parser.
    fn parse_agent(container: &Value) -> AgentArgs {
        let mut argv: Vec<String> = vec!["herald".into()];
        for arg in container["args"].as_sequence().unwrap() {
            argv.push(arg.as_str().unwrap().to_owned());
        }
        assert_eq!(argv[1], "agent", "the container must run `herald agent`");
        for var in container["env"].as_sequence().into_iter().flatten() {
            let name = var["name"].as_str().unwrap();
            if name == "HERALD_CACHE_DIR" {
                // Not a flag: the cache directory is read from the environment.
                assert_eq!(var["value"], "/var/cache/herald");
                continue;
            }
            let value = match (&var["value"], &var["valueFrom"]) {
                (Value::String(value), _) => value.clone(),
                (_, from) if from["fieldRef"]["fieldPath"] == "spec.nodeName" => NODE_NAME.into(),
                (_, from) if from["secretKeyRef"].is_mapping() => {
                    format!(
                        "from-secret-{}",
                        from["secretKeyRef"]["key"].as_str().unwrap()
                    )
                }
                other => panic!("{name}: unexpected env source {other:?}"),
            };
            argv.push(format!("{}={value}", flag_for_env(name)));
        }
        match Cli::try_parse_from(&argv) {
            Ok(Cli {
                command: Command::Agent(args),
                ..
            }) => *args,
            Ok(_) => panic!("{argv:?}: not the agent"),
            Err(e) => panic!("`herald agent` refuses the manifest's flags {argv:?}:\n{e}"),
        }
    }

    /// What every manifest must give the agent, whatever the mode.
    fn common_checks(args: &AgentArgs, container: &Value) -> FlagSettings {
        let env = NoKubeVipEnv;
        assert!(args.mode(&env).unwrap().bgp);
        assert_eq!(args.node.node_name.as_deref(), Some(NODE_NAME));
        let port = container["ports"][0]["containerPort"].as_u64().unwrap();
        let listen = args.node.observe_addr(&env).unwrap().unwrap();
        assert_eq!(
            u64::from(listen.port()),
            port,
            "probes and listener disagree"
        );
        let flags = FlagSettings::from_flags(&args.static_flags(&env).unwrap()).unwrap();
        assert_eq!(flags.interface, "lo");
        flags
    }

    #[test]
    fn a_static_pod_for_the_metal_api_runs_the_agent_as_meant() {
        let doc = manifest(
            "pod --interface lo --vip 203.0.113.10 --controlplane --services --bgp --metal \
             --metalKey s3cr3t --metalProjectID 4d2cc9a4-5d1e-4f1b-9a67-0d1a2b3c4d5e",
        );
        let args = parse_agent(container(&doc));
        let flags = common_checks(&args, container(&doc));
        let roles = args.node.roles(&NoKubeVipEnv).unwrap();
        assert!(roles.control_plane && roles.services);
        assert_eq!(flags.vips, vec!["203.0.113.10/32".parse().unwrap()]);
        assert_eq!(args.node.metal, Some(true));
        // The key reaches the agent through HERALD_METALKEY, as a placeholder to replace.
        assert_eq!(
            args.node.metal_key.as_deref(),
            Some("REPLACE-WITH-METAL-API-KEY")
        );
        assert_eq!(
            args.node.metal_project_id.as_deref(),
            Some("4d2cc9a4-5d1e-4f1b-9a67-0d1a2b3c4d5e")
        );
        assert_eq!(
            args.node.k8s_config_path.as_deref(),
            Some(Path::new("/etc/kubernetes/admin.conf"))
        );
    }

    #[test]
    fn a_static_pod_with_a_static_peer_runs_the_agent_as_meant() {
        let doc = manifest(
            "pod --interface lo --vip 203.0.113.10 --controlplane --services --bgp --peerAS 65530 \
             --peerAddress 169.254.255.1 --localAS 65000 --bgpRouterID 10.70.17.9",
        );
        let args = parse_agent(container(&doc));
        let flags = common_checks(&args, container(&doc));
        assert_eq!(flags.local_asn, Some(65000));
        assert_eq!(flags.router_id, Some(Ipv4Addr::new(10, 70, 17, 9)));
        assert_eq!(flags.static_peers.len(), 1);
        let peer = &flags.static_peers[0];
        assert_eq!(peer.address, "169.254.255.1".parse::<IpAddr>().unwrap());
        assert_eq!(peer.asn, 65530);
        assert!(peer.password.is_none());
    }

    #[test]
    fn a_daemonset_in_annotation_mode_keeps_the_prefix() {
        let doc = manifest(
            "daemonset --interface lo --services --bgp --annotations metal.equinix.com --inCluster",
        );
        let args = parse_agent(container(&doc));
        common_checks(&args, container(&doc));
        let roles = args.node.roles(&NoKubeVipEnv).unwrap();
        assert!(!roles.control_plane && roles.services);
        assert_eq!(args.node.annotations.as_deref(), Some("metal.equinix.com"));
        // In-cluster: no kubeconfig flag, so the agent takes the ServiceAccount.
        assert!(args.node.k8s_config_path.is_none());
    }

    #[test]
    fn a_daemonset_with_the_ccm_secret_points_at_the_mounted_file() {
        let doc = manifest(
            "daemonset --interface lo --services --inCluster --bgp --metal \
             --provider-config /etc/cloud-sa/cloud-sa.json",
        );
        let container = container(&doc);
        let args = parse_agent(container);
        common_checks(&args, container);
        let path = args.node.provider_config.clone().unwrap();
        assert_eq!(path, PathBuf::from("/etc/cloud-sa/cloud-sa.json"));
        let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
        assert!(
            path.starts_with(mount),
            "{} is not under {mount}",
            path.display()
        );
    }

    #[test]
    fn secrets_from_a_secret_reach_the_agent_through_its_env_vars() {
        let doc = manifest(
            "daemonset --interface lo --vip 203.0.113.10 --controlplane --taint --leaderElection \
             --peerAddress 169.254.255.1 --peerAS 65530 --peerPass s3cr3t --metal --metalKey s3cr3t",
        );
        let args = parse_agent(container(&doc));
        let flags = common_checks(&args, container(&doc));
        assert_eq!(
            args.node.metal_key.as_deref(),
            Some("from-secret-metal-api-key")
        );
        assert_eq!(
            flags.static_peers[0]
                .password
                .as_ref()
                .map(|p| p.expose().to_owned()),
            Some("from-secret-bgp-peer-pass".to_owned())
        );
        assert!(
            args.node
                .election(&NoKubeVipEnv, NODE_NAME)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_bgppeers_list_with_passwords_reaches_the_agent_from_the_secret() {
        let doc = manifest("daemonset --services --bgppeers 169.254.255.1:65530:s3cr3t");
        let container = container(&doc);
        let args_text: Vec<&str> = container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(
            !args_text
                .iter()
                .any(|a| a.contains("s3cr3t") || a.starts_with("--bgppeers"))
        );
        let args = parse_agent(container);
        let flags = args.static_flags(&NoKubeVipEnv).unwrap();
        let peers: Vec<&str> = flags.bgp_peers.iter().map(|p| p.expose()).collect();
        assert_eq!(peers, ["from-secret-bgp-peers"]);
    }

    #[test]
    fn a_daemonset_with_an_oci_provider_runs_the_agent_as_meant() {
        let pinned = "oci://registry.example:5000/herald/equinix-annotations:v1@sha256:\
                      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let doc = manifest(&format!(
            "daemonset --services --provider {pinned} --config prefix=metal.equinix.com \
             --insecure-registry registry.example:5000"
        ));
        let container = container(&doc);
        let args = parse_agent(container);
        common_checks(&args, container);
        assert_eq!(args.node.provider.as_deref(), Some(pinned));
        assert_eq!(
            args.node.provider_dirs.registry.insecure_registries,
            ["registry.example:5000"]
        );
        let mount = &container["volumeMounts"][0];
        assert_eq!(mount["mountPath"], "/var/cache/herald");
        assert!(
            container["env"]
                .as_sequence()
                .unwrap()
                .iter()
                .any(|var| var["name"] == "HERALD_CACHE_DIR")
        );
    }

    /// `--registry-secret` (DaemonSet) and `--registry-config-file` (static Pod): the agent gets
    /// `--registry-config` at the file the mount puts there.
    #[test]
    fn registry_credentials_reach_the_agent_as_its_registry_config() {
        let pinned = "oci://registry.example:5000/herald/equinix-annotations:v1@sha256:\
                      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for (line, mount_path) in [
            (
                format!(
                    "daemonset --interface lo --services --provider {pinned} \
                     --config prefix=metal.equinix.com --registry-secret herald-registry"
                ),
                "/etc/herald/registry",
            ),
            (
                format!(
                    "pod --interface lo --vip 203.0.113.10 --controlplane --peerAddress 169.254.255.1 \
                     --peerAS 65530 --provider {pinned} --config prefix=metal.equinix.com \
                     --registry-config-file /etc/herald/registry.json"
                ),
                "/etc/herald/registry/config.json",
            ),
        ] {
            let doc = manifest(&line);
            let container = container(&doc);
            let args = parse_agent(container);
            common_checks(&args, container);
            assert_eq!(args.node.provider.as_deref(), Some(pinned));
            let registry = &args.node.provider_dirs.registry;
            assert_eq!(
                registry.registry_config.as_deref(),
                Some(Path::new("/etc/herald/registry/config.json")),
                "{line}"
            );
            assert!(registry.registry_username.is_none());
            assert!(
                container["volumeMounts"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == "registry-config"
                        && m["mountPath"] == mount_path
                        && m["readOnly"] == true),
                "{line}"
            );
        }
    }

    #[test]
    fn the_deploy_overlays_run_the_agent_as_meant() {
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
        let base: Value = serde_yaml::from_str(
            &std::fs::read_to_string(deploy.join("base/daemonset.yaml")).unwrap(),
        )
        .unwrap();
        let base_env = container(&base)["env"].clone();
        let mut checked = 0;
        for overlay in std::fs::read_dir(deploy.join("overlays")).unwrap() {
            let overlay = overlay.unwrap().path();
            for patch in std::fs::read_dir(&overlay).unwrap() {
                let patch = patch.unwrap().path();
                let text = std::fs::read_to_string(&patch).unwrap();
                if patch.extension().is_none_or(|e| e != "yaml")
                    || !text.contains("kind: DaemonSet")
                {
                    continue;
                }
                let doc: Value = serde_yaml::from_str(&text).unwrap();
                let mut patched = container(&doc).clone();
                patched["env"] = base_env.clone();
                patched["ports"] = container(&base)["ports"].clone();
                let args = parse_agent(&patched);
                common_checks(&args, &patched);
                assert!(
                    args.node.roles(&NoKubeVipEnv).unwrap().services,
                    "{}",
                    patch.display()
                );
                checked += 1;
            }
        }
        assert!(
            checked >= 2,
            "no overlay DaemonSet patch found under {}",
            deploy.display()
        );
    }
}
