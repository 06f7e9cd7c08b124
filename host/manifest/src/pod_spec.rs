//! The Pod spec both the static Pod and the DaemonSet run: one `herald` container on the host
//! network with NET_ADMIN and NET_RAW only, probes, resources, and read-only mounts (the cache
//! directory of an `oci://` provider aside).

use crate::mounts::{Mount, Source};
use crate::plan::{EnvValue, EnvVar, Plan};
use crate::yaml::{Map, Node, Seq};

pub const CONTAINER_NAME: &str = "herald";
pub const SERVICE_ACCOUNT: &str = "herald";

pub fn pod_spec(plan: &Plan) -> Map {
    let mut spec = Map::new()
        .with("containers", Seq::from_iter([container(plan)]))
        .with_comment(
            "VIPs go on the host's interface and BGP runs from the host's addresses.",
            "hostNetwork",
            true,
        )
        .with_comment(
            "Evicted last: losing it withdraws the routes to this node.",
            "priorityClassName",
            "system-node-critical",
        );
    if plan.in_cluster {
        spec.push("serviceAccountName", SERVICE_ACCOUNT);
    } else {
        spec = spec.with_comment(
            "As kube-vip: a kubeconfig whose server is https://kubernetes:6443 reaches the local\n\
             apiserver before any VIP exists.",
            "hostAliases",
            Seq::from_iter([Map::new()
                .with("ip", "127.0.0.1")
                .with("hostnames", Seq::from_iter(["kubernetes"]))]),
        );
    }
    if !plan.mounts.is_empty() {
        spec.push("volumes", plan.mounts.iter().map(volume).collect::<Seq>());
    }
    spec
}

fn container(plan: &Plan) -> Map {
    let mut container = Map::new()
        .with("name", CONTAINER_NAME)
        .with("image", &plan.image.reference)
        .with("imagePullPolicy", "IfNotPresent")
        .with("args", plan.args.iter().collect::<Seq>())
        .with("env", plan.env.iter().map(env_var).collect::<Seq>());
    if let Some((port, host)) = &plan.probes {
        container = container
            .with(
                "ports",
                Seq::from_iter([Map::new()
                    .with("name", "metrics")
                    .with("containerPort", *port)
                    .with("protocol", "TCP")]),
            )
            .with_comment(
                "The first start compiles the provider component: allow it up to 2 minutes.",
                "startupProbe",
                probe("/healthz", host.as_deref(), 2, 60),
            )
            .with_comment(
                "/healthz fails when the agent's loop has not run for 30 s.",
                "livenessProbe",
                probe("/healthz", host.as_deref(), 10, 3),
            )
            .with_comment(
                "/readyz: peers known and a BGP session Established (a rollout waits for it).",
                "readinessProbe",
                probe("/readyz", host.as_deref(), 5, 2),
            );
    }
    container = container
        .with_comment(
            "Requests: the agent idles between reconciles and holds a few MiB plus the provider's\n\
             sandbox. Limit: memory only. 256Mi is above the sandbox's 64 MiB cap plus compiling\n\
             the provider at start, and stops a leak before it hurts the node; no CPU limit, as\n\
             CFS throttling could delay keepalives and drop the BGP sessions.",
            "resources",
            Map::new()
                .with(
                    "requests",
                    Map::new().with("cpu", "50m").with("memory", "64Mi"),
                )
                .with("limits", Map::new().with("memory", "256Mi")),
        )
        .with_comment(
            "NET_ADMIN: VIPs on the interface, routes to the peers, TCP MD5 keys. NET_RAW as\n\
             kube-vip grants it. Nothing else.",
            "securityContext",
            Map::new().with("allowPrivilegeEscalation", false).with(
                "capabilities",
                Map::new()
                    .with("add", Seq::from_iter(["NET_ADMIN", "NET_RAW"]))
                    .with("drop", Seq::from_iter(["ALL"])),
            ),
        );
    if !plan.mounts.is_empty() {
        container.push(
            "volumeMounts",
            plan.mounts
                .iter()
                .map(|mount| {
                    let entry = Map::new()
                        .with("name", &mount.name)
                        .with("mountPath", &mount.mount_path);
                    if mount.source.read_only() {
                        entry.with("readOnly", true)
                    } else {
                        entry
                    }
                })
                .collect::<Seq>(),
        );
    }
    container
}

fn probe(path: &str, host: Option<&str>, period: u32, failures: u32) -> Map {
    let get = Map::new()
        .with_opt("host", host)
        .with("path", path)
        .with("port", "metrics");
    Map::new()
        .with("httpGet", get)
        .with("periodSeconds", period)
        .with("timeoutSeconds", 2u32)
        .with("failureThreshold", failures)
}

fn env_var(var: &EnvVar) -> Node {
    let entry = Map::new().with("name", &var.name);
    match &var.value {
        EnvValue::Literal(value) => entry.with("value", value),
        EnvValue::Field(path) => entry.with(
            "valueFrom",
            Map::new().with("fieldRef", Map::new().with("fieldPath", *path)),
        ),
        EnvValue::Secret { name, key } => entry.with(
            "valueFrom",
            Map::new().with(
                "secretKeyRef",
                Map::new().with("name", name).with("key", key),
            ),
        ),
    }
    .into()
}

fn volume(mount: &Mount) -> Node {
    let entry = Map::new().with("name", &mount.name);
    match &mount.source {
        Source::HostFile(path) => entry.with(
            "hostPath",
            Map::new().with("path", path).with("type", "File"),
        ),
        Source::HostCacheDir(path) => entry.with(
            "hostPath",
            Map::new()
                .with("path", path)
                .with("type", "DirectoryOrCreate"),
        ),
        Source::SecretKey { secret, key, file } => entry.with(
            "secret",
            Map::new().with("secretName", secret).with(
                "items",
                Seq::from_iter([Map::new().with("key", key).with("path", file)]),
            ),
        ),
    }
    .into()
}
