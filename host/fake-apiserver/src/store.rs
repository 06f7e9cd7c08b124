//! The object store: one `BTreeMap` per kind (etcd's key order: namespace, then name), a global
//! resourceVersion, and the bounded history of watch events (`history.rs`) watches replay from.
//!
//! Every write bumps the resourceVersion by one and records exactly one event, so "the events after
//! N" is a suffix of the history. The caller holds the store's lock for a whole read-modify-write
//! (GET, patch, update), which keeps patches atomic.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::defaults::Allocator;
use crate::history::{History, HistoryEvent};
use crate::meta::{self, has_finalizers, meta_mut, meta_str};
use crate::resources::{KindId, RESOURCES, ResourceDef, StatusOnCreate, def};
use crate::status::{self, ApiError, MODIFIED};
use crate::{WatchEventType, WatchLogEntry};

/// (namespace or "", name).
pub(crate) type ObjKey = (String, String);

/// Who writes: the HTTP API (checks preconditions, strips status on create, skips no-op updates)
/// or the test side channel (writes everything as given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Api { dry_run: bool },
    Test,
}

impl Origin {
    fn dry_run(self) -> bool {
        matches!(self, Origin::Api { dry_run: true })
    }
}

/// Which part of the stored object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The main resource of a kind with a status subresource: `.status` is kept.
    Main,
    /// The `/status` subresource: only `.status` changes.
    Status,
    /// Everything (kinds without a status subresource, the side channel).
    All,
}

impl Scope {
    pub(crate) fn main_for(def: &ResourceDef) -> Self {
        if def.status { Scope::Main } else { Scope::All }
    }
}

/// DELETE preconditions (`DeleteOptions.preconditions`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// A finished delete: gone now, or waiting for finalizers (deletionTimestamp set).
#[derive(Debug)]
pub(crate) enum Deleted {
    Gone(Arc<Value>),
    Pending(Arc<Value>),
}

pub(crate) struct Store {
    objects: Vec<BTreeMap<ObjKey, Arc<Value>>>,
    rv: u64,
    history: History,
    alloc: Allocator,
}

impl Store {
    pub(crate) fn new(history_limit: usize, log_limit: usize) -> Self {
        let mut store = Self {
            objects: RESOURCES.iter().map(|_| BTreeMap::new()).collect(),
            rv: 0,
            history: History::new(history_limit, log_limit),
            alloc: Allocator::default(),
        };
        // The namespaces every cluster has.
        if let Some(ns) = crate::resources::by_kind("v1", "Namespace") {
            for name in ["default", "kube-node-lease", "kube-public", "kube-system"] {
                let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                                 "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
                // Cannot fail: the store is empty and the names are valid.
                let _ = store.create(ns, obj, Origin::Test);
            }
        }
        store
    }

    pub(crate) fn resource_version(&self) -> u64 {
        self.rv
    }

    pub(crate) fn get(
        &self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&Arc<Value>> {
        self.objects[kind].get(&key(def(kind), namespace, name))
    }

    /// Objects of a kind, in one namespace or all, in key order, starting after `after`.
    pub(crate) fn iter<'a>(
        &'a self,
        kind: KindId,
        namespace: Option<&'a str>,
        after: Option<&ObjKey>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> + 'a {
        use std::ops::Bound;
        let map = &self.objects[kind];
        let range = match after {
            Some(k) => map.range::<ObjKey, _>((Bound::Excluded(k.clone()), Bound::Unbounded)),
            None => map.range::<ObjKey, _>(..),
        };
        range.filter(move |(k, _)| namespace.is_none_or(|ns| k.0 == ns))
    }

    /// Forgets the history: a watch from an older resourceVersion now gets 410 Expired.
    pub(crate) fn compact(&mut self) {
        self.history.compact(self.rv);
    }

    /// The oldest resourceVersion a watch may start from.
    pub(crate) fn history_start(&self) -> u64 {
        self.history.start()
    }

