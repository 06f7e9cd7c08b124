//! Sandboxed WebAssembly runtime for Herald peer-discovery providers.
