//! The HTTP form of the test side channel, under `/_fake/` (a path a real apiserver never serves),
//! for shell benchmarks driving the `fake-apiserver` binary. Enabled only on request.

use std::time::Duration;

use http::{Method, Response};
use serde_json::{Value, json};

use crate::http::{Body, json_response};
use crate::query::Query;
use crate::resources::by_kind;
use crate::shared::Shared;
use crate::status::ApiError;

pub(crate) fn handle(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &Query,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    match (method.as_str(), path) {
        ("POST", "/_fake/upsert") => {
            let mut stored = Vec::new();
            for doc in documents(body)? {
                stored.push(upsert(shared, doc)?);
            }
            Ok(match stored.len() {
                1 => json_response(200, &stored[0]),
                _ => json_response(200, &Value::Array(stored)),
            })
        }
        ("POST", "/_fake/outage") => {
            let secs: f64 = query
                .get("seconds")
                .and_then(|s| s.parse().ok())
                .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| {
                    ApiError::BadRequest("seconds=N (a non-negative number) is required".into())
                })?;
            shared.outage(Duration::from_secs_f64(secs));
            Ok(json_response(200, &json!({"outageSeconds": secs})))
        }
        ("POST", "/_fake/compact") => {
            let rv = shared.with_store(|s| {
                s.compact();
                s.resource_version()
            });
            Ok(json_response(200, &json!({"compactedAt": rv.to_string()})))
        }
        ("GET", "/_fake/watch-log") => {
            let log = shared.with_store(|s| s.watch_log());
            Ok(json_response(
                200,
                &serde_json::to_value(log).unwrap_or_default(),
            ))
        }
        ("GET", "/_fake/requests") => Ok(json_response(
            200,
            &serde_json::to_value(shared.requests()).unwrap_or_default(),
        )),
        _ => Err(ApiError::UnknownPath),
    }
}

/// JSON, or YAML with one or more `---`-separated documents (empty ones skipped).
fn documents(body: &[u8]) -> Result<Vec<Value>, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(match v {
            Value::Array(items) => items,
            other => vec![other],
        });
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::BadRequest(format!("body is not UTF-8: {e}")))?;
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v: Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| ApiError::BadRequest(format!("invalid YAML: {e}")))?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    Ok(docs)
}

fn upsert(shared: &Shared, obj: Value) -> Result<Value, ApiError> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind_name = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let kind = by_kind(api_version, kind_name).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "kind {kind_name:?} in {api_version:?} is not served"
        ))
    })?;
    let stored = shared.with_store(|s| s.upsert(kind, obj))?;
    Ok((*stored).clone())
}
