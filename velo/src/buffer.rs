//! Per-thread state: the buffer entries are encoded into, and the thread's
//! ring for each asynchronous logger it logs to.
//!
//! A call site takes this thread's encoding buffer, encodes its entry into
//! it, hands the bytes to the logger (which copies them into this thread's
//! ring, or writes them) and puts the buffer back. In steady state nothing
//! is allocated and no other thread is touched. A buffer that grew past
//! [`MAX_RETAINED`] (one huge entry) is replaced by a small one, so the
//! memory a thread keeps is bounded: this buffer plus one ring of at most
//! [`ring::MAX_BYTES`](crate::ring::MAX_BYTES) per logger it logs to (rings start
//! small and grow only for threads that fill them).
//!
//! When the thread exits, its rings are marked orphaned; the logger writes
//! what they hold and then frees them, so nothing logged is lost.

use crate::ring::Ring;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Capacity of a fresh buffer: room for a typical entry.
pub(crate) const INITIAL_CAPACITY: usize = 512;

/// The largest capacity a kept buffer may have.
pub(crate) const MAX_RETAINED: usize = 64 * 1024;

struct Local {
    /// The encoding buffer; empty (capacity 0) while an entry uses it.
    scratch: Cell<Vec<u8>>,
    /// This thread's rings, by the id of their logger's core.
    rings: RefCell<Vec<(u64, Arc<Ring>)>>,
}

impl Drop for Local {
    fn drop(&mut self) {
        for (_, ring) in self.rings.get_mut().drain(..) {
            ring.orphan();
        }
    }
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            scratch: Cell::new(Vec::new()),
            rings: RefCell::new(Vec::new()),
        }
    };
}

/// An empty buffer to encode an entry into: this thread's, unless it is in
/// use (an entry logged while encoding another) or gone (the thread is
/// exiting).
#[inline]
pub(crate) fn take() -> Vec<u8> {
    let buf = LOCAL.try_with(|l| l.scratch.take()).unwrap_or_default();
    if buf.capacity() == 0 {
        return fresh();
    }
    buf
}

#[cold]
fn fresh() -> Vec<u8> {
    Vec::with_capacity(INITIAL_CAPACITY)
}

/// Returns a buffer from [`take`] to this thread.
#[inline]
pub(crate) fn give(buf: Vec<u8>) {
    let _ = LOCAL.try_with(|l| l.keep(buf));
}

/// Why an entry is not in this thread's ring.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Unpushed {
    /// The ring has no room for it now.
    Full,
    /// This thread has no ring for the logger yet (or no thread-local state
    /// any more): see [`register`].
    NoRing,
}

impl Local {
    /// This thread's ring for the logger core `core_id`.
    fn ring(&self, core_id: u64) -> Option<std::cell::Ref<'_, Ring>> {
        std::cell::Ref::filter_map(self.rings.borrow(), |rings| {
            rings
                .iter()
                .find(|(id, _)| *id == core_id)
                .map(|(_, ring)| &**ring)
        })
        .ok()
    }

    #[inline]
    fn push(&self, core_id: u64, entry: &[u8]) -> Result<(), Unpushed> {
        let ring = self.ring(core_id).ok_or(Unpushed::NoRing)?;
        // SAFETY: a ring in this thread's list is pushed to only by this
        // thread: each thread registers its own.
        if unsafe { ring.push(entry) } {
            Ok(())
        } else {
            Err(Unpushed::Full)
        }
    }

    /// Keeps `buf` as the encoding buffer, unless it grew too large.
    #[inline]
    fn keep(&self, mut buf: Vec<u8>) {
        if buf.capacity() <= MAX_RETAINED {
            buf.clear();
            self.scratch.set(buf);
        }
    }
}

/// Pushes `entry` into this thread's ring for the logger core `core_id`.
#[inline]
pub(crate) fn push(core_id: u64, entry: &[u8]) -> Result<(), Unpushed> {
    LOCAL
        .try_with(|l| l.push(core_id, entry))
        .unwrap_or(Err(Unpushed::NoRing))
}

/// Pushes the entry in `buf` into this thread's ring for the logger core
/// `core_id` and keeps `buf` as this thread's encoding buffer, in one visit
/// to the thread-local state; hands `buf` back when the entry could not be
/// pushed.
#[inline]
pub(crate) fn push_and_keep(core_id: u64, buf: Vec<u8>) -> Result<(), (Vec<u8>, Unpushed)> {
    let mut slot = Some(buf);
    let pushed = LOCAL
        .try_with(|l| {
            let pushed = l.push(core_id, slot.as_deref().unwrap_or_default());
            if let Some(buf) = slot.take_if(|_| pushed.is_ok()) {
                l.keep(buf);
            }
            pushed
        })
        .unwrap_or(Err(Unpushed::NoRing));
    match (pushed, slot) {
        (Err(unpushed), Some(buf)) => Err((buf, unpushed)),
        _ => Ok(()),
    }
}

/// The capacity of this thread's ring for the logger core `core_id`.
pub(crate) fn ring_capacity(core_id: u64) -> Option<usize> {
    LOCAL
        .try_with(|l| l.ring(core_id).map(|ring| ring.capacity()))
        .ok()
        .flatten()
}

/// Grows this thread's ring for the logger core `core_id` to `size` bytes,
/// if the ring is empty; returns whether it did.
///
/// # Safety
///
/// The caller holds the lock that logger's rings are drained under (see
/// [`Ring::grow`]).
pub(crate) unsafe fn grow_ring(core_id: u64, size: usize) -> bool {
    LOCAL
        .try_with(|l| {
            // SAFETY: this thread is the ring's producer (it is in this
            // thread's list), and the caller holds the lock.
            l.ring(core_id)
                .is_some_and(|ring| unsafe { ring.grow(size) })
        })
        .unwrap_or(false)
}

/// Gives this thread a ring for the logger core `core_id`, made by `make`;
/// `false` when the thread is exiting and can have none. Forgets the rings
/// of loggers that are gone.
#[cold]
pub(crate) fn register(core_id: u64, make: impl FnOnce() -> Arc<Ring>) -> bool {
    LOCAL
        .try_with(|l| {
            let mut rings = l.rings.borrow_mut();
            rings.retain(|(_, ring)| !ring.is_retired());
            if !rings.iter().any(|(id, _)| *id == core_id) {
                rings.push((core_id, make()));
            }
        })
        .is_ok()
}
