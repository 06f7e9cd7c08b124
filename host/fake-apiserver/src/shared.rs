//! State shared between the handle, the HTTP server and its watch streams: the store behind a
//! mutex, change notification, availability (outages) and the request log.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::RequestRecord;
use crate::store::Store;

#[derive(Debug, Default)]
struct Availability {
    forced_down: bool,
    down_until: Option<Instant>,
}

pub(crate) struct Shared {
    store: Mutex<Store>,
    /// The latest resourceVersion; watches wait on it for new events.
    rv_tx: watch::Sender<u64>,
    /// Bumped when an outage starts or the server stops: open watches end.
    epoch_tx: watch::Sender<u64>,
    availability: Mutex<Availability>,
    requests: Mutex<VecDeque<RequestRecord>>,
    log_limit: usize,
    bookmark_interval: Mutex<Duration>,
    open_watches: AtomicUsize,
    pub(crate) http_side_channel: bool,
    pub(crate) addr: SocketAddr,
}

/// Locks, recovering from poisoning: a panicking test thread must not wedge the server.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(
        addr: SocketAddr,
        history_limit: usize,
        log_limit: usize,
        bookmark_interval: Duration,
        http_side_channel: bool,
    ) -> Self {
        let store = Store::new(history_limit, log_limit);
        let (rv_tx, _) = watch::channel(store.resource_version());
        let (epoch_tx, _) = watch::channel(0);
        Self {
            store: Mutex::new(store),
            rv_tx,
            epoch_tx,
            availability: Mutex::new(Availability::default()),
            requests: Mutex::new(VecDeque::new()),
            log_limit,
            bookmark_interval: Mutex::new(bookmark_interval.max(Duration::from_millis(1))),
            open_watches: AtomicUsize::new(0),
            http_side_channel,
            addr,
        }
    }

    /// Runs `f` with the store locked, then wakes watches if it wrote anything.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let (out, before, after) = {
            let mut store = lock(&self.store);
            let before = store.resource_version();
            let out = f(&mut store);
            (out, before, store.resource_version())
        };
        if after != before {
            self.rv_tx.send_replace(after);
        }
        out
    }

    pub(crate) fn subscribe_rv(&self) -> watch::Receiver<u64> {
        self.rv_tx.subscribe()
    }

    pub(crate) fn subscribe_epoch(&self) -> watch::Receiver<u64> {
        self.epoch_tx.subscribe()
    }

    /// Ends every open watch (outage start, stop).
    pub(crate) fn bump_epoch(&self) {
        self.epoch_tx.send_modify(|e| *e += 1);
    }

    pub(crate) fn available(&self) -> bool {
        let a = lock(&self.availability);
        !a.forced_down && a.down_until.is_none_or(|t| Instant::now() >= t)
    }

    pub(crate) fn outage(&self, duration: Duration) {
        {
            let mut a = lock(&self.availability);
            let until = Instant::now() + duration;
            a.down_until = Some(a.down_until.map_or(until, |t| t.max(until)));
        }
        self.bump_epoch();
    }

    pub(crate) fn set_available(&self, available: bool) {
        {
            let mut a = lock(&self.availability);
            a.forced_down = !available;
            if available {
                a.down_until = None;
            }
        }
        if !available {
            self.bump_epoch();
        }
    }

    pub(crate) fn record_request(&self, record: RequestRecord) {
        let mut r = lock(&self.requests);
        if r.len() >= self.log_limit {
            r.pop_front();
        }
        if self.log_limit > 0 {
            r.push_back(record);
        }
    }

    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.requests).iter().cloned().collect()
    }

    pub(crate) fn watch_opened(&self) {
        self.open_watches.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn watch_closed(&self) {
        self.open_watches.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn open_watches(&self) -> usize {
        self.open_watches.load(Ordering::Relaxed)
    }

    pub(crate) fn bookmark_interval(&self) -> Duration {
        *lock(&self.bookmark_interval)
    }

    pub(crate) fn set_bookmark_interval(&self, interval: Duration) {
        // A zero interval would spin; a millisecond is as eager as a test needs.
        *lock(&self.bookmark_interval) = interval.max(Duration::from_millis(1));
    }
}
