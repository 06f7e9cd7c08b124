//! HTTPS or plain HTTP, decided before any connection; the oci-client `Client` and its auth.
//!
//! HTTPS is the default. Plain HTTP is for a registry on loopback (a registry next to the node,
//! or a test) or one the operator names as insecure, as containerd's `--insecure-registry` does.

use std::net::IpAddr;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError};
use oci_client::secrets::RegistryAuth;

use crate::Options;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::reference::{Reference, Scheme, host_of};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Per read, not per download: a slow but live registry still finishes a large component.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const USER_AGENT: &str = concat!("herald/", env!("CARGO_PKG_VERSION"));

/// Whether `reference` is reached over plain HTTP; an `http://` reference to a registry that is
/// neither loopback nor listed is refused here, so nothing is sent in clear text.
pub fn plain_http(reference: &Reference, options: &Options) -> Result<bool> {
    let allowed = is_loopback(reference.host())
        || is_listed(reference.registry(), &options.insecure_registries);
    match reference.scheme() {
        Scheme::Https => Ok(false),
        Scheme::Oci => Ok(allowed),
        Scheme::Http if allowed => Ok(true),
        Scheme::Http => Err(Error::InsecureRefused {
            registry: reference.registry().to_owned(),
        }),
    }
}

/// 127.0.0.0/8, ::1 (IPv4-mapped included) and the name `localhost`.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// An entry matches its exact `host:port`; an entry without a port matches the host on any port.
fn is_listed(registry: &str, insecure: &[String]) -> bool {
    insecure.iter().any(|entry| {
        let entry = entry
            .strip_prefix("http://")
            .unwrap_or(entry)
            .trim_end_matches('/');
        let has_port = entry.strip_prefix('[').map_or(entry.contains(':'), |v6| {
            v6.split_once(']')
                .is_some_and(|(_, rest)| rest.starts_with(':'))
        });
        if has_port {
            entry.eq_ignore_ascii_case(registry)
        } else {
            host_of(entry).eq_ignore_ascii_case(host_of(registry))
        }
    })
}

/// An oci-client `Client` for one registry, with rustls on the workspace's `ring` provider.
pub fn client(plain_http: bool) -> Result<oci_client::Client> {
    // reqwest is built without a provider of its own (its default would pull aws-lc-rs) and
    // panics without a process default; install ring's unless something else already did.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine: any default will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let config = ClientConfig {
        protocol: if plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: USER_AGENT,
        // A provider reference pins one manifest; an index is refused, never resolved.
        platform_resolver: None,
        ..ClientConfig::default()
    };
    // `Client::new` would fall back to a default (HTTPS-only, no timeouts) client on error.
    oci_client::Client::try_from(config).map_err(|err| Error::Client {
        source: Box::new(err),
    })
}

/// Explicit credentials, else the Docker config's entry for the registry, else anonymous.
pub fn auth(reference: &Reference, options: &Options) -> Result<RegistryAuth> {
    let credentials = match &options.credentials {
        Some(credentials) => Some(credentials.clone()),
        None => Credentials::from_docker_config(reference.registry())?,
    };
    Ok(credentials.map_or(RegistryAuth::Anonymous, |c| c.registry_auth()))
}

/// oci-client's reference for the manifest at `tag` or `digest`, with the registry as written.
pub fn manifest_ref(reference: &Reference, by_tag: bool) -> oci_client::Reference {
    let (registry, repository) = (
        reference.registry().to_owned(),
        reference.repository().to_owned(),
    );
    match (by_tag, reference.tag(), reference.digest()) {
        (true, Some(tag), _) | (false, Some(tag), None) => {
            oci_client::Reference::with_tag(registry, repository, tag.to_owned())
        }
        (_, _, Some(digest)) => {
            oci_client::Reference::with_digest(registry, repository, digest.to_string())
        }
        // `Reference::parse` guarantees a tag or a digest; "latest" keeps this total.
        (_, None, None) => oci_client::Reference::with_tag(registry, repository, "latest".into()),
    }
}

