//! Capped exponential backoff with jitter for reconnects.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Delay sequence: base, 2×base, … up to `cap`, each scaled by a random factor in [0.5, 1].
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    seed: RandomState,
}

impl Backoff {
    /// A fresh sequence.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            attempt: 0,
            seed: RandomState::new(),
        }
    }

    /// Starts over (after a session was Established).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(16));
        let full = exp.min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let mut hasher = self.seed.build_hasher();
        hasher.write_u32(self.attempt);
        let fraction = (hasher.finish() % 1000) as f64 / 1000.0; // 0.0..1.0
        full.mul_f64(0.5 + fraction / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let delays: Vec<_> = (0..8).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(500) && delays[0] <= Duration::from_secs(1));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        assert!(delays[7] >= Duration::from_secs(4));
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }
}
