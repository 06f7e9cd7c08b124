//! Command-line behaviour: kube-vip's flag spellings, refusals with clear messages, and what a
//! flag changes in the manifest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{clap_error, render_line, try_render};
use serde_yaml::Value;

fn document(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).unwrap()
}

/// The Pod spec of a Pod or of a DaemonSet's template.
fn pod_spec(doc: &Value) -> &Value {
    match doc["kind"].as_str() {
        Some("DaemonSet") => &doc["spec"]["template"]["spec"],
        _ => &doc["spec"],
    }
}

/// The entry called `name` of a list of named objects (volumes, volumeMounts, env).
fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_sequence()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == name)
        .unwrap_or_else(|| panic!("no {name:?} in {list:?}"))
}

fn args(doc: &Value) -> Vec<String> {
    pod_spec(doc)["containers"][0]["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn env_names(doc: &Value) -> Vec<String> {
    pod_spec(doc)["containers"][0]["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn controlplane_without_a_vip_names_the_flags() {
    let error = try_render("pod --interface lo --controlplane --annotations x").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("--controlplane"), "{message}");
    assert!(
        message.contains("--vip") && message.contains("--address"),
        "{message}"
    );
}

#[test]
fn boolean_flags_take_the_agent_spellings() {
    let bare = render_line("pod --vip 192.0.2.1 --controlplane --annotations x");
    let explicit = render_line("pod --vip 192.0.2.1 --controlplane=true --annotations x");
    assert_eq!(bare, explicit);
    let off = render_line("pod --controlplane=false --services --annotations x");
    assert!(!args(&document(&off.yaml)).contains(&"--controlplane".to_owned()));
    // require_equals, as the agent: `--services false` is not a value for --services.
    assert!(clap_error("pod --services false --annotations x").contains("false"));
}

#[test]
fn address_is_an_alias_of_vip() {
    let vip = render_line("pod --vip 192.0.2.1 --controlplane --annotations x");
    let address = render_line("pod --address 192.0.2.1 --controlplane --annotations x");
    assert_eq!(vip, address);
    assert!(args(&document(&vip.yaml)).contains(&"--vip=192.0.2.1".to_owned()));
}

#[test]
fn clap_refuses_unknown_subcommands_and_misplaced_flags() {
    assert!(clap_error("deployment --services").contains("deployment"));
    assert!(clap_error("pod --taint --services --annotations x").contains("--taint"));
    assert!(clap_error("pod --vip not-an-ip --controlplane").contains("not an IP"));
    assert!(
        clap_error("pod --metalKey a --metalKeyFile /k --metal --services")
            .contains("--metalKeyFile")
    );
}

#[test]
fn the_agents_start_up_refusals_happen_here() {
    for (line, expected) in [
        ("pod --services --bgp=false --annotations x", "--bgp=false"),
        ("pod --interface lo --annotations x", "nothing to announce"),
        ("pod --services", "no BGP peers"),
        (
            "pod --services --annotations x --metal --metalKey k",
            "choose one peer source",
        ),
        ("pod --services --metal", "--metal needs the API token"),
        (
            "pod --services --annotations x --metalProjectID p",
            "--metalProjectID is used only with --metal",
        ),
        (
            "daemonset --services --annotations x --leaderElection --leaseRetry 10",
            "--leaseRetry",
        ),
        (
            "pod --services --annotations x --inCluster --k8sConfigPath /k",
            "choose one",
        ),
        (
            "daemonset --services --metal --provider-config /cloud-sa.json",
            "directory of its own",
        ),
    ] {
        let message = try_render(line).unwrap_err().to_string();
        assert!(message.contains(expected), "{line}: {message}");
    }
}

#[test]
fn no_secret_reaches_the_manifest_or_stderr() {
    for (name, line) in common::CASES {
        let rendered = render_line(line);
        for secret in common::SECRETS {
            assert!(
                !rendered.yaml.contains(secret),
                "{name}: {secret} in the manifest"
            );
            for note in &rendered.notes {
                assert!(!note.contains(secret), "{name}: {secret} in a note: {note}");
            }
        }
    }
    // Nor in an error about a bad --bgppeers value.
    let message = try_render("pod --services --bgppeers 192.0.2.1:abc:md5-s3cr3t")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("--bgppeers") && !message.contains("md5-s3cr3t"),
        "{message}"
    );
}

