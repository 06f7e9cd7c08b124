//! [`Replay`]: an [`HttpClient`] answering from a file written by `herald provider run --record`,
//! so a provider's native tests run on what a real endpoint once answered.

use std::cell::RefCell;
use std::path::Path;

use herald_recording::{Recording, Redactor, Replayer};

use super::RecordedRequest;
use crate::{HttpClient, HttpError, HttpResponse};

/// Why a recording could not be used (names the file).
pub use herald_recording::ReadError as ReplayError;

/// Answers GETs by URL from a recording, in recorded order for repeated URLs; a request the
/// recording lacks gets a transport error naming it (so the test fails, saying what to record).
#[derive(Debug)]
pub struct Replay {
    replayer: Replayer,
    requests: RefCell<Vec<RecordedRequest>>,
}

impl Replay {
    /// A recording made with no secret in any URL (the usual case: secrets go in headers).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ReplayError> {
        Self::from_file_with_secrets(path, &[])
    }

    /// `secrets`: the secret config values the recorded run had, as the test passes them to
    /// `configure`; they are redacted from request URLs before matching, as the host does.
    pub fn from_file_with_secrets(
        path: impl AsRef<Path>,
        secrets: &[&str],
    ) -> Result<Self, ReplayError> {
        let recording = Recording::read(path.as_ref())?;
        Ok(Self::new(recording, secrets))
    }

    pub fn new(recording: Recording, secrets: &[&str]) -> Self {
        Self {
            replayer: Replayer::new(recording, Redactor::new(secrets.iter().copied())),
            requests: RefCell::new(Vec::new()),
        }
    }

    /// Every request so far, in order (headers as the provider sent them).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.borrow().clone()
    }
}

impl HttpClient for Replay {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError> {
        self.requests
            .borrow_mut()
            .push(RecordedRequest::get(url, headers));
        let recorded = self
            .replayer
            .answer("GET", url)
            .map_err(|unrecorded| HttpError::Transport(format!("replay: {unrecorded}")))?;
        let body = recorded
            .body_bytes()
            .map_err(|err| HttpError::Transport(format!("replay: {err}")))?;
        Ok(HttpResponse {
            status: recorded.status,
            headers: recorded
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDING: &str = r#"{
      "herald-recording": 1,
      "exchanges": [
        { "request": { "method": "GET", "url": "http://127.0.0.1:9/metadata",
                       "headers": [["x-auth-token", "<redacted>"]] },
          "response": { "status": 200, "headers": [["Content-Type", "application/json"]],
                        "body": "{\"ok\":true}" } }
      ]
    }"#;

    #[test]
    fn answers_recorded_urls_and_names_unrecorded_ones() {
        let replay = Replay::new(Recording::from_json(RECORDING).unwrap(), &[]);
        let response = replay.get("http://127.0.0.1:9/metadata", &[]).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.body, b"{\"ok\":true}");
        let err = replay.get("http://127.0.0.1:9/other", &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("no recorded exchange for GET http://127.0.0.1:9/other"),
            "{err}"
        );
        assert_eq!(replay.requests().len(), 2);
    }
}
