//! A logger's queue: the rings of the threads that log to it.
//!
//! Each thread gets its own ring on its first entry ([`Queue::register`]),
//! pushes into it without touching any other thread's memory, and, when it
//! fills the ring faster than the worker drains it, moves to one twice as
//! large ([`Queue::grow`]) while the logger's growth budget lasts. The
//! consumer (whoever holds the logger's output lock) takes a snapshot of
//! the ring list for each pass, drains every ring, follows sealed rings to
//! their successors and frees the rings of threads that have exited.
//!
//! The list is an `Arc` snapshot behind a mutex taken only to register,
//! replace or free a ring and to read the snapshot: never while anything is
//! written, so a thread registering its first ring never waits for I/O.

use crate::fork;
use crate::local;
use crate::ring::{self, Ring};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How many rings of one logger may be at their largest size at once: the
/// bytes rings grow by come from a budget of this many times the growth of
/// one ring, so a burst on hundreds of threads cannot grow them all. A
/// thread whose ring cannot grow applies the overflow strategy.
pub(crate) const GROWN_RINGS: usize = 8;

/// The rings of one logger.
#[derive(Debug)]
pub(crate) struct Queue {
    /// The logger core's id: names its rings in each thread's list.
    id: u64,
    /// Every ring of this logger, in registration order.
    rings: Mutex<Arc<Vec<Arc<Ring>>>>,
    /// The most bytes a ring grows to.
    pub(crate) max_ring_bytes: usize,
    /// The most entries a ring holds: the logger's `buffer_size`.
    ring_entries: usize,
    /// Bytes rings may still grow by, all together.
    budget: AtomicUsize,
}

impl Queue {
    pub(crate) fn new(id: u64, entries: usize) -> Queue {
        let max_ring_bytes = ring::max_bytes_for(entries);
        let start = ring::start_bytes_for(max_ring_bytes);
        Queue {
            id,
            rings: Mutex::new(Arc::new(Vec::new())),
            max_ring_bytes,
            ring_entries: entries,
            budget: AtomicUsize::new((max_ring_bytes - start).saturating_mul(GROWN_RINGS)),
        }
    }

    /// The size rings start at.
    pub(crate) fn start_bytes(&self) -> usize {
        ring::start_bytes_for(self.max_ring_bytes)
    }

    /// The current ring list.
    pub(crate) fn snapshot(&self) -> Arc<Vec<Arc<Ring>>> {
        Arc::clone(&fork::lock(&self.rings))
    }

    fn edit(&self, f: impl FnOnce(&mut Vec<Arc<Ring>>)) {
        let mut rings = fork::lock(&self.rings);
        let mut list = Vec::clone(&rings);
        f(&mut list);
        *rings = Arc::new(list);
    }

    /// Gives this thread a ring; `false` when the thread is exiting and can
    /// have none.
    pub(crate) fn register(&self) -> bool {
        local::register(self.id, || {
            let ring = Arc::new(Ring::new(self.start_bytes(), self.ring_entries));
            self.edit(|list| list.push(Arc::clone(&ring)));
            ring
        })
    }

    /// Moves this thread to a ring large enough for `len` more bytes, twice
    /// the current size or more, if the ring may still grow and the budget
    /// allows; returns whether it did.
    pub(crate) fn grow(&self, len: usize) -> bool {
        let Some(old) = local::ring(self.id) else {
            return false;
        };
        let capacity = old.capacity();
        if capacity >= self.max_ring_bytes {
            return false;
        }
        let size = (capacity * 2)
            .max(len.next_power_of_two())
            .min(self.max_ring_bytes);
        let grown = size - self.start_bytes();
        if !self.reserve(grown) {
            return false;
        }
        let next = Arc::new(Ring::new(size, self.ring_entries));
        if !local::replace_ring(self.id, Arc::clone(&next)) {
            self.release(grown);
            return false;
        }
        // SAFETY: this thread is `old`'s producer (it was in this thread's
        // list) and pushes only into `next` from now on.
        unsafe { old.seal(next) };
        true
    }

