//! Answering requests from a recording: by method and (redacted) URL, in recorded order when the
//! same request was made more than once; the last answer repeats.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::{RecordedResponse, Recording, Redactor};

/// A request the recording has no answer for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no recorded exchange for {method} {url} (recorded: {recorded})")]
pub struct Unrecorded {
    pub method: String,
    pub url: String,
    /// The requests the recording does hold, for the message.
    pub recorded: String,
}

#[derive(Debug)]
pub struct Replayer {
    redactor: Redactor,
    answers: BTreeMap<(String, String), Vec<RecordedResponse>>,
    served: Mutex<BTreeMap<(String, String), usize>>,
}

impl Replayer {
    /// `secrets`: the run's secret config values, redacted from live requests before matching
    /// (the recording holds them redacted).
    pub fn new(recording: Recording, redactor: Redactor) -> Self {
        let mut answers: BTreeMap<(String, String), Vec<RecordedResponse>> = BTreeMap::new();
        for exchange in recording.exchanges {
            let key = (
                exchange.request.method.to_ascii_uppercase(),
                exchange.request.url,
            );
            answers.entry(key).or_default().push(exchange.response);
        }
        Self {
            redactor,
            answers,
            served: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn answer(&self, method: &str, url: &str) -> Result<RecordedResponse, Unrecorded> {
        let key = (method.to_ascii_uppercase(), self.redactor.text(url));
        let Some(responses) = self.answers.get(&key) else {
            return Err(Unrecorded {
                method: key.0,
                url: key.1,
                recorded: self.recorded(),
            });
        };
        let mut served = self
            .served
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = served.entry(key).or_default();
        let index = (*count).min(responses.len().saturating_sub(1));
        *count += 1;
        // invariant: entries are only created with at least one response.
        responses.get(index).cloned().ok_or_else(|| Unrecorded {
            method: method.to_string(),
            url: url.to_string(),
            recorded: String::new(),
        })
    }

    fn recorded(&self) -> String {
        if self.answers.is_empty() {
            return "none".into();
        }
        self.answers
            .keys()
            .map(|(method, url)| format!("{method} {url}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Exchange, RecordedRequest};

    fn exchange(url: &str, body: &str) -> Exchange {
        Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                url: url.into(),
                headers: vec![],
            },
            response: RecordedResponse::new(200, vec![], body.as_bytes()),
        }
    }

    #[test]
    fn repeated_requests_get_the_recorded_answers_in_order_then_the_last() {
        let recording = Recording {
            exchanges: vec![exchange("http://h/a", "1"), exchange("http://h/a", "2")],
            ..Recording::default()
        };
        let replayer = Replayer::new(recording, Redactor::default());
        let body = |r: RecordedResponse| r.body.unwrap();
        assert_eq!(body(replayer.answer("GET", "http://h/a").unwrap()), "1");
        assert_eq!(body(replayer.answer("get", "http://h/a").unwrap()), "2");
        assert_eq!(body(replayer.answer("GET", "http://h/a").unwrap()), "2");
    }

    #[test]
    fn an_unrecorded_request_is_named_with_what_was_recorded() {
        let recording = Recording {
            exchanges: vec![exchange("http://h/a", "1")],
            ..Recording::default()
        };
        let replayer = Replayer::new(recording, Redactor::default());
        let err = replayer.answer("GET", "http://h/b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no recorded exchange for GET http://h/b (recorded: GET http://h/a)"
        );
    }

    #[test]
    fn secrets_in_live_urls_are_redacted_before_matching() {
        let recording = Recording {
            exchanges: vec![exchange("http://h/a?token=<redacted>", "ok")],
            ..Recording::default()
        };
        let replayer = Replayer::new(recording, Redactor::new(["tok-12345"]));
        assert!(replayer.answer("GET", "http://h/a?token=tok-12345").is_ok());
    }
}
