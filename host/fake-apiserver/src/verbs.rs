//! The verbs on a resource: get, create, update (PUT), patch, delete, deletecollection; list and
//! watch are handed to `list.rs` and `watch.rs`.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Response, header};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::http::{Body, bytes_response, json_response, read_body};
use crate::list::{list, list_response, watch_response};
use crate::meta::meta_str;
use crate::patch::{self, PatchKind};
use crate::query::Query;
use crate::resources::{KindId, def};
use crate::routes::{Route, Target, resolve};
use crate::selectors::{FieldSelector, LabelSelector, Selectors};
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::{Deleted, Origin, Preconditions, Scope, Store};
use crate::table;

pub(crate) async fn route(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
    body: Incoming,
) -> Result<Response<Body>, ApiError> {
    let t = match resolve(path, shared.addr)? {
        Route::Doc(v) if method == Method::GET => return Ok(json_response(200, &v)),
        Route::Text(t) if method == Method::GET => {
            return Ok(bytes_response(
                200,
                "text/plain; charset=utf-8",
                Bytes::from(t),
            ));
        }
        Route::Doc(_) | Route::Text(_) => return Err(ApiError::MethodNotAllowed),
        Route::Resource(t) => t,
    };
    let d = def(t.kind);
    let watching = t.legacy_watch || query.flag("watch");
    if t.status && !matches!(*method, Method::GET | Method::PUT | Method::PATCH) {
        return Err(ApiError::MethodNotAllowed);
    }
    // Namespaced kinds: the all-namespaces path serves only list and watch.
    let all_namespaces = d.namespaced && t.namespace.is_none();
    match (method.clone(), t.name.clone()) {
        (Method::GET, _) if watching => watch_response(shared, &t, query),
        (Method::GET, None) => list(shared, &t, query, headers),
        (Method::GET, Some(name)) => {
            let obj = shared.with_store(|s| s.get(t.kind, t.namespace.as_deref(), &name).cloned());
            let obj = obj.ok_or_else(|| ApiError::not_found(d, &name))?;
            if wants_table(headers) {
                return Ok(json_response(200, &table::single(&obj)));
            }
            Ok(json_response(200, &obj))
        }
        (Method::POST, None) if !all_namespaces => {
            let obj = decode_object(headers, &read_body(body).await?)?;
            let obj = check_body(&t, obj)?;
            let origin = Origin::Api {
                dry_run: query.dry_run(),
            };
            let created = shared.with_store(|s| s.create(t.kind, obj, origin))?;
            Ok(json_response(201, &created))
        }
        (Method::PUT, Some(name)) => {
            let obj = decode_object(headers, &read_body(body).await?)?;
            let obj = check_body(&t, obj)?;
            let scope = if t.status {
                Scope::Status
            } else {
                Scope::main_for(d)
            };
            let origin = Origin::Api {
                dry_run: query.dry_run(),
            };
            let updated = shared.with_store(|s| {
                s.update(t.kind, t.namespace.as_deref(), &name, obj, scope, origin)
            })?;
            Ok(json_response(200, &updated))
        }
        (Method::PATCH, Some(name)) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = PatchKind::from_content_type(content_type)?;
            let bytes = read_body(body).await?;
            patch_object(shared, &t, &name, kind, &bytes, query)
        }
        (Method::DELETE, Some(name)) => {
            let bytes = read_body(body).await?;
            let pre = preconditions(&bytes)?;
            let origin = Origin::Api {
                dry_run: query.dry_run(),
            };
            let outcome = shared
                .with_store(|s| s.delete(t.kind, t.namespace.as_deref(), &name, &pre, origin))?;
            Ok(match outcome {
                Deleted::Gone(obj) if !d.echo_delete => {
                    json_response(200, &Store::delete_status(t.kind, &obj))
                }
                Deleted::Gone(obj) | Deleted::Pending(obj) => json_response(200, &obj),
            })
        }
        (Method::DELETE, None) if !all_namespaces => {
            let selectors = selectors(query, t.kind)?;
            let origin = Origin::Api {
                dry_run: query.dry_run(),
            };
            let (items, rv) = shared.with_store(|s| {
                let names: Vec<String> = s
                    .iter(t.kind, t.namespace.as_deref(), None)
                    .filter(|(_, o)| selectors.matches(o))
                    .map(|(k, _)| k.1.clone())
                    .collect();
                let mut items = Vec::new();
                for name in names {
                    match s.delete(
                        t.kind,
                        t.namespace.as_deref(),
                        &name,
                        &Preconditions::default(),
                        origin,
                    ) {
                        Ok(Deleted::Gone(o) | Deleted::Pending(o)) => items.push(o),
                        Err(e) => tracing::debug!(%name, error = %e, "deletecollection: skipped"),
                    }
                }
                (items, s.resource_version())
            });
            Ok(list_response(t.kind, &items, rv, None))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (kubectl's human output).
pub(crate) fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

fn decode_object(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let value: Value = if content_type.contains("yaml") {
        serde_yaml::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("error decoding the body: {e}")))?
    };
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    Ok(value)
}

/// The checks the apiserver makes between URL and body: group, version, kind and namespace.
fn check_body(t: &Target, mut obj: Value) -> Result<Value, ApiError> {
    let d = def(t.kind);
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && av != d.api_version()
    {
        return Err(ApiError::BadRequest(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            d.api_version()
        )));
    }
    if let Some(kind) = obj.get("kind").and_then(Value::as_str)
        && kind != d.kind
    {
        return Err(ApiError::BadRequest(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            d.kind
        )));
    }
    if let Some(ns) = &t.namespace {
        match meta_str(&obj, "namespace").filter(|n| !n.is_empty()) {
            Some(body_ns) if body_ns != ns => {
                return Err(ApiError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request".into(),
                ));
            }
            Some(_) => {}
            None => {
                crate::meta::meta_mut(&mut obj).insert("namespace".into(), json!(ns));
            }
        }
    }
    Ok(obj)
}

