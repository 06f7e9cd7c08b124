//! `meta.k8s.io/v1` Table answers for kubectl's human-readable output. Every kind gets the
//! apiserver's default columns (Name, Created At), as a kind without custom printers would.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::meta::meta_str;

fn columns() -> Value {
    json!([
        {"name": "Name", "type": "string", "format": "name", "priority": 0,
         "description": "Name must be unique within a namespace."},
        {"name": "Created At", "type": "date", "format": "", "priority": 0,
         "description": "CreationTimestamp is a timestamp representing the server time when this object was created."},
    ])
}

fn row(obj: &Value) -> Value {
    json!({
        "cells": [meta_str(obj, "name").unwrap_or(""), meta_str(obj, "creationTimestamp").unwrap_or("")],
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        },
    })
}

pub(crate) fn list(items: &[Arc<Value>], rv: u64, next: Option<&str>) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(next) = next {
        metadata["continue"] = json!(next);
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(),
        "rows": items.iter().map(|o| row(o)).collect::<Vec<_>>(),
    })
}

pub(crate) fn single(obj: &Value) -> Value {
    let rv = meta_str(obj, "resourceVersion").unwrap_or("");
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns(),
        "rows": [row(obj)],
    })
}