    fn reserve(&self, bytes: usize) -> bool {
        // Relaxed: the budget is a counter; nothing is published through it.
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                b.checked_sub(bytes)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        self.budget.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Whether any ring holds unwritten entries.
    pub(crate) fn has_pending(&self) -> bool {
        self.snapshot()
            .iter()
            .any(|ring| ring.has_pending() || ring.successor().is_some())
    }

    /// Entries accepted into the rings and not yet drained.
    pub(crate) fn queued(&self) -> u64 {
        let mut total = 0;
        for ring in self.snapshot().iter() {
            let mut ring = Arc::clone(ring);
            loop {
                total += ring.queued();
                match ring.successor() {
                    Some(next) => ring = next,
                    None => break,
                }
            }
        }
        total
    }

    /// Passes every published byte of every ring to `write`, ring by ring:
    /// at most two slices per ring (a record may straddle them), then an
    /// empty slice with `true` to mark the end of the ring's bytes. Returns
    /// the entries drained. Follows sealed rings to
    /// their successors and frees the rings of exited threads.
    ///
    /// # Safety
    ///
    /// One consumer at a time: the caller holds the logger's output lock,
    /// which every drain of this queue runs under.
    pub(crate) unsafe fn drain(&self, mut write: impl FnMut(&[u8], bool)) -> u64 {
        let mut entries = 0;
        let mut changed = false;
        let rings = self.snapshot();
        for ring in rings.iter() {
            let mut ring = Arc::clone(ring);
            loop {
                // Read before draining: once either is seen, this drain
                // takes the ring's last entries.
                let successor = ring.successor();
                let orphaned = ring.is_orphaned();
                // SAFETY: the caller holds the output lock (the contract).
                entries += unsafe { ring.drain(|bytes| write(bytes, false)) };
                // The end of a ring's bytes ends any record split across
                // its wrap.
                write(&[], true);
                changed |= orphaned || successor.is_some();
                match successor {
                    Some(next) => ring = next,
                    None => break,
                }
            }
        }
        if changed {
            self.tidy();
        }
        entries
    }

    /// Replaces drained sealed rings by their successors and frees the
    /// drained rings of exited threads, giving back what they grew by.
    #[cold]
    fn tidy(&self) {
        let start = self.start_bytes();
        let mut freed = 0;
        self.edit(|list| {
            let mut out = Vec::with_capacity(list.len());
            for ring in list.drain(..) {
                let mut ring = ring;
                while let (Some(next), false) = (ring.successor(), ring.has_pending()) {
                    freed += ring.capacity().saturating_sub(start);
                    ring = next;
                }
                if ring.is_orphaned() && !ring.has_pending() && ring.successor().is_none() {
                    freed += ring.capacity().saturating_sub(start);
                    continue;
                }
                out.push(ring);
            }
            *list = out;
        });
        self.release(freed);
    }

    /// Throws away every queued entry: in a child process after `fork`.
    ///
    /// # Safety
    ///
    /// As for [`Queue::drain`].
    pub(crate) unsafe fn discard(&self) {
        for ring in self.snapshot().iter() {
            let mut ring = Arc::clone(ring);
            loop {
                // SAFETY: forwarded.
                unsafe { ring.discard() };
                match ring.successor() {
                    Some(next) => ring = next,
                    None => break,
                }
            }
        }
    }

    /// Frees the storage of every ring: the logger is gone.
    ///
    /// # Safety
    ///
    /// No one can push into or drain these rings any more.
    pub(crate) unsafe fn retire(&self) {
        for ring in self.snapshot().iter() {
            let mut ring = Arc::clone(ring);
            loop {
                // SAFETY: forwarded.
                unsafe { ring.retire() };
                match ring.successor() {
                    Some(next) => ring = next,
                    None => break,
                }
            }
        }
    }
}
