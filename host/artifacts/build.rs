//! Builds every guest component with a separate `cargo build --target wasm32-wasip2` (own target
//! dir under OUT_DIR: the outer cargo holds the lock on its own) and writes path constants.
//! Providers and examples that fail to build only warn, so host work can go on while they are
//! written; the tests that use a missing component then fail on its path.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (package, constant prefix): hostile guests for the sandbox tests. These must build.
const TEST_GUESTS: &[(&str, &str)] = &[
    ("test-guest-hostile", "HOSTILE"),
    ("test-guest-no-metadata", "NO_METADATA"),
    ("test-guest-future-version", "FUTURE_VERSION"),
    ("test-guest-wrong-world", "WRONG_WORLD"),
];

/// The providers shipped with Herald, copied into PROVIDER_DIR as `<package>.wasm`.
const PROVIDERS: &[(&str, &str)] = &[
    ("equinix-annotations", "EQUINIX_ANNOTATIONS"),
    ("equinix-metadata", "EQUINIX_METADATA"),
    ("equinix-api", "EQUINIX_API"),
    ("default-gateway", "DEFAULT_GATEWAY"),
];

/// Example providers (`examples/`): built and tested like providers, never installed in PROVIDER_DIR.
const EXAMPLES: &[(&str, &str)] = &[
    ("vultr-metadata", "VULTR_METADATA"),
    ("kube-router-annotations", "KUBE_ROUTER_ANNOTATIONS"),
];

/// Variables of the outer build that must not leak into the wasm build.
const SCRUBBED_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
];

fn main() {
    require_wasm_target();
    let out_dir = PathBuf::from(env("OUT_DIR"));
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..");
    for watched in [
        "sdk",
        "providers",
        "examples",
        "test-guests",
        "wit",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let target_dir = out_dir.join("guest-target");
    let wasm_dir = target_dir.join("wasm32-wasip2/release");

    let guests: Vec<&str> = TEST_GUESTS.iter().map(|(package, _)| *package).collect();
    if let Err(output) = cargo_build(&workspace, &target_dir, &guests) {
        panic!("building the test guests failed:\n{output}");
    }

    build_or_warn(&workspace, &target_dir, "provider", PROVIDERS);
    build_or_warn(&workspace, &target_dir, "example", EXAMPLES);

    let provider_dir = out_dir.join("providers");
    std::fs::create_dir_all(&provider_dir)
        .unwrap_or_else(|err| panic!("create {}: {err}", provider_dir.display()));
    let mut code = String::new();
    let mut all = String::new();
    for (package, name) in TEST_GUESTS {
        let path = wasm_dir.join(wasm_file(package));
        push_const(&mut code, &mut all, name, &path);
    }
    for (package, name) in PROVIDERS {
        let built = wasm_dir.join(wasm_file(package));
        let installed = provider_dir.join(format!("{package}.wasm"));
        if built.is_file() {
            std::fs::copy(&built, &installed)
                .unwrap_or_else(|err| panic!("copy {}: {err}", built.display()));
        } else {
            let _ = std::fs::remove_file(&installed);
        }
        push_const(&mut code, &mut all, name, &installed);
    }
    for (package, name) in EXAMPLES {
        let built = wasm_dir.join(wasm_file(package));
        push_const(&mut code, &mut all, name, &built);
    }
    writeln!(
        code,
        "/// Directory holding the built providers as `<name>.wasm`."
    )
    .ok();
    writeln!(
        code,
        "pub const PROVIDER_DIR: &str = {:?};",
        provider_dir.display().to_string()
    )
    .ok();
    writeln!(
        code,
        "/// Every guest as (constant name, path), for coverage checks."
    )
    .ok();
    writeln!(
        code,
        "pub const ALL_COMPONENTS: &[(&str, &str)] = &[{all}];"
    )
    .ok();
    let generated = out_dir.join("artifacts.rs");
    std::fs::write(&generated, code)
        .unwrap_or_else(|err| panic!("write {}: {err}", generated.display()));
}

/// Without the target the child cargo fails deep in its output; say the one thing to do instead.
fn require_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let Some(sysroot) = sysroot else {
        return; // rustc itself will explain
    };
    if !sysroot.join("lib/rustlib/wasm32-wasip2").is_dir() {
        eprintln!(
            "error: the wasm32-wasip2 target is not installed; run `rustup target add wasm32-wasip2` \
             (the provider and test components are built for it)"
        );
        std::process::exit(1);
    }
}

/// Builds `guests` in one cargo run; if that fails, one by one, warning for each that fails.
fn build_or_warn(workspace: &Path, target_dir: &Path, kind: &str, guests: &[(&str, &str)]) {
    let packages: Vec<&str> = guests.iter().map(|(package, _)| *package).collect();
    if cargo_build(workspace, target_dir, &packages).is_ok() {
        return;
    }
    for package in &packages {
        if let Err(output) = cargo_build(workspace, target_dir, &[package]) {
            let first_error = output
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("see cargo output");
            println!(
                "cargo:warning={kind} {package} did not build for wasm32-wasip2: {first_error}"
            );
        }
    }
}

fn push_const(code: &mut String, all: &mut String, name: &str, path: &Path) {
    let path = path.display().to_string();
    writeln!(code, "pub const {name}_COMPONENT: &str = {path:?};").ok();
    write!(all, "({:?}, {path:?}),", format!("{name}_COMPONENT")).ok();
}

fn wasm_file(package: &str) -> String {
    format!("{}.wasm", package.replace('-', "_"))
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

/// Run the child cargo; on failure return its output.
fn cargo_build(workspace: &Path, target_dir: &Path, packages: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    for variable in SCRUBBED_ENV {
        command.env_remove(variable);
    }
    let output = command
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