    pub(crate) fn watch_log(&self) -> Vec<WatchLogEntry> {
        self.history.log()
    }

    /// See [`History::since`].
    pub(crate) fn events_since(
        &mut self,
        cursor: u64,
        max: usize,
        filter: impl FnMut(&HistoryEvent) -> Option<(WatchEventType, Bytes)>,
    ) -> Result<(Vec<Bytes>, u64), u64> {
        self.history.since(cursor, max, filter)
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn record(
        &mut self,
        kind: KindId,
        event_type: WatchEventType,
        object: Arc<Value>,
        prev: Option<Arc<Value>>,
    ) {
        self.history.push(self.rv, kind, event_type, object, prev);
    }

    /// POST, or the side channel's upsert of a new object.
    pub(crate) fn create(
        &mut self,
        kind: KindId,
        mut obj: Value,
        origin: Origin,
    ) -> Result<Arc<Value>, ApiError> {
        let d = def(kind);
        require_object(&obj)?;
        set_type_meta(d, &mut obj);
        normalise_namespace(d, &mut obj);
        if origin != Origin::Test
            && meta_str(&obj, "resourceVersion").is_some_and(|rv| !rv.is_empty())
        {
            return Err(ApiError::BadRequest(
                "resourceVersion should not be set on objects to be created".into(),
            ));
        }
        let name = match meta_str(&obj, "name").filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match meta_str(&obj, "generateName").filter(|g| !g.is_empty()) {
                Some(prefix) => self.generate_name(kind, meta_str(&obj, "namespace"), prefix),
                None => {
                    return Err(ApiError::required(
                        d,
                        "",
                        "metadata.name",
                        "name or generateName is required",
                    ));
                }
            },
        };
        let k = key(d, meta_str(&obj, "namespace"), &name);
        if self.objects[kind].contains_key(&k) {
            return Err(ApiError::already_exists(d, &name));
        }
        if d.status
            && origin != Origin::Test
            && let StatusOnCreate::Reset(initial) = d.status_on_create
        {
            obj["status"] = serde_json::from_str(initial).unwrap_or_else(|_| json!({}));
        }
        if let Some(defaults) = d.defaults {
            defaults(&mut obj, None, &mut self.alloc);
        }
        let now = meta::rfc3339(SystemTime::now());
        let m = meta_mut(&mut obj);
        m.insert("name".into(), json!(name));
        if origin != Origin::Test || !m.get("uid").is_some_and(Value::is_string) {
            m.insert("uid".into(), json!(meta::new_uid()));
        }
        if origin != Origin::Test || !m.get("creationTimestamp").is_some_and(Value::is_string) {
            m.insert("creationTimestamp".into(), json!(now));
        }
        if origin != Origin::Test {
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
        }
        if origin.dry_run() {
            m.remove("resourceVersion");
            return Ok(Arc::new(obj));
        }
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        let obj = Arc::new(obj);
        self.objects[kind].insert(k, obj.clone());
        self.record(kind, WatchEventType::Added, obj.clone(), None);
        Ok(obj)
    }

    fn generate_name(&self, kind: KindId, namespace: Option<&str>, prefix: &str) -> String {
        // Bounded: the suffix space is huge, so a handful of tries always finds a free name.
        let mut name = format!("{prefix}{}", meta::name_suffix());
        for _ in 0..16 {
            if self.get(kind, namespace, &name).is_none() {
                break;
            }
            name = format!("{prefix}{}", meta::name_suffix());
        }
        name
    }