fn patch_object(
    shared: &Arc<Shared>,
    t: &Target,
    name: &str,
    kind: PatchKind,
    bytes: &[u8],
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let d = def(t.kind);
    if kind == PatchKind::Apply && query.get("fieldManager").is_none_or(str::is_empty) {
        return Err(ApiError::Invalid(Box::new(crate::status::Invalid {
            group: "meta.k8s.io",
            kind: "PatchOptions",
            name: String::new(),
            field: "fieldManager",
            detail: "Required value: is required for apply patch".into(),
            cause: "FieldValueRequired",
        })));
    }
    let patch = patch::parse_body(kind, bytes)?;
    let origin = Origin::Api {
        dry_run: query.dry_run(),
    };
    let scope = if t.status {
        Scope::Status
    } else {
        Scope::main_for(d)
    };
    let ns = t.namespace.as_deref();
    let (code, obj) = shared.with_store(|s| -> Result<(u16, Arc<Value>), ApiError> {
        match s.get(t.kind, ns, name).cloned() {
            // Server-side apply creates what does not exist yet.
            None if kind == PatchKind::Apply && !t.status => {
                let mut obj = patch;
                let m = crate::meta::meta_mut(&mut obj);
                m.insert("name".into(), json!(name));
                if let Some(ns) = ns {
                    m.insert("namespace".into(), json!(ns));
                }
                let obj = check_body(t, obj)?;
                Ok((201, s.create(t.kind, obj, origin)?))
            }
            None => Err(ApiError::not_found(d, name)),
            Some(current) => {
                let mut doc = (*current).clone();
                patch::apply(kind, &mut doc, &patch)?;
                Ok((200, s.update(t.kind, ns, name, doc, scope, origin)?))
            }
        }
    })?;
    Ok(json_response(code, &obj))
}

fn preconditions(bytes: &[u8]) -> Result<Preconditions, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Preconditions::default());
    }
    let opts: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("error decoding DeleteOptions: {e}")))?;
    let pre = opts.get("preconditions");
    let field = |f: &str| {
        pre.and_then(|p| p.get(f))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(Preconditions {
        uid: field("uid"),
        resource_version: field("resourceVersion"),
    })
}

pub(crate) fn selectors(query: &Query, kind: KindId) -> Result<Selectors, ApiError> {
    Ok(Selectors {
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or(""))?,
        fields: FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), def(kind))?,
    })
}
