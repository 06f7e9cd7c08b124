//! `pull`: cache first; else manifest by digest, verify, then the one layer, verify, store.

use futures::StreamExt as _;
use oci_client::errors::DigestError;
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use sha2::{Digest as _, Sha256};

use crate::cache::Cache;
use crate::component::check_component;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::{self, WasmLayer, check_manifest};
use crate::reference::Reference;
use crate::transport::{self, Failure};
use crate::{Options, Origin, Pulled};

/// What we accept when asking for the manifest: everything a registry may hold under a digest,
/// so that a non-Wasm artifact is reported as what it is rather than as "not found".
const ACCEPT: &[&str] = &[
    layout::MANIFEST_MEDIA_TYPE,
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Initial buffer for a layer; the declared size (at most `MAX_LAYER_SIZE`) bounds growth.
const INITIAL_BUFFER: u64 = 32 * 1024 * 1024;

pub async fn pull(reference: &Reference, options: &Options) -> Result<Pulled> {
    let Some(pinned) = reference.digest() else {
        return Err(Error::Unpinned {
            reference: reference.to_string(),
        });
    };
    // Checked even on a cache hit, so a misconfiguration shows now, not after the cache is lost.
    let plain_http = transport::plain_http(reference, options)?;
    let name = reference.to_string();
    let cache = Cache::new(&options.cache_dir);
    if let Some(path) = cache.lookup(pinned, &name).await {
        tracing::debug!(%reference, path = %path.display(), "provider component from cache");
        return Ok(Pulled {
            path,
            origin: Origin::Cache,
        });
    }
    let auth = transport::auth(reference, options)?;
    let client = transport::client(plain_http)?;
    let by_digest = transport::manifest_ref(reference, false);
    let failure = Failure {
        reference,
        sent_credentials: auth != RegistryAuth::Anonymous,
    };
    let (manifest, _) = match client.pull_manifest_raw(&by_digest, &auth, ACCEPT).await {
        Ok(found) => found,
        Err(err) => {
            let err = failure.map("fetch the manifest", "manifest", err);
            return Err(explain_missing_pin(&client, reference, pinned, &auth, err).await);
        }
    };
    // oci-client checks this too; checking here keeps the guarantee independent of it.
    let actual = Digest::of(&manifest);
    if actual != *pinned {
        return Err(Error::DigestMismatch {
            reference: name,
            what: "manifest",
            expected: pinned.to_string(),
            actual: actual.to_string(),
        });
    }
    let layer = check_manifest(&manifest, &name)?;
    let component = fetch_layer(&client, &by_digest, &layer, &failure).await?;
    check_component(
        &component,
        &format!("the layer {} of `{reference}`", layer.digest),
    )?;
    let path = cache.store(pinned, &manifest, &component)?;
    tracing::info!(%reference, path = %path.display(), "pulled provider component");
    Ok(Pulled {
        path,
        origin: Origin::Registry,
    })
}

/// A pinned manifest the registry does not have, in a reference that also names a tag: the tag's
/// current digest says whether the pin is simply wrong (tampered, mistyped, or the tag was pushed
/// again), which is worth more than "not found". Any failure to look the tag up keeps `err`.
async fn explain_missing_pin(
    client: &oci_client::Client,
    reference: &Reference,
    pinned: &Digest,
    auth: &RegistryAuth,
    err: Error,
) -> Error {
    let (Error::NotFound { .. }, Some(tag)) = (&err, reference.tag()) else {
        return err;
    };
    let by_tag = transport::manifest_ref(reference, true);
    let Ok(found) = client.fetch_manifest_digest(&by_tag, auth).await else {
        return err;
    };
    match Digest::parse(&found) {
        Ok(found) if found != *pinned => Error::TagMismatch {
            reference: reference.to_string(),
            tag: tag.to_owned(),
            expected: pinned.to_string(),
            found: found.to_string(),
        },
        _ => err,
    }
}

async fn fetch_layer(
    client: &oci_client::Client,
    by_digest: &oci_client::Reference,
    layer: &WasmLayer,
    failure: &Failure<'_>,
) -> Result<Vec<u8>> {
    let reference = failure.reference;
    let descriptor = OciDescriptor {
        media_type: layer.descriptor.media_type.clone(),
        digest: layer.digest.to_string(),
        size: layer.descriptor.size,
        ..OciDescriptor::default()
    };
    let mut stream = client
        .pull_blob_stream(by_digest, &descriptor)
        .await
        .map_err(|err| failure.map("fetch the component", "component layer", err))?;
    let capacity = usize::try_from(layer.size.min(INITIAL_BUFFER)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    let mut hasher = Sha256::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| stream_error(reference, err))?;
        let received = bytes.len() as u64 + chunk.len() as u64;
        if received > layer.size {
            // Stop reading: a registry must not stream more than the pinned manifest declares.
            return Err(Error::TooLarge {
                reference: reference.to_string(),
                what: "the component layer download",
                size: received,
                limit: layer.size,
            });
        }
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    let actual = Digest::from_hasher(hasher);
    if actual != layer.digest {
        return Err(Error::DigestMismatch {
            reference: reference.to_string(),
            what: "component layer",
            expected: layer.digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(bytes)
}

/// oci-client's verifying stream reports a digest mismatch as an `io::Error` wrapping
/// `DigestError`; everything else is a failed download.
fn stream_error(reference: &Reference, err: std::io::Error) -> Error {
    if let Some(DigestError::VerificationError { expected, actual }) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<DigestError>())
    {
        return Error::DigestMismatch {
            reference: reference.to_string(),
            what: "component layer",
            expected: expected.clone(),
            actual: actual.clone(),
        };
    }
    Error::Registry {
        registry: reference.registry().to_owned(),
        operation: "download the component",
        reason: err.to_string(),
        source: Box::new(err),
    }
}
