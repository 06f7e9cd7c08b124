//! The recording format of `herald provider run --record FILE` / `--replay FILE`, shared by the
//! host and `herald_sdk::testing::Replay`, so a provider's native tests answer from the same file
//! a real run wrote.
//!
//! ```json
//! { "herald-recording": 1,
//!   "exchanges": [
//!     { "request":  { "method": "GET", "url": "http://127.0.0.1:8080/metadata",
//!                     "headers": [["x-auth-token", "<redacted>"]] },
//!       "response": { "status": 200, "headers": [["content-type", "application/json"]],
//!                     "body": "{…}" } } ] }
//! ```
//!
//! Request headers that carry credentials, and any secret config value wherever it appears in a
//! request (header or URL), are written as [`REDACTED`]; replay redacts the live request the same
//! way before matching, so matching still works. Response bodies are kept as they are: they are
//! the provider's input.

mod redact;
mod replay;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub use redact::{REDACTED, Redactor};
pub use replay::{Replayer, Unrecorded};

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    #[serde(rename = "herald-recording")]
    pub version: u32,
    pub exchanges: Vec<Exchange>,
}

impl Default for Recording {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            exchanges: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body as text when it is UTF-8 …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// … else as base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl RecordedResponse {
    pub fn new(status: u16, headers: Vec<(String, String)>, body: &[u8]) -> Self {
        let (body, body_base64) = match std::str::from_utf8(body) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(body)),
            ),
        };
        Self {
            status,
            headers,
            body,
            body_base64,
        }
    }

    /// The body bytes (empty when the exchange had none).
    pub fn body_bytes(&self) -> Result<Vec<u8>, RecordingError> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => Ok(text.as_bytes().to_vec()),
            (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|err| RecordingError::Body(err.to_string())),
            (None, None) => Ok(Vec::new()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("not a Herald recording: {0}")]
    Json(#[from] serde_json::Error),
    #[error("recording format {found} is not supported (this build reads format {FORMAT_VERSION})")]
    Version { found: u32 },
    #[error("a response body_base64 is not base64: {0}")]
    Body(String),
}

/// Why a recording file could not be used; names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Format {
        path: String,
        source: RecordingError,
    },
}

impl Recording {
    /// Reads and checks a recording file (`--replay`, the SDK's `Replay`).
    pub fn read(path: &std::path::Path) -> Result<Self, ReadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text).map_err(|source| ReadError::Format {
            path: shown,
            source,
        })
    }

    pub fn from_json(text: &str) -> Result<Self, RecordingError> {
        let recording: Recording = serde_json::from_str(text)?;
        if recording.version != FORMAT_VERSION {
            return Err(RecordingError::Version {
                found: recording.version,
            });
        }
        Ok(recording)
    }

    /// Pretty JSON with a trailing newline: recordings are committed and reviewed.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_bodies_round_trip() {
        let text = RecordedResponse::new(200, vec![], b"{\"a\":1}");
        assert_eq!(text.body.as_deref(), Some("{\"a\":1}"));
        let binary = RecordedResponse::new(200, vec![], &[0xff, 0x00, 0x01]);
        assert!(binary.body.is_none());
        assert_eq!(binary.body_bytes().unwrap(), vec![0xff, 0x00, 0x01]);
        let recording = Recording {
            exchanges: vec![Exchange {
                request: RecordedRequest {
                    method: "GET".into(),
                    url: "http://127.0.0.1:1/x".into(),
                    headers: vec![],
                },
                response: binary,
            }],
            ..Recording::default()
        };
        assert_eq!(
            Recording::from_json(&recording.to_json()).unwrap(),
            recording
        );
    }

    #[test]
    fn another_format_version_is_refused_by_number() {
        let err = Recording::from_json(r#"{"herald-recording": 7, "exchanges": []}"#).unwrap_err();
        assert!(err.to_string().contains("format 7"), "{err}");
        assert!(Recording::from_json("[]").is_err());
    }
}
