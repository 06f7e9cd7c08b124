//! The README's first command, `examples/lab/run`, end to end: BIRD routers in namespaces learn
//! the VIP from `herald agent --provider equinix-annotations.wasm`, `herald doctor` passes, the
//! agent withdraws on SIGTERM, and nothing of the lab is left behind. Uses this test run's binary
//! and components (HERALD_BIN, HERALD_PROVIDER_DIR) instead of building them again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn can_run_lab() -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    let bird = Command::new("bird").arg("--version").output().is_ok();
    if root && bird {
        return true;
    }
    let why = if root {
        "bird is not installed"
    } else {
        "not root"
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "examples/lab/run cannot run under CI: {why}"
    );
    eprintln!("skipped: {why} (needs root and bird2)");
    false
}

#[test]
fn the_lab_announces_the_vip_to_both_routers_and_doctor_passes() {
    if !can_run_lab() {
        return;
    }
    let lab_name = format!("hl{}", std::process::id() % 100_000);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab/run");
    let output = Command::new(script)
        .env("HERALD_BIN", env!("CARGO_BIN_EXE_herald"))
        .env("HERALD_PROVIDER_DIR", herald_artifacts::PROVIDER_DIR)
        .env("HERALD_LAB_NAME", &lab_name)
        .env(
            "HERALD_CACHE_DIR",
            std::env::temp_dir().join(format!("{lab_name}-cache")),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for router in ["router 169.254.255.1:", "router 169.254.255.2:"] {
        let table = stdout.split(router).nth(1).unwrap_or_default();
        assert!(
            table
                .lines()
                .take(4)
                .any(|line| line.starts_with("203.0.113.10/32")),
            "{router} table lacks the VIP:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("Established"),
        "doctor shows no session state:\n{stdout}"
    );
    assert!(
        stdout.contains("agent exited with status 0; routers still holding 203.0.113.10/32: 0"),
        "{stdout}"
    );
    assert!(stdout.contains("VIP on the node's lo: 0"), "{stdout}");
    assert!(
        !stdout.contains("LabPassword1"),
        "password printed:\n{stdout}"
    );
    let namespaces = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let namespaces = String::from_utf8_lossy(&namespaces.stdout);
    assert!(
        !namespaces.contains(&lab_name),
        "lab namespaces left: {namespaces}"
    );
}
