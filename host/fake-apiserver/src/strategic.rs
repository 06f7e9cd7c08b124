//! Strategic merge patch without the apiserver's schema: maps merge like RFC 7386, and a list is
//! replaced unless the patch itself says how to merge it.
//!
//! The apiserver knows each list's merge key from the Go types. This fake does not, but the
//! patches kubectl computes (`kubectl apply`) carry a `$setElementOrder/<field>` directive whose
//! entries hold exactly the merge key (`[{"port": 80}]`) or, for merged primitive lists, the
//! values. With that directive the list is merged by key (or unioned), `$patch: delete` entries
//! remove elements, and the order follows the directive. Without it the list is replaced (a
//! hand-written `{"spec": {"ports": [...]}}` replaces the ports, where the apiserver would merge).
//! Also honoured: `$patch: replace|delete` on maps and `$deleteFromPrimitiveList/<field>`; other
//! `$` directives (`$retainKeys`) are dropped and never stored.

use serde_json::{Map, Value};

pub(crate) fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = clean(patch);
        return;
    };
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => {
            *target = Value::Null;
            return;
        }
        Some("replace") => {
            *target = clean(&Value::Object(patch.clone()));
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in patch.iter().filter(|(k, _)| !k.starts_with('$')) {
        if v.is_null() {
            t.remove(k);
            continue;
        }
        let order = patch
            .get(&format!("$setElementOrder/{k}"))
            .and_then(Value::as_array);
        match (v, order) {
            (Value::Array(items), Some(order)) => {
                let slot = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(existing) = slot {
                    merge_list(existing, items, order);
                }
            }
            (Value::Array(items), None) => {
                t.insert(
                    k.clone(),
                    Value::Array(items.iter().filter(|i| !is_delete(i)).map(clean).collect()),
                );
            }
            _ => {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                apply(slot, v);
                if slot.is_null() {
                    t.remove(k);
                }
            }
        }
    }
    // Directives about lists the patch does not otherwise touch.
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/")
            && let (Some(Value::Array(list)), Value::Array(remove)) = (t.get_mut(field), v)
        {
            list.retain(|x| !remove.contains(x));
        } else if let Some(field) = k.strip_prefix("$setElementOrder/")
            && !patch.contains_key(field)
            && let (Some(Value::Array(list)), Value::Array(order)) = (t.get_mut(field), v)
        {
            reorder(list, order);
        }
    }
}

/// Merges `items` into `existing` by the key `order` reveals, then orders by `order`.
fn merge_list(existing: &mut Vec<Value>, items: &[Value], order: &[Value]) {
    match merge_key(order) {
        Some(key) => {
            for item in items {
                let Some(id) = item.get(&key) else {
                    existing.push(clean(item));
                    continue;
                };
                let pos = existing.iter().position(|e| e.get(&key) == Some(id));
                match (pos, is_delete(item)) {
                    (Some(p), true) => {
                        existing.remove(p);
                    }
                    (None, true) => {}
                    (Some(p), false) => apply(&mut existing[p], item),
                    (None, false) => existing.push(clean(item)),
                }
            }
        }
        // A merged primitive list (finalizers): union.
        None => {
            for item in items.iter().filter(|i| !is_delete(i)) {
                if !existing.contains(item) {
                    existing.push(clean(item));
                }
            }
        }
    }
    reorder(existing, order);
}

/// The merge key: the one field of each `$setElementOrder` entry; None for primitive lists.
fn merge_key(order: &[Value]) -> Option<String> {
    match order.first() {
        Some(Value::Object(m)) if m.len() == 1 => m.keys().next().cloned(),
        _ => None,
    }
}

/// Stable sort by position in `order`; elements it does not name keep their order, last.
fn reorder(list: &mut [Value], order: &[Value]) {
    let key = merge_key(order);
    let rank = |v: &Value| {
        order.iter().position(|o| match &key {
            Some(k) => v.get(k).is_some() && v.get(k) == o.get(k),
            None => v == o,
        })
    };
    list.sort_by_key(|v| rank(v).unwrap_or(usize::MAX));
}

fn is_delete(v: &Value) -> bool {
    v.get("$patch").and_then(Value::as_str) == Some("delete")
}

/// The value without any `$` directive, as it is stored.
fn clean(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().filter(|i| !is_delete(i)).map(clean).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_merge_and_map_directives() {
        let mut t = json!({"m": {"a": 1, "b": 2}, "k": {"x": 1}, "keep": 1});
        apply(
            &mut t,
            &json!({"m": {"$patch": "replace", "c": 3}, "k": {"$patch": "delete"}, "$retainKeys": ["m"]}),
        );
        assert_eq!(t, json!({"m": {"c": 3}, "keep": 1}));
    }

    #[test]
    fn lists_without_directives_are_replaced_and_cleaned() {
        let mut t = json!({"l": [{"name": "a", "v": 1}, {"name": "b"}]});
        apply(
            &mut t,
            &json!({"l": [{"name": "c", "$x": 1}, {"name": "a", "$patch": "delete"}]}),
        );
        assert_eq!(t, json!({"l": [{"name": "c"}]}));
    }

    #[test]
    fn kubectl_apply_patches_merge_by_key() {
        // What `kubectl apply` sends after changing port 443's targetPort and dropping port 8080.
        let mut svc = json!({"spec": {"ports": [
            {"port": 80, "protocol": "TCP", "nodePort": 30000},
            {"port": 443, "protocol": "TCP", "targetPort": 443, "nodePort": 30001},
            {"port": 8080, "protocol": "TCP"},
        ]}});
        let patch = json!({"spec": {
            "$setElementOrder/ports": [{"port": 443}, {"port": 80}],
            "ports": [{"port": 443, "targetPort": 8443}, {"$patch": "delete", "port": 8080}],
        }});
        apply(&mut svc, &patch);
        assert_eq!(
            svc,
            json!({"spec": {"ports": [
                {"port": 443, "protocol": "TCP", "targetPort": 8443, "nodePort": 30001},
                {"port": 80, "protocol": "TCP", "nodePort": 30000},
            ]}})
        );
    }

    #[test]
    fn primitive_lists() {
        let mut t = json!({"metadata": {"finalizers": ["a", "b"]}});
        apply(
            &mut t,
            &json!({"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"], "finalizers": ["c"]}}),
        );
        assert_eq!(t["metadata"]["finalizers"], json!(["c", "a", "b"]));
        apply(
            &mut t,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(t["metadata"]["finalizers"], json!(["c", "b"]));
    }
}
