//! The HTTP/1.1 server: accept loop, outage behaviour, request log, and response helpers. Routing
//! is in `routes.rs`, the verbs in `verbs.rs` and `list.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::watch as tokio_watch;

use crate::RequestRecord;
use crate::query::Query;
use crate::shared::Shared;
use crate::side_channel;
use crate::status::ApiError;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = BoxBody<Bytes, BoxError>;

/// Larger than the apiserver's 3 MiB object limit, small enough to bound a bad client.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Returned by the service while unavailable: hyper then closes the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("refused: the fake apiserver is unavailable")]
pub(crate) struct Refused;

/// Accepts until `stop` flips; connection tasks die with the runtime when the server thread ends.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio_watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Down: close at once. The side channel must still reach the binary, so with it
                    // enabled the request is read and refused unless it is for `/_fake/`.
                    if !shared.available() && !shared.http_side_channel {
                        tracing::debug!(%peer, "unavailable: closing new connection");
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(shared.clone(), req));
                        if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                            tracing::debug!(%peer, error = %e, "connection ended");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Refused> {
    let path = req.uri().path().to_string();
    let fake = shared.http_side_channel && path.starts_with("/_fake/");
    if !fake && !shared.available() {
        tracing::debug!(%path, "unavailable: closing connection without a response");
        return Err(Refused);
    }
    let method = req.method().clone();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    tracing::debug!(%method, %path, query = %raw_query, "request");
    if !fake {
        shared.record_request(RequestRecord {
            method: method.to_string(),
            path: path.clone(),
            query: raw_query.clone(),
            at: SystemTime::now(),
        });
    }
    let query = Query::parse(&raw_query);
    let (parts, body) = req.into_parts();
    let result = if fake {
        match read_body(body).await {
            Ok(bytes) => side_channel::handle(&shared, &method, &path, &query, &bytes),
            Err(e) => Err(e),
        }
    } else {
        crate::verbs::route(&shared, &method, &path, &query, &parts.headers, body).await
    };
    Ok(result.unwrap_or_else(|e| json_response(e.code(), &e.to_status())))
}

pub(crate) async fn read_body(body: Incoming) -> Result<Bytes, ApiError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(ApiError::RequestTooLarge(format!(
            "reading the request body: {e}"
        ))),
    }
}

pub(crate) fn json_response(code: u16, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    bytes_response(code, "application/json", Bytes::from(body))
}

pub(crate) fn bytes_response(code: u16, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Full::new(body).map_err(|never| match never {}).boxed());
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache, private"),
    );
    resp
}
