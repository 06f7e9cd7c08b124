//! The sandbox against a hostile guest: each escape attempt gives its typed error, and the same
//! loaded provider then still serves a normal call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_normal_call_works, config, grants, hostile, node, serve_text};
use herald_runtime::{CallError, Grants, ProviderConfig, ProviderErrorKind};

#[tokio::test]
async fn normal_call_returns_the_peer() {
    assert_normal_call_works(hostile()).await;
    let discovery = hostile()
        .discover(&config(&[("mode", "log")]), &Grants::none(), &node())
        .await
        .unwrap();
    assert_eq!(discovery.peers[0].peer_asn, 65530);
    assert_eq!(discovery.peers[0].local_asn, 65000);
    assert_eq!(discovery.refresh_after, None);
}

#[tokio::test]
async fn files_are_not_reachable() {
    let err = hostile()
        .discover(&config(&[("mode", "read-file")]), &Grants::none(), &node())
        .await
        .unwrap_err();
    match &err {
        CallError::Provider(e) => {
            assert_eq!(e.kind, ProviderErrorKind::Unreachable, "{err}");
            assert!(e.message.contains("read /etc/passwd failed"), "{err}");
        }
        other => panic!("expected the guest to report the failed read, got {other}"),
    }
    assert!(
        err.to_string().starts_with("provider \"hostile\" 0.1.0: "),
        "{err}"
    );
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn environment_and_args_are_empty() {
    let err = hostile()
        .discover(
            &config(&[("mode", "environment")]),
            &Grants::none(),
            &node(),
        )
        .await
        .unwrap_err();
    assert!(err.is_not_ready(), "{err}");
    assert!(err.to_string().contains("env=0 args=0"), "{err}");
}

#[tokio::test]
async fn ungranted_host_is_denied() {
    let err = hostile()
        .discover(&config(&[("mode", "http")]), &Grants::none(), &node())
        .await
        .unwrap_err();
    match err {
        CallError::Denied { host, reason, .. } => {
            assert_eq!(host, "declared.example.invalid:80");
            assert!(reason.contains("not granted"), "{reason}");
        }
        other => panic!("expected Denied, got {other}"),
    }
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn undeclared_host_is_denied_even_when_granted() {
    let grants = grants(&["undeclared.example.invalid:8080"]);
    let err = hostile()
        .discover(&config(&[("mode", "http-undeclared")]), &grants, &node())
        .await
        .unwrap_err();
    match err {
        CallError::Denied { host, reason, .. } => {
            assert_eq!(host, "undeclared.example.invalid:8080");
            assert!(reason.contains("not declared"), "{reason}");
        }
        other => panic!("expected Denied, got {other}"),
    }
}

#[tokio::test]
async fn denial_is_reported_even_if_the_guest_swallows_it() {
    let cfg = config(&[("mode", "http"), ("swallow", "true")]);
    let err = hostile()
        .discover(&cfg, &Grants::none(), &node())
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Denied { .. }), "{err}");
}

#[tokio::test]
async fn granted_name_resolving_to_loopback_needs_the_ip_granted() {
    let port = serve_text("192.0.2.10").await;
    let url = format!("http://localhost:{port}/peer");
    let cfg = config(&[("mode", "http"), ("url", &url)]);

    let by_name = grants(&[&format!("localhost:{port}")]);
    let err = hostile()
        .discover(&cfg, &by_name, &node())
        .await
        .unwrap_err();
    match err {
        CallError::Denied { host, reason, .. } => {
            assert_eq!(host, format!("localhost:{port}"));
            assert!(reason.contains("loopback"), "{reason}");
        }
        other => panic!("expected Denied, got {other}"),
    }

    let with_ip = grants(&[&format!("localhost:{port}"), &format!("127.0.0.1:{port}")]);
    let discovery = hostile().discover(&cfg, &with_ip, &node()).await.unwrap();
    assert_eq!(discovery.peers[0].peer_address.to_string(), "192.0.2.10");
}

