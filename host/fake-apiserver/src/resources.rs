//! The table of served kinds. Everything else is generic over [`ResourceDef`]: adding a kind is one
//! line in [`RESOURCES`].

use serde_json::Value;

use crate::defaults;

/// A field selector label a kind supports beyond `metadata.name` and `metadata.namespace`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldLabel {
    /// The label as clients write it (`spec.nodeName`, `source`).
    pub label: &'static str,
    /// Dotted path into the object; usually the label itself.
    pub path: &'static str,
    /// Value when the field is absent (the apiserver formats Go zero values, e.g. `false`).
    pub default: &'static str,
}

const fn f(label: &'static str) -> FieldLabel {
    FieldLabel {
        label,
        path: label,
        default: "",
    }
}

const fn f_or(label: &'static str, default: &'static str) -> FieldLabel {
    FieldLabel {
        label,
        path: label,
        default,
    }
}

const fn f_at(label: &'static str, path: &'static str) -> FieldLabel {
    FieldLabel {
        label,
        path,
        default: "",
    }
}

/// Server-side defaulting and allocation for a kind (clusterIP, nodePort …).
pub(crate) type DefaultsFn =
    fn(new: &mut Value, old: Option<&Value>, alloc: &mut defaults::Allocator);

/// What the apiserver does with `.status` in a create request for kinds with a status subresource.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StatusOnCreate {
    /// Kept as sent (Node: the kubelet registers with its status).
    Keep,
    /// Replaced by this JSON literal (Service: `{"loadBalancer":{}}`).
    Reset(&'static str),
}

/// One served resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub status: bool,
    pub status_on_create: StatusOnCreate,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub fields: &'static [FieldLabel],
    pub defaults: Option<DefaultsFn>,
    /// DELETE answers with the deleted object rather than a success `Status` (Pods, Services).
    pub echo_delete: bool,
}

/// A kind is identified by group, version and kind (the table holds each once).
impl PartialEq for ResourceDef {
    fn eq(&self, other: &Self) -> bool {
        (self.group, self.version, self.kind) == (other.group, other.version, other.kind)
    }
}

impl Eq for ResourceDef {}

impl ResourceDef {
    const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
    ) -> Self {
        Self {
            group,
            version,
            kind,
            plural,
            namespaced: true,
            status: false,
            status_on_create: StatusOnCreate::Keep,
            short_names: &[],
            categories: &[],
            fields: &[],
            defaults: None,
            echo_delete: false,
        }
    }
    const fn cluster(mut self) -> Self {
        self.namespaced = false;
        self
    }
    const fn status(mut self, on_create: StatusOnCreate) -> Self {
        self.status = true;
        self.status_on_create = on_create;
        self
    }
    const fn short(mut self, names: &'static [&'static str]) -> Self {
        self.short_names = names;
        self
    }
    const fn categories(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }
    const fn fields(mut self, fields: &'static [FieldLabel]) -> Self {
        self.fields = fields;
        self
    }
    const fn echo_delete(mut self) -> Self {
        self.echo_delete = true;
        self
    }
    const fn defaults(mut self, defaults: DefaultsFn) -> Self {
        self.defaults = Some(defaults);
        self
    }

    /// `v1` or `coordination.k8s.io/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `services` or `leases.coordination.k8s.io`, as the apiserver names a resource in messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }
}

const POD_FIELDS: &[FieldLabel] = &[
    f("spec.nodeName"),
    f("spec.restartPolicy"),
    f("spec.schedulerName"),
    f("spec.serviceAccountName"),
    f_or("spec.hostNetwork", "false"),
    f("status.phase"),
    f("status.podIP"),
    f("status.nominatedNodeName"),
];
const CORE_EVENT_FIELDS: &[FieldLabel] = &[
    f("involvedObject.kind"),
    f("involvedObject.namespace"),
    f("involvedObject.name"),
    f("involvedObject.uid"),
    f("involvedObject.apiVersion"),
    f("involvedObject.resourceVersion"),
    f("involvedObject.fieldPath"),
    f("reason"),
    f("reportingComponent"),
    f_at("source", "source.component"),
    f("type"),
];
const EVENTS_V1_FIELDS: &[FieldLabel] = &[
    f("regarding.kind"),
    f("regarding.namespace"),
    f("regarding.name"),
    f("regarding.uid"),
    f("reason"),
    f("reportingController"),
    f("type"),
];

use StatusOnCreate::{Keep, Reset};

/// The served kinds, in discovery order.
#[rustfmt::skip]
pub(crate) static RESOURCES: &[ResourceDef] = &[
    ResourceDef::new("", "v1", "Namespace", "namespaces").cluster().status(Reset(r#"{"phase":"Active"}"#)).short(&["ns"]).fields(&[f("status.phase")]),
    ResourceDef::new("", "v1", "Node", "nodes").cluster().status(Keep).short(&["no"]).fields(&[f_or("spec.unschedulable", "false")]),
    ResourceDef::new("", "v1", "Service", "services").status(Reset(r#"{"loadBalancer":{}}"#)).short(&["svc"]).categories(&["all"]).echo_delete().defaults(defaults::service),
    ResourceDef::new("", "v1", "Pod", "pods").status(Reset(r#"{"phase":"Pending"}"#)).short(&["po"]).categories(&["all"]).echo_delete().fields(POD_FIELDS),
    ResourceDef::new("", "v1", "ConfigMap", "configmaps").short(&["cm"]),
    ResourceDef::new("", "v1", "Secret", "secrets").fields(&[f("type")]),
    ResourceDef::new("", "v1", "Event", "events").short(&["ev"]).fields(CORE_EVENT_FIELDS),
    ResourceDef::new("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    ResourceDef::new("coordination.k8s.io", "v1", "Lease", "leases"),
    ResourceDef::new("events.k8s.io", "v1", "Event", "events").short(&["ev"]).fields(EVENTS_V1_FIELDS),
];

/// Index into [`RESOURCES`]; cheap to copy and compare.
pub(crate) type KindId = usize;

pub(crate) fn def(id: KindId) -> &'static ResourceDef {
    &RESOURCES[id]
}

/// Looks a kind up by `apiVersion` and `kind` (as in an object).
pub(crate) fn by_kind(api_version: &str, kind: &str) -> Option<KindId> {
    let (group, version) = split_api_version(api_version);
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.kind == kind)
}

/// Looks a kind up by group, version and plural (as in a URL path).
pub(crate) fn by_plural(group: &str, version: &str, plural: &str) -> Option<KindId> {
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.plural == plural)
}

/// `coordination.k8s.io/v1` → (`coordination.k8s.io`, `v1`); `v1` → (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// Group versions served under `/apis`, in table order, without duplicates.
pub(crate) fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let lease = by_kind("coordination.k8s.io/v1", "Lease").unwrap();
        assert_eq!(def(lease).qualified_plural(), "leases.coordination.k8s.io");
        assert_eq!(by_plural("", "v1", "services"), by_kind("v1", "Service"));
        assert_ne!(by_kind("v1", "Event"), by_kind("events.k8s.io/v1", "Event"));
        assert!(by_kind("apps/v1", "Deployment").is_none());
        assert_eq!(group_versions().len(), 3);
    }
}
