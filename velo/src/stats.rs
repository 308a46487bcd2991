//! The counters behind [`Stats`](crate::Stats).
//!
//! Callers touch them only on slow paths (overflow, errors); entries taken
//! off the queue are counted by whoever drains, under the output lock, so
//! the fast path shares no counter.

use std::sync::atomic::{AtomicU64, Ordering};

/// A logger's counters; every access is `Relaxed`: they are statistics,
/// read without synchronisation, and publish nothing.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) written: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Of `dropped`: those dropped for each [`Reason`], by its index.
    dropped_for: [AtomicU64; Reason::ALL.len()],
    pub(crate) bytes: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) sync_fallbacks: AtomicU64,
}

/// Why entries were dropped, where their warning says so rather than that
/// a queue was full.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Reason {
    /// An output's own writer logged them while its logger ended a last
    /// write (see `Core::end_writing`).
    Inside,
    /// Logged as the process exited, after the worker's last pass (see
    /// `Core::queue_at_exit`).
    Exiting,
    /// A value of the entry panicked as it was encoded (its `Display`,
    /// `Debug` or `Value` impl): the panic unwound through the entry (see
    /// `Entry`'s `drop`).
    Panicked,
    /// The output made no progress for the stuck bound (a write that did
    /// not return), and the entry could not wait in a queue.
    Stuck,
    /// Logged inside velo's panic hook when only this thread could write
    /// it, through the user's writer, which may not run there (see
    /// `Core::queue_in_panic_hook`).
    PanicHook,
    /// Logged from a signal handler that interrupted velo on the same
    /// thread, where nothing may wait or take a lock.
    Interrupted,
}

impl Reason {
    pub(crate) const ALL: [Reason; 6] = [
        Reason::Inside,
        Reason::Exiting,
        Reason::Panicked,
        Reason::Stuck,
        Reason::PanicHook,
        Reason::Interrupted,
    ];
}

impl Counters {
    /// Counts an entry dropped for `reason`.
    pub(crate) fn drop_for(&self, reason: Reason) {
        inc(&self.dropped_for[reason as usize]);
        inc(&self.dropped);
    }

    /// Counts `n` entries dropped for `reason`.
    pub(crate) fn drop_many_for(&self, reason: Reason, n: u64) {
        add(&self.dropped_for[reason as usize], n);
        add(&self.dropped, n);
    }

    /// Entries dropped for `reason` so far.
    pub(crate) fn dropped_for(&self, reason: Reason) -> u64 {
        get(&self.dropped_for[reason as usize])
    }
}

/// Adds one to `counter`.
#[inline]
pub(crate) fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Adds one to a counter that only one thread at a time writes (the
/// holder of an output lock bumping its progress counter): a load and a
/// store, no locked add; readers only compare it for change.
#[inline]
pub(crate) fn bump_owned(counter: &AtomicU64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Adds `n` to `counter`.
#[inline]
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    if n != 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Takes `n` back from `counter` (what was counted and turned out not to
/// be), stopping at zero.
pub(crate) fn take_back(counter: &AtomicU64, n: u64) {
    if n != 0 {
        let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
            Some(c.saturating_sub(n))
        });
    }
}

/// Reads `counter`.
#[inline]
pub(crate) fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}
