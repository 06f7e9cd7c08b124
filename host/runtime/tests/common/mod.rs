//! Shared pieces of the runtime integration tests: one Runtime and one compiled hostile guest per
//! test binary, and a tiny HTTP server on 127.0.0.1.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use herald_runtime::{Grants, LoadedProvider, NodeContext, ProviderConfig, Runtime, RuntimeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const DEADLINE: Duration = Duration::from_millis(500);

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeConfig {
            call_deadline: DEADLINE,
            ..RuntimeConfig::default()
        })
        .unwrap()
    })
}

pub fn hostile() -> &'static LoadedProvider {
    static HOSTILE: OnceLock<LoadedProvider> = OnceLock::new();
    HOSTILE.get_or_init(|| {
        runtime()
            .load(Path::new(herald_artifacts::HOSTILE_COMPONENT))
            .unwrap()
    })
}

pub fn node() -> NodeContext {
    NodeContext {
        node_name: "node-a".into(),
        ..NodeContext::default()
    }
}

pub fn config(pairs: &[(&str, &str)]) -> ProviderConfig {
    ProviderConfig::from_pairs(pairs.iter().copied())
}

pub fn grants(items: &[&str]) -> Grants {
    Grants::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

/// The hostile guest in `mode=ok` answers with one peer: the sandbox still works.
pub async fn assert_normal_call_works(provider: &LoadedProvider) {
    let discovery = provider
        .discover(&config(&[("mode", "ok")]), &Grants::none(), &node())
        .await
        .unwrap();
    assert_eq!(discovery.peers.len(), 1);
    assert_eq!(discovery.peers[0].peer_address.to_string(), "169.254.255.1");
}

/// Serves `body` to each connection on 127.0.0.1 until the test ends; returns the port.
pub async fn serve_text(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
                    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await
                    {
                        Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                // Close our write side, then drain: closing with unread data would send a reset.
                let _ = stream.shutdown().await;
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                })
                .await;
            });
        }
    });
    port
}
