//! A component with valid Herald metadata that exports another world (no peer-discovery).

wit_bindgen::generate!({
    world: "other",
    path: "wit",
});

const METADATA_JSON: &str = r#"{"schema":1,"name":"wrong-world","version":"0.1.0","wit_version":"0.1.0","description":"Claims 0.1.0 but exports another world.","hosts":[],"config":[]}"#;

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

struct WrongWorld;

impl exports::example::other::runner::Guest for WrongWorld {
    fn run() -> u32 {
        42
    }
}

export!(WrongWorld);