/// What an oci-client failure is mapped with: the reference and whether credentials were sent.
pub struct Failure<'a> {
    pub reference: &'a Reference,
    pub sent_credentials: bool,
}

impl Failure<'_> {
    /// Digest → `DigestMismatch` (`what` names the object), no connection → `Unreachable`,
    /// 401/403 → `Unauthorized`, anything else → `Registry`.
    pub fn map(
        &self,
        operation: &'static str,
        what: &'static str,
        err: OciDistributionError,
    ) -> Error {
        let registry = self.reference.registry().to_owned();
        match err {
            OciDistributionError::DigestError(DigestError::VerificationError {
                expected,
                actual,
            }) => Error::DigestMismatch {
                reference: self.reference.to_string(),
                what,
                expected,
                actual,
            },
            OciDistributionError::RequestError(err) if err.is_connect() || err.is_timeout() => {
                Error::Unreachable {
                    registry,
                    operation,
                    reason: innermost(&err),
                    source: Box::new(err),
                }
            }
            err if is_unauthorized(&err) => Error::Unauthorized {
                registry,
                operation,
                reason: if self.sent_credentials {
                    "the credentials were rejected".to_owned()
                } else {
                    "it needs credentials (none given, none in the Docker config for it)".to_owned()
                },
                source: Box::new(err),
            },
            err if is_not_found(&err) => Error::NotFound {
                registry,
                reference: self.reference.to_string(),
                what,
                reason: err.to_string().trim().to_owned(),
                source: Box::new(err),
            },
            err => Error::Registry {
                registry,
                operation,
                reason: err.to_string().trim().to_owned(),
                source: Box::new(err),
            },
        }
    }
}

fn is_unauthorized(err: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode;
    match err {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => true,
        OciDistributionError::ServerError { code, .. } => matches!(code, 401 | 403),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
        _ => false,
    }
}

fn is_not_found(err: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode;
    match err {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::BlobUnknown
                    | OciErrorCode::NameUnknown
            )
        }),
        _ => false,
    }
}

/// The last error in the `source()` chain: for reqwest that is the OS or TLS error.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn options(insecure: &[&str]) -> Options {
        Options {
            insecure_registries: insecure.iter().map(|s| s.to_string()).collect(),
            ..Options::new("/nonexistent")
        }
    }

    fn plain(reference: &str, insecure: &[&str]) -> Result<bool> {
        plain_http(&Reference::parse(reference).unwrap(), &options(insecure))
    }

    #[test]
    fn loopback_registries_use_plain_http() {
        for registry in ["127.0.0.1:5000", "127.1.2.3", "localhost:80", "[::1]:5000"] {
            assert!(
                plain(&format!("oci://{registry}/p:v"), &[]).unwrap(),
                "{registry}"
            );
            assert!(
                plain(&format!("http://{registry}/p:v"), &[]).unwrap(),
                "{registry}"
            );
        }
        assert!(is_loopback("::ffff:127.0.0.1"));
        assert!(!is_loopback("128.0.0.1"));
        assert!(!is_loopback("localhost.example"));
    }

    #[test]
    fn other_registries_use_https_unless_listed() {
        assert!(!plain("oci://registry.example:5000/p:v", &[]).unwrap());
        assert!(!plain("oci://10.0.0.5:5000/p:v", &["10.0.0.5:5001"]).unwrap());
        assert!(plain("oci://10.0.0.5:5000/p:v", &["10.0.0.5:5000"]).unwrap());
        assert!(plain("oci://10.0.0.5:5000/p:v", &["10.0.0.5"]).unwrap());
        assert!(plain("http://Registry.Example/p:v", &["http://registry.example/"]).unwrap());
        assert!(!plain("https://127.0.0.1:5000/p:v", &[]).unwrap());
    }

    #[test]
    fn explicit_http_to_an_unlisted_registry_is_refused() {
        let err = plain("http://registry.example:5000/p:v", &[]).unwrap_err();
        assert!(
            matches!(err, Error::InsecureRefused { ref registry } if registry == "registry.example:5000")
        );
        assert!(err.to_string().contains("insecure registries"), "{err}");
    }
}
