//! `GET /status` from the agent's observability server (`--prometheusHTTPServer`, default
//! `:2112`). Plain HTTP/1.1 over TCP: the server is local to the node and serves nothing else.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use http::uri::Authority;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::agent::AgentStatus;
use crate::error::FetchError;

/// The agent's default observability port (`--prometheusHTTPServer :2112`).
pub const DEFAULT_PORT: u16 = 2112;
const DEFAULT_PATH: &str = "/status";
/// A status lists at most 256 VIPs and a few peers: far below this.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// `http://HOST[:PORT][/PATH]` (the scheme may be left out); port 2112 and path `/status` unless given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentUrl {
    authority: String,
    host: String,
    port: u16,
    path: String,
}

impl FromStr for AgentUrl {
    type Err = FetchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| FetchError::InvalidUrl {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(invalid("only http:// URLs (the agent serves plain HTTP)")),
            None => text,
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        let authority: Authority = authority
            .parse()
            .map_err(|_| invalid("expected HOST[:PORT]"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("user information is not supported"));
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = authority.port_u16().unwrap_or(DEFAULT_PORT);
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        Ok(Self {
            authority: if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            },
            host: bare_host.to_owned(),
            port,
            path: if path.is_empty() || path == "/" {
                DEFAULT_PATH.to_owned()
            } else {
                path.to_owned()
            },
        })
    }
}

impl fmt::Display for AgentUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority, self.path)
    }
}

/// Reads and parses the agent's status document, all within `timeout`.
pub async fn fetch_status(url: &AgentUrl, timeout: Duration) -> Result<AgentStatus, FetchError> {
    match tokio::time::timeout(timeout, get(url)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout {
            url: url.to_string(),
            seconds: timeout.as_secs().max(1),
        }),
    }
}

async fn get(url: &AgentUrl) -> Result<AgentStatus, FetchError> {
    let shown = url.to_string();
    let stream = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|source| FetchError::Connect {
            url: shown.clone(),
            source,
        })?;
    let http = |source| FetchError::Http {
        url: shown.clone(),
        source,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http)?;
    // The connection future drives the socket; it ends when the response is read or on abort.
    let driver = tokio::spawn(connection);
    let result = exchange(&mut sender, url, &shown).await;
    driver.abort();
    result
}

async fn exchange(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    url: &AgentUrl,
    shown: &str,
) -> Result<AgentStatus, FetchError> {
    let request = http::Request::get(url.path.as_str())
        .header(http::header::HOST, url.authority.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Request {
            url: shown.to_owned(),
            reason: e.to_string(),
        })?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|source| FetchError::Http {
            url: shown.to_owned(),
            source,
        })?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: shown.to_owned(),
            code: response.status().as_u16(),
        });
    }
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| FetchError::Body {
            url: shown.to_owned(),
            reason: e.to_string(),
        })?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|source| FetchError::Document {
        url: shown.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn url(text: &str) -> String {
        text.parse::<AgentUrl>().unwrap().to_string()
    }

    #[test]
    fn urls_default_to_port_2112_and_status() {
        assert_eq!(url("http://127.0.0.1:2112"), "http://127.0.0.1:2112/status");
        assert_eq!(url("127.0.0.1"), "http://127.0.0.1:2112/status");
        assert_eq!(url("HTTP://localhost:9/s?x=1"), "http://localhost:9/s?x=1");
        assert_eq!(url("http://[::1]:8080/"), "http://[::1]:8080/status");
        let v6: AgentUrl = "http://[::1]:8080".parse().unwrap();
        assert_eq!(v6.host, "::1");
        for bad in [
            "https://127.0.0.1",
            "http://",
            "http://a b",
            "http://u:p@h:1",
        ] {
            assert!(bad.parse::<AgentUrl>().is_err(), "{bad}");
        }
    }

    /// Serves one canned HTTP response on 127.0.0.1 and returns the URL.
    async fn serve_once(response: &'static str) -> AgentUrl {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let _ = stream.read(&mut request).await.unwrap();
            assert!(request.starts_with(b"GET /status HTTP/1.1\r\n"));
            stream.write_all(response.as_bytes()).await.unwrap();
        });
        format!("http://127.0.0.1:{port}").parse().unwrap()
    }

    #[tokio::test]
    async fn a_status_document_is_read_and_errors_are_named() {
        let body = r#"{"node":"n1","ready":true,"peers":[]}"#;
        let ok: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        );
        let status = fetch_status(&serve_once(ok).await, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((status.node.as_str(), status.ready), ("n1", true));

        let missing = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        let err = fetch_status(&serve_once(missing).await, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("HTTP status 404"), "{err}");

        let junk = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]";
        let err = fetch_status(&serve_once(junk).await, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not a Herald /status document"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn nobody_listening_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url: AgentUrl = format!("127.0.0.1:{port}").parse().unwrap();
        let err = fetch_status(&url, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Connect { .. }), "{err}");
    }
}
