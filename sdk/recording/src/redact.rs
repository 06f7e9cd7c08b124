//! What is hidden in a recorded request: credential headers by name, and secret config values
//! wherever they appear (a token in a query string, a password in a custom header).

use crate::RecordedRequest;

/// What a hidden value is written as.
pub const REDACTED: &str = "<redacted>";

/// Headers that carry credentials whatever the provider calls its config keys.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-auth-token",
    "x-api-key",
    "api-key",
    "x-vault-token",
];

/// Redacts requests with a fixed set of secret values (the run's secret config values).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Secret values shorter than 4 bytes are ignored: replacing `1` everywhere helps nobody.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|secret| secret.len() >= 4)
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        Self { secrets }
    }

    pub fn text(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), REDACTED)
        })
    }

    pub fn header(&self, name: &str, value: &str) -> String {
        if CREDENTIAL_HEADERS
            .iter()
            .any(|credential| name.eq_ignore_ascii_case(credential))
        {
            REDACTED.to_string()
        } else {
            self.text(value)
        }
    }

    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
    ) -> RecordedRequest {
        RecordedRequest {
            method: method.to_ascii_uppercase(),
            url: self.text(url),
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), self.header(name, value)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_and_secret_values_are_hidden() {
        let redactor = Redactor::new(["s3cr3t-token", "abc"]);
        let request = redactor.request(
            "get",
            "https://api.example/v1?token=s3cr3t-token",
            &[
                ("Authorization".into(), "Bearer anything".into()),
                ("X-Custom".into(), "key=s3cr3t-token".into()),
                ("Accept".into(), "application/json".into()),
            ],
        );
        assert_eq!(request.method, "GET");
        assert_eq!(request.url, "https://api.example/v1?token=<redacted>");
        assert_eq!(
            request.headers,
            vec![
                ("authorization".into(), REDACTED.into()),
                ("x-custom".into(), "key=<redacted>".into()),
                ("accept".into(), "application/json".into()),
            ]
        );
        // Too short to be worth hiding (and hiding it would mangle everything).
        assert_eq!(redactor.text("abc"), "abc");
    }
}
