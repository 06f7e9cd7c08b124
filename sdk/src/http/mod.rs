//! Outgoing HTTP for providers: the [`HttpClient`] trait, the response/error types and
//! [`get_json`], which maps HTTP outcomes onto [`ProviderError`] kinds.
//!
//! In a component the client is backed by `wasi:http/outgoing-handler` (the host allows only
//! hosts the provider declares and the operator grants); in native tests use
//! [`crate::testing::MockHttp`].

mod url;
#[cfg(target_arch = "wasm32")]
mod wasi;

use serde::de::DeserializeOwned;

use crate::ProviderError;

pub use url::{RequestTarget, Scheme};
#[cfg(target_arch = "wasm32")]
pub use wasi::WasiHttp;

/// Largest response body a provider reads; larger bodies are an error, not a truncation.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Longest excerpt of an error body quoted in an error message.
const MAX_QUOTED_CHARS: usize = 200;

/// An HTTP response with its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The host refused the request: the destination is not both declared and granted.
    #[error(
        "request to {authority} denied by host (declare the host and grant it to the provider): {detail}"
    )]
    Denied { authority: String, detail: String },
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("header {name} refused: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("response body larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// DNS, connection, TLS, timeout or protocol failure.
    #[error("{0}")]
    Transport(String),
}

/// Outgoing HTTP as a provider sees it (GET only: providers read).
pub trait HttpClient {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError>;
}

/// GETs `url` and decodes a JSON body of type `T`.
///
/// Errors: 401/403 → `unauthorized`; 404 and other 4xx → `invalid-input`; 408, 429, 5xx and
/// transport failures → `unreachable`; a host denial → `unauthorized` (the grant is missing, a
/// retry will not help); a body that is not the expected JSON → `invalid-input` naming the URL.
/// The API's own `error`/`errors`/`message` text is quoted.
pub fn get_json<T: DeserializeOwned>(
    http: &dyn HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<T, ProviderError> {
    let response = http
        .get(url, headers)
        .map_err(|e| error_from_http(url, &e))?;
    check_status(url, &response)?;
    serde_json::from_slice(&response.body).map_err(|e| {
        ProviderError::InvalidInput(format!("GET {url}: response is not the expected JSON: {e}"))
    })
}

/// Maps a transport-level failure onto a provider error kind.
pub fn error_from_http(url: &str, error: &HttpError) -> ProviderError {
    let message = format!("GET {url}: {error}");
    match error {
        HttpError::Denied { .. } => ProviderError::Unauthorized(message),
        HttpError::InvalidUrl { .. }
        | HttpError::InvalidHeader { .. }
        | HttpError::TooLarge { .. } => ProviderError::InvalidInput(message),
        HttpError::Transport(_) => ProviderError::Unreachable(message),
    }
}

/// `Ok` for 2xx; otherwise the error kind for the status, quoting the API's error text.
pub fn check_status(url: &str, response: &HttpResponse) -> Result<(), ProviderError> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let detail = api_error_text(&response.body)
        .map(|t| format!(": {t}"))
        .unwrap_or_default();
    let message = format!("GET {url}: HTTP {status}{}{detail}", status_reason(status));
    Err(match status {
        401 | 403 => ProviderError::Unauthorized(message),
        408 | 429 | 500..=599 => ProviderError::Unreachable(message),
        _ => ProviderError::InvalidInput(message),
    })
}

fn status_reason(status: u16) -> &'static str {
    match status {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        408 => " Request Timeout",
        422 => " Unprocessable Entity",
        429 => " Too Many Requests",
        500 => " Internal Server Error",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    }
}

/// The error text of a JSON error body: `{"error": "…"}`, `{"errors": ["…", …]}` or
/// `{"message": "…"}`; otherwise a short printable excerpt of the body, if any.
pub fn api_error_text(body: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => json_error_text(&value)?,
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let quoted: String = printable.chars().take(MAX_QUOTED_CHARS).collect();
    match quoted.is_empty() {
        true => None,
        false if printable.chars().count() > MAX_QUOTED_CHARS => Some(format!("{quoted}…")),
        false => Some(quoted),
    }
}

fn json_error_text(value: &serde_json::Value) -> Option<String> {
    if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
        return Some(error.to_owned());
    }
    if let Some(errors) = value.get("errors").and_then(|e| e.as_array()) {
        let texts: Vec<&str> = errors.iter().filter_map(|e| e.as_str()).collect();
        if !texts.is_empty() {
            return Some(texts.join("; "));
        }
    }
    value
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MockHttp;

    const URL: &str = "https://api.example.test/v1/things";

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Thing {
        name: String,
    }

    #[test]
    fn decodes_json() {
        let http = MockHttp::new().with_json(URL, 200, r#"{"name":"x"}"#);
        assert_eq!(
            get_json::<Thing>(&http, URL, &[]).unwrap(),
            Thing { name: "x".into() }
        );
    }

    #[test]
    fn status_maps_to_kind_and_quotes_api_errors() {
        let cases = [
            (
                401,
                r#"{"error":"Invalid authentication token"}"#,
                "unauthorized",
                "Invalid authentication token",
            ),
            (
                403,
                r#"{"error":"Access denied"}"#,
                "unauthorized",
                "Access denied",
            ),
            (
                404,
                r#"{"errors":["Not found"]}"#,
                "invalid input",
                "HTTP 404 Not Found: Not found",
            ),
            (
                404,
                r#"{"message":"resource not found"}"#,
                "invalid input",
                "resource not found",
            ),
            (429, "", "unreachable", "HTTP 429"),
            (503, "<html>down</html>", "unreachable", "<html>down</html>"),
        ];
        for (status, body, kind, text) in cases {
            let http = MockHttp::new().with_json(URL, status, body);
            let err = get_json::<Thing>(&http, URL, &[]).unwrap_err();
            let shown = err.to_string();
            assert!(
                shown.starts_with(kind) && shown.contains(text) && shown.contains(URL),
                "{status}: {shown}"
            );
        }
    }

    #[test]
    fn non_json_body_is_invalid_input_naming_the_url() {
        let http = MockHttp::new().with_json(URL, 200, "<html>captive portal</html>");
        let err = get_json::<Thing>(&http, URL, &[]).unwrap_err();
        assert!(
            matches!(&err, ProviderError::InvalidInput(m) if m.contains(URL) && m.contains("not the expected JSON")),
            "{err}"
        );
    }

    #[test]
    fn transport_failures_map_to_kinds() {
        let denied = HttpError::Denied {
            authority: "api.example.test:443".into(),
            detail: "not granted".into(),
        };
        let err = error_from_http(URL, &denied);
        assert!(
            matches!(&err, ProviderError::Unauthorized(m) if m.contains("denied by host")),
            "{err}"
        );
        let err = error_from_http(URL, &HttpError::Transport("connection refused".into()));
        assert!(matches!(err, ProviderError::Unreachable(_)));
    }

    #[test]
    fn long_error_bodies_are_cut() {
        let body = format!(r#"{{"error":"{}"}}"#, "x".repeat(1000));
        let text = api_error_text(body.as_bytes()).unwrap();
        assert_eq!(text.chars().count(), MAX_QUOTED_CHARS + 1);
    }
}
