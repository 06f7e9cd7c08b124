//! `herald provider push` and `--provider oci://…@sha256:…` end to end: the real binary against a
//! real registry (Debian's `docker-registry`) on 127.0.0.1, started by each test.
//!
//! The component is the frozen WIT 0.1.0 build of equinix-annotations, which every host since
//! 0.1.0 loads, so these tests do not depend on the SDK's current WIT version.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use herald_testbed::registry::{self, Registry};

const COMPONENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../runtime/tests/fixtures/wit-0.1.0/equinix-annotations.wasm"
);
const NODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/node-annotations-v3.3.yaml"
);
const REPOSITORY: &str = "herald/equinix-annotations";
/// Every debug event, oci-client's and the HTTP stack's included (herald-oci's own tests check
/// oci-client's trace output in process). Not trace: at trace the provider compile alone writes
/// over 200,000 lines (wasmtime's Cranelift translator).
const DEBUG_ALL: &str = "debug";

/// A registry, or return (after a note) when docker-registry is missing; fails under CI=true.
macro_rules! registry_or_skip {
    ($auth:expr) => {
        match Registry::start($auth) {
            Some(registry) => registry,
            None => return,
        }
    };
}

/// Runs `herald` with its own cache and an empty Docker config directory (never the user's),
/// logging at `log`.
struct Herald {
    cache: tempfile::TempDir,
    docker_config: tempfile::TempDir,
}

