//! `metadata` parsed leanly: name, namespace, uid, resourceVersion and the labels and
//! annotations a kind's [`MetaFilter`] keeps. Everything else (managedFields, ownerReferences,
//! `last-applied-configuration`, …) is skipped while parsing, so it is never allocated.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// Which labels and annotations of a kind are worth keeping.
pub(crate) trait MetaFilter {
    fn keep_label(key: &str) -> bool;
    fn keep_annotation(key: &str) -> bool;
}

/// `ObjectMeta` holding only what `F` keeps (kube's `Resource` trait wants an `ObjectMeta`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta<F> {
    pub(crate) inner: ObjectMeta,
    _filter: PhantomData<F>,
}

impl<'de, F: MetaFilter> serde::Deserialize<'de> for Meta<F> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MetaVisitor::<F>(PhantomData))
    }
}

struct MetaVisitor<F>(PhantomData<F>);

impl<'de, F: MetaFilter> Visitor<'de> for MetaVisitor<F> {
    type Value = Meta<F>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("object metadata")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut meta = ObjectMeta::default();
        // Cow: serde_json lends keys without escapes, so skipped keys cost no allocation.
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "name" => meta.name = map.next_value()?,
                "namespace" => meta.namespace = map.next_value()?,
                "uid" => meta.uid = map.next_value()?,
                "resourceVersion" => meta.resource_version = map.next_value()?,
                "labels" => meta.labels = map.next_value_seed(Filtered(F::keep_label))?,
                "annotations" => {
                    meta.annotations = map.next_value_seed(Filtered(F::keep_annotation))?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Meta {
            inner: meta,
            _filter: PhantomData,
        })
    }
}

/// A string map keeping only the keys `.0` accepts; `null` reads as `None`.
struct Filtered(fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Filtered {
    type Value = Option<BTreeMap<String, String>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Filtered {
    type Value = Option<BTreeMap<String, String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = BTreeMap::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if (self.0)(&key) {
                kept.insert(key.into_owned(), map.next_value::<String>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Some(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Default)]
    struct OnlyA;
    impl MetaFilter for OnlyA {
        fn keep_label(key: &str) -> bool {
            key.starts_with('a')
        }
        fn keep_annotation(key: &str) -> bool {
            key.starts_with('a')
        }
    }

    #[test]
    fn keeps_identity_and_filtered_maps_and_skips_the_rest() {
        let json = serde_json::json!({
            "name": "web", "namespace": "default", "uid": "u-1", "resourceVersion": "42",
            "labels": {"app": "x", "zone": "y"},
            "annotations": {"a/keep": "1", "b/drop": "2"},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
            "ownerReferences": [{"kind": "X"}]
        });
        let meta: Meta<OnlyA> = serde_json::from_value(json).unwrap();
        let m = meta.inner;
        assert_eq!(m.name.as_deref(), Some("web"));
        assert_eq!(m.namespace.as_deref(), Some("default"));
        assert_eq!(m.uid.as_deref(), Some("u-1"));
        assert_eq!(m.resource_version.as_deref(), Some("42"));
        assert_eq!(m.labels.unwrap().keys().collect::<Vec<_>>(), ["app"]);
        assert_eq!(
            m.annotations.unwrap().keys().collect::<Vec<_>>(),
            ["a/keep"]
        );
        assert!(m.managed_fields.is_none());
        assert!(m.owner_references.is_none());
    }

    #[test]
    fn null_maps_read_as_none_and_escaped_keys_work() {
        let text = r#"{"name":"n","labels":null,"annotations":{"a\/x":"v"}}"#;
        let meta: Meta<OnlyA> = serde_json::from_str(text).unwrap();
        assert!(meta.inner.labels.is_none());
        assert_eq!(meta.inner.annotations.unwrap()["a/x"], "v");
    }
}
