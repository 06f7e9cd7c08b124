//! Builds guest WebAssembly components (providers, hostile test guests) for tests.
