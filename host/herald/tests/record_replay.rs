//! `herald provider run --record/--replay` with the real `equinix-api` component: a live run
//! against the Metal API fixtures on 127.0.0.1 is recorded; with the server gone, the replay gives
//! the same peers; a request missing from the file fails the run naming it; and the API token
//! (a secret config value, sent as X-Auth-Token) is nowhere in the recording.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use herald_provider_testkit::{FixtureServer, Route};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../providers/equinix-api/tests/fixtures"
);
const NODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/node-annotations-v3.3.yaml"
);
const TOKEN: &str = "FakeMetalApiTokenDoNotUse0000000";
const DEVICE_ID: &str = "a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

fn api_routes() -> Vec<(String, Route)> {
    vec![
        (
            format!("/metal/v1/devices/{DEVICE_ID}"),
            Route::json(200, fixture("api-device.json")),
        ),
        (
            format!("/metal/v1/devices/{DEVICE_ID}/bgp/neighbors"),
            Route::json(200, fixture("api-bgp-neighbors.json")),
        ),
    ]
}

fn run_api(origin: &str, grant: &str, extra: &[&str], cache: &Path) -> Output {
    let api_url = format!("api-url={origin}/metal/v1");
    let token = format!("api-token={TOKEN}");
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["provider", "run", herald_artifacts::EQUINIX_API_COMPONENT])
        .args(["--node", NODE, "--config", &api_url, "--config", &token])
        .args(["--allow-host", grant, "--output", "json"])
        .args(extra)
        .env("HERALD_CACHE_DIR", cache)
        .env("HERALD_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_run_replays_to_the_same_peers_without_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let calls = dir.path().join("calls.json");
    let calls_arg = calls.to_str().unwrap();
    let server = FixtureServer::start(api_routes()).await.unwrap();
    let (origin, grant) = (server.origin(), server.grant());

    let live = run_api(&origin, &grant, &["--record", calls_arg], &cache);
    assert!(live.status.success(), "stderr: {}", text(&live.stderr));
    assert!(
        text(&live.stdout).contains("169.254.255.1"),
        "{}",
        text(&live.stdout)
    );
    assert!(
        text(&live.stderr).contains("recorded 2 HTTP exchange(s)"),
        "{}",
        text(&live.stderr)
    );
    assert_eq!(server.requests().len(), 2);
    drop(server);

    let recording = std::fs::read_to_string(&calls).unwrap();
    assert!(
        !recording.contains(TOKEN),
        "token in the recording:\n{recording}"
    );
    assert!(
        recording.contains(r#""x-auth-token","#) && recording.contains("<redacted>"),
        "{recording}"
    );

    let replayed = run_api(&origin, &grant, &["--replay", calls_arg], &cache);
    assert!(
        replayed.status.success(),
        "stderr: {}",
        text(&replayed.stderr)
    );
    assert_eq!(text(&replayed.stdout), text(&live.stdout));
    for output in [&live, &replayed] {
        assert!(!text(&output.stdout).contains(TOKEN) && !text(&output.stderr).contains(TOKEN));
    }

    // Without the neighbours exchange, the replay fails on exactly that request.
    let mut document: serde_json::Value = serde_json::from_str(&recording).unwrap();
    document["exchanges"]
        .as_array_mut()
        .unwrap()
        .retain(|exchange| {
            !exchange["request"]["url"]
                .as_str()
                .unwrap()
                .ends_with("/bgp/neighbors")
        });
    let partial = dir.path().join("partial.json");
    std::fs::write(&partial, document.to_string()).unwrap();
    let failed = run_api(
        &origin,
        &grant,
        &["--replay", partial.to_str().unwrap()],
        &cache,
    );
    assert!(!failed.status.success());
    let expected =
        format!("no recorded exchange for GET {origin}/metal/v1/devices/{DEVICE_ID}/bgp/neighbors");
    assert!(
        text(&failed.stderr).contains(&expected),
        "{}",
        text(&failed.stderr)
    );
}

#[test]
fn record_and_replay_exclude_each_other_and_a_bad_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let both = run_api(
        "http://127.0.0.1:9",
        "127.0.0.1:9",
        &["--record", "a", "--replay", "b"],
        &cache,
    );
    assert!(!both.status.success());
    assert!(
        text(&both.stderr).contains("cannot be used with"),
        "{}",
        text(&both.stderr)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"herald-recording\": 9, \"exchanges\": []}").unwrap();
    let output = run_api(
        "http://127.0.0.1:9",
        "127.0.0.1:9",
        &["--replay", bad.to_str().unwrap()],
        &cache,
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("format 9"),
        "{stderr}"
    );
}
