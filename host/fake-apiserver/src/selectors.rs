//! `labelSelector` and `fieldSelector` query parameters: parsing (the apiserver's string syntax)
//! and matching against stored objects.

use serde_json::Value;

use crate::meta::{at_path, label, meta_str};
use crate::resources::ResourceDef;
use crate::status::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelOp {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
    Gt(i64),
    Lt(i64),
}

/// A parsed label selector: all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector(Vec<(String, LabelOp)>);

impl LabelSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "unable to parse requirement: found '{part}', expected: label selector"
                ))
            })?);
        }
        Ok(Self(reqs))
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(key, op)| {
            let v = label(obj, key);
            match op {
                LabelOp::Eq(want) => v == Some(want.as_str()),
                LabelOp::NotEq(want) => v != Some(want.as_str()),
                LabelOp::In(set) => v.is_some_and(|v| set.iter().any(|s| s == v)),
                LabelOp::NotIn(set) => !v.is_some_and(|v| set.iter().any(|s| s == v)),
                LabelOp::Exists => v.is_some(),
                LabelOp::NotExists => v.is_none(),
                LabelOp::Gt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *n),
                LabelOp::Lt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *n),
            }
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Splits on commas outside parentheses (`a in (x,y),b` → `a in (x,y)`, `b`).
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_requirement(part: &str) -> Option<(String, LabelOp)> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        return valid_key(key).then(|| (key.to_string(), LabelOp::NotExists));
    }
    // Set-based: `key in (a,b)` / `key notin (a,b)`.
    if let Some(open) = part.find('(') {
        let head = part[..open].trim();
        let close = part.rfind(')')?;
        if close != part.len() - 1 {
            return None;
        }
        let (key, negated) = if let Some(k) = head.strip_suffix(" notin") {
            (k.trim(), true)
        } else if let Some(k) = head.strip_suffix(" in") {
            (k.trim(), false)
        } else {
            return None;
        };
        let values: Vec<String> = part[open + 1..close]
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !valid_key(key) || !values.iter().all(|v| valid_value(v)) {
            return None;
        }
        let op = if negated {
            LabelOp::NotIn(values)
        } else {
            LabelOp::In(values)
        };
        return Some((key.to_string(), op));
    }
    for (token, make) in [
        (
            "!=",
            (|v: &str| Some(LabelOp::NotEq(v.to_string()))) as fn(&str) -> Option<LabelOp>,
        ),
        ("==", |v| Some(LabelOp::Eq(v.to_string()))),
        ("=", |v| Some(LabelOp::Eq(v.to_string()))),
        (">", |v| v.parse().ok().map(LabelOp::Gt)),
        ("<", |v| v.parse().ok().map(LabelOp::Lt)),
    ] {
        if let Some((key, value)) = part.split_once(token) {
            let (key, value) = (key.trim(), value.trim());
            if !valid_key(key) || !valid_value(value) {
                return None;
            }
            return make(value).map(|op| (key.to_string(), op));
        }
    }
    valid_key(part).then(|| (part.to_string(), LabelOp::Exists))
}

/// A parsed field selector: `field=value` / `field!=value` terms, all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector(Vec<FieldTerm>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldTerm {
    path: String,
    default: String,
    value: String,
    negated: bool,
}

impl FieldSelector {
    /// Parses and checks every field against what the kind supports (as the apiserver does:
    /// `field label not supported: spec.type`).
    pub(crate) fn parse(s: &str, def: &ResourceDef) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for part in split_unescaped(s, ',') {
            if part.trim().is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = split_once_unescaped(&part, "!=") {
                (f, v, true)
            } else if let Some((f, v)) = split_once_unescaped(&part, "==") {
                (f, v, false)
            } else if let Some((f, v)) = split_once_unescaped(&part, "=") {
                (f, v, false)
            } else {
                return Err(ApiError::BadRequest(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            let (path, default) = match field {
                "metadata.name" | "metadata.namespace" => (field.to_string(), String::new()),
                _ => match def.fields.iter().find(|f| f.label == field) {
                    Some(f) => (f.path.to_string(), f.default.to_string()),
                    None => {
                        return Err(ApiError::BadRequest(format!(
                            "field label not supported: {field}"
                        )));
                    }
                },
            };
            terms.push(FieldTerm {
                path,
                default,
                value: unescape(&value),
                negated,
            });
        }
        Ok(Self(terms))
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|t| {
            let actual = match t.path.as_str() {
                "metadata.name" => meta_str(obj, "name").unwrap_or("").to_string(),
                "metadata.namespace" => meta_str(obj, "namespace").unwrap_or("").to_string(),
                path => match at_path(obj, path) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => t.default.clone(),
                    Some(other) => other.to_string(),
                },
            };
            (actual == t.value) != t.negated
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `metadata.name=<name>` (a watch on an object URL).
    pub(crate) fn with_name(mut self, name: &str) -> Self {
        self.0.push(FieldTerm {
            path: "metadata.name".to_string(),
            default: String::new(),
            value: name.to_string(),
            negated: false,
        });
        self
    }
}

/// Splits on `sep` not preceded by a backslash.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            if let Some(cur) = out.last_mut() {
                cur.push('\\');
                cur.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(String::new());
        } else if let Some(cur) = out.last_mut() {
            cur.push(c);
        }
    }
    out
}

fn split_once_unescaped(s: &str, op: &str) -> Option<(String, String)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if s[i..].starts_with(op) {
            return Some((s[..i].to_string(), s[i + op.len()..].to_string()));
        }
        i += 1;
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Both selectors of a list or watch request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.fields.matches(obj) && self.labels.matches(obj)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{by_kind, def};
    use serde_json::json;

    fn obj() -> Value {
        json!({"metadata": {"name": "n1", "labels": {"app": "web", "tier": "front", "n": "7"}},
               "spec": {"unschedulable": true}})
    }

    #[test]
    fn label_operators() {
        let o = obj();
        for (sel, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (db, web)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("missing notin (db)", true),
            ("app=web,tier in (front,back)", true),
            ("app=web,tier=back", false),
            ("n>5", true),
            ("n<5", false),
            ("", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
        assert!(LabelSelector::parse("app in (x").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
    }

    #[test]
    fn field_selectors() {
        let node = def(by_kind("v1", "Node").unwrap());
        let o = obj();
        for (sel, want) in [
            ("metadata.name=n1", true),
            ("metadata.name==n1", true),
            ("metadata.name!=n1", false),
            ("metadata.namespace=", true),
            ("spec.unschedulable=true", true),
            ("metadata.name=n1,spec.unschedulable=false", false),
        ] {
            assert_eq!(
                FieldSelector::parse(sel, node).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
        let none = json!({"metadata": {"name": "n2"}});
        assert!(
            FieldSelector::parse("spec.unschedulable=false", node)
                .unwrap()
                .matches(&none)
        );
        let err = FieldSelector::parse("spec.type=LoadBalancer", node).unwrap_err();
        assert_eq!(err.to_string(), "field label not supported: spec.type");
        let escaped = FieldSelector::parse("metadata.name=a\\,b", node).unwrap();
        assert!(escaped.matches(&json!({"metadata": {"name": "a,b"}})));
    }
}
