//! Recording and replaying a provider's HTTP (`herald provider run --record/--replay`): the tap
//! sits behind the sandbox checks, so a replayed run is held to the same declared and granted
//! hosts as a live one, and replay never opens a socket.

use std::sync::{Arc, Mutex};

use herald_recording::{Exchange, RecordedResponse, Recording, Redactor, Replayer};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Largest response body kept in a recording (a metadata or API page is kilobytes).
const MAX_RECORDED_BODY: usize = 8 * 1024 * 1024;

/// What happens to a provider's outgoing HTTP: sent (`live`), sent and kept (`recorder`), or
/// answered from a recording (`replay`). Cheap to clone; clones share the recording.
#[derive(Debug, Clone, Default)]
pub struct HttpTap {
    mode: Mode,
}

#[derive(Debug, Clone, Default)]
enum Mode {
    #[default]
    Live,
    Record(Arc<Mutex<Recording>>),
    Replay(Arc<Recording>),
}

impl HttpTap {
    pub fn live() -> Self {
        Self::default()
    }

    pub fn recorder() -> Self {
        Self {
            mode: Mode::Record(Arc::default()),
        }
    }

    pub fn replay(recording: Recording) -> Self {
        Self {
            mode: Mode::Replay(Arc::new(recording)),
        }
    }

    /// What a recorder holds so far (`None` for other taps).
    pub fn recording(&self) -> Option<Recording> {
        match &self.mode {
            Mode::Record(recording) => Some(
                recording
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone(),
            ),
            _ => None,
        }
    }

    /// The tap for one call, redacting that call's secret config values.
    pub(crate) fn for_call(&self, redactor: Redactor) -> CallTap {
        match &self.mode {
            Mode::Live => CallTap::Live,
            Mode::Record(recording) => CallTap::Record {
                recording: Arc::clone(recording),
                redactor,
            },
            Mode::Replay(recording) => CallTap::Replay(Arc::new(Replayer::new(
                Recording::clone(recording),
                redactor,
            ))),
        }
    }
}

/// [`HttpTap`] bound to one call.
#[derive(Clone)]
pub(crate) enum CallTap {
    Live,
    Record {
        recording: Arc<Mutex<Recording>>,
        redactor: Redactor,
    },
    Replay(Arc<Replayer>),
}

pub(crate) fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads the whole response, keeps it in the recording, and hands the guest the same bytes.
pub(crate) async fn record_response(
    recording: &Mutex<Recording>,
    redactor: &Redactor,
    method: &str,
    url: &str,
    request_headers: &[(String, String)],
    response: http::Response<WasiBody>,
) -> Result<http::Response<WasiBody>, HttpError> {
    let (parts, body) = response.into_parts();
    let bytes = Limited::new(body, MAX_RECORDED_BODY)
        .collect()
        .await
        .map_err(|_| HttpError::HttpResponseBodySize(Some(MAX_RECORDED_BODY as u64)))?
        .to_bytes();
    let exchange = Exchange {
        request: redactor.request(method, url, request_headers),
        response: RecordedResponse::new(
            parts.status.as_u16(),
            header_pairs(&parts.headers),
            &bytes,
        ),
    };
    recording
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .exchanges
        .push(exchange);
    Ok(http::Response::from_parts(parts, full_body(bytes)))
}

/// The recorded answer as a response the guest reads like a live one.
pub(crate) fn replayed_response(
    recorded: &RecordedResponse,
) -> Result<http::Response<WasiBody>, String> {
    let body = recorded.body_bytes().map_err(|err| err.to_string())?;
    let mut builder = http::Response::builder().status(recorded.status);
    for (name, value) in &recorded.headers {
        // Framing headers described the recorded connection, not this body.
        if name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("content-length")
        {
            continue;
        }
        builder = builder.header(name, value);
    }
    builder
        .body(full_body(Bytes::from(body)))
        .map_err(|err| format!("recorded response is not valid HTTP: {err}"))
}

fn full_body(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}
