//! The bounded history of watch events, which watches replay from and read live events out of,
//! and the watch log (when each event was first written to a client).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::meta::meta_str;
use crate::resources::{KindId, def};
use crate::{WatchEventType, WatchLogEntry};

/// One recorded change.
#[derive(Debug)]
pub(crate) struct HistoryEvent {
    pub rv: u64,
    pub kind: KindId,
    pub event_type: WatchEventType,
    /// The new state (for DELETED: the last state carrying the delete's resourceVersion).
    pub object: Arc<Value>,
    /// The state before (for selector transitions: leaving a selector is a DELETED).
    pub prev: Option<Arc<Value>>,
    /// The event as it goes on the wire, serialised once for every watcher.
    pub line: Bytes,
    pub stored_at: SystemTime,
    /// Whether a watch has written it already (for the watch log's "first written").
    pub logged: bool,
}

#[derive(Serialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    object: &'a Value,
}

/// `{"type":…,"object":…}\n`.
pub(crate) fn event_line(event_type: &str, object: &Value) -> Bytes {
    let mut buf = serde_json::to_vec(&WireEvent { event_type, object }).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

pub(crate) struct History {
    events: VecDeque<HistoryEvent>,
    /// Every event with rv > start is in `events`.
    start: u64,
    limit: usize,
    log: VecDeque<WatchLogEntry>,
    log_limit: usize,
}

impl History {
    pub(crate) fn new(limit: usize, log_limit: usize) -> Self {
        Self {
            events: VecDeque::new(),
            start: 0,
            limit: limit.max(1),
            log: VecDeque::new(),
            log_limit,
        }
    }

    /// Appends the event of the write that produced resourceVersion `rv`, dropping the oldest
    /// beyond the bound.
    pub(crate) fn push(
        &mut self,
        rv: u64,
        kind: KindId,
        event_type: WatchEventType,
        object: Arc<Value>,
        prev: Option<Arc<Value>>,
    ) {
        let line = event_line(event_type.as_str(), &object);
        self.events.push_back(HistoryEvent {
            rv,
            kind,
            event_type,
            object,
            prev,
            line,
            stored_at: SystemTime::now(),
            logged: false,
        });
        while self.events.len() > self.limit {
            if let Some(old) = self.events.pop_front() {
                self.start = old.rv;
            }
        }
    }

    /// Forgets every event up to `rv` (the current resourceVersion).
    pub(crate) fn compact(&mut self, rv: u64) {
        self.events.clear();
        self.start = rv;
    }

    /// The oldest resourceVersion a watch may start from.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    pub(crate) fn log(&self) -> Vec<WatchLogEntry> {
        self.log.iter().cloned().collect()
    }

    /// Calls `filter` on each event after `cursor` (at most `max`), returning the lines it
    /// produced and the resourceVersion scanned up to; `Err(start)` when `cursor` is older than
    /// the history. Events first written here go to the watch log.
    pub(crate) fn since(
        &mut self,
        cursor: u64,
        max: usize,
        mut filter: impl FnMut(&HistoryEvent) -> Option<(WatchEventType, Bytes)>,
    ) -> Result<(Vec<Bytes>, u64), u64> {
        if cursor < self.start {
            return Err(self.start);
        }
        let first = self.events.partition_point(|e| e.rv <= cursor);
        let mut lines = Vec::new();
        let mut scanned_to = cursor;
        let now = SystemTime::now();
        let mut logs = Vec::new();
        for e in self.events.range_mut(first..).take(max) {
            scanned_to = e.rv;
            let Some((sent_type, line)) = filter(e) else {
                continue;
            };
            lines.push(line);
            if !e.logged {
                e.logged = true;
                logs.push(WatchLogEntry {
                    api_version: def(e.kind).api_version(),
                    kind: def(e.kind).kind.to_string(),
                    namespace: meta_str(&e.object, "namespace").map(str::to_string),
                    name: meta_str(&e.object, "name").unwrap_or_default().to_string(),
                    event_type: sent_type,
                    resource_version: e.rv.to_string(),
                    at: now,
                    stored_at: e.stored_at,
                });
            }
        }
        if self.log_limit > 0 {
            for entry in logs {
                if self.log.len() >= self.log_limit {
                    self.log.pop_front();
                }
                self.log.push_back(entry);
            }
        }
        Ok((lines, scanned_to))
    }
}
