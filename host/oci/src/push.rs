//! `push`: check the component, build the Wasm OCI artifact, upload blobs then the manifest.

use std::path::Path;

use oci_client::RegistryOperation;
use oci_client::secrets::RegistryAuth;

use crate::Options;
use crate::component::check_component;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::{self, MANIFEST_MEDIA_TYPE};
use crate::reference::Reference;
use crate::transport::{self, Failure};

pub async fn push(component: &Path, reference: &Reference, options: &Options) -> Result<Digest> {
    // Everything that can be refused locally is, before the first connection.
    let plain_http = transport::plain_http(reference, options)?;
    let bytes = tokio::fs::read(component)
        .await
        .map_err(|source| Error::Read {
            path: component.to_owned(),
            source,
        })?;
    let info = check_component(&bytes, &component.display().to_string())?;
    let artifact = layout::build(&bytes, &info, &title(component, reference))?;
    let digest = Digest::of(&artifact.manifest);
    if let Some(pinned) = reference.digest()
        && *pinned != digest
    {
        // Pushes are reproducible (see `layout::CREATED`), so a pinned push reference states
        // which component is meant; a different file is a mistake worth stopping.
        return Err(Error::DigestMismatch {
            reference: reference.to_string(),
            what: "manifest to push",
            expected: pinned.to_string(),
            actual: digest.to_string(),
        });
    }
    let auth = transport::auth(reference, options)?;
    let client = transport::client(plain_http)?;
    let target = transport::manifest_ref(reference, true);
    let failure = Failure {
        reference,
        sent_credentials: auth != RegistryAuth::Anonymous,
    };
    client
        .auth(&target, &auth, RegistryOperation::Push)
        .await
        .map_err(|err| failure.map("authenticate for push", "manifest", err))?;
    let blobs = [
        (
            artifact.config,
            &artifact.config_descriptor.digest,
            "upload the config",
        ),
        (
            bytes,
            &artifact.layer_descriptor.digest,
            "upload the component",
        ),
    ];
    for (data, blob_digest, operation) in blobs {
        // A HEAD failure is not fatal: the upload that follows reports the real problem.
        if client
            .blob_exists(&target, blob_digest)
            .await
            .unwrap_or(false)
        {
            continue;
        }
        client
            .push_blob(&target, data, blob_digest)
            .await
            .map_err(|err| failure.map(operation, "blob", err))?;
    }
    client
        .push_manifest_raw(
            &target,
            artifact.manifest,
            http::HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
        )
        .await
        .map_err(|err| failure.map("upload the manifest", "manifest", err))?;
    tracing::info!(%reference, %digest, "pushed provider component");
    Ok(digest)
}

/// The layer's `org.opencontainers.image.title`: the file's name, as `wkg oci push` sets it.
fn title(component: &Path, reference: &Reference) -> String {
    component
        .file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let last = reference
                .repository()
                .rsplit('/')
                .next()
                .unwrap_or("component");
            format!("{last}.wasm")
        })
}
