//! Service status writes, queued: at most a few at a time (a first rollout may need 10,000, and
//! each in flight is a connection to the apiserver), one per Service, and never the same write
//! again before the watch has shown its effect.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use herald_kube::ObjectKey;
use tokio::time::Instant;

use crate::node_agent::compute::StatusWrite;

/// Writes in flight at once.
pub(crate) const MAX_IN_FLIGHT: usize = 8;
/// A failed write is retried no sooner than this.
const RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub(crate) struct StatusQueue {
    order: VecDeque<ObjectKey>,
    pending: HashMap<ObjectKey, StatusWrite>,
    /// Writes running now, by Service.
    in_flight: HashMap<ObjectKey, StatusWrite>,
    /// What was written, and the ingress the Service showed then: until the watch brings a
    /// different ingress, the same write is not sent again.
    written: HashMap<ObjectKey, (Vec<IpAddr>, Vec<String>)>,
    retry_at: HashMap<ObjectKey, Instant>,
}

impl StatusQueue {
    /// The writes the current desired state needs; everything else is forgotten.
    pub(crate) fn want(&mut self, writes: &[StatusWrite]) {
        let wanted: HashSet<&ObjectKey> = writes.iter().map(|w| &w.service).collect();
        self.written.retain(|key, _| wanted.contains(key));
        self.pending.retain(|key, _| wanted.contains(key));
        self.retry_at.retain(|key, _| wanted.contains(key));
        for write in writes {
            let done = self
                .written
                .get(&write.service)
                .is_some_and(|(addresses, observed)| {
                    *addresses == write.addresses && *observed == write.observed
                });
            // The same write already running needs no second one.
            let running = self.in_flight.get(&write.service) == Some(write);
            if done || running {
                continue;
            }
            if self
                .pending
                .insert(write.service.clone(), write.clone())
                .is_none()
            {
                self.order.push_back(write.service.clone());
            }
        }
    }

    /// The next write to start, if fewer than [`MAX_IN_FLIGHT`] run and one is due.
    pub(crate) fn next_ready(&mut self, now: Instant) -> Option<StatusWrite> {
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            return None;
        }
        // One pass over the queue at most: keys waiting for a retry or still in flight go back.
        for _ in 0..self.order.len() {
            let key = self.order.pop_front()?;
            if !self.pending.contains_key(&key) {
                continue;
            }
            let waiting = self.retry_at.get(&key).is_some_and(|at| *at > now);
            if waiting || self.in_flight.contains_key(&key) {
                self.order.push_back(key);
                continue;
            }
            let write = self.pending.remove(&key)?;
            self.in_flight.insert(key, write.clone());
            return Some(write);
        }
        None
    }

    pub(crate) fn done(&mut self, write: StatusWrite, succeeded: bool, now: Instant) {
        self.in_flight.remove(&write.service);
        if succeeded {
            self.retry_at.remove(&write.service);
            self.written.insert(
                write.service.clone(),
                (write.addresses.clone(), write.observed.clone()),
            );
        } else {
            self.retry_at
                .insert(write.service.clone(), now + RETRY_AFTER);
            if !self.pending.contains_key(&write.service) {
                self.order.push_back(write.service.clone());
                self.pending.insert(write.service.clone(), write);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, observed: &[&str]) -> StatusWrite {
        StatusWrite {
            service: ObjectKey {
                namespace: "default".into(),
                name: name.into(),
            },
            addresses: vec!["198.51.100.5".parse().unwrap()],
            ports: Vec::new(),
            observed: observed.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn at_most_a_few_at_once() {
        let mut queue = StatusQueue::default();
        let writes: Vec<StatusWrite> = (0..20).map(|n| write(&format!("s{n}"), &[])).collect();
        queue.want(&writes);
        let now = Instant::now();
        let started: Vec<StatusWrite> = std::iter::from_fn(|| queue.next_ready(now)).collect();
        assert_eq!(started.len(), MAX_IN_FLIGHT);
        queue.done(started[0].clone(), true, now);
        assert!(
            queue.next_ready(now).is_some(),
            "a finished write frees a slot"
        );
    }

    #[test]
    fn a_written_status_is_not_written_again_until_the_watch_shows_a_change() {
        let mut queue = StatusQueue::default();
        let now = Instant::now();
        queue.want(&[write("web", &[])]);
        let started = queue.next_ready(now).unwrap();
        queue.done(started, true, now);
        // The watch has not delivered our write yet: the Service still shows no ingress.
        queue.want(&[write("web", &[])]);
        assert!(queue.next_ready(now).is_none(), "the same write twice");
        // Someone else then wrote another address: ours is written again.
        queue.want(&[write("web", &["203.0.113.99"])]);
        assert!(queue.next_ready(now).is_some());
    }

    #[test]
    fn a_failed_write_is_retried_later_and_a_duplicate_is_not_started_while_one_runs() {
        let mut queue = StatusQueue::default();
        let now = Instant::now();
        queue.want(&[write("web", &[])]);
        let started = queue.next_ready(now).unwrap();
        queue.want(&[write("web", &[])]);
        assert!(
            queue.next_ready(now).is_none(),
            "one write per Service at a time"
        );
        queue.done(started, false, now);
        assert!(queue.next_ready(now).is_none(), "not before the retry time");
        assert!(queue.next_ready(now + RETRY_AFTER).is_some());
    }
}
