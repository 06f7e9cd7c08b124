//! [`HttpClient`] over the generated `wasi:http/outgoing-handler` bindings.

use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme as WasiScheme,
};
use crate::bindings::wasi::io::streams::StreamError;

use super::{HttpClient, HttpError, HttpResponse, MAX_BODY_BYTES, RequestTarget, Scheme};

/// Read size per `blocking-read`.
const READ_CHUNK: u64 = 64 * 1024;

/// The component's HTTP client; every request goes through the host's allow-list.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiHttp;

impl HttpClient for WasiHttp {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError> {
        let target = RequestTarget::parse(url)?;
        let request = build_request(&target, headers)?;
        let body = request
            .body()
            .map_err(|()| transport("request body already taken"))?;
        let pending =
            outgoing_handler::handle(request, None).map_err(|e| from_error_code(&target, &e))?;
        OutgoingBody::finish(body, None).map_err(|e| from_error_code(&target, &e))?;

        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(from_error_code(&target, &code)),
            Some(Err(())) | None => return Err(transport("response future yielded no response")),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| {
                (
                    name.to_ascii_lowercase(),
                    String::from_utf8_lossy(&value).into_owned(),
                )
            })
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| transport("response body already consumed"))?;
        let body = read_body(&incoming)?;
        drop(IncomingBody::finish(incoming));
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn build_request(
    target: &RequestTarget,
    headers: &[(&str, &str)],
) -> Result<OutgoingRequest, HttpError> {
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| HttpError::InvalidHeader {
                name: (*name).to_owned(),
                reason: format!("{e:?}"),
            })?;
    }
    let request = OutgoingRequest::new(fields);
    let scheme = match target.scheme {
        Scheme::Http => WasiScheme::Http,
        Scheme::Https => WasiScheme::Https,
    };
    let refused = |part: &str| transport(&format!("the host refused the request {part}"));
    request
        .set_method(&Method::Get)
        .map_err(|()| refused("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(&target.authority))
        .map_err(|()| refused("authority"))?;
    request
        .set_path_with_query(Some(&target.path_with_query))
        .map_err(|()| refused("path"))?;
    Ok(request)
}

fn read_body(incoming: &IncomingBody) -> Result<Vec<u8>, HttpError> {
    let stream = incoming
        .stream()
        .map_err(|()| transport("response body stream already taken"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY_BYTES {
                    return Err(HttpError::TooLarge {
                        limit: MAX_BODY_BYTES,
                    });
                }
            }
            Err(StreamError::Closed) => return Ok(body),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(transport(&format!(
                    "reading the response body failed: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
}

fn from_error_code(target: &RequestTarget, code: &ErrorCode) -> HttpError {
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied {
            authority: target.authority.clone(),
            detail: "http-request-denied".to_owned(),
        },
        ErrorCode::DnsError(dns) => transport(&format!(
            "DNS lookup of {} failed: {}",
            target.authority,
            dns.rcode.as_deref().unwrap_or("no answer")
        )),
        ErrorCode::ConnectionRefused => {
            transport(&format!("connection to {} refused", target.authority))
        }
        ErrorCode::ConnectionTimeout => {
            transport(&format!("connection to {} timed out", target.authority))
        }
        other => transport(&format!(
            "request to {} failed: {other:?}",
            target.authority
        )),
    }
}

fn transport(message: &str) -> HttpError {
    HttpError::Transport(message.to_owned())
}
