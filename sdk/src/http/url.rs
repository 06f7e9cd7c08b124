//! Splitting an absolute `http(s)` URL into the parts `wasi:http` requests are built from.

use super::HttpError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// Scheme, authority (`host[:port]`) and path-with-query of an absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTarget {
    pub scheme: Scheme,
    pub authority: String,
    pub path_with_query: String,
}

impl RequestTarget {
    /// Parses `http://` and `https://` URLs. User info (`user:pass@`) is refused: credentials
    /// belong in headers, where they are not echoed in error messages.
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let invalid = |reason: &str| HttpError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme_text, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("expected scheme://host/path"))?;
        let scheme = match scheme_text.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(invalid("only http and https are supported")),
        };
        let without_fragment = rest.split('#').next().unwrap_or_default();
        let split_at = without_fragment
            .find(['/', '?'])
            .unwrap_or(without_fragment.len());
        let (authority, path_and_query) = without_fragment.split_at(split_at);
        if authority.is_empty() {
            return Err(invalid("missing host"));
        }
        if authority.contains('@') {
            return Err(invalid("user info in URLs is not supported"));
        }
        if authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid("whitespace in host"));
        }
        let path_with_query = match path_and_query {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Self {
            scheme,
            authority: authority.to_owned(),
            path_with_query,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let t =
            RequestTarget::parse("https://api.equinix.com/metal/v1/devices/x?page=2#frag").unwrap();
        assert_eq!(t.scheme, Scheme::Https);
        assert_eq!(t.authority, "api.equinix.com");
        assert_eq!(t.path_with_query, "/metal/v1/devices/x?page=2");

        let t = RequestTarget::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (t.scheme, t.authority.as_str(), t.path_with_query.as_str()),
            (Scheme::Http, "127.0.0.1:8080", "/")
        );

        let t = RequestTarget::parse("HTTP://[::1]:9?x=1").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path_with_query.as_str()),
            ("[::1]:9", "/?x=1")
        );
    }

    #[test]
    fn refuses_bad_urls() {
        for url in [
            "ftp://x/",
            "no-scheme",
            "https:///path",
            "https://user:pw@host/",
        ] {
            assert!(
                matches!(RequestTarget::parse(url), Err(HttpError::InvalidUrl { .. })),
                "{url}"
            );
        }
    }
}
