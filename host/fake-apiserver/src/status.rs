//! `metav1.Status` failures with the apiserver's reasons, codes and message wording, so clients that
//! branch on them (kube-rs `get_opt`, `is_conflict`, kubectl's messages) behave as against a cluster.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

/// A failed request, rendered as a `Status` body by [`ApiError::to_status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("{q} \"{name}\" not found", q = .def.qualified_plural())]
    NotFound {
        def: &'static ResourceDef,
        name: String,
    },
    #[error("{q} \"{name}\" already exists", q = .def.qualified_plural())]
    AlreadyExists {
        def: &'static ResourceDef,
        name: String,
    },
    #[error("Operation cannot be fulfilled on {q} \"{name}\": {detail}", q = .def.qualified_plural())]
    Conflict {
        def: &'static ResourceDef,
        name: String,
        detail: String,
    },
    #[error("{}", .0)]
    Invalid(Box<Invalid>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("the server could not find the requested resource")]
    UnknownPath,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Expired(String),
    #[error("{0}")]
    RequestTooLarge(String),
}

/// A 422 with one field cause (`Service "x" is invalid: metadata.name: Required value: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} \"{name}\" is invalid: {field}: {detail}")]
pub(crate) struct Invalid {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub field: &'static str,
    pub detail: String,
    pub cause: &'static str,
}

/// The apiserver's wording for a stale `resourceVersion`.
pub(crate) const MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl ApiError {
    pub(crate) fn not_found(def: &'static ResourceDef, name: &str) -> Self {
        Self::NotFound {
            def,
            name: name.to_string(),
        }
    }

    pub(crate) fn already_exists(def: &'static ResourceDef, name: &str) -> Self {
        Self::AlreadyExists {
            def,
            name: name.to_string(),
        }
    }

    pub(crate) fn conflict(def: &'static ResourceDef, name: &str, detail: &str) -> Self {
        Self::Conflict {
            def,
            name: name.to_string(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn required(
        def: &'static ResourceDef,
        name: &str,
        field: &'static str,
        detail: &str,
    ) -> Self {
        Self::Invalid(Box::new(Invalid {
            group: def.group,
            kind: def.kind,
            name: name.to_string(),
            field,
            detail: format!("Required value: {detail}"),
            cause: "FieldValueRequired",
        }))
    }

    pub(crate) fn code(&self) -> u16 {
        match self {
            Self::NotFound { .. } | Self::UnknownPath => 404,
            Self::AlreadyExists { .. } | Self::Conflict { .. } => 409,
            Self::Invalid(_) | Self::Unprocessable(_) => 422,
            Self::BadRequest(_) => 400,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedMediaType(_) => 415,
            Self::Expired(_) => 410,
            Self::RequestTooLarge(_) => 413,
        }
    }

    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Self::NotFound { .. } | Self::UnknownPath => "NotFound",
            Self::AlreadyExists { .. } => "AlreadyExists",
            Self::Conflict { .. } => "Conflict",
            Self::Invalid(_) | Self::Unprocessable(_) => "Invalid",
            Self::BadRequest(_) => "BadRequest",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::UnsupportedMediaType(_) => "UnsupportedMediaType",
            Self::Expired(_) => "Expired",
            Self::RequestTooLarge(_) => "RequestEntityTooLarge",
        }
    }

    /// The `Status` object the apiserver would send.
    pub(crate) fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        let details = match self {
            Self::NotFound { def, name }
            | Self::AlreadyExists { def, name }
            | Self::Conflict { def, name, .. } => {
                Some(resource_details(def.group, def.plural, name))
            }
            Self::Invalid(inv) => {
                let mut d = resource_details(inv.group, inv.kind, &inv.name);
                d["causes"] =
                    json!([{ "reason": inv.cause, "message": inv.detail, "field": inv.field }]);
                Some(d)
            }
            Self::UnknownPath => Some(json!({})),
            _ => None,
        };
        if let Some(details) = details {
            status["details"] = details;
        }
        status
    }
}

fn resource_details(group: &str, kind: &str, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": kind });
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

/// The `Status` a successful DELETE of a collection or a kind without object echo returns.
pub(crate) fn success(def: &ResourceDef, name: &str, uid: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": { "name": name, "group": def.group, "kind": def.plural, "uid": uid },
    })
}

/// The 410 the watch cache sends for a resourceVersion older than its window.
pub(crate) fn too_old(requested: u64, oldest: u64) -> ApiError {
    ApiError::Expired(format!("too old resource version: {requested} ({oldest})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{by_kind, def};

    #[test]
    fn not_found_matches_the_apiserver() {
        let svc = def(by_kind("v1", "Service").unwrap());
        let s = ApiError::not_found(svc, "x").to_status();
        assert_eq!(
            s,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                   "message":"services \"x\" not found","reason":"NotFound",
                   "details":{"name":"x","kind":"services"},"code":404})
        );
    }

    #[test]
    fn group_qualified_messages() {
        let lease = def(by_kind("coordination.k8s.io/v1", "Lease").unwrap());
        let s = ApiError::not_found(lease, "x").to_status();
        assert_eq!(s["message"], "leases.coordination.k8s.io \"x\" not found");
        assert_eq!(s["details"]["group"], "coordination.k8s.io");
        let c = ApiError::conflict(lease, "x", MODIFIED).to_status();
        assert_eq!(
            c["message"],
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"x\": the object has been \
             modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(c["code"], 409);
        assert_eq!(c["reason"], "Conflict");
    }
}
