//! What the agent shows: Prometheus metrics, health, readiness and a JSON status page, served by
//! a small HTTP server (`--prometheusHTTPServer`). Nothing here ever holds a secret.

pub mod http;
pub mod metrics;
pub mod status;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use metrics::Metrics;
pub use status::StatusReport;

/// Shared between the agent loop (writer) and the HTTP server (reader).
pub struct Observed {
    pub metrics: Metrics,
    status: Mutex<StatusReport>,
    ready: AtomicBool,
    /// Unix seconds of the loop's last tick: `/healthz` fails when the loop is stuck.
    heartbeat: AtomicU64,
}

/// The loop ticks twice a second; this long without a tick means it is stuck.
const STALE_HEARTBEAT_SECONDS: u64 = 30;

impl Observed {
    pub fn new() -> Self {
        Self {
            metrics: Metrics::new(),
            status: Mutex::new(StatusReport::default()),
            ready: AtomicBool::new(false),
            heartbeat: AtomicU64::new(unix_now()),
        }
    }

    pub fn publish(&self, report: StatusReport) {
        self.ready.store(report.ready, Ordering::Relaxed);
        *self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = report;
        self.heartbeat.store(unix_now(), Ordering::Relaxed);
    }

    pub fn status(&self) -> StatusReport {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    pub fn is_alive(&self) -> bool {
        unix_now().saturating_sub(self.heartbeat.load(Ordering::Relaxed)) < STALE_HEARTBEAT_SECONDS
    }
}

impl Default for Observed {
    fn default() -> Self {
        Self::new()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