    /// PUT or PATCH (the caller computed `new`), or the side channel's replace.
    /// Returns the stored object; a no-op API update returns the old object without a new version.
    pub(crate) fn update(
        &mut self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        mut new: Value,
        scope: Scope,
        origin: Origin,
    ) -> Result<Arc<Value>, ApiError> {
        let d = def(kind);
        require_object(&new)?;
        let k = key(d, namespace, name);
        let old = self.objects[kind]
            .get(&k)
            .cloned()
            .ok_or_else(|| ApiError::not_found(d, name))?;
        if origin != Origin::Test
            && let Some(rv) = meta_str(&new, "resourceVersion").filter(|rv| !rv.is_empty())
            && Some(rv) != meta_str(&old, "resourceVersion")
        {
            return Err(ApiError::conflict(d, name, MODIFIED));
        }
        if let Some(body_name) = meta_str(&new, "name").filter(|n| !n.is_empty() && *n != name) {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let mut result = match scope {
            Scope::All => new,
            Scope::Main => {
                match old.get("status") {
                    Some(status) => new["status"] = status.clone(),
                    None => {
                        if let Some(map) = new.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
                new
            }
            Scope::Status => {
                let mut r = (*old).clone();
                match new.get_mut("status").map(Value::take) {
                    Some(status) => r["status"] = status,
                    None => {
                        if let Some(map) = r.as_object_mut() {
                            map.remove("status");
                        }
                    }
                }
                r
            }
        };
        set_type_meta(d, &mut result);
        // Identity and lifecycle fields are the server's, whatever the body says.
        {
            let old_meta = old.get("metadata").and_then(Value::as_object);
            let m = meta_mut(&mut result);
            for field in [
                "name",
                "namespace",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                match old_meta.and_then(|om| om.get(field)) {
                    Some(v) => m.insert(field.into(), v.clone()),
                    None => m.remove(field),
                };
            }
            m.remove("resourceVersion");
        }
        if let Some(defaults) = d.defaults {
            defaults(&mut result, Some(&old), &mut self.alloc);
        }
        if origin != Origin::Test && same_ignoring_rv(&old, &result) {
            return Ok(old);
        }
        if origin.dry_run() {
            return Ok(Arc::new(result));
        }
        let rv = self.next_rv();
        meta_mut(&mut result).insert("resourceVersion".into(), json!(rv.to_string()));
        let result = Arc::new(result);
        // The last finalizer removed from an object being deleted: now it goes.
        if meta_str(&result, "deletionTimestamp").is_some() && !has_finalizers(&result) {
            self.objects[kind].remove(&k);
            self.record(kind, WatchEventType::Deleted, result.clone(), Some(old));
            return Ok(result);
        }
        self.objects[kind].insert(k, result.clone());
        self.record(kind, WatchEventType::Modified, result.clone(), Some(old));
        Ok(result)
    }

    /// Create or replace everything as given (the side channel).
    pub(crate) fn upsert(&mut self, kind: KindId, mut obj: Value) -> Result<Arc<Value>, ApiError> {
        let d = def(kind);
        normalise_namespace(d, &mut obj);
        let name = meta_str(&obj, "name").unwrap_or_default().to_string();
        let namespace = meta_str(&obj, "namespace").map(str::to_string);
        if !name.is_empty() && self.get(kind, namespace.as_deref(), &name).is_some() {
            self.update(
                kind,
                namespace.as_deref(),
                &name,
                obj,
                Scope::All,
                Origin::Test,
            )
        } else {
            self.create(kind, obj, Origin::Test)
        }
    }

    /// DELETE: gone at once, or marked with deletionTimestamp while finalizers remain.
    /// Deleting a Namespace deletes what is in it first.
    pub(crate) fn delete(
        &mut self,
        kind: KindId,
        namespace: Option<&str>,
        name: &str,
        pre: &Preconditions,
        origin: Origin,
    ) -> Result<Deleted, ApiError> {
        let d = def(kind);
        let k = key(d, namespace, name);
        let old = self.objects[kind]
            .get(&k)
            .cloned()
            .ok_or_else(|| ApiError::not_found(d, name))?;
        let uid = meta_str(&old, "uid").unwrap_or_default();
        if let Some(want) = pre.uid.as_deref().filter(|u| *u != uid) {
            return Err(ApiError::conflict(
                d,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                ),
            ));
        }
        let rv = meta_str(&old, "resourceVersion").unwrap_or_default();
        if let Some(want) = pre.resource_version.as_deref().filter(|r| *r != rv) {
            return Err(ApiError::conflict(
                d,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rv}"
                ),
            ));
        }
        if origin.dry_run() {
            return Ok(if has_finalizers(&old) {
                Deleted::Pending(old)
            } else {
                Deleted::Gone(old)
            });
        }
        if has_finalizers(&old) {
            if meta_str(&old, "deletionTimestamp").is_some() {
                return Ok(Deleted::Pending(old));
            }
            let mut marked = (*old).clone();
            let rv = self.next_rv();
            let m = meta_mut(&mut marked);
            m.insert(
                "deletionTimestamp".into(),
                json!(meta::rfc3339(SystemTime::now())),
            );
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            m.insert("resourceVersion".into(), json!(rv.to_string()));
            let marked = Arc::new(marked);
            self.objects[kind].insert(k, marked.clone());
            self.record(kind, WatchEventType::Modified, marked.clone(), Some(old));
            return Ok(Deleted::Pending(marked));
        }
        if d.kind == "Namespace" && d.group.is_empty() {
            self.delete_namespace_contents(name);
        }
        self.objects[kind].remove(&k);
        let mut last = (*old).clone();
        let rv = self.next_rv();
        meta_mut(&mut last).insert("resourceVersion".into(), json!(rv.to_string()));
        let last = Arc::new(last);
        self.record(kind, WatchEventType::Deleted, last.clone(), Some(old));
        Ok(Deleted::Gone(last))
    }