#[test]
fn a_static_pod_gets_placeholders_and_a_daemonset_secret_refs() {
    let line = "--services --peerAddress 192.0.2.1 --peerPass md5-s3cr3t --bgppeers 192.0.2.2:65000:md5-s3cr3t";
    let pod = render_line(&format!("pod {line}"));
    let doc = document(&pod.yaml);
    let env = &pod_spec(&doc)["containers"][0]["env"];
    assert_eq!(env[1]["name"], "HERALD_PEERPASS");
    assert_eq!(env[1]["value"], "REPLACE-WITH-BGP-PEER-PASSWORD");
    assert_eq!(env[2]["name"], "HERALD_BGPPEERS");
    assert!(
        !args(&doc)
            .iter()
            .any(|a| a.starts_with("--bgppeers") || a.starts_with("--peerPass"))
    );
    assert!(
        pod.notes
            .iter()
            .any(|n| n.contains("--peerPass") && n.contains("--peerPassFile"))
    );

    let ds = render_line(&format!("daemonset {line}"));
    let doc = document(&ds.yaml);
    let env = &pod_spec(&doc)["containers"][0]["env"];
    assert_eq!(
        env[1]["valueFrom"]["secretKeyRef"]["name"],
        "herald-secrets"
    );
    assert_eq!(env[1]["valueFrom"]["secretKeyRef"]["key"], "bgp-peer-pass");
    assert!(
        ds.yaml
            .contains("kubectl -n kube-system create secret generic herald-secrets")
    );
}

#[test]
fn bgppeers_without_passwords_stay_readable_arguments() {
    let rendered =
        render_line("daemonset --services --bgppeers 192.0.2.2:65000::false,192.0.2.3:65000");
    let doc = document(&rendered.yaml);
    assert!(args(&doc).contains(&"--bgppeers=192.0.2.2:65000::false,192.0.2.3:65000".to_owned()));
    assert_eq!(env_names(&doc), ["HERALD_NODENAME"]);
}

