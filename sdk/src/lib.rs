//! SDK for writing Herald peer-discovery providers as WebAssembly components.
