//! Kubernetes manifests for Herald (static Pod, DaemonSet, RBAC) from kube-vip-named flags.
