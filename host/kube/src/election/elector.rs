//! client-go's `tryAcquireOrRenew`: one attempt to take or keep the Lease.
//!
//! Expiry is judged on the local monotonic clock from when the record was last seen to change
//! (client-go's `observedTime`), not from the writer's `renewTime`, so clock skew between nodes
//! cannot make a live lease look expired. A lease seen for the first time therefore counts as
//! fresh for one `leaseDurationSeconds`.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

use super::LeaseConfig;
use super::lock::{LeaseLock, Record};
use crate::KubeError;

/// How an attempt ended (errors are the third outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Attempt {
    /// We hold the lease (acquired or renewed).
    Held,
    /// Someone else holds a valid lease.
    HeldBy(String),
    /// Writes kept conflicting; try again next period.
    Contended,
}

/// Writes that hit 409 are re-read and retried this many times within one attempt.
const CONFLICT_RETRIES: usize = 3;

pub(super) struct Elector {
    pub(super) config: LeaseConfig,
    pub(super) lock: LeaseLock,
    observed: Option<Record>,
    observed_at: Instant,
}

impl Elector {
    pub(super) fn new(config: LeaseConfig, lock: LeaseLock) -> Self {
        Elector {
            config,
            lock,
            observed: None,
            observed_at: Instant::now(),
        }
    }

    fn is_leader(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|r| r.holder == self.config.identity)
    }

    /// The observed lease is still within its duration (by our clock, since we saw it change).
    fn lease_valid(&self, now: Instant) -> bool {
        let Some(record) = &self.observed else {
            return false;
        };
        let seconds = u64::try_from(record.lease_duration_seconds)
            .ok()
            .filter(|s| *s > 0)
            .map_or(self.config.lease_duration, Duration::from_secs);
        self.observed_at + seconds > now
    }

    fn observe(&mut self, record: Record) {
        self.observed = Some(record);
        self.observed_at = Instant::now();
    }

    /// A record naming us, renewed now; `acquire_time`/`transitions` are fixed up by the caller.
    fn own_record(&self, from: Option<&Record>) -> Record {
        let now = Some(MicroTime(Timestamp::now()));
        Record {
            holder: self.config.identity.clone(),
            lease_duration_seconds: whole_seconds(self.config.lease_duration),
            acquire_time: now.clone(),
            renew_time: now,
            transitions: from.map_or(0, |r| r.transitions),
        }
    }

    pub(super) async fn try_acquire_or_renew(&mut self) -> Result<Attempt, KubeError> {
        // 1. Fast path: the leader renews from the object it last wrote, without a read.
        if self.is_leader()
            && self.lease_valid(Instant::now())
            && let Some(base) = self.lock.base()
        {
            let mut record = self.own_record(self.observed.as_ref());
            record.acquire_time = self.observed.as_ref().and_then(|r| r.acquire_time.clone());
            match self.lock.update(base, &record).await {
                Ok(written) => {
                    self.observe(written);
                    return Ok(Attempt::Held);
                }
                // Someone else wrote: fall back to reading, as client-go does.
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e),
            }
        }
        // 2. Slow path: read, decide, write; a 409 means someone wrote in between: re-read.
        for _ in 0..CONFLICT_RETRIES {
            let Some(current) = self.lock.get().await? else {
                match self.lock.create(&self.own_record(None)).await {
                    Ok(written) => {
                        self.observe(written);
                        return Ok(Attempt::Held);
                    }
                    Err(e) if e.is_conflict() => continue, // AlreadyExists is a 409 too
                    Err(e) => return Err(e),
                }
            };
            if self.observed.as_ref() != Some(&current) {
                self.observe(current.clone());
            }
            if !current.holder.is_empty() && !self.is_leader() && self.lease_valid(Instant::now()) {
                return Ok(Attempt::HeldBy(current.holder));
            }
            let mut record = self.own_record(Some(&current));
            if self.is_leader() {
                record.acquire_time = current.acquire_time.clone();
            } else {
                record.transitions = current.transitions.saturating_add(1);
            }
            let Some(base) = self.lock.base() else {
                continue; // unreachable: `get` just stored it
            };
            match self.lock.update(base, &record).await {
                Ok(written) => {
                    self.observe(written);
                    return Ok(Attempt::Held);
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(Attempt::Contended)
    }

    /// client-go's `ReleaseOnCancel`: if we hold the lease, write an empty holder with
    /// `leaseDurationSeconds: 1` so another candidate takes it at its next attempt.
    ///
    /// Reads first rather than trusting our own view, so a write of ours that landed while
    /// the task was being stopped is released too.
    pub(super) async fn release(&mut self) -> Result<bool, KubeError> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(current) = self.lock.get().await? else {
                return Ok(false);
            };
            if current.holder != self.config.identity {
                return Ok(false);
            }
            let now = Some(MicroTime(Timestamp::now()));
            let released = Record {
                holder: String::new(),
                lease_duration_seconds: 1,
                acquire_time: now.clone(),
                renew_time: now,
                transitions: current.transitions,
            };
            let Some(base) = self.lock.base() else {
                return Ok(false);
            };
            match self.lock.update(base, &released).await {
                Ok(written) => {
                    self.observe(written);
                    return Ok(true);
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
}

/// `leaseDurationSeconds` is whole seconds; round up so the lease is never shorter than asked.
fn whole_seconds(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_seconds_round_up_and_never_zero() {
        assert_eq!(whole_seconds(Duration::from_secs(15)), 15);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
