//! Prometheus metrics (the Prometheus project's `prometheus-client`), prefixed `herald_`.

use std::collections::BTreeSet;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabels {
    pub peer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub resource: String,
}

pub struct Metrics {
    registry: Registry,
    pub session_up: Family<PeerLabels, Gauge>,
    pub prefixes_announced: Family<PeerLabels, Gauge>,
    pub provider_calls: Family<ResultLabels, Counter>,
    pub provider_call_seconds: Histogram,
    pub reconciles: Counter,
    pub reconcile_seconds: Histogram,
    pub services_announced: Gauge,
    pub watch_failures: Family<ResourceLabels, Counter>,
    /// Peers with series in the per-peer families, so a removed peer's series go too.
    peers_shown: Mutex<BTreeSet<String>>,
}

/// One peer's session as the per-peer metrics show it.
pub struct PeerSample {
    pub peer: String,
    pub up: bool,
    pub prefixes: u64,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let session_up = Family::<PeerLabels, Gauge>::default();
        registry.register(
            "bgp_session_up",
            "1 while the BGP session with the peer is Established",
            session_up.clone(),
        );
        let prefixes_announced = Family::<PeerLabels, Gauge>::default();
        registry.register(
            "bgp_prefixes_announced",
            "Prefixes currently advertised to the peer",
            prefixes_announced.clone(),
        );
        let provider_calls = Family::<ResultLabels, Counter>::default();
        registry.register(
            "provider_calls",
            "Provider discover() calls by result",
            provider_calls.clone(),
        );
        // 100 µs … ~3 s: a cached local provider takes well under a millisecond, an API a second.
        let provider_call_seconds = Histogram::new(exponential_buckets(0.0001, 4.0, 9));
        registry.register(
            "provider_call_duration_seconds",
            "Duration of provider discover() calls",
            provider_call_seconds.clone(),
        );
        let reconciles = Counter::default();
        registry.register(
            "reconciles",
            "Reconciles of the desired state",
            reconciles.clone(),
        );
        let reconcile_seconds = Histogram::new(exponential_buckets(0.00005, 4.0, 9));
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconciles",
            reconcile_seconds.clone(),
        );
        let services_announced = Gauge::default();
        registry.register(
            "services_announced",
            "LoadBalancer Services whose VIPs this node announces",
            services_announced.clone(),
        );
        let watch_failures = Family::<ResourceLabels, Counter>::default();
        registry.register(
            "kubernetes_watch_failures",
            "Kubernetes watch failures (each retried)",
            watch_failures.clone(),
        );
        Self {
            registry,
            session_up,
            prefixes_announced,
            provider_calls,
            provider_call_seconds,
            reconciles,
            reconcile_seconds,
            services_announced,
            watch_failures,
            peers_shown: Mutex::new(BTreeSet::new()),
        }
    }

    /// Sets the per-peer series to exactly these peers.
    pub fn set_peers(&self, samples: &[PeerSample]) {
        let mut shown = self
            .peers_shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current: BTreeSet<String> = samples.iter().map(|s| s.peer.clone()).collect();
        for gone in shown.difference(&current) {
            let labels = PeerLabels { peer: gone.clone() };
            self.session_up.remove(&labels);
            self.prefixes_announced.remove(&labels);
        }
        for sample in samples {
            let labels = PeerLabels {
                peer: sample.peer.clone(),
            };
            self.session_up
                .get_or_create(&labels)
                .set(i64::from(sample.up));
            self.prefixes_announced
                .get_or_create(&labels)
                .set(i64::try_from(sample.prefixes).unwrap_or(i64::MAX));
        }
        *shown = current;
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            // Writing into a String cannot fail; an empty page is the honest fallback.
            text.clear();
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_peers_lose_their_series() {
        let metrics = Metrics::new();
        let sample = |peer: &str| PeerSample {
            peer: peer.into(),
            up: true,
            prefixes: 3,
        };
        metrics.set_peers(&[sample("192.0.2.1"), sample("192.0.2.3")]);
        metrics.set_peers(&[sample("192.0.2.3")]);
        let text = metrics.encode();
        assert!(!text.contains("192.0.2.1"), "{text}");
        assert!(
            text.contains("herald_bgp_prefixes_announced{peer=\"192.0.2.3\"} 3"),
            "{text}"
        );
    }

    #[test]
    fn encodes_the_families_with_labels() {
        let metrics = Metrics::new();
        metrics
            .session_up
            .get_or_create(&PeerLabels {
                peer: "169.254.255.1".into(),
            })
            .set(1);
        metrics
            .provider_calls
            .get_or_create(&ResultLabels {
                result: "ok".into(),
            })
            .inc();
        metrics.provider_call_seconds.observe(0.0002);
        let text = metrics.encode();
        assert!(
            text.contains("herald_bgp_session_up{peer=\"169.254.255.1\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("herald_provider_calls_total{result=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("herald_provider_call_duration_seconds_count 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
