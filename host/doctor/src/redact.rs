//! Belt and braces for secrets: the doctor never reads passwords into its report, but messages
//! from providers and from the agent are text it does not control. Every such string is scrubbed
//! of the secrets the caller knows (MD5 passwords, secret config values) before it is reported.

/// Shown instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not scrubbed: replacing every "a" in a report would make it
/// unreadable while hiding nothing a reader could not guess.
const MIN_SECRET_LEN: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new<S: Into<String>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    pub fn scrub_opt(&self, text: Option<&str>) -> Option<String> {
        text.map(|t| self.scrub(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_longest_first_and_tiny_ones_left() {
        let redactor = Redactor::new(["token-1234", "token-1234-long", "abc", ""]);
        assert_eq!(
            redactor.scrub("bad token-1234-long and token-1234; abc"),
            "bad <redacted> and <redacted>; abc"
        );
        assert_eq!(Redactor::default().scrub("as is"), "as is");
    }
}
