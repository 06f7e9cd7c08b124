//! How objects arrive: small `Deserialize` structs for the fields Herald reads, usable with
//! kube's `Api` and `watcher` (they implement `kube::Resource`), plus their conversion into the
//! compact public types. Full k8s-openapi objects are never built for watched kinds.

mod meta;
mod node;
mod service;
mod slice;

pub(crate) use node::NodeWire;
pub(crate) use service::ServiceWire;
pub(crate) use slice::SliceWire;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::ObjectKey;

/// `impl kube::Resource` for a wire struct whose `metadata` is a [`meta::Meta`].
macro_rules! wire_resource {
    ($ty:ty, $scope:ty, group: $group:literal, version: $version:literal, kind: $kind:literal, plural: $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($kind)
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($group)
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($version)
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($plural)
            }
            fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata.inner
            }
            fn meta_mut(
                &mut self,
            ) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata.inner
            }
        }
    };
}
pub(crate) use wire_resource;

/// Moves the key out of `meta`, leaving `None` behind (conversions consume the object).
pub(crate) fn take_key(meta: &mut ObjectMeta) -> ObjectKey {
    ObjectKey {
        namespace: meta.namespace.take().unwrap_or_default(),
        name: meta.name.take().unwrap_or_default(),
    }
}
