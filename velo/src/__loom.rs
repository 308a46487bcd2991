//! What `tests/loom_close.rs` models the handshakes of `worker.rs` with:
//! the real ring (loom's atomics under `--cfg loom`), nothing else. Exists
//! only in loom builds; not public API.

/// A per-thread ring (see `ring.rs`), as the pipeline uses it.
#[derive(Debug)]
pub struct Ring(crate::ring::Ring);

impl Ring {
    /// A ring of `bytes` bytes (a power of two) holding at most
    /// `max_entries` entries.
    pub fn new(bytes: usize, max_entries: usize) -> Ring {
        Ring(crate::ring::Ring::new(bytes, max_entries))
    }

    /// Appends `entry`; `false` when it does not fit.
    ///
    /// # Safety
    ///
    /// Only one thread, the ring's producer, ever calls this.
    pub unsafe fn push(&self, entry: &[u8]) -> bool {
        // SAFETY: forwarded to the caller.
        unsafe { self.0.push(entry) }
    }

    /// Whether the ring holds unread bytes: the worker's relaxed look.
    pub fn has_pending(&self) -> bool {
        self.0.has_pending()
    }

    /// Passes every published byte to `write`; returns the entries.
    ///
    /// # Safety
    ///
    /// One consumer at a time.
    pub unsafe fn drain(&self, write: impl FnMut(&[u8])) -> u64 {
        // SAFETY: forwarded to the caller.
        unsafe { self.0.drain(write) }
    }
}
