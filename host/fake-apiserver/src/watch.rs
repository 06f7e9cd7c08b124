//! Watch streams: newline-delimited `{"type","object"}` events read straight from the store's
//! history, so a watch never buffers more than one batch and a slow client cannot grow memory.
//!
//! A watch keeps a cursor (the resourceVersion it has seen up to), sleeps until the store's
//! resourceVersion moves, and then copies the matching events after its cursor. Selector
//! transitions follow the apiserver's watch cache: an object that starts matching is ADDED, one
//! that stops matching is DELETED (its previous state with the event's resourceVersion).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::WatchEventType;
use crate::history::{HistoryEvent, event_line};
use crate::meta::meta_str;
use crate::resources::{KindId, def};
use crate::selectors::Selectors;
use crate::shared::Shared;
use crate::status::too_old;

/// Events scanned per store lock: bounds the lock hold time and the size of one chunk.
const MAX_SCAN: usize = 2_000;
/// Objects per chunk of synthetic initial ADDED events.
const INITIAL_BATCH: usize = 500;

/// Where a watch starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StartAt {
    /// resourceVersion absent, "" or "0": synthetic ADDED for every current object, then live.
    Current,
    /// Every event after this resourceVersion.
    After(u64),
}

#[derive(Debug, Clone)]
pub(crate) struct WatchSpec {
    pub kind: KindId,
    pub namespace: Option<String>,
    pub selectors: Selectors,
    pub start: StartAt,
    pub bookmarks: bool,
    pub timeout: Option<Duration>,
    pub send_initial_events: bool,
}

/// Ends the HTTP body with an error so the connection drops as a crashing apiserver's would.
#[derive(Debug, thiserror::Error)]
#[error("watch aborted: the fake apiserver went down")]
pub(crate) struct Aborted;

struct WatchState {
    shared: Arc<Shared>,
    spec: WatchSpec,
    cursor: u64,
    pending: VecDeque<Bytes>,
    rv_rx: watch::Receiver<u64>,
    epoch_rx: watch::Receiver<u64>,
    epoch: u64,
    next_bookmark: Option<Instant>,
    deadline: Option<Instant>,
    done: bool,
}

/// The body of a watch response. Subscribes before snapshotting, so no event falls in between.
pub(crate) fn stream(
    shared: Arc<Shared>,
    spec: WatchSpec,
) -> impl Stream<Item = Result<Bytes, Aborted>> + Send {
    shared.watch_opened();
    let rv_rx = shared.subscribe_rv();
    let mut epoch_rx = shared.subscribe_epoch();
    let epoch = *epoch_rx.borrow_and_update();
    let now = Instant::now();
    let mut state = WatchState {
        next_bookmark: spec.bookmarks.then(|| now + shared.bookmark_interval()),
        deadline: spec.timeout.map(|t| now + t),
        shared,
        cursor: 0,
        pending: VecDeque::new(),
        rv_rx,
        epoch_rx,
        epoch,
        done: false,
        spec,
    };
    state.start();
    futures::stream::unfold(state, |mut st| async move {
        st.next().await.map(|item| (item, st))
    })
}

impl Drop for WatchState {
    fn drop(&mut self) {
        self.shared.watch_closed();
    }
}

