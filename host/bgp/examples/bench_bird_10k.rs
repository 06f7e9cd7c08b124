//! Benchmark (needs root): time until a receiving BIRD holds N IPv6 /128s once the session
//! is up, with Herald as the sender versus BIRD itself as the sender (static routes
//! added with `birdc configure`, the method of the shared baseline script).
//!
//! `cargo run --release -p herald-bgp --example bench_bird_10k -- [N] [RUNS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use herald_bgp::{PeerConfig, RouteAttributes, Speaker, SpeakerConfig};
use herald_testbed::{Bird, EquinixOptions, Lab, NODE_V4, NODE_V6, PEER1_V4};
use ipnet::{IpNet, Ipv6Net};

const NODE_ASN: u32 = 4_200_000_001;

fn prefix(i: u32) -> Ipv6Net {
    Ipv6Net::new(
        Ipv6Addr::from(0x2001_0db8_0001_u128 << 80 | u128::from(i + 1)),
        128,
    )
    .unwrap()
}

fn wait_count(bird: &Bird, n: usize, since: Instant) -> Duration {
    loop {
        if bird.route_count("master6").unwrap_or(0) >= n {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "receiver never reached {n}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn sender_conf(n: u32) -> String {
    let mut c =
        format!("router id {NODE_V4};\nprotocol device {{}}\nprotocol static s6 {{ ipv6;\n");
    for i in 0..n {
        let _ = writeln!(c, "  route {} blackhole;", prefix(i));
    }
    let _ = write!(
        c,
        "}}\nprotocol bgp up {{\n  local {NODE_V4} as {NODE_ASN};\n  neighbor {PEER1_V4} as 65530;\n  multihop 2;\n  \
         ipv4 {{ import none; export none; }};\n  ipv6 {{ import none; export all; next hop address {NODE_V6}; }};\n}}\n"
    );
    c
}

fn herald_run(lab: &Lab, n: u32) -> Duration {
    let topo = lab.equinix(EquinixOptions::default());
    let session = topo.router_session(PEER1_V4.into(), NODE_ASN).passive(true);
    let receiver = Bird::start_sessions(&topo.router, &[session]).unwrap();
    topo.node.run(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let sp = Speaker::start(SpeakerConfig {
                router_id: NODE_V4,
                local_asn: NODE_ASN,
                graceful_restart: None,
            });
            let mut peer = PeerConfig::new(IpAddr::V4(PEER1_V4), 65530);
            peer.multihop_ttl = Some(2);
            sp.add_peer(peer).unwrap();
            sp.wait_established(IpAddr::V4(PEER1_V4), Duration::from_secs(20))
                .await
                .unwrap();
            receiver
                .wait_established("herald", Duration::from_secs(20))
                .unwrap();
            let routes: Vec<_> = (0..n)
                .map(|i| (IpNet::V6(prefix(i)), RouteAttributes::default()))
                .collect();
            let start = Instant::now();
            sp.announce_many(routes);
            let took = wait_count(&receiver, n as usize, start);
            sp.shutdown("bench done", Duration::from_secs(1)).await;
            took
        })
    })
}

fn bird_run(lab: &Lab, n: u32) -> Duration {
    let topo = lab.equinix(EquinixOptions::default());
    let session = topo.router_session(PEER1_V4.into(), NODE_ASN);
    let receiver = Bird::start_sessions(&topo.router, &[session]).unwrap();
    let sender = Bird::start(&topo.node, &sender_conf(0)).unwrap();
    receiver
        .wait_established("herald", Duration::from_secs(20))
        .unwrap();
    let start = Instant::now();
    sender.reconfigure(&sender_conf(n)).unwrap();
    wait_count(&receiver, n as usize, start)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().map_or(10_000, |a| a.parse().unwrap());
    let runs: usize = args.next().map_or(3, |a| a.parse().unwrap());
    let mut herald = Vec::new();
    let mut bird = Vec::new();
    for run in 0..runs {
        let lab = Lab::for_test(&format!("bench{run}")).expect("needs root");
        herald.push(herald_run(&lab, n));
        drop(lab);
        let lab = Lab::for_test(&format!("benchb{run}")).expect("needs root");
        bird.push(bird_run(&lab, n));
    }
    herald.sort();
    bird.sort();
    let median = |v: &[Duration]| v[v.len() / 2];
    println!("N={n} runs={runs}");
    println!("herald sender: {herald:?} median {:?}", median(&herald));
    println!("bird sender:   {bird:?} median {:?}", median(&bird));
    println!(
        "ratio herald/bird (median): {:.2}",
        median(&herald).as_secs_f64() / median(&bird).as_secs_f64()
    );
}