    fn delete_namespace_contents(&mut self, namespace: &str) {
        for kind in (0..RESOURCES.len()).filter(|k| def(*k).namespaced) {
            let names: Vec<String> = self
                .iter(kind, Some(namespace), None)
                .map(|(k, _)| k.1.clone())
                .collect();
            for name in names {
                let _ = self.delete(
                    kind,
                    Some(namespace),
                    &name,
                    &Preconditions::default(),
                    Origin::Test,
                );
            }
        }
    }

    /// The status returned with a successful delete of an object.
    pub(crate) fn delete_status(kind: KindId, obj: &Value) -> Value {
        status::success(
            def(kind),
            meta_str(obj, "name").unwrap_or_default(),
            meta_str(obj, "uid").unwrap_or_default(),
        )
    }
}

fn key(d: &ResourceDef, namespace: Option<&str>, name: &str) -> ObjKey {
    let ns = if d.namespaced {
        namespace.unwrap_or("default")
    } else {
        ""
    };
    (ns.to_string(), name.to_string())
}

fn require_object(obj: &Value) -> Result<(), ApiError> {
    if obj.is_object() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ))
    }
}

fn set_type_meta(d: &ResourceDef, obj: &mut Value) {
    meta_mut(obj);
    obj["apiVersion"] = json!(d.api_version());
    obj["kind"] = json!(d.kind);
}

/// Namespaced objects without a namespace land in `default` (as kubectl's context would put
/// them); cluster-scoped objects have none.
fn normalise_namespace(d: &ResourceDef, obj: &mut Value) {
    let m = meta_mut(obj);
    if d.namespaced {
        if m.get("namespace")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            m.insert("namespace".into(), json!("default"));
        }
    } else {
        m.remove("namespace");
    }
}