impl Herald {
    fn new() -> Self {
        Self {
            cache: tempfile::tempdir().unwrap(),
            docker_config: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_logging("info", args)
    }

    fn run_logging(&self, log: &str, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env("HERALD_CACHE_DIR", self.cache.path())
            .env("DOCKER_CONFIG", self.docker_config.path())
            .env("HERALD_LOG", log)
            .env_remove("HERALD_PROVIDER")
            .output()
            .unwrap();
        Run::from(output, args)
    }

    fn cached_component(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.cache
            .path()
            .join("oci/sha256")
            .join(hex)
            .join("component.wasm")
    }
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    command: String,
}

impl Run {
    fn from(output: Output, args: &[&str]) -> Self {
        Self {
            ok: output.status.success(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
            command: format!("herald {}", args.join(" ")),
        }
    }

    fn success(self) -> Self {
        assert!(self.ok, "{} failed:\n{}", self.command, self.stderr);
        self
    }

    fn failure(self) -> Self {
        assert!(
            !self.ok,
            "{} succeeded:\n{}{}",
            self.command, self.stdout, self.stderr
        );
        self
    }

    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `herald provider push` of `file`; the pinned reference it prints.
fn push(herald: &Herald, file: &str, target: &str, extra: &[&str]) -> String {
    let mut args = vec!["provider", "push", file, target];
    args.extend_from_slice(extra);
    let run = herald.run(&args).success();
    let pinned = run.stdout.trim().to_owned();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    pinned
}

fn digest_of(pinned: &str) -> &str {
    &pinned[pinned.rfind('@').unwrap() + 1..]
}

/// The same reference with a digest no registry holds.
fn tampered(pinned: &str) -> String {
    let at = pinned.rfind("@sha256:").unwrap() + "@sha256:".len();
    let first = if pinned[at..].starts_with('0') {
        "1"
    } else {
        "0"
    };
    format!("{}{first}{}", &pinned[..at], &pinned[at + 1..])
}

fn run_provider<'a>(provider: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "provider", "run", provider, "--node", NODE, "--output", "json",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn push_prints_a_pinned_reference_that_runs_verified_and_from_the_cache_when_offline() {
    let mut registry = registry_or_skip!(false);
    let herald = Herald::new();
    let target = format!("{}/{REPOSITORY}:v1", registry.registry());
    let pinned = push(&herald, COMPONENT, &target, &[]);
    assert!(
        pinned.starts_with(&format!("oci://{target}@sha256:")),
        "{pinned}"
    );
    let digest = digest_of(&pinned).to_owned();
    assert_eq!(digest.len(), "sha256:".len() + 64, "{pinned}");

    // Pushing is reproducible: the same file gives the same pin.
    assert_eq!(
        push(&herald, COMPONENT, &format!("oci://{target}"), &[]),
        pinned
    );

    // Run from the registry: the peers, exactly as from the file itself.
    let from_file = herald.run(&run_provider(COMPONENT, &[])).success();
    assert!(
        from_file.stdout.contains("169.254.255.1"),
        "{}",
        from_file.stdout
    );
    let pulled = herald.run(&run_provider(&pinned, &[])).success();
    assert_eq!(pulled.stdout, from_file.stdout);
    assert!(
        pulled.stderr.contains("provider component from OCI"),
        "{}",
        pulled.stderr
    );
    assert!(pulled.stderr.contains("from=registry"), "{}", pulled.stderr);
    assert!(pulled.stderr.contains(&digest), "{}", pulled.stderr);
    assert_eq!(
        std::fs::read(herald.cached_component(&digest)).unwrap(),
        std::fs::read(COMPONENT).unwrap()
    );
    let inspect = herald.run(&["provider", "inspect", &pinned]).success();
    assert!(
        inspect
            .stdout
            .contains("name:         equinix-annotations\n"),
        "{}",
        inspect.stdout
    );

    // Another digest beside the same tag: refused, naming what was expected and what was found.
    let wrong = tampered(&pinned);
    let refused = herald.run(&run_provider(&wrong, &[])).failure();
    assert!(
        refused.stderr.contains("digest mismatch"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(&format!("expected {}", digest_of(&wrong))),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&digest), "{}", refused.stderr);
    assert!(!herald.cached_component(digest_of(&wrong)).exists());

    // No digest: refused, saying why and where to get one.
    let unpinned = herald
        .run(&run_provider(&format!("oci://{target}"), &[]))
        .failure();
    assert!(
        unpinned.stderr.contains("not pinned"),
        "{}",
        unpinned.stderr
    );
    assert!(
        unpinned.stderr.contains("herald provider push"),
        "{}",
        unpinned.stderr
    );
    let doctor = herald
        .run(&[
            "doctor",
            "--provider",
            &format!("oci://{target}"),
            "--node",
            NODE,
        ])
        .failure();
    assert!(doctor.stderr.contains("not pinned"), "{}", doctor.stderr);

    // The registry gone: the pinned reference still runs, from the cache.
    registry.stop();
    let offline = herald.run(&run_provider(&pinned, &[])).success();
    assert_eq!(offline.stdout, from_file.stdout);
    assert!(offline.stderr.contains("from=cache"), "{}", offline.stderr);
    // … but a digest that was never cached cannot be had, and the error says why.
    let uncached = herald.run(&run_provider(&wrong, &[])).failure();
    assert!(
        uncached.stderr.contains(&format!(
            "registry `{}` is unreachable",
            registry.registry()
        )),
        "{}",
        uncached.stderr
    );
}

#[test]
fn what_is_not_a_provider_component_is_refused_on_push_and_on_pull() {
    let registry = registry_or_skip!(false);
    let herald = Herald::new();
    let dir = tempfile::tempdir().unwrap();

    // Not Wasm, a core module: the CLI refuses to push them, and nothing reaches the registry.
    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "not a component\n").unwrap();
    let module = dir.path().join("module.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    for (file, why) in [
        (&text, "not a WebAssembly file"),
        (&module, "core WebAssembly module"),
    ] {
        let target = format!("{}/herald/refused:v1", registry.registry());
        let run = herald
            .run(&["provider", "push", file.to_str().unwrap(), &target])
            .failure();
        assert!(
            run.stderr.contains("not a Herald provider component"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(why), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    assert_eq!(
        registry.status("/v2/herald/refused/tags/list").unwrap(),
        404
    );

    // Pushed by other means: a container image, and the Wasm layout around a text file.
    let image = registry
        .push_artifact(
            "herald/image",
            "v1",
            ("application/vnd.oci.image.config.v1+json", b"{}"),
            ("application/vnd.oci.image.layer.v1.tar", b"not a component"),
        )
        .unwrap();
    let pinned = format!("oci://{}/herald/image:v1@{image}", registry.registry());
    let run = herald.run(&run_provider(&pinned, &[])).failure();
    assert!(
        run.stderr.contains("is not a Wasm component artifact"),
        "{}",
        run.stderr
    );
    assert!(!herald.cached_component(&image).exists());

    let fake = registry
        .push_artifact(
            "herald/fake",
            "v1",
            (
                "application/vnd.wasm.config.v0+json",
                br#"{"architecture":"wasm"}"#,
            ),
            ("application/wasm", b"not a component"),
        )
        .unwrap();
    let pinned = format!("oci://{}/herald/fake:v1@{fake}", registry.registry());
    let run = herald.run(&run_provider(&pinned, &[])).failure();
    assert!(
        run.stderr.contains("is not a WebAssembly component"),
        "{}",
        run.stderr
    );
    assert!(!herald.cached_component(&fake).exists());
}

#[test]
fn the_manifest_carries_the_pinned_reference_and_the_cache_volume() {
    let registry = registry_or_skip!(false);
    let herald = Herald::new();
    let target = format!("{}/{REPOSITORY}:v1", registry.registry());
    let pinned = push(&herald, COMPONENT, &target, &[]);
    let run = herald
        .run(&[
            "manifest",
            "daemonset",
            "--services",
            "--provider",
            &pinned,
            "--config",
            "prefix=metal.equinix.com",
        ])
        .success();
    let yaml = &run.stdout;
    assert!(yaml.contains(&format!("- --provider={pinned}\n")), "{yaml}");
    assert!(
        yaml.contains("- name: HERALD_CACHE_DIR\n          value: /var/cache/herald\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains(
            "      - name: provider-cache\n        hostPath:\n          path: /var/cache/herald\n          type: DirectoryOrCreate\n"
        ),
        "{yaml}"
    );
    assert!(
        yaml.contains("        - name: provider-cache\n          mountPath: /var/cache/herald\n"),
        "{yaml}"
    );

    let unpinned = herald
        .run(&[
            "manifest",
            "daemonset",
            "--services",
            "--provider",
            &format!("oci://{target}"),
        ])
        .failure();
    assert!(
        unpinned.stderr.contains("not pinned"),
        "{}",
        unpinned.stderr
    );
    assert!(unpinned.stdout.is_empty(), "{}", unpinned.stdout);
}

#[test]
fn credentials_come_from_a_file_or_the_docker_config_and_never_show() {
    let registry = registry_or_skip!(true);
    let herald = Herald::new();
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{}\n", registry::PASSWORD)).unwrap();
    let wrong_password = "wrong-Secret-Pa55word";
    let wrong_file = dir.path().join("wrong");
    std::fs::write(&wrong_file, wrong_password).unwrap();
    let target = format!("{}/{REPOSITORY}:v1", registry.registry());
    let with_file = |file: &Path| {
        vec![
            "--registry-username".to_owned(),
            registry::USER.to_owned(),
            "--registry-password-file".to_owned(),
            file.to_str().unwrap().to_owned(),
        ]
    };
    let good: Vec<String> = with_file(&password_file);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let bad: Vec<String> = with_file(&wrong_file);
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();

    let secrets = [
        registry::PASSWORD.to_owned(),
        wrong_password.to_owned(),
        base64_of(&format!("{}:{}", registry::USER, registry::PASSWORD)),
        base64_of(&format!("{}:{wrong_password}", registry::USER)),
    ];
    let assert_no_secret = |run: &Run| {
        for secret in &secrets {
            assert!(
                !run.text().contains(secret.as_str()),
                "{} shows a secret:\n{}",
                run.command,
                run.text()
            );
        }
    };

    // Wrong password: refused, saying so, with no trace of either password, even in debug logs.
    let mut args = vec!["provider", "push", COMPONENT, &target];
    args.extend_from_slice(&bad);
    let refused = herald.run_logging(DEBUG_ALL, &args).failure();
    assert!(
        refused.stderr.contains("credentials were rejected"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&registry.registry()),
        "{}",
        refused.stderr
    );
    assert_no_secret(&refused);

    // No credentials: told that it needs some.
    let anonymous = herald
        .run(&["provider", "push", COMPONENT, &target])
        .failure();
    assert!(
        anonymous.stderr.contains("needs credentials"),
        "{}",
        anonymous.stderr
    );

    // The right ones push and pull.
    let mut args = vec!["provider", "push", COMPONENT, &target];
    args.extend_from_slice(&good);
    let pushed = herald.run_logging(DEBUG_ALL, &args).success();
    assert_no_secret(&pushed);
    let pinned = pushed.stdout.trim().to_owned();
    let refused = herald.run(&run_provider(&pinned, &bad)).failure();
    assert!(
        refused.stderr.contains("credentials were rejected"),
        "{}",
        refused.stderr
    );
    assert_no_secret(&refused);
    let pulled = herald
        .run_logging(DEBUG_ALL, &run_provider(&pinned, &good))
        .success();
    assert!(pulled.stdout.contains("169.254.255.1"), "{}", pulled.stdout);
    assert_no_secret(&pulled);

    // From a Docker config file, into an empty cache.
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            registry.registry(),
            base64_of(&format!("{}:{}", registry::USER, registry::PASSWORD))
        ),
    )
    .unwrap();
    let fresh = Herald::new();
    let pulled = fresh
        .run_logging(
            DEBUG_ALL,
            &run_provider(&pinned, &["--registry-config", config.to_str().unwrap()]),
        )
        .success();
    assert!(pulled.stdout.contains("169.254.255.1"), "{}", pulled.stdout);
    assert_no_secret(&pulled);

    // A password is never a command-line value.
    let run = herald
        .run(&[
            "provider",
            "push",
            COMPONENT,
            &target,
            "--registry-password",
            "x",
        ])
        .failure();
    assert!(run.stderr.contains("--registry-password"), "{}", run.stderr);
}

fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
