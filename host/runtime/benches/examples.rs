//! The example providers (`examples/`): `.wasm` size, first compile, and warm `discover()` (fresh
//! instance + configure + discover) under the real runtime, HTTP served from 127.0.0.1.
//!
//!     cargo bench -p herald-runtime --bench examples
//!
//! The Python `netbox-bgp` joins when `componentize-py` is installed (built with its build.sh);
//! its first compile takes tens of seconds, so it is timed once rather than sampled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use herald_provider_testkit::{FixtureServer, Route};
use herald_runtime::{Grants, LoadedProvider, NodeContext, ProviderConfig, Runtime, RuntimeConfig};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(Path::new(EXAMPLES).join(path)).unwrap()
}

/// Name and annotations of a `kubectl get node -o yaml` fixture.
fn node_from_yaml(path: &str) -> NodeContext {
    let document: serde_yaml::Value = serde_yaml::from_str(&fixture(path)).unwrap();
    let annotations: BTreeMap<String, String> = document["metadata"]["annotations"]
        .as_mapping()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
                .collect()
        })
        .unwrap_or_default();
    NodeContext {
        node_name: document["metadata"]["name"].as_str().unwrap().into(),
        annotations,
        ..NodeContext::default()
    }
}

struct Subject {
    name: &'static str,
    path: PathBuf,
    config: ProviderConfig,
    grants: Grants,
    node: NodeContext,
}

fn netbox_component(dir: &Path) -> Option<PathBuf> {
    let out = dir.join("netbox-bgp.wasm");
    let built = std::process::Command::new("bash")
        .arg(Path::new(EXAMPLES).join("netbox-bgp/build.sh"))
        .arg(&out)
        .status()
        .ok()?
        .success();
    if !built {
        eprintln!("netbox-bgp: not built (pip install componentize-py==0.25.1)");
    }
    built.then_some(out)
}

fn benches(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let vultr = tokio.block_on(FixtureServer::start(vec![(
        "/v1.json".into(),
        Route::json(
            200,
            fixture("vultr-metadata/tests/fixtures/metadata-v4-v6.json"),
        ),
    )]));
    let vultr = vultr.unwrap();
    let netbox = tokio
        .block_on(FixtureServer::start(vec![
            (
                "/api/plugins/bgp/bgpsession/?device=k8s-node-1".into(),
                Route::json(
                    200,
                    fixture("netbox-bgp/tests/fixtures/api-bgpsession-page1.json"),
                ),
            ),
            (
                "/api/plugins/bgp/bgpsession/?device=k8s-node-1&offset=2".into(),
                Route::json(
                    200,
                    fixture("netbox-bgp/tests/fixtures/api-bgpsession-page2.json"),
                ),
            ),
        ]))
        .unwrap();
    let work = tempfile::tempdir().unwrap();

    let mut subjects = vec![
        Subject {
            name: "vultr-metadata",
            path: herald_artifacts::VULTR_METADATA_COMPONENT.into(),
            config: ProviderConfig::from_pairs([
                ("metadata-url", format!("{}/v1.json", vultr.origin())),
                ("password", "ExampleVultrBgpPass".into()),
            ]),
            grants: Grants::parse(&[vultr.grant()]).unwrap(),
            node: node_from_yaml("vultr-metadata/tests/fixtures/node-k8s-w-2.yaml"),
        },
        Subject {
            name: "kube-router-annotations",
            path: herald_artifacts::KUBE_ROUTER_ANNOTATIONS_COMPONENT.into(),
            config: ProviderConfig::default(),
            grants: Grants::none(),
            node: node_from_yaml(
                "kube-router-annotations/tests/fixtures/node-peers-annotation.yaml",
            ),
        },
    ];
    if let Some(path) = netbox_component(work.path()) {
        subjects.push(Subject {
            name: "netbox-bgp",
            path,
            config: ProviderConfig::from_pairs([
                ("url", netbox.origin()),
                ("token", "0123456789abcdef0123456789abcdef01234567".into()),
            ]),
            grants: Grants::parse(&[netbox.grant()]).unwrap(),
            node: NodeContext {
                node_name: "k8s-node-1".into(),
                ..NodeContext::default()
            },
        });
    }

    let mut compile = c.benchmark_group("example first compile");
    compile.sample_size(10);
    let mut loaded: Vec<(Subject, LoadedProvider)> = Vec::new();
    for subject in subjects {
        let size = std::fs::metadata(&subject.path)
            .map(|m| m.len())
            .unwrap_or(0);
        eprintln!("size {}: {size} bytes", subject.name);
        let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
        if size > 4 * 1024 * 1024 {
            let start = Instant::now();
            let provider = runtime.load(&subject.path).unwrap();
            eprintln!(
                "first compile {}: {:?} (timed once)",
                subject.name,
                start.elapsed()
            );
            loaded.push((subject, provider));
            continue;
        }
        compile.bench_function(subject.name, |b| {
            b.iter(|| runtime.load(&subject.path).unwrap())
        });
        let provider = runtime.load(&subject.path).unwrap();
        loaded.push((subject, provider));
    }
    compile.finish();

    let mut discover = c.benchmark_group("example warm discover");
    for (subject, provider) in &loaded {
        let found = tokio
            .block_on(provider.discover(&subject.config, &subject.grants, &subject.node))
            .unwrap();
        eprintln!("{} finds {} peers", subject.name, found.peers.len());
        discover.bench_function(subject.name, |b| {
            b.iter(|| {
                tokio
                    .block_on(provider.discover(&subject.config, &subject.grants, &subject.node))
                    .unwrap()
            })
        });
    }
    discover.finish();
}

criterion_group!(example_benches, benches);
criterion_main!(example_benches);
