//! Is it a Wasm component? The preamble says so; the top-level sections give the config's world.
//!
//! Checked on push (a core module would be rejected only later, on every node that pulls it) and
//! again on pull (the registry is not trusted to hold what the manifest claims).

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"\0asm";
/// Version 1, layer 0: a core module (wasip1 and friends).
const CORE_MODULE: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// Version 0x0d, layer 1: the component model binary format.
const COMPONENT: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];

/// The component's top-level imports and exports, as oci-wasm records them in the config's
/// `component` object (`wit-parser`'s world keys are the component's top-level extern names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComponentInfo {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Refuses anything but a Wasm component; `what` names it in the error (a path, a layer).
pub fn check_component(bytes: &[u8], what: &str) -> Result<ComponentInfo> {
    let refuse = |reason: String| Error::NotAComponent {
        what: what.to_owned(),
        reason,
    };
    check_preamble(bytes).map_err(refuse)?;
    top_level_externs(bytes).map_err(refuse)
}

fn check_preamble(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err("no `\\0asm` preamble, so not WebAssembly at all".to_owned());
    }
    match [bytes[4], bytes[5], bytes[6], bytes[7]] {
        COMPONENT => Ok(()),
        CORE_MODULE => Err(
            "it is a core WebAssembly module; Herald providers are components \
             (build for wasm32-wasip2, or wrap the module with `wasm-tools component new`)"
                .to_owned(),
        ),
        [v0, v1, l0, l1] => Err(format!(
            "unknown WebAssembly version {} layer {}; components have version 13 layer 1",
            u16::from_le_bytes([v0, v1]),
            u16::from_le_bytes([l0, l1])
        )),
    }
}

fn top_level_externs(bytes: &[u8]) -> Result<ComponentInfo, String> {
    use wasmparser::{ComponentExternalKind, Payload};

    let mut info = ComponentInfo::default();
    // Nested modules and components have their own imports and exports: only depth 1 (the
    // outer component) describes what the host must provide and may call.
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|err| format!("malformed component: {err}"))?;
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|err| format!("malformed import: {err}"))?;
                    info.imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|err| format!("malformed export: {err}"))?;
                    // Type exports only ascribe types; a world's exports are functions and
                    // interfaces, which is what wit-parser (and so oci-wasm) lists.
                    if export.kind != ComponentExternalKind::Type {
                        info.exports.push(export.name.name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn reason(bytes: &[u8]) -> String {
        match check_component(bytes, "x.wasm") {
            Err(Error::NotAComponent { what, reason }) => {
                assert_eq!(what, "x.wasm");
                reason
            }
            other => panic!("expected NotAComponent, got {other:?}"),
        }
    }

    #[test]
    fn core_module_is_refused_as_such() {
        assert!(reason(b"\0asm\x01\0\0\0").contains("core WebAssembly module"));
    }

    #[test]
    fn non_wasm_and_unknown_versions_are_refused() {
        assert!(reason(b"#!/bin/sh\n").contains("not WebAssembly"));
        assert!(reason(b"\0asm").contains("not WebAssembly"));
        assert!(reason(b"\0asm\x0e\0\x01\0").contains("version 14 layer 1"));
    }

    #[test]
    fn empty_component_is_accepted() {
        assert_eq!(
            check_component(b"\0asm\x0d\0\x01\0", "x").unwrap(),
            ComponentInfo::default()
        );
    }

    #[test]
    fn truncated_component_is_malformed() {
        assert!(reason(b"\0asm\x0d\0\x01\0\x0a\x05").contains("malformed"));
    }
}
