//! A provider that tries to escape the sandbox. The `mode` config key picks the attempt, so the
//! tests can run a hostile call and then a normal one (`mode=ok`) on the same loaded component.

use std::sync::Mutex;

wit_bindgen::generate!({
    world: "provider",
    path: "../../wit/0.1.0",
    generate_all,
});

use exports::herald::provider::peer_discovery::Guest;
use herald::provider::host_log::{Level, log};
use herald::provider::types::{BgpPeer, Discovery, NodeContext, ProviderError};
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, IncomingBody, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

const METADATA_JSON: &str = r#"{"schema":1,"name":"hostile","version":"0.1.0","wit_version":"0.1.0","description":"Test guest that tries to escape the sandbox.","hosts":[{"url":"http://declared.example.invalid"},{"from_config":"url"}],"config":[{"key":"mode","description":"Which escape to attempt (from-node: the Node's herald.test/mode annotation decides).","secret":false,"required":true},{"key":"url","description":"URL fetched in http mode.","secret":false,"required":false,"default":"http://declared.example.invalid/"},{"key":"path","description":"File read in read-file mode.","secret":false,"required":false},{"key":"swallow","description":"Hide HTTP errors from the host.","secret":false,"required":false},{"key":"token","description":"A secret that must never be printed.","secret":true,"required":false}]}"#;

#[unsafe(link_section = "herald:provider-metadata")]
#[used]
static PROVIDER_METADATA: [u8; METADATA_JSON.len()] = copy_bytes(METADATA_JSON);

const fn copy_bytes<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

static CONFIG: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn config_value(key: &str) -> Option<String> {
    let config = CONFIG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    config
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn one_peer(address: &str) -> Discovery {
    Discovery {
        peers: vec![BgpPeer {
            peer_address: address.to_string(),
            peer_asn: 65530,
            local_asn: 65000,
            source_address: None,
            password: None,
            multihop_ttl: None,
            route_via: None,
            hold_time_seconds: None,
            port: None,
        }],
        refresh_after_seconds: None,
    }
}

struct Hostile;

impl Guest for Hostile {
    fn configure(config: Vec<(String, String)>) -> Result<(), ProviderError> {
        if config_value_in(&config, "mode").as_deref() == Some("reject-config") {
            return Err(ProviderError::InvalidInput(
                "mode reject-config refuses any config".into(),
            ));
        }
        let mut stored = CONFIG
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *stored = config;
        Ok(())
    }

    fn discover(node: NodeContext) -> Result<Discovery, ProviderError> {
        let mut mode = config_value("mode").unwrap_or_default();
        // `from-node`: the Node's `herald.test/mode` annotation picks the mode, so an agent test
        // can turn a working provider hostile while the agent runs.
        if mode == "from-node" {
            mode = node_annotation(&node, "herald.test/mode").unwrap_or_else(|| "ok".into());
        }
        match mode.as_str() {
            "ok" => Ok(one_peer("169.254.255.1")),
            "log" => {
                log(Level::Info, &format!("discovering for {}", node.node_name));
                Ok(one_peer("169.254.255.1"))
            }
            "read-file" => {
                let path = config_value("path").unwrap_or_else(|| "/etc/passwd".into());
                match std::fs::read(&path) {
                    Ok(bytes) => Err(ProviderError::InvalidInput(format!(
                        "ESCAPED: read {} bytes",
                        bytes.len()
                    ))),
                    Err(err) => Err(ProviderError::Unreachable(format!(
                        "read {path} failed: {err}"
                    ))),
                }
            }
            "environment" => {
                let vars = std::env::vars().count();
                let args = std::env::args().count();
                let cwd = std::env::current_dir().is_ok();
                Err(ProviderError::NotReady(format!(
                    "env={vars} args={args} cwd={cwd}"
                )))
            }
            "http" => {
                let url = config_value("url").unwrap_or_default();
                fetch_peer(&url)
            }
            "http-undeclared" => fetch_peer("http://undeclared.example.invalid:8080/"),
            "loop" => {
                let mut counter: u64 = 0;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut big: Vec<u8> = Vec::new();
                big.resize(1 << 30, 1);
                Ok(one_peer(&format!("192.0.2.{}", big[big.len() / 2])))
            }
            "trap" => trap(),
            "panic" => panic!("hostile guest panics on purpose"),
            "bad-output" => Ok(one_peer("not-an-ip")),
            other => Err(ProviderError::InvalidInput(format!(
                "unknown mode {other:?}"
            ))),
        }
    }
}

/// A raw `unreachable` instruction (guests also build for the host target under clippy).
fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort()
}

fn node_annotation(node: &NodeContext, key: &str) -> Option<String> {
    node.annotations
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn config_value_in(config: &[(String, String)], key: &str) -> Option<String> {
    config
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// GET `url`; a 2xx body is the peer address. With `swallow=true` errors become an empty result,
/// to check that the host still reports the denial.
fn fetch_peer(url: &str) -> Result<Discovery, ProviderError> {
    match http_get(url) {
        Ok(body) => Ok(one_peer(body.trim())),
        Err(err) if config_value("swallow").as_deref() == Some("true") => {
            let _ = err;
            Ok(Discovery {
                peers: Vec::new(),
                refresh_after_seconds: None,
            })
        }
        Err(err) => Err(ProviderError::Unreachable(err)),
    }
}

fn http_get(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} has no scheme"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let scheme = if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "bad scheme".to_string())?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "bad authority".to_string())?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| "bad path".to_string())?;
    let pending =
        outgoing_handler::handle(request, None).map_err(|e| format!("request failed: {e:?}"))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("response not ready")?
        .map_err(|()| "response taken twice".to_string())?
        .map_err(|e| format!("request failed: {e:?}"))?;
    let status = response.status();
    let body = response
        .consume()
        .map_err(|()| "body taken twice".to_string())?;
    let stream = body
        .stream()
        .map_err(|()| "stream taken twice".to_string())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("read failed: {}", e.to_debug_string()));
            }
        }
    }
    drop(stream);
    let _trailers = IncomingBody::finish(body);
    if !(200..300).contains(&status) {
        return Err(format!("status {status}"));
    }
    String::from_utf8(bytes).map_err(|_| "body is not UTF-8".to_string())
}

export!(Hostile);
