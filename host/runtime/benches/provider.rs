//! Provider call costs: compile, load from the on-disk cache, fresh instance, whole discover().
//! Run with `cargo bench -p herald-runtime`; RSS of the CLI is measured by bench/provider-rss.sh.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use herald_runtime::{
    AddressFamily, DefaultGateway, Grants, NetworkInterface, NodeContext, NodeNetwork,
    ProviderConfig, Runtime, RuntimeConfig,
};

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

/// A bonded bare-metal node as netlink shows it: lo, two NICs, the bond with public and private
/// addresses of both families, a VLAN; ECMP IPv4 default and one IPv6 default.
fn bare_metal_network() -> NodeNetwork {
    let interface = |name: &str, addresses: &[&str]| NetworkInterface {
        name: name.into(),
        up: true,
        addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
    };
    let gateway = |gateway: &str, interface: &str, metric| DefaultGateway {
        family: AddressFamily::of(gateway.parse().unwrap()),
        gateway: gateway.parse().unwrap(),
        interface: Some(interface.into()),
        metric,
    };
    NodeNetwork {
        interfaces: vec![
            interface("lo", &["127.0.0.1/8", "::1/128"]),
            interface("enp1s0f0", &[]),
            interface("enp1s0f1", &[]),
            interface(
                "bond0",
                &[
                    "203.0.113.10/29",
                    "198.51.100.9/25",
                    "2001:db8:1::2/64",
                    "fe80::1/64",
                ],
            ),
            interface("bond0.1000", &["192.0.2.2/24", "fe80::2/64"]),
        ],
        default_gateways: vec![
            gateway("203.0.113.9", "bond0", 0),
            gateway("203.0.113.11", "bond0", 0),
            gateway("2001:db8:1::1", "bond0", 1024),
        ],
    }
}

/// The cost of the contract version and of the network facts: the same provider frozen at 0.1.0
/// and built today (0.2.0), with and without a network to convert; default-gateway on that network.
fn version_benches(c: &mut Criterion, runtime: &Runtime, tokio: &tokio::runtime::Runtime) {
    let frozen = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wit-0.1.0/equinix-annotations.wasm");
    let old = runtime.load(&frozen).unwrap();
    let new = runtime
        .load(Path::new(herald_artifacts::EQUINIX_ANNOTATIONS_COMPONENT))
        .unwrap();
    let gateway = runtime
        .load(Path::new(herald_artifacts::DEFAULT_GATEWAY_COMPONENT))
        .unwrap();
    let config = ProviderConfig::default();
    let grants = Grants::none();
    let bare = equinix_node();
    let with_network = NodeContext {
        network: bare_metal_network(),
        ..equinix_node()
    };
    let gateway_config = ProviderConfig::from_pairs([
        ("peer-asn", "65530"),
        ("local-asn", "65000"),
        ("families", "ipv4,ipv6"),
    ]);
    let found = tokio
        .block_on(gateway.discover(&gateway_config, &grants, &with_network))
        .unwrap();
    eprintln!("default-gateway finds {} peers", found.peers.len());

    let mut group = c.benchmark_group("discover by WIT version");
    let mut case = |name: &str,
                    provider: &herald_runtime::LoadedProvider,
                    config: &ProviderConfig,
                    node: &NodeContext| {
        group.bench_function(name, |b| {
            b.iter(|| {
                tokio
                    .block_on(provider.discover(config, &grants, node))
                    .unwrap()
            })
        });
    };
    case("equinix-annotations 0.1.0 (frozen)", &old, &config, &bare);
    case(
        "equinix-annotations 0.1.0 (frozen), network dropped",
        &old,
        &config,
        &with_network,
    );
    case(
        "equinix-annotations 0.2.0, no network",
        &new,
        &config,
        &bare,
    );
    case(
        "equinix-annotations 0.2.0, bare-metal network",
        &new,
        &config,
        &with_network,
    );
    case(
        "default-gateway 0.2.0, bare-metal network",
        &gateway,
        &gateway_config,
        &with_network,
    );
    group.finish();
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

    version_benches(c, &cached, &tokio);

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