#[tokio::test]
async fn granted_ip_url_is_served() {
    let port = serve_text("198.51.100.7").await;
    let url = format!("http://127.0.0.1:{port}/");
    let cfg = config(&[("mode", "http"), ("url", &url)]);
    let discovery = hostile()
        .discover(&cfg, &grants(&[&format!("127.0.0.1:{port}")]), &node())
        .await
        .unwrap();
    assert_eq!(discovery.peers[0].peer_address.to_string(), "198.51.100.7");
}

#[tokio::test]
async fn infinite_loop_is_stopped_by_the_deadline() {
    let err = hostile()
        .discover(&config(&[("mode", "loop")]), &Grants::none(), &node())
        .await
        .unwrap_err();
    match err {
        CallError::Timeout { deadline, .. } => assert_eq!(deadline, common::DEADLINE),
        other => panic!("expected Timeout, got {other}"),
    }
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn huge_allocation_hits_the_memory_cap() {
    let err = hostile()
        .discover(&config(&[("mode", "alloc")]), &Grants::none(), &node())
        .await
        .unwrap_err();
    match err {
        CallError::OutOfMemory { limit_bytes, .. } => assert_eq!(limit_bytes, 64 * 1024 * 1024),
        other => panic!("expected OutOfMemory, got {other}"),
    }
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn traps_and_panics_are_traps() {
    for mode in ["trap", "panic"] {
        let err = hostile()
            .discover(&config(&[("mode", mode)]), &Grants::none(), &node())
            .await
            .unwrap_err();
        match &err {
            CallError::Trap { message, .. } => {
                assert!(message.contains("unreachable"), "{mode}: {message}")
            }
            other => panic!("{mode}: expected Trap, got {other}"),
        }
        assert!(
            err.to_string()
                .starts_with("provider \"hostile\" 0.1.0: trapped"),
            "{err}"
        );
    }
    assert_normal_call_works(hostile()).await;
}

#[tokio::test]
async fn invalid_peer_address_is_invalid_output() {
    let err = hostile()
        .discover(&config(&[("mode", "bad-output")]), &Grants::none(), &node())
        .await
        .unwrap_err();
    match err {
        CallError::InvalidOutput {
            peer_index,
            field,
            message,
            ..
        } => {
            assert_eq!((peer_index, field), (0, "peer_address"));
            assert!(message.contains("not-an-ip"), "{message}");
        }
        other => panic!("expected InvalidOutput, got {other}"),
    }
}

#[tokio::test]
async fn configuration_is_checked_by_host_and_provider() {
    let unknown = hostile()
        .configure(
            &config(&[("mode", "ok"), ("colour", "red")]),
            &Grants::none(),
        )
        .await;
    assert!(
        matches!(&unknown, Err(CallError::InvalidConfig { message, .. }) if message.contains("colour")),
        "{unknown:?}"
    );
    let missing = hostile()
        .configure(&ProviderConfig::default(), &Grants::none())
        .await;
    assert!(
        matches!(&missing, Err(CallError::InvalidConfig { message, .. }) if message.contains("\"mode\"")),
        "{missing:?}"
    );
    let refused = hostile()
        .configure(&config(&[("mode", "reject-config")]), &Grants::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, CallError::Provider(e) if e.kind == ProviderErrorKind::InvalidInput),
        "{refused}"
    );
    hostile()
        .configure(&config(&[("mode", "ok")]), &Grants::none())
        .await
        .unwrap();
}

#[test]
fn secret_config_values_stay_hidden() {
    let cfg = config(&[("mode", "ok"), ("token", "s3cr3t-value")]);
    assert!(!format!("{cfg:?}").contains("s3cr3t"));
    let shown = format!("{:?}", cfg.redacted(hostile().metadata()));
    assert!(shown.contains("\"mode\": \"ok\""), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_calls_each_get_their_own_instance() {
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        calls.spawn(async {
            hostile()
                .discover(&config(&[("mode", "ok")]), &Grants::none(), &node())
                .await
        });
    }
    while let Some(result) = calls.join_next().await {
        assert_eq!(result.unwrap().unwrap().peers.len(), 1);
    }
}