#[test]
fn the_node_name_comes_from_the_downward_api() {
    let doc = document(&render_line("pod --services --annotations x").yaml);
    let env = &pod_spec(&doc)["containers"][0]["env"][0];
    assert_eq!(env["name"], "HERALD_NODENAME");
    assert_eq!(env["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
}

#[test]
fn a_static_pod_mounts_the_host_kubeconfig_where_kubeadm_expects_it() {
    let doc = document(
        &render_line(
            "pod --services --annotations x --k8sConfigPath /etc/kubernetes/super-admin.conf",
        )
        .yaml,
    );
    let spec = pod_spec(&doc);
    assert_eq!(
        spec["volumes"][0]["hostPath"]["path"],
        "/etc/kubernetes/super-admin.conf"
    );
    assert_eq!(
        spec["containers"][0]["volumeMounts"][0]["mountPath"],
        "/etc/kubernetes/admin.conf"
    );
    assert!(args(&doc).contains(&"--k8sConfigPath=/etc/kubernetes/admin.conf".to_owned()));
    assert_eq!(spec["hostAliases"][0]["ip"], "127.0.0.1");
    assert_eq!(spec["priorityClassName"], "system-node-critical");
    assert_eq!(spec["hostNetwork"], true);
    let caps = &spec["containers"][0]["securityContext"]["capabilities"];
    assert_eq!(
        caps["add"],
        serde_yaml::from_str::<Value>("[NET_ADMIN, NET_RAW]").unwrap()
    );
    assert_eq!(
        caps["drop"],
        serde_yaml::from_str::<Value>("[ALL]").unwrap()
    );
}

#[test]
fn an_in_cluster_pod_uses_the_service_account_and_no_host_files() {
    let doc = document(&render_line("pod --services --annotations x --inCluster").yaml);
    let spec = pod_spec(&doc);
    assert_eq!(spec["serviceAccountName"], "herald");
    assert!(spec.get("volumes").is_none() && spec.get("hostAliases").is_none());
    assert!(!args(&doc).iter().any(|a| a.starts_with("--k8sConfigPath")));
}

#[test]
fn the_metrics_address_moves_the_probes() {
    let doc = document(
        &render_line("pod --services --annotations x --prometheusHTTPServer 10.0.0.1:9100").yaml,
    );
    let container = &pod_spec(&doc)["containers"][0];
    assert_eq!(container["ports"][0]["containerPort"], 9100);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["livenessProbe"]["httpGet"]["host"], "10.0.0.1");
    assert!(args(&doc).contains(&"--prometheusHTTPServer=10.0.0.1:9100".to_owned()));

    let off = render_line("pod --services --annotations x --prometheusHTTPServer off");
    let doc = document(&off.yaml);
    let container = &pod_spec(&doc)["containers"][0];
    assert!(container.get("livenessProbe").is_none() && container.get("ports").is_none());
    assert!(off.notes.iter().any(|n| n.contains("no probes")));
}

#[test]
fn an_untagged_image_gets_the_release_tag() {
    let release = format!("v{}", env!("CARGO_PKG_VERSION"));
    let doc = document(
        &render_line("daemonset --services --annotations x --image registry.example:5000/herald")
            .yaml,
    );
    assert_eq!(
        pod_spec(&doc)["containers"][0]["image"],
        format!("registry.example:5000/herald:{release}").as_str()
    );
    let doc = document(&render_line("daemonset --services --annotations x").yaml);
    assert_eq!(
        pod_spec(&doc)["containers"][0]["image"],
        format!("ghcr.io/herald-bgp/herald:{release}").as_str()
    );
    assert_eq!(
        doc["metadata"]["labels"]["app.kubernetes.io/version"],
        release.as_str()
    );
}

#[test]
fn a_control_plane_daemonset_is_pinned_to_control_plane_nodes() {
    let untainted = document(&render_line("daemonset --services --annotations x").yaml);
    assert!(pod_spec(&untainted).get("tolerations").is_none());
    assert!(pod_spec(&untainted).get("affinity").is_none());

    let tainted = document(&render_line("daemonset --services --annotations x --taint").yaml);
    let spec = pod_spec(&tainted);
    assert_eq!(spec["tolerations"].as_sequence().unwrap().len(), 2);
    let terms = &spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    assert_eq!(
        terms[0]["matchExpressions"][0]["key"],
        "node-role.kubernetes.io/control-plane"
    );
    assert_eq!(
        terms[1]["matchExpressions"][0]["key"],
        "node-role.kubernetes.io/master"
    );

    // --controlplane without --taint: still only control-plane nodes, and the operator is told.
    let rendered = render_line("daemonset --vip 192.0.2.1 --controlplane --annotations x");
    assert!(
        pod_spec(&document(&rendered.yaml))
            .get("affinity")
            .is_some()
    );
    assert!(
        rendered
            .notes
            .iter()
            .any(|n| n.contains("control-plane nodes only"))
    );
}

#[test]
fn a_daemonset_rolls_one_node_at_a_time() {
    let doc = document(&render_line("daemonset --services --annotations x").yaml);
    assert_eq!(doc["metadata"]["name"], "herald-ds");
    assert_eq!(doc["spec"]["updateStrategy"]["type"], "RollingUpdate");
    assert_eq!(
        doc["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
        1
    );
    assert_eq!(pod_spec(&doc)["serviceAccountName"], "herald");
    let selector = &doc["spec"]["selector"]["matchLabels"];
    let labels = &doc["spec"]["template"]["metadata"]["labels"];
    for (key, value) in selector.as_mapping().unwrap() {
        assert_eq!(&labels[key.as_str().unwrap()], value);
    }
}

#[test]
fn the_ccm_secret_is_mounted_at_the_provider_config_directory() {
    let doc = document(
        &render_line("daemonset --services --provider-config /etc/cloud-sa/cloud-sa.json").yaml,
    );
    let spec = pod_spec(&doc);
    assert_eq!(
        spec["volumes"][0]["secret"]["secretName"],
        "metal-cloud-config"
    );
    assert_eq!(
        spec["volumes"][0]["secret"]["items"][0]["key"],
        "cloud-sa.json"
    );
    assert_eq!(
        spec["containers"][0]["volumeMounts"][0]["mountPath"],
        "/etc/cloud-sa"
    );
    // A static Pod cannot read the Secret: the host's file is mounted instead.
    let doc =
        document(&render_line("pod --services --provider-config /etc/cloud-sa/cloud-sa.json").yaml);
    assert_eq!(
        pod_spec(&doc)["volumes"][1]["hostPath"]["path"],
        "/etc/cloud-sa/cloud-sa.json"
    );
}

#[test]
fn rbac_is_three_documents() {
    let yaml = render_line("rbac").yaml;
    let kinds: Vec<String> = yaml
        .split("\n---\n")
        .map(|doc| document(doc)["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]
    );
    let role = document(yaml.split("\n---\n").nth(1).unwrap());
    assert_eq!(role["metadata"]["name"], "system:herald-role");
    let verbs: Vec<String> = role["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|rule| {
            rule["verbs"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
        })
        .collect();
    // Least privilege: nothing the agent does not do.
    for absent in ["delete", "deletecollection", "*", "escalate", "bind"] {
        assert!(!verbs.iter().any(|v| v == absent), "{absent}");
    }
    let lease_names = render_line("rbac --leaseName my-lock").yaml;
    assert!(lease_names.contains("- my-lock"));
}

#[test]
fn a_secret_looking_config_value_is_flagged() {
    let rendered = render_line("pod --services --provider x --config api-token=abc");
    assert!(rendered.notes.iter().any(|n| n.contains("api-token=@FILE")));
    let file = render_line("pod --services --provider x --config api-token=@/etc/herald/token");
    let doc = document(&file.yaml);
    assert_eq!(
        pod_spec(&doc)["volumes"][1]["hostPath"]["path"],
        "/etc/herald/token"
    );
    assert!(file.notes.is_empty(), "{:?}", file.notes);
}

#[test]
fn an_oci_provider_gets_the_cache_volume_and_passes_through() {
    let rendered = render_line(&format!(
        "daemonset --services --provider {} --insecure-registry registry.example:5000",
        common::OCI_PROVIDER
    ));
    let doc = document(&rendered.yaml);
    let args = args(&doc);
    assert!(
        args.contains(&format!("--provider={}", common::OCI_PROVIDER)),
        "{args:?}"
    );
    assert!(
        args.contains(&"--insecure-registry=registry.example:5000".to_owned()),
        "{args:?}"
    );
    let spec = pod_spec(&doc);
    let volume = &spec["volumes"][0];
    assert_eq!(volume["name"], "provider-cache");
    assert_eq!(volume["hostPath"]["path"], "/var/cache/herald");
    assert_eq!(volume["hostPath"]["type"], "DirectoryOrCreate");
    let mount = &spec["containers"][0]["volumeMounts"][0];
    assert_eq!(mount["name"], "provider-cache");
    assert_eq!(mount["mountPath"], "/var/cache/herald");
    assert!(
        mount["readOnly"].is_null(),
        "the cache is written: {mount:?}"
    );
    let env = &spec["containers"][0]["env"];
    let cache = named(env, "HERALD_CACHE_DIR");
    assert_eq!(cache["value"], "/var/cache/herald");
    assert!(
        rendered
            .notes
            .iter()
            .any(|note| note.contains("/var/cache/herald")),
        "{:?}",
        rendered.notes
    );

    // A static Pod gets the same.
    let pod = document(
        &render_line(&format!(
            "pod --services --provider {}",
            common::OCI_PROVIDER
        ))
        .yaml,
    );
    let cache = named(&pod_spec(&pod)["volumes"], "provider-cache");
    assert_eq!(cache["hostPath"]["type"], "DirectoryOrCreate");
    assert!(env_names(&pod).contains(&"HERALD_CACHE_DIR".to_owned()));
}

#[test]
fn a_provider_by_name_or_path_gets_no_cache_volume() {
    for provider in ["equinix-annotations", "/usr/lib/herald/providers/mine.wasm"] {
        let doc =
            document(&render_line(&format!("daemonset --services --provider {provider}")).yaml);
        assert!(pod_spec(&doc)["volumes"].is_null(), "{provider}");
        assert!(!env_names(&doc).contains(&"HERALD_CACHE_DIR".to_owned()));
    }
}

#[test]
fn an_oci_provider_without_a_digest_is_refused_saying_why() {
    let error = try_render("daemonset --services --provider oci://registry.example/herald/p:v1")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("--provider: "), "{error}");
    assert!(error.contains("not pinned"), "{error}");
    assert!(error.contains("@sha256:"), "{error}");
    assert!(error.contains("herald provider push"), "{error}");
    let error =
        try_render("daemonset --services --provider oci://registry.example/herald/p@sha256:abc")
            .unwrap_err()
            .to_string();
    assert!(error.contains("digest"), "{error}");
    let error = try_render("daemonset --services --annotations x --insecure-registry r.example")
        .unwrap_err()
        .to_string();
    assert!(error.contains("--insecure-registry"), "{error}");
}

#[test]
fn registry_credentials_are_mounted_and_given_as_registry_config() {
    let doc = document(
        &render_line(&format!(
            "daemonset --services --provider {} --registry-secret herald-registry",
            common::OCI_PROVIDER
        ))
        .yaml,
    );
    assert!(
        args(&doc).contains(&"--registry-config=/etc/herald/registry/config.json".to_owned()),
        "{:?}",
        args(&doc)
    );
    let spec = pod_spec(&doc);
    let volume = named(&spec["volumes"], "registry-config");
    assert_eq!(volume["secret"]["secretName"], "herald-registry");
    assert_eq!(volume["secret"]["items"][0]["key"], ".dockerconfigjson");
    assert_eq!(volume["secret"]["items"][0]["path"], "config.json");
    let mount = named(&spec["containers"][0]["volumeMounts"], "registry-config");
    assert_eq!(mount["mountPath"], "/etc/herald/registry");
    assert_eq!(mount["readOnly"], true);

    let pod = document(
        &render_line(&format!(
            "pod --services --provider {} --registry-config-file /etc/herald/registry.json",
            common::OCI_PROVIDER
        ))
        .yaml,
    );
    assert!(args(&pod).contains(&"--registry-config=/etc/herald/registry/config.json".to_owned()));
    let spec = pod_spec(&pod);
    let volume = named(&spec["volumes"], "registry-config");
    assert_eq!(volume["hostPath"]["path"], "/etc/herald/registry.json");
    assert_eq!(volume["hostPath"]["type"], "File");
    let mount = named(&spec["containers"][0]["volumeMounts"], "registry-config");
    assert_eq!(mount["mountPath"], "/etc/herald/registry/config.json");
    assert_eq!(mount["readOnly"], true);
}

#[test]
fn registry_credentials_without_an_oci_provider_are_refused() {
    for (line, flag) in [
        (
            "daemonset --services --annotations x --registry-secret herald-registry",
            "--registry-secret",
        ),
        (
            "daemonset --services --provider equinix-annotations --registry-secret r",
            "--registry-secret",
        ),
        (
            "pod --services --peerAddress 169.254.255.1 --peerAS 65530 \
             --registry-config-file /etc/herald/registry.json",
            "--registry-config-file",
        ),
        (
            "pod --services --provider /usr/lib/herald/providers/mine.wasm \
             --registry-config-file /etc/herald/registry.json",
            "--registry-config-file",
        ),
    ] {
        let error = try_render(line).unwrap_err().to_string();
        assert!(error.contains(flag), "{line}: {error}");
        assert!(error.contains("oci://"), "{line}: {error}");
    }
}

#[test]
fn registry_credential_flags_belong_to_their_workload() {
    // A static Pod cannot read a Secret; a DaemonSet takes the Secret, not a host file.
    let oci = common::OCI_PROVIDER;
    assert!(
        clap_error(&format!(
            "pod --services --provider {oci} --registry-secret r"
        ))
        .contains("--registry-secret")
    );
    assert!(
        clap_error(&format!(
            "daemonset --services --provider {oci} --registry-config-file /etc/r.json"
        ))
        .contains("--registry-config-file")
    );
    assert!(
        clap_error(&format!(
            "daemonset --services --provider {oci} --registry-secret Not_A_Name"
        ))
        .contains("not a Secret name")
    );
    assert!(
        clap_error(&format!(
            "pod --services --provider {oci} --registry-config-file registry.json"
        ))
        .contains("absolute path")
    );
}
