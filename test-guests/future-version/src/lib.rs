//! A component built for `herald:provider@0.9.0`, a contract version this host does not know.

wit_bindgen::generate!({
    world: "provider",
    path: "wit",
});

const METADATA_JSON: &str = r#"{"schema":1,"name":"future-version","version":"0.1.0","wit_version":"0.9.0","description":"Built for a WIT version the host does not support.","hosts":[],"config":[]}"#;

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

struct FutureVersion;

impl exports::herald::provider::peer_discovery::Guest for FutureVersion {
    fn discover(node_name: String) -> Vec<String> {
        vec![node_name]
    }
}

export!(FutureVersion);
