//! Bindings for `herald:provider@0.2.0` (wit/0.2.0).

pub const WIT_VERSION: &str = "0.2.0";

wasmtime::component::bindgen!({
    path: "../../wit/0.2.0",
    world: "provider",
    imports: { default: async },
    exports: { default: async },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
});
