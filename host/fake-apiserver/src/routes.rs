//! Apiserver URL paths: discovery documents, and resource paths (namespaced, cluster-scoped,
//! all-namespaces, `/status`, the legacy `/watch/` prefix) resolved against the resource table.

use serde_json::{Value, json};

use crate::discovery;
use crate::resources::{KindId, by_plural, def};
use crate::status::ApiError;

/// A request for a resource (collection, object, or its status).
#[derive(Debug)]
pub(crate) struct Target {
    pub kind: KindId,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub status: bool,
    /// Reached through the deprecated `/watch/` prefix.
    pub legacy_watch: bool,
}

pub(crate) enum Route {
    Doc(Value),
    Text(&'static str),
    Resource(Target),
}

pub(crate) fn resolve(path: &str, addr: std::net::SocketAddr) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let doc = |v: Option<Value>| v.map(Route::Doc).ok_or(ApiError::UnknownPath);
    match segs.as_slice() {
        [] => Ok(Route::Doc(
            json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}),
        )),
        ["version"] => Ok(Route::Doc(discovery::version())),
        ["healthz" | "livez" | "readyz", ..] => Ok(Route::Text("ok")),
        ["api"] => Ok(Route::Doc(discovery::core_versions(addr))),
        ["api", version] => doc(discovery::resource_list("", version)),
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis"] => Ok(Route::Doc(discovery::group_list())),
        ["apis", group] => doc(discovery::api_group(group)),
        ["apis", group, version] => doc(discovery::resource_list(group, version)),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        // `/openapi/v2`, `/openapi/v3` and anything else: kubectl falls back without a schema.
        _ => Err(ApiError::UnknownPath),
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Result<Route, ApiError> {
    let (legacy_watch, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let namespaced_kind =
        |plural: &str| by_plural(group, version, plural).filter(|k| def(*k).namespaced);
    let (kind, namespace, tail) = match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_kind(plural).is_some() => (
            namespaced_kind(plural).ok_or(ApiError::UnknownPath)?,
            Some(ns.to_string()),
            tail,
        ),
        [plural, tail @ ..] => {
            let kind = by_plural(group, version, plural).ok_or(ApiError::UnknownPath)?;
            // A namespaced object is only addressable inside its namespace.
            if def(kind).namespaced && !tail.is_empty() {
                return Err(ApiError::UnknownPath);
            }
            (kind, None, tail)
        }
        [] => return Err(ApiError::UnknownPath),
    };
    let (name, status) = match tail {
        [] => (None, false),
        [name] => (Some(name.to_string()), false),
        [name, "status"] if def(kind).status => (Some(name.to_string()), true),
        _ => return Err(ApiError::UnknownPath),
    };
    Ok(Route::Resource(Target {
        kind,
        namespace,
        name,
        status,
        legacy_watch,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let addr: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
        let target = |p: &str| match resolve(p, addr) {
            Ok(Route::Resource(t)) => Some((
                def(t.kind).kind,
                t.namespace,
                t.name,
                t.status,
                t.legacy_watch,
            )),
            _ => None,
        };
        assert_eq!(
            target("/api/v1/nodes/n1/status"),
            Some(("Node", None, Some("n1".into()), true, false))
        );
        assert_eq!(
            target("/api/v1/namespaces/default/services"),
            Some(("Service", Some("default".into()), None, false, false))
        );
        assert_eq!(
            target("/api/v1/namespaces/default"),
            Some(("Namespace", None, Some("default".into()), false, false))
        );
        assert_eq!(
            target("/api/v1/namespaces/x/status"),
            Some(("Namespace", None, Some("x".into()), true, false))
        );
        assert_eq!(
            target("/api/v1/services"),
            Some(("Service", None, None, false, false))
        );
        assert_eq!(target("/api/v1/services/x"), None);
        assert_eq!(target("/api/v1/namespaces/a/configmaps/c/status"), None);
        assert_eq!(
            target("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l"),
            Some((
                "Lease",
                Some("kube-system".into()),
                Some("l".into()),
                false,
                false
            ))
        );
        assert_eq!(
            target("/api/v1/watch/nodes"),
            Some(("Node", None, None, false, true))
        );
        assert!(matches!(
            resolve("/openapi/v2", addr),
            Err(ApiError::UnknownPath)
        ));
        assert!(matches!(
            resolve("/apis/apps/v1", addr),
            Err(ApiError::UnknownPath)
        ));
    }
}
