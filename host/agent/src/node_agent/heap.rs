//! Returning freed heap to the kernel after bursts. A relist of 10,000 Services or a first
//! rollout's status writes allocate and free a lot at once; glibc keeps the freed pages as the
//! process's RSS, so the agent looked several times its live size until it was trimmed.

use std::time::{Duration, Instant};

/// At most one trim this often; a trim walks the heap.
const TRIM_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct HeapTrimmer {
    dirty: bool,
    last: Instant,
}

impl HeapTrimmer {
    pub(crate) fn new() -> Self {
        Self {
            dirty: false,
            last: Instant::now(),
        }
    }

    /// Something big may have been freed (a reconcile ran).
    pub(crate) fn note_work(&mut self) {
        self.dirty = true;
    }

    /// Trims if work happened since the last trim and the interval has passed.
    pub(crate) fn maybe_trim(&mut self) {
        if !self.dirty || self.last.elapsed() < TRIM_INTERVAL {
            return;
        }
        self.dirty = false;
        self.last = Instant::now();
        trim();
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim(3) only walks glibc's own arenas and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