impl WatchState {
    fn start(&mut self) {
        let initial = self.spec.send_initial_events || matches!(self.spec.start, StartAt::Current);
        if !initial {
            if let StartAt::After(rv) = self.spec.start {
                self.cursor = rv;
            }
            return;
        }
        let spec = &self.spec;
        let (objects, rv) = self.shared.with_store(|s| {
            let objs: Vec<Arc<Value>> = s
                .iter(spec.kind, spec.namespace.as_deref(), None)
                .filter(|(_, o)| spec.selectors.matches(o))
                .map(|(_, o)| o.clone())
                .collect();
            (objs, s.resource_version())
        });
        self.cursor = rv;
        for batch in objects.chunks(INITIAL_BATCH) {
            let mut buf = BytesMut::new();
            for o in batch {
                buf.extend_from_slice(&event_line("ADDED", o));
            }
            self.pending.push_back(buf.freeze());
        }
        if spec.send_initial_events && spec.bookmarks {
            let mut bm = bookmark(spec.kind, rv);
            bm["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            self.pending.push_back(event_line("BOOKMARK", &bm));
        }
    }

    async fn next(&mut self) -> Option<Result<Bytes, Aborted>> {
        loop {
            if self.done {
                return None;
            }
            if *self.epoch_rx.borrow_and_update() != self.epoch {
                self.done = true;
                return Some(Err(Aborted));
            }
            if let Some(chunk) = self.pending.pop_front() {
                return Some(Ok(chunk));
            }
            // Mark the current version seen before reading, so a write after the read wakes us.
            self.rv_rx.borrow_and_update();
            let spec = &self.spec;
            let cursor = self.cursor;
            match self
                .shared
                .with_store(|s| s.events_since(cursor, MAX_SCAN, |e| filter(spec, e)))
            {
                Err(oldest) => {
                    self.done = true;
                    tracing::debug!(
                        cursor,
                        oldest,
                        "watch from a compacted resourceVersion: 410"
                    );
                    return Some(Ok(event_line(
                        "ERROR",
                        &too_old(cursor, oldest).to_status(),
                    )));
                }
                Ok((lines, scanned_to)) => {
                    self.cursor = scanned_to;
                    if !lines.is_empty() {
                        let mut buf = BytesMut::new();
                        for l in lines {
                            buf.extend_from_slice(&l);
                        }
                        return Some(Ok(buf.freeze()));
                    }
                    if scanned_to != cursor {
                        continue; // a full batch of other kinds' events; there may be more
                    }
                }
            }
            let (bookmark_at, deadline) = (self.next_bookmark, self.deadline);
            tokio::select! {
                changed = self.rv_rx.changed() => {
                    if changed.is_err() {
                        self.done = true;
                    }
                }
                changed = self.epoch_rx.changed() => {
                    if changed.is_err() {
                        self.done = true;
                    }
                }
                () = sleep_until_opt(bookmark_at) => {
                    self.next_bookmark = Some(Instant::now() + self.shared.bookmark_interval());
                    return Some(Ok(event_line("BOOKMARK", &bookmark(self.spec.kind, self.cursor))));
                }
                () = sleep_until_opt(deadline) => {
                    self.done = true; // timeoutSeconds: a clean end of the stream
                }
            }
        }
    }
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn bookmark(kind: KindId, rv: u64) -> Value {
    let d = def(kind);
    json!({"kind": d.kind, "apiVersion": d.api_version(), "metadata": {"resourceVersion": rv.to_string()}})
}

/// Whether and how an event reaches this watch (see the module docs for selector transitions).
fn filter(spec: &WatchSpec, e: &HistoryEvent) -> Option<(WatchEventType, Bytes)> {
    if e.kind != spec.kind {
        return None;
    }
    if let Some(ns) = &spec.namespace
        && meta_str(&e.object, "namespace") != Some(ns.as_str())
    {
        return None;
    }
    if spec.selectors.is_empty() {
        return Some((e.event_type, e.line.clone()));
    }
    let now_matches = e.event_type != WatchEventType::Deleted && spec.selectors.matches(&e.object);
    let before_matched = e.prev.as_ref().is_some_and(|p| spec.selectors.matches(p));
    match (now_matches, before_matched) {
        (false, false) => None,
        (true, true) => Some((e.event_type, e.line.clone())),
        (true, false) if e.event_type == WatchEventType::Added => {
            Some((e.event_type, e.line.clone()))
        }
        (true, false) => Some((WatchEventType::Added, event_line("ADDED", &e.object))),
        (false, true) if e.event_type == WatchEventType::Deleted => {
            Some((e.event_type, e.line.clone()))
        }
        (false, true) => {
            let mut last = e.prev.as_deref().cloned().unwrap_or(Value::Null);
            last["metadata"]["resourceVersion"] = json!(e.rv.to_string());
            Some((WatchEventType::Deleted, event_line("DELETED", &last)))
        }
    }
}