fn same_ignoring_rv(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return old == new;
    };
    if o.len() != n.len() {
        return false;
    }
    o.iter().all(|(k, v)| {
        if k == "metadata" {
            let (Some(om), Some(nm)) = (v.as_object(), n.get(k).and_then(Value::as_object)) else {
                return false;
            };
            let om_len = om.len() - usize::from(om.contains_key("resourceVersion"));
            om_len == nm.len() - usize::from(nm.contains_key("resourceVersion"))
                && om
                    .iter()
                    .filter(|(mk, _)| *mk != "resourceVersion")
                    .all(|(mk, mv)| nm.get(mk) == Some(mv))
        } else {
            n.get(k) == Some(v)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::by_kind;

    fn svc(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
               "spec": {"ports": [{"port": 80}]}, "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}})
    }

    #[test]
    fn create_update_delete_bump_versions_and_record_events() {
        let mut s = Store::new(100, 100);
        let k = by_kind("v1", "Service").unwrap();
        let base = s.resource_version();
        let created = s
            .create(k, svc("a"), Origin::Api { dry_run: false })
            .unwrap();
        assert_eq!(
            meta_str(&created, "resourceVersion"),
            Some((base + 1).to_string().as_str())
        );
        assert_eq!(
            created["status"],
            json!({"loadBalancer": {}}),
            "API create resets status"
        );
        assert!(matches!(
            s.create(k, svc("a"), Origin::Api { dry_run: false }),
            Err(ApiError::AlreadyExists { .. })
        ));
        // A stale resourceVersion conflicts; an unchanged body is a no-op.
        let mut stale = (*created).clone();
        stale["metadata"]["resourceVersion"] = json!("1");
        assert!(matches!(
            s.update(
                k,
                Some("default"),
                "a",
                stale,
                Scope::Main,
                Origin::Api { dry_run: false }
            ),
            Err(ApiError::Conflict { .. })
        ));
        let same = s
            .update(
                k,
                Some("default"),
                "a",
                (*created).clone(),
                Scope::Main,
                Origin::Api { dry_run: false },
            )
            .unwrap();
        assert_eq!(s.resource_version(), base + 1);
        assert_eq!(same, created);
        // The status subresource changes only status.
        let mut st = (*created).clone();
        st["spec"] = json!({"type": "NodePort"});
        st["status"] = json!({"loadBalancer": {"ingress": [{"ip": "192.0.2.9"}]}});
        let after = s
            .update(
                k,
                Some("default"),
                "a",
                st,
                Scope::Status,
                Origin::Api { dry_run: false },
            )
            .unwrap();
        assert_eq!(after["spec"], created["spec"]);
        assert_eq!(
            after["status"]["loadBalancer"]["ingress"][0]["ip"],
            "192.0.2.9"
        );
        let gone = s
            .delete(
                k,
                Some("default"),
                "a",
                &Preconditions::default(),
                Origin::Test,
            )
            .unwrap();
        assert!(matches!(gone, Deleted::Gone(_)));
        let (lines, to) = s
            .events_since(base, 100, |e| Some((e.event_type, e.line.clone())))
            .unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(to, s.resource_version());
    }

    #[test]
    fn history_is_bounded_and_compactable() {
        let mut s = Store::new(3, 10);
        let k = by_kind("v1", "ConfigMap").unwrap();
        for i in 0..5 {
            s.upsert(k, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}}))
                .unwrap();
        }
        let rv = s.resource_version();
        assert_eq!(s.events_since(rv - 5, 10, |_| None), Err(rv - 3));
        assert!(s.events_since(rv - 3, 10, |_| None).is_ok());
        s.compact();
        assert_eq!(s.events_since(rv - 1, 10, |_| None), Err(rv));
        assert_eq!(s.events_since(rv, 10, |_| None), Ok((vec![], rv)));
    }

    #[test]
    fn finalizers_delay_deletion() {
        let mut s = Store::new(100, 100);
        let k = by_kind("v1", "ConfigMap").unwrap();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "f", "finalizers": ["x/y"]}});
        s.upsert(k, cm).unwrap();
        let pending = s
            .delete(
                k,
                Some("default"),
                "f",
                &Preconditions::default(),
                Origin::Test,
            )
            .unwrap();
        let Deleted::Pending(obj) = pending else {
            panic!("expected pending")
        };
        assert!(meta_str(&obj, "deletionTimestamp").is_some());
        let mut cleared = (*obj).clone();
        cleared["metadata"]["finalizers"] = json!([]);
        s.update(
            k,
            Some("default"),
            "f",
            cleared,
            Scope::All,
            Origin::Api { dry_run: false },
        )
        .unwrap();
        assert!(s.get(k, Some("default"), "f").is_none());
    }
}
