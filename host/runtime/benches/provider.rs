//! Provider call costs: compile, load from the on-disk cache, fresh instance, whole discover().
//! Run with `cargo bench -p herald-runtime`; RSS of the CLI is measured by bench/provider-rss.sh.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use herald_runtime::{Grants, NodeContext, NodeNetwork, ProviderConfig, Runtime, RuntimeConfig};

/// The fixture node's annotations (cloud-provider-equinix-metal v3.3 format, fake password).
fn equinix_node() -> NodeContext {
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "metal.equinix.com/network-4-private".to_string(),
        "10.70.17.0/25".to_string(),
    );
    for (n, peer) in ["169.254.255.1", "169.254.255.2"].iter().enumerate() {
        let key = |suffix: &str| format!("metal.equinix.com/bgp-peers-{n}-{suffix}");
        annotations.insert(key("node-asn"), "65000".into());
        annotations.insert(key("peer-asn"), "65530".into());
        annotations.insert(key("peer-ip"), (*peer).into());
        annotations.insert(key("src-ip"), "10.70.17.9".into());
        annotations.insert(key("bgp-pass"), "RXhhbXBsZVBhc3MxMjM=".into());
    }
    NodeContext {
        node_name: "k8s-cp-1".into(),
        provider_id: Some("equinixmetal://a83d79c2-0d9a-4bd9-a0ad-d8cdcc900739".into()),
        annotations,
        labels: BTreeMap::new(),
        network: NodeNetwork::default(),
    }
}

fn report_sizes() {
    for (name, path) in herald_artifacts::ALL_COMPONENTS {
        match std::fs::metadata(path) {
            Ok(meta) => eprintln!("size {name}: {} bytes", meta.len()),
            Err(_) => eprintln!("size {name}: not built"),
        }
    }
}

fn benches(c: &mut Criterion) {
    report_sizes();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cached = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let uncached = Runtime::new(RuntimeConfig::default()).unwrap();

    // herald-artifacts' build script always builds the providers: the real workload is measured.
    let subject = Path::new(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT);
    let config = ProviderConfig::default();
    let provider = cached.load(subject).unwrap();
    let node = equinix_node();
    let grants = Grants::none();
    let peers = tokio
        .block_on(provider.discover(&config, &grants, &node))
        .unwrap()
        .peers
        .len();
    eprintln!("{} finds {peers} peers", provider.identity());

    c.bench_function("discover (fresh instance + configure + discover)", |b| {
        b.iter(|| {
            tokio
                .block_on(provider.discover(&config, &grants, &node))
                .unwrap()
        })
    });
    c.bench_function("configure (fresh instance + configure)", |b| {
        b.iter(|| {
            tokio
                .block_on(provider.configure(&config, &grants))
                .unwrap()
        })
    });
    c.bench_function("fresh instance only", |b| {
        b.iter(|| tokio.block_on(provider.instantiate_only()).unwrap())
    });
    c.bench_function("load from the compiled-component cache", |b| {
        b.iter(|| cached.load(subject).unwrap())
    });

    let mut compile = c.benchmark_group("first compile");
    compile.sample_size(10);
    let guests = [
        herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT,
        herald_artifacts::EQUINIX_METADATA_COMPONENT,
        herald_artifacts::EQUINIX_API_COMPONENT,
    ]
    .map(Path::new);
    for path in guests {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        compile.bench_function(name, |b| b.iter(|| uncached.load(path).unwrap()));
    }
    compile.finish();
}

criterion_group!(provider_benches, benches);
criterion_main!(provider_benches);
