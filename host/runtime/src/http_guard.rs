//! Outgoing HTTP policy (the `WasiHttpHooks::send_request` hook): a request goes out only if its
//! origin is declared by the provider AND granted by the operator; the name is then resolved and
//! each address re-checked (loopback/link-local/unspecified need the exact IP granted), and the
//! connection goes to that checked address, so a second DNS answer cannot redirect it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::grants::{Grants, HostPort, restricted_kind};
use crate::http_tap::{CallTap, header_pairs, record_response, replayed_response};

/// Upper bound on connecting; the call deadline usually ends things first.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A refused request, kept so the call fails even if the guest hides the HTTP error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub host: String,
    pub reason: String,
}

/// Denials recorded during one call (shared with the futures that outlive the hook borrow).
pub(crate) type DenialLog = Arc<Mutex<Vec<Denial>>>;

pub(crate) struct OutboundPolicy {
    pub(crate) provider: String,
    pub(crate) declared: Vec<HostPort>,
    pub(crate) grants: Grants,
    pub(crate) denials: DenialLog,
    pub(crate) tap: CallTap,
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

impl OutboundPolicy {
    fn check_origin(&self, origin: &HostPort) -> Result<(), String> {
        if !self.declared.contains(origin) {
            let declared: Vec<String> = self.declared.iter().map(ToString::to_string).collect();
            return Err(format!(
                "not declared by the provider's metadata (declared: {})",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            ));
        }
        if !self.grants.is_granted(origin) {
            return Err(format!(
                "not granted by the operator (add --allow-host {origin})"
            ));
        }
        Ok(())
    }
}

pub(crate) fn record(denials: &DenialLog, provider: &str, host: String, reason: String) {
    tracing::warn!(provider, %host, %reason, "outgoing HTTP denied");
    let mut log = denials
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    log.push(Denial { host, reason });
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let origin = match origin_of(&request) {
            Ok(origin) => origin,
            Err(reason) => {
                record(
                    &self.denials,
                    &self.provider,
                    request.uri().to_string(),
                    reason,
                );
                return Box::new(async { Err(HttpError::HttpRequestDenied) });
            }
        };
        if let Err(reason) = self.check_origin(&origin) {
            record(&self.denials, &self.provider, origin.to_string(), reason);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let method = request.method().as_str().to_string();
        let url = request.uri().to_string();
        let denials = Arc::clone(&self.denials);
        let provider = self.provider.clone();
        if let CallTap::Replay(replayer) = &self.tap {
            let answer = replayer
                .answer(&method, &url)
                .map_err(|unrecorded| format!("replay: {unrecorded}"))
                .and_then(|recorded| replayed_response(&recorded));
            return Box::new(async move {
                match answer {
                    Ok(response) => {
                        let no_io: Box<dyn Future<Output = Result<(), HttpError>> + Send> =
                            Box::new(async { Ok(()) });
                        Ok((response, no_io))
                    }
                    Err(reason) => {
                        record(&denials, &provider, url, reason);
                        Err(HttpError::HttpRequestDenied)
                    }
                }
            });
        }
        let grants = self.grants.clone();
        let tap = self.tap.clone();
        let request_headers = header_pairs(request.headers());
        Box::new(async move {
            let address = match resolve_checked(&origin, &grants).await {
                Ok(address) => address,
                Err(reason) => {
                    record(&denials, &provider, origin.to_string(), reason);
                    return Err(HttpError::DestinationIpProhibited);
                }
            };
            tracing::debug!(provider, %origin, %address, "outgoing HTTP allowed");
            let (response, io_done) = send_to(request, address, &origin, options).await?;
            match &tap {
                CallTap::Record {
                    recording,
                    redactor,
                } => {
                    let response = record_response(
                        recording,
                        redactor,
                        &method,
                        &url,
                        &request_headers,
                        response,
                    )
                    .await?;
                    Ok((response, io_done))
                }
                _ => Ok((response, io_done)),
            }
        })
    }
}

fn origin_of(request: &http::Request<WasiBody>) -> Result<HostPort, String> {
    let uri = request.uri();
    let port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        other => return Err(format!("unsupported scheme {other:?}")),
    };
    let host = uri
        .host()
        .ok_or_else(|| "request has no host".to_string())?;
    Ok(HostPort::new(host, uri.port_u16().unwrap_or(port)))
}

/// Resolve once and pick the first address the grants allow.
async fn resolve_checked(origin: &HostPort, grants: &Grants) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> = match origin.ip() {
        Some(ip) => vec![SocketAddr::new(ip, origin.port)],
        None => tokio::net::lookup_host((origin.host.as_str(), origin.port))
            .await
            .map_err(|err| format!("cannot resolve {}: {err}", origin.host))?
            .collect(),
    };
    let mut refused = Vec::new();
    for address in addresses {
        match restricted_kind(address.ip()) {
            Some(kind) if !grants.is_ip_granted(address.ip(), address.port()) => {
                refused.push(format!("{} ({kind})", address.ip()));
            }
            _ => return Ok(address),
        }
    }
    if refused.is_empty() {
        return Err(format!("{} resolved to no address", origin.host));
    }
    Err(format!(
        "resolves to {}, which must be granted by exact IP (e.g. --allow-host {})",
        refused.join(", "),
        refused[0].split(' ').next().unwrap_or_default()
    ))
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T> Stream for T where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Sync + Unpin + 'static
{
}

async fn send_to(
    mut request: http::Request<WasiBody>,
    address: SocketAddr,
    origin: &HostPort,
    options: Option<RequestOptions>,
) -> SendResult {
    let use_tls = request.uri().scheme() == Some(&http::uri::Scheme::HTTPS);
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(CONNECT_TIMEOUT);
    let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect(address))
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(HttpError::Connect)?;
    let stream: Box<dyn Stream> = if use_tls {
        Box::new(tls_connect(tcp, origin).await?)
    } else {
        Box::new(tcp)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(HttpError::from)?;
    let connection = tokio::spawn(connection);
    // The request line carries only the path; the Host header names the origin.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(HttpError::from)?;
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    let io_done = async move {
        match connection.await {
            Ok(result) => result.map_err(HttpError::from),
            Err(_) => Ok(()),
        }
    };
    Ok((response, Box::new(io_done)))
}

async fn tls_connect(
    tcp: TcpStream,
    origin: &HostPort,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, HttpError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| HttpError::TlsProtocolError)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server_name = rustls::pki_types::ServerName::try_from(origin.host.clone())
        .map_err(|_| HttpError::TlsCertificateError)?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(HttpError::Tls)
}
