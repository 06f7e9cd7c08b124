//! Paths of guest WebAssembly components built by this crate's build script:
//! `<NAME>_COMPONENT` for every guest, `PROVIDER_DIR` with the providers as `<name>.wasm`.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
