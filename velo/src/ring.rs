//! Per-thread entry rings: single-producer, single-consumer byte queues.
//!
//! Each thread that logs to an asynchronous logger gets its own [`Ring`]
//! from that logger, on first use. An entry is written into the ring in
//! place ([`Ring::reserve`], [`Ring::commit`]) or copied in whole
//! ([`Ring::push`]), and published with two plain stores; no other thread writes the
//! words the producer writes, so logging threads never contend with each
//! other, and the hand-off costs a copy instead of a shared queue's
//! compare-and-swap loops.
//!
//! The ring is a byte stream: entries sit back to back, and whoever holds
//! the logger's sink lock (the worker, or a caller writing synchronously)
//! is the one consumer and writes everything between the two positions in
//! slices of at most 16 KiB, freeing each as soon as it is written (a long
//! drain does not hold its thread back until the end). Positions count
//! bytes since the ring was made and
//! wrap around `usize`; the capacity is a power of two, so a position's
//! offset in the buffer is `position & mask`.
//!
//! A ring never changes size. A thread that fills its ring and may have a
//! larger one makes it, [`seals`](Ring::seal) the old ring with the new one
//! as its successor, and pushes into the new one from then on. The
//! consumer drains a sealed ring to the end and then moves on to its
//! successor, so the thread's entries still come out in order, and growing
//! needs no lock and no help from the consumer: a caller never writes to
//! the output to make room.
//!
//! The producer publishes bytes by storing `tail` with `Release` after
//! copying them; the consumer reads `tail` with `Acquire` before reading
//! them. The consumer frees bytes by storing `head` with `Release` after
//! reading them (after each slice); the producer reads `head` with
//! `Acquire` before writing over them. Entry counts follow the same
//! pattern and only bound how many entries a thread's rings hold together (the logger's `buffer_size`: a
//! successor counts what its predecessors still hold, see
//! [`Ring::following`]) and feed the statistics. The successor is stored with `Release` after the last push
//! into the old ring and loaded with `Acquire` before the consumer's last
//! drain of it, so that drain sees every entry. The `loom` tests at the end of this file check the
//! protocol (loom finds a missing `Release` on the consumer's side; it does
//! not see races behind a `Relaxed` store, tokio-rs/loom#107, so the
//! producer's side rests on the argument above). An entry written in place
//! is published by the same stores as a pushed one (`publish`), over bytes
//! `free_for` found free as for a push; loom's storage has no addresses to
//! write at, so it checks the push and not the writes in place, which
//! valgrind's runs of the stress tests watch instead.

use std::cell::UnsafeCell;

#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
// The successor is an `Arc` of the standard library's under loom too: loom
// checks the atomic that publishes it, not the reference count.
use std::sync::Arc;

/// The smallest ring, in bytes.
const MIN_BYTES: usize = 4 * 1024;
/// The most bytes a drain reads before it frees them (see
/// [`Ring::drain_to`]); a few under loom, so that its models free a drain
/// in parts too.
#[cfg(not(loom))]
const CHUNK: usize = 16 * 1024;
#[cfg(loom)]
const CHUNK: usize = 2;
/// The size a ring starts at, at most.
const START_BYTES: usize = 16 * 1024;
/// The largest ring, in bytes: the bound on a logging thread's memory per
/// logger.
pub(crate) const MAX_BYTES: usize = 1024 * 1024;
/// Ring bytes per entry of `buffer_size`, before clamping.
const BYTES_PER_ENTRY: usize = 128;

/// The largest ring for a logger whose `buffer_size` is `entries`.
pub(crate) fn max_bytes_for(entries: usize) -> usize {
    entries
        .saturating_mul(BYTES_PER_ENTRY)
        .clamp(MIN_BYTES, MAX_BYTES)
        .next_power_of_two()
}

/// The size a ring starts at, for a largest size of `max`: threads that log
/// little keep little memory, and a thread moves to a larger ring (see [`Ring::seal`]) only
/// when its thread fills it.
pub(crate) fn start_bytes_for(max: usize) -> usize {
    max.min(START_BYTES)
}

/// Keeps what the producer writes and what the consumer writes on separate
/// cache lines (two, for the adjacent-line prefetcher).
#[repr(align(128))]
#[derive(Debug)]
struct Padded<T>(T);

/// Words only the producer stores.
#[derive(Debug)]
struct Producer {
    /// Bytes published.
    tail: AtomicUsize,
    /// Entries published.
    produced: AtomicU64,
    /// The consumer's `head` and `consumed` when the producer last read
    /// them; private to the producer, so reading the consumer's line is
    /// needed only when these say the ring is full.
    head_seen: AtomicUsize,
    consumed_seen: AtomicU64,
}

/// Words only the consumer stores.
#[derive(Debug)]
struct Consumer {
    /// Bytes consumed.
    head: AtomicUsize,
    /// Entries consumed (never more than really were; see [`Ring::drain`]).
    /// A successor starts [`Consumer::carry`] below zero (wrapping).
    consumed: AtomicU64,
    /// A successor's: the entries its predecessors held when it was made,
    /// which count against its `max_entries` until they are consumed.
    /// They are when the consumer first drains this ring (it drains a
    /// sealed ring to the end before it moves on), which then adds them
    /// back to `consumed` and clears this.
    carry: AtomicU64,
}

/// How far a ring's entries were published at one moment (see
/// [`Ring::cut`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cut {
    produced: u64,
    tail: usize,
}

/// A single-producer, single-consumer ring of encoded entries.
#[derive(Debug)]
pub(crate) struct Ring {
    producer: Padded<Producer>,
    consumer: Padded<Consumer>,
    /// Set when the producing thread has exited: the consumer removes the
    /// ring once it is empty.
    orphaned: AtomicBool,
    /// Set when the logger is gone: the producing thread forgets the ring.
    retired: AtomicBool,
    /// The ring the producer moved on to (an `Arc` turned into a pointer),
    /// or null. Set once, by [`Ring::seal`].
    successor: AtomicPtr<Ring>,
    /// The storage. Replaced only by [`Ring::retire`], when no one can push
    /// or drain any more.
    bytes: UnsafeCell<Bytes>,
    /// Capacity minus one; the capacity is a power of two. Changes only
    /// with `bytes`, so `Relaxed` suffices.
    mask: AtomicUsize,
    /// The most entries the ring holds.
    max_entries: u64,
    /// Set by the consumer when a drain started with the ring three
    /// quarters full (in bytes or entries), cleared when one started with
    /// it under half full, and only for a queue whose callers format (see
    /// [`Ring::note_backlog`]); stored only when it changes, so the
    /// producer reads it from its own cache. See [`Ring::worker_behind`].
    behind: AtomicBool,
}

impl Ring {
    /// A ring of `bytes` bytes (a power of two) holding at most
    /// `max_entries` entries.
    pub(crate) fn new(bytes: usize, max_entries: usize) -> Ring {
        Ring::following(bytes, max_entries, 0)
    }

    /// A ring to follow one whose producer moves on (see [`Ring::seal`])
    /// while `carry` entries wait in it and its predecessors: they count
    /// against this ring's `max_entries` until the consumer has read them,
    /// so that a thread's queue holds `max_entries` at most however often
    /// it grows.
    pub(crate) fn following(bytes: usize, max_entries: usize, carry: u64) -> Ring {
        assert!(bytes.is_power_of_two(), "ring size must be a power of two");
        let consumed = 0u64.wrapping_sub(carry);
        Ring {
            producer: Padded(Producer {
                tail: AtomicUsize::new(0),
                produced: AtomicU64::new(0),
                head_seen: AtomicUsize::new(0),
                consumed_seen: AtomicU64::new(consumed),
            }),
            consumer: Padded(Consumer {
                head: AtomicUsize::new(0),
                consumed: AtomicU64::new(consumed),
                carry: AtomicU64::new(carry),
            }),
            orphaned: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            successor: AtomicPtr::new(std::ptr::null_mut()),
            bytes: UnsafeCell::new(Bytes::new(bytes)),
            mask: AtomicUsize::new(bytes - 1),
            max_entries: max_entries.max(1) as u64,
            behind: AtomicBool::new(false),
        }
    }

    /// Whether the consumer was behind this ring at its last drain: it
    /// found more entries waiting than it writes in a moment. A producer
    /// that sees it may format its entries itself (see `caller_format`),
    /// so that both sides of the ring share the work.
    #[inline]
    pub(crate) fn worker_behind(&self) -> bool {
        // Relaxed: a hint; nothing is read on the strength of it.
        self.behind.load(Ordering::Relaxed)
    }

    /// Notes the backlog a drain up to `cut` starts with, in bytes and
    /// entries (see [`Ring::worker_behind`]); for a queue whose callers
    /// format lines while the worker is behind (see `Queue::drain`).
    ///
    /// # Safety
    ///
    /// As for [`Ring::drain_to`]: the caller is the one consumer.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) unsafe fn note_backlog(&self, cut: Cut) {
        let c = &self.consumer.0;
        // Relaxed: only the consumer (the caller) stores these. A
        // successor's `consumed` starts below zero by its carry, so the
        // entries count what counts against the ring.
        let bytes = cut.tail.wrapping_sub(c.head.load(Ordering::Relaxed));
        let entries = cut
            .produced
            .wrapping_sub(c.consumed.load(Ordering::Relaxed));
        let behind = self.behind.load(Ordering::Relaxed);
        // The fraction of the ring the backlog fills, by whichever bound
        // it is nearer.
        let (capacity, max) = (self.capacity(), self.max_entries);
        // In u128: `max` is the logger's `buffer_size`, any power of two.
        let past = |parts: u128, of: u128| {
            bytes as u128 * parts >= capacity as u128 * of
                || u128::from(entries) * parts >= u128::from(max) * of
        };
        // Set at three quarters, when a caller is about to wait for room:
        // earlier, the callers' formatting costs more than it saves, as
        // handing a line over costs more than handing a record.
        let now = if behind { past(2, 1) } else { past(4, 3) };
        if now != behind {
            self.behind.store(now, Ordering::Relaxed);
        }
    }

    /// The capacity in bytes: the largest entry the ring can take.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.mask.load(Ordering::Relaxed) + 1
    }

    /// The storage, for the producer or a consumer.
    ///
    /// # Safety
    ///
    /// The caller is the producer or the consumer (see [`Ring::push`],
    /// [`Ring::drain`]).
    #[inline]
    unsafe fn bytes(&self) -> &Bytes {
        // SAFETY: the storage is replaced only by `retire`, whose contract
        // is that no producer or consumer uses the ring any more.
        unsafe { &*self.bytes.get() }
    }

    /// Makes `next` this ring's successor: the producer pushes into `next`
    /// from now on, and the consumer moves on to it once this ring is
    /// drained.
    ///
    /// # Safety
    ///
    /// Only the ring's producer calls this, once, after its last push into
    /// this ring.
    pub(crate) unsafe fn seal(&self, next: Arc<Ring>) {
        // Release: a consumer that sees the successor sees every push into
        // this ring (they came before, on this thread).
        let old = self
            .successor
            .swap(Arc::into_raw(next).cast_mut(), Ordering::Release);
        debug_assert!(old.is_null(), "a ring is sealed once");
    }

    /// The successor, once the ring is sealed. A drain that starts after
    /// this returned `Some` empties the ring for good.
    pub(crate) fn successor(&self) -> Option<Arc<Ring>> {
        // Acquire: pairs with the store in `seal`.
        let next = self.successor.load(Ordering::Acquire);
        if next.is_null() {
            return None;
        }
        // SAFETY: a non-null successor is a pointer from `Arc::into_raw`,
        // owned by this ring until it drops (below); the ring is alive, so
        // the count is at least one and may be increased.
        unsafe {
            Arc::increment_strong_count(next);
            Some(Arc::from_raw(next))
        }
    }

    /// Throws away every published entry: in a child process after `fork`,
    /// where they are the parent's to write. Returns how many.
    ///
    /// # Safety
    ///
    /// As for [`Ring::drain`]: the caller is the one consumer.
    pub(crate) unsafe fn discard(&self) -> u64 {
        // SAFETY: forwarded.
        unsafe { self.drain(|_| {}) }
    }

    /// Appends `entry`, or returns `false` when the ring has no room for it.
    ///
    /// # Safety
    ///
    /// Only one thread, the ring's producer, ever calls this (and
    /// [`Ring::seal`]).
    #[inline]
    pub(crate) unsafe fn push(&self, entry: &[u8]) -> bool {
        let p = &self.producer.0;
        // Relaxed: only this thread stores the producer's words.
        let tail = p.tail.load(Ordering::Relaxed);
        let produced = p.produced.load(Ordering::Relaxed);
        let capacity = self.capacity();
        let free = self.free_for(entry.len(), tail, produced, capacity);
        if free
            .or_else(|| self.refresh_and_free(entry.len(), tail, produced, capacity))
            .is_none()
        {
            return false;
        }
        // SAFETY: this thread is the producer (the contract of `push`), and
        // `free_for` checked that the bytes written are free.
        let bytes = unsafe { self.bytes() };
        bytes.write(tail & (capacity - 1), entry);
        self.publish(tail, produced, entry.len());
        true
    }

    /// Publishes the `len` bytes after `tail` as one more entry.
    #[inline(always)]
    fn publish(&self, tail: usize, produced: u64, len: usize) {
        let p = &self.producer.0;
        // Release: the bytes are visible to a consumer that sees the new
        // tail (or the new count, stored after it).
        p.tail.store(tail.wrapping_add(len), Ordering::Release);
        p.produced.store(produced + 1, Ordering::Release);
    }

    /// Room for one entry written in place: the free bytes from the tail
    /// up to the end of the storage (an entry in place does not wrap), if
    /// there are at least `min` of them and room for one more entry. The
    /// entry is published by [`Ring::commit`]; until then no consumer
    /// reads those bytes, as for bytes [`Ring::push`] is copying.
    ///
    /// # Safety
    ///
    /// Only the ring's producer calls this, and it neither pushes, seals
    /// nor reserves again while the slot lives.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) unsafe fn reserve(&self, min: usize) -> Option<crate::record::Slot> {
        let p = &self.producer.0;
        // Relaxed: only this thread stores the producer's words. Each word
        // is loaded once (loads of atomics, even relaxed ones, are not
        // merged by the compiler): the capacity is passed down.
        let tail = p.tail.load(Ordering::Relaxed);
        let produced = p.produced.load(Ordering::Relaxed);
        let capacity = self.capacity();
        let free = match self.free_for(min, tail, produced, capacity) {
            Some(free) => free,
            None => self.refresh_and_free(min, tail, produced, capacity)?,
        };
        let at = tail & (capacity - 1);
        let room = free.min(capacity - at);
        if room < min {
            return None;
        }
        // SAFETY: this thread is the producer (the contract), so the
        // storage stays in place while it holds the slot (only `retire`
        // replaces it, once nothing pushes); the `room` bytes from `at` are
        // inside the storage and free (`free_for` saw the consumer past them),
        // and no consumer reads them before `commit` publishes them.
        unsafe { Some(crate::record::Slot::new(self.bytes().at(at), room)) }
    }

    /// Publishes the entry of `len` bytes written in a slot from
    /// [`Ring::reserve`].
    ///
    /// # Safety
    ///
    /// Only the producer calls this, with a slot of this ring reserved
    /// since its last push, and `len` the bytes written in it.
    #[inline]
    pub(crate) unsafe fn commit(&self, len: usize) {
        let p = &self.producer.0;
        // Relaxed: only this thread stores the producer's words.
        let tail = p.tail.load(Ordering::Relaxed);
        let produced = p.produced.load(Ordering::Relaxed);
        self.publish(tail, produced, len);
    }

    /// The free bytes of a ring of `capacity` bytes, if `len` more bytes
    /// and one more entry fit, by what the producer last saw of the
    /// consumer.
    #[inline(always)]
    fn free_for(&self, len: usize, tail: usize, produced: u64, capacity: usize) -> Option<usize> {
        let p = &self.producer.0;
        let free = capacity - tail.wrapping_sub(p.head_seen.load(Ordering::Relaxed));
        // Wrapping: a successor's count starts below zero (its carry).
        let queued = produced.wrapping_sub(p.consumed_seen.load(Ordering::Relaxed));
        (len <= free && queued < self.max_entries).then_some(free)
    }

    /// Reads the consumer's progress, then looks for room again
    /// ([`Ring::free_for`]).
    #[cold]
    fn refresh_and_free(
        &self,
        len: usize,
        tail: usize,
        produced: u64,
        capacity: usize,
    ) -> Option<usize> {
        let p = &self.producer.0;
        let c = &self.consumer.0;
        // Acquire: the consumer has finished reading the bytes it freed.
        p.head_seen
            .store(c.head.load(Ordering::Acquire), Ordering::Relaxed);
        p.consumed_seen
            .store(c.consumed.load(Ordering::Acquire), Ordering::Relaxed);
        self.free_for(len, tail, produced, capacity)
    }

    /// Whether the ring holds unread bytes; for the worker deciding whether
    /// to wake up. Any thread may call this.
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.producer.0.tail.load(Ordering::Relaxed) != self.consumer.0.head.load(Ordering::Relaxed)
    }

    /// Entries waiting in this ring and its predecessors, as far as the
    /// consumer has let the producer know; for the producer.
    pub(crate) fn queued(&self) -> u64 {
        let consumed = self.consumer.0.consumed.load(Ordering::Acquire);
        self.producer
            .0
            .produced
            .load(Ordering::Relaxed)
            .wrapping_sub(consumed)
    }

    /// Whether the ring holds as many entries as it may (its predecessors'
    /// included); for the producer.
    pub(crate) fn is_full_of_entries(&self) -> bool {
        self.queued() >= self.max_entries
    }

    /// Entries published into the ring since it was made (consumed or
    /// not): only ever grows.
    pub(crate) fn produced(&self) -> u64 {
        self.producer.0.produced.load(Ordering::Acquire)
    }

    /// How far the ring's entries are published now: what a later
    /// [`Ring::drain_to`] takes.
    pub(crate) fn cut(&self) -> Cut {
        let p = &self.producer.0;
        // Acquire, count before tail: the tail read is at least as new as
        // the one stored before the count, so the bytes up to it hold every
        // entry counted (and possibly more, counted by the next drain).
        let produced = p.produced.load(Ordering::Acquire);
        let tail = p.tail.load(Ordering::Acquire);
        Cut { produced, tail }
    }

    /// Whether `cut` holds entries not drained yet.
    pub(crate) fn has_pending_in(&self, cut: Cut) -> bool {
        cut.tail != self.consumer.0.head.load(Ordering::Relaxed)
    }

    /// Passes every published byte to `write`, in order, frees them, and
    /// returns how many entries they completed.
    ///
    /// # Safety
    ///
    /// As for [`Ring::drain_to`].
    pub(crate) unsafe fn drain(&self, mut write: impl FnMut(&[u8])) -> u64 {
        // SAFETY: forwarded.
        unsafe {
            self.drain_to(self.cut(), |bytes| {
                write(bytes);
                0
            })
        }
    }

    /// Passes the bytes published up to `cut` (taken by [`Ring::cut`]
    /// since the last drain) to `write`, in order, in slices of at most
    /// [`CHUNK`] bytes (a record may run across several), frees them, and returns
    /// how many entries they completed.
    ///
    /// Each slice is freed as soon as `write` returns, with the entries
    /// `write` says it completed (`0` when it does not count them: they are
    /// freed with the last slice): a thread logging flat out then goes on
    /// while a long drain formats, instead of waiting for all of it.
    /// `write` must be done with a slice when it returns.
    ///
    /// `write` may push into this same ring (logging from inside the
    /// writer, on the ring's producing thread): the producer only writes
    /// bytes outside the ones not read yet, since it cannot see them freed
    /// before `write` has returned.
    ///
    /// # Safety
    ///
    /// One consumer at a time: the caller holds the lock that every
    /// consumer of this ring drains under (the logger's sink lock), and
    /// held it when it took `cut`.
    pub(crate) unsafe fn drain_to(&self, cut: Cut, mut write: impl FnMut(&[u8]) -> u64) -> u64 {
        let c = &self.consumer.0;
        let Cut { produced, tail } = cut;
        // Relaxed: only the consumer (under the sink lock) stores these.
        let mut head = c.head.load(Ordering::Relaxed);
        let mut consumed = c.consumed.load(Ordering::Relaxed);
        let carry = c.carry.load(Ordering::Relaxed);
        if carry != 0 {
            // The predecessors are drained (the consumer drains a sealed
            // ring to the end before it moves on): their entries no longer
            // count against this ring.
            consumed = consumed.wrapping_add(carry);
            c.carry.store(0, Ordering::Relaxed);
        }
        let before = consumed;
        if head != tail {
            // SAFETY: this is the one consumer (the contract of `drain`).
            let bytes = unsafe { self.bytes() };
            let mask = self.mask.load(Ordering::Relaxed);
            loop {
                let start = head & mask;
                let len = tail
                    .wrapping_sub(head)
                    .min(self.capacity() - start)
                    .min(CHUNK);
                // Never past the cut's count: a wrong count cannot free
                // entries not published.
                let done = bytes.read(start, len, &mut write);
                consumed = consumed.wrapping_add(done.min(produced.wrapping_sub(consumed)));
                head = head.wrapping_add(len);
                if head == tail {
                    break;
                }
                // Release: the bytes were read before the producer can
                // reuse them.
                c.head.store(head, Ordering::Release);
                c.consumed.store(consumed, Ordering::Release);
            }
            c.head.store(tail, Ordering::Release);
        }
        c.consumed.store(produced, Ordering::Release);
        produced.wrapping_sub(before)
    }

    /// Marks the ring as belonging to no thread any more.
    pub(crate) fn orphan(&self) {
        // Release: a consumer that sees the flag sees every entry pushed.
        self.orphaned.store(true, Ordering::Release);
    }

    /// Whether the producing thread has exited; after this returns `true`, a
    /// drain empties the ring for good.
    pub(crate) fn is_orphaned(&self) -> bool {
        self.orphaned.load(Ordering::Acquire)
    }

    /// Marks the ring's logger as gone and frees its storage; the thread
    /// that owns the ring forgets it when it next registers a ring.
    ///
    /// # Safety
    ///
    /// No one pushes into or drains the ring any more: its logger is gone,
    /// and with it every way to reach the ring but the owning thread's list,
    /// which only looks at the flag.
    pub(crate) unsafe fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        // SAFETY: by the contract, nothing holds a reference to the storage
        // or ever will again.
        unsafe { *self.bytes.get() = Bytes::new(1) };
        self.mask.store(0, Ordering::Relaxed);
    }

    /// Whether the ring's logger is gone.
    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // Acquire: as in `successor` (this is the last owner, so any
        // ordering would do).
        let next = self.successor.load(Ordering::Acquire);
        if !next.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw` in `seal`, and
            // this ring owns that count.
            drop(unsafe { Arc::from_raw(next) });
        }
    }
}

/// The ring's storage.
#[cfg(not(loom))]
#[derive(Debug)]
struct Bytes(Box<[std::cell::UnsafeCell<u8>]>);

// SAFETY: the bytes are only accessed through `write` (by the one producer)
// and `read` (by the one consumer), on ranges the ring protocol keeps
// disjoint; see the module documentation. (Under loom, loom checks it.)
unsafe impl Sync for Bytes {}

// SAFETY: the storage cell is replaced only under the conditions given at
// `Ring::retire`; everything else in a ring is atomic or `Sync`.
unsafe impl Sync for Ring {}

#[cfg(not(loom))]
impl Bytes {
    fn new(len: usize) -> Bytes {
        // Zeroed by the allocator: large rings get pages from the system
        // that are only backed by memory once written. Writing one byte per
        // page now takes those page faults here, once, when the ring is made
        // (a thread's first entry, a growth), instead of on one entry in
        // every 4 KiB of the ring's first lap (they made the p99.9 of a
        // caller's latency 20x its median).
        let mut zeroed = vec![0u8; len].into_boxed_slice();
        for page in zeroed.iter_mut().step_by(4096) {
            // Volatile: the store of a zero over a zero must not be elided.
            // SAFETY: `page` is a valid, exclusive reference to a byte.
            unsafe { std::ptr::write_volatile(page, 0) };
        }
        // SAFETY: `UnsafeCell<u8>` has the layout of `u8`
        // (`repr(transparent)`), so the slice and its allocation are the same
        // viewed as cells.
        Bytes(unsafe { Box::from_raw(Box::into_raw(zeroed) as *mut [std::cell::UnsafeCell<u8>]) })
    }

    /// Copies `src` in at `at`, wrapping around the end.
    #[inline]
    fn write(&self, at: usize, src: &[u8]) {
        let first = src.len().min(self.0.len() - at);
        let base = std::cell::UnsafeCell::raw_get(self.0.as_ptr());
        // SAFETY: `at + first <= len` and `src.len() - first <= at` (the
        // caller checked that `src` fits in the free space, which is less
        // than the whole ring), so both copies stay inside the buffer. The
        // free space is written only by the producer and not read until it
        // is published, so nothing else accesses these bytes now.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), base.add(at), first);
            if first < src.len() {
                std::ptr::copy_nonoverlapping(src.as_ptr().add(first), base, src.len() - first);
            }
        }
    }

    /// The address of the byte at `at`, which is inside the storage.
    #[inline]
    fn at(&self, at: usize) -> *mut u8 {
        debug_assert!(at < self.0.len());
        std::cell::UnsafeCell::raw_get(self.0.as_ptr()).wrapping_add(at)
    }

    /// Lends `write` the `len` bytes at `at`, which do not wrap.
    #[inline]
    fn read(&self, at: usize, len: usize, write: &mut impl FnMut(&[u8]) -> u64) -> u64 {
        assert!(at + len <= self.0.len());
        let base = std::cell::UnsafeCell::raw_get(self.0.as_ptr());
        // SAFETY: in bounds (checked above). The bytes were published by the
        // producer, which does not write them again until the consumer frees
        // them after this returns; so no one writes them while the slice
        // lives.
        let bytes = unsafe { std::slice::from_raw_parts(base.add(at), len) };
        write(bytes)
    }
}

/// The ring's storage under loom, which checks every access for races.
#[cfg(loom)]
#[derive(Debug)]
struct Bytes(Box<[loom::cell::UnsafeCell<u8>]>);

#[cfg(loom)]
impl Bytes {
    fn new(len: usize) -> Bytes {
        Bytes((0..len).map(|_| loom::cell::UnsafeCell::new(0)).collect())
    }

    fn write(&self, at: usize, src: &[u8]) {
        let n = self.0.len();
        for (i, &b) in src.iter().enumerate() {
            // SAFETY: loom checks that no other thread accesses the cell.
            self.0[(at + i) % n].with_mut(|p| unsafe { *p = b });
        }
    }

    fn read(&self, at: usize, len: usize, write: &mut impl FnMut(&[u8]) -> u64) -> u64 {
        // SAFETY: loom checks that no other thread writes the cell.
        let copy: Vec<u8> = (at..at + len)
            .map(|i| self.0[i].with(|p| unsafe { *p }))
            .collect();
        write(&copy)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    // Each test uses a ring from one producer and one consumer (one
    // thread, or two where it spawns one), and seals it on the producing
    // thread: the contracts of `push`, `drain` and `seal`.

    fn push(ring: &Ring, entry: &[u8]) -> bool {
        // SAFETY: see above.
        unsafe { ring.push(entry) }
    }

    fn drain(ring: &Ring, write: impl FnMut(&[u8])) -> u64 {
        // SAFETY: see above.
        unsafe { ring.drain(write) }
    }

    fn drain_all(ring: &Ring) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let n = drain(ring, |b| out.extend_from_slice(b));
        (out, n)
    }

    /// Puts 100 entries of 5 bytes into a 16-byte ring with `put`, draining
    /// after every second one, and checks they all come out, in order.
    fn hundred_entries_through_a_small_ring(put: impl Fn(&Ring, &[u8])) {
        let ring = Ring::new(16, 100);
        let mut expected = Vec::new();
        let mut got = Vec::new();
        let mut entries = 0;
        for i in 0..100u8 {
            let entry = [i; 5];
            put(&ring, &entry);
            expected.extend_from_slice(&entry);
            if i % 2 == 1 {
                let (bytes, n) = drain_all(&ring);
                got.extend_from_slice(&bytes);
                entries += n;
            }
        }
        assert_eq!(got, expected);
        assert_eq!(entries, 100);
        assert!(!ring.has_pending());
    }

    #[test]
    fn entries_come_out_in_order_across_the_wrap() {
        hundred_entries_through_a_small_ring(|ring, entry| {
            assert!(push(ring, entry), "room after draining");
        });
    }

    /// Writes `entry` in place, as `Entry` does; `false` when there is no
    /// room for it before the end of the storage.
    fn write_in_place(ring: &Ring, entry: &[u8]) -> bool {
        // SAFETY: see above; no other slot or push while this one lives.
        let Some(mut slot) = (unsafe { ring.reserve(entry.len()) }) else {
            return false;
        };
        assert!(slot.put(entry));
        // SAFETY: the slot is this ring's, reserved just now.
        unsafe { ring.commit(slot.len()) };
        true
    }

    #[test]
    fn entries_in_place_stop_at_the_end_and_pushes_cross_it() {
        // In place while the entry fits before the end; a push (which
        // wraps) otherwise, as `Entry` falls back to.
        hundred_entries_through_a_small_ring(|ring, entry| {
            if !write_in_place(ring, entry) {
                assert!(push(ring, entry), "room after draining");
            }
        });
    }

    #[test]
    fn a_slot_offers_only_free_bytes_before_the_end() {
        let ring = Ring::new(16, 100);
        assert!(push(&ring, b"0123456789"));
        // 6 bytes free, all before the end.
        // SAFETY: see above; each slot is dropped before the next call.
        assert!(unsafe { ring.reserve(6) }.is_some(), "6 bytes free");
        assert!(unsafe { ring.reserve(7) }.is_none(), "only 6 bytes free");
        let (bytes, _) = drain_all(&ring);
        assert_eq!(bytes, b"0123456789");
        // 16 free, but 6 before the end: a slot does not wrap.
        let mut slot = unsafe { ring.reserve(6) }.expect("6 before the end");
        assert!(
            !slot.put(b"0123456"),
            "a write past the room writes nothing"
        );
        assert_eq!(slot.len(), 0);
        assert!(unsafe { ring.reserve(7) }.is_none());
        // The entry count bounds slots too.
        let full = Ring::new(64, 1);
        assert!(push(&full, b"a"));
        assert!(unsafe { full.reserve(1) }.is_none(), "one entry at most");
    }

    #[test]
    fn a_drain_to_a_cut_leaves_what_came_after_it() {
        let ring = Ring::new(64, 100);
        assert!(push(&ring, b"one"));
        let cut = ring.cut();
        assert!(ring.has_pending_in(cut));
        assert!(push(&ring, b"two"));
        let mut out = Vec::new();
        // SAFETY: see above; the cut was taken by this, the one consumer.
        let n = unsafe {
            ring.drain_to(cut, |b| {
                out.extend_from_slice(b);
                0
            })
        };
        assert_eq!((out.as_slice(), n), (&b"one"[..], 1));
        assert!(!ring.has_pending_in(cut));
        assert_eq!(drain_all(&ring), (b"two".to_vec(), 1));
        assert!(!ring.has_pending());
    }

    /// A long drain frees each part as soon as it is written, with the
    /// entries the writer says it completed: the producer goes on into
    /// the room while the rest is still being written, and what it pushes
    /// then waits for the next drain.
    #[test]
    fn a_long_drain_frees_its_parts_as_it_goes() {
        const ENTRY: usize = 1024;
        let per_chunk = (CHUNK / ENTRY) as u64;
        let ring = Ring::new(4 * CHUNK, 4 * per_chunk as usize);
        let mut pushed = 0u8;
        while push(&ring, &[pushed; ENTRY]) {
            pushed += 1;
        }
        assert_eq!(
            u64::from(pushed),
            4 * per_chunk,
            "full of bytes and of entries"
        );
        let cut = ring.cut();
        let (mut parts, mut out, mut pushed_inside) = (0, Vec::new(), Vec::new());
        // SAFETY: see above; the cut was taken by this, the one consumer,
        // and the pushes come from the producing thread (this one).
        let n = unsafe {
            ring.drain_to(cut, |b| {
                parts += 1;
                // Before the first part is freed there is no room at all;
                // after, room for the entries it completed.
                let room = push(&ring, b"late");
                assert_eq!(room, parts > 1, "part {parts}");
                if room {
                    pushed_inside.push(parts);
                }
                out.extend_from_slice(b);
                (b.len() / ENTRY) as u64
            })
        };
        assert_eq!((n, parts), (4 * per_chunk, 4));
        assert_eq!(
            out.len(),
            4 * CHUNK,
            "the cut's bytes, none of the late ones"
        );
        assert!(out
            .chunks(ENTRY)
            .enumerate()
            .all(|(i, e)| e == [i as u8; ENTRY]));
        assert_eq!(pushed_inside, [2, 3, 4]);
        assert_eq!(drain_all(&ring), (b"latelatelate".to_vec(), 3));
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let ring = Ring::new(16, 3);
        assert!(!push(&ring, &[0; 17]), "larger than the ring");
        assert!(push(&ring, &[1; 10]));
        assert!(!push(&ring, &[2; 7]), "6 bytes left");
        assert!(push(&ring, &[3; 6]));
        assert_eq!(
            drain_all(&ring),
            ([[1; 10].as_slice(), &[3; 6]].concat(), 2)
        );
        for _ in 0..3 {
            assert!(push(&ring, b"x"));
        }
        assert!(!push(&ring, b"x"), "at most 3 entries");
        assert_eq!(ring.produced(), 5);
        assert_eq!(drain_all(&ring).1, 3);
        assert_eq!(ring.produced(), 5, "draining consumes, never unproduces");
        assert!(push(&ring, b"x"));
    }

    #[test]
    fn sizes_are_clamped_powers_of_two() {
        assert_eq!(max_bytes_for(1), MIN_BYTES);
        assert_eq!(max_bytes_for(100), 16 * 1024);
        assert_eq!(max_bytes_for(8192), MAX_BYTES);
        assert_eq!(max_bytes_for(usize::MAX), MAX_BYTES);
        assert_eq!(start_bytes_for(MIN_BYTES), MIN_BYTES);
        assert_eq!(start_bytes_for(MAX_BYTES), START_BYTES);
    }

    #[test]
    fn a_successor_counts_what_its_predecessor_holds_until_it_is_drained() {
        let old = Ring::new(8, 4);
        assert!(push(&old, b"a"));
        assert!(push(&old, b"b"));
        assert!(push(&old, b"c"));
        assert_eq!(old.queued(), 3);
        let next = Arc::new(Ring::following(64, 4, old.queued()));
        // SAFETY: this thread is the producer of both and pushes into
        // `next` from now on.
        unsafe { old.seal(Arc::clone(&next)) };
        assert!(push(&next, b"d"), "three waiting, room for one more");
        assert!(next.is_full_of_entries());
        assert!(!push(&next, b"e"), "four entries queued in all");
        assert_eq!(drain_all(&old), (b"abc".to_vec(), 3));
        // Until the consumer reaches the successor, the carry stands.
        assert!(!push(&next, b"e"));
        assert_eq!(
            drain_all(&next),
            (b"d".to_vec(), 1),
            "the carry is not counted"
        );
        for entry in [b"e", b"f", b"g", b"h"] {
            assert!(push(&next, entry));
        }
        assert!(!push(&next, b"i"));
        assert_eq!(drain_all(&next), (b"efgh".to_vec(), 4));
    }

    #[test]
    fn a_sealed_ring_hands_over_to_its_successor() {
        let ring = Arc::new(Ring::new(16, 100));
        assert!(push(&ring, &[1; 10]));
        assert!(!push(&ring, &[2; 10]), "full");
        let next = Arc::new(Ring::new(64, 100));
        // SAFETY: this thread is the producer, done with `ring`.
        unsafe { ring.seal(Arc::clone(&next)) };
        assert!(push(&next, &[2; 10]));
        let successor = ring.successor().expect("sealed");
        assert!(Arc::ptr_eq(&successor, &next));
        assert_eq!(drain_all(&ring), (vec![1; 10], 1));
        assert_eq!(drain_all(&successor), (vec![2; 10], 1));
        drop(ring);
        assert_eq!(Arc::strong_count(&next), 2, "the sealed ring let go");
    }

    #[test]
    fn a_producer_and_a_consumer_move_every_byte() {
        let ring = std::sync::Arc::new(Ring::new(64, 8));
        const N: u32 = 20_000;
        let producer = {
            let ring = ring.clone();
            std::thread::spawn(move || {
                for i in 0..N {
                    let len = 1 + (i % 13) as usize;
                    let entry: Vec<u8> = (0..len).map(|k| (i as usize + k) as u8).collect();
                    while !push(&ring, &entry) {
                        std::thread::yield_now();
                    }
                }
            })
        };
        let mut out = Vec::new();
        let mut entries = 0;
        while entries < u64::from(N) {
            let n = drain(&ring, |b| out.extend_from_slice(b));
            if n == 0 {
                // Under valgrind, threads take turns: let the producer run.
                std::thread::yield_now();
            }
            entries += n;
        }
        producer.join().unwrap();
        let expected: Vec<u8> = (0..N)
            .flat_map(|i| (0..1 + (i % 13) as usize).map(move |k| (i as usize + k) as u8))
            .collect();
        assert_eq!(out, expected);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    // One producer thread and one consumer thread per ring: the contracts
    // of `push` and `drain`.

    fn push(ring: &Ring, entry: &[u8]) -> bool {
        // SAFETY: see above.
        unsafe { ring.push(entry) }
    }

    fn drain(ring: &Ring, write: impl FnMut(&[u8])) -> u64 {
        // SAFETY: see above.
        unsafe { ring.drain(write) }
    }

    /// The producer thread: pushes `entries` in order, each once there is
    /// room; returns how many it pushed.
    fn produce<R>(ring: R, entries: [&'static [u8]; 2]) -> thread::JoinHandle<usize>
    where
        R: std::ops::Deref<Target = Ring> + Send + 'static,
    {
        thread::spawn(move || {
            let mut pushed = 0;
            for entry in entries {
                while !push(&ring, entry) {
                    thread::yield_now();
                }
                pushed += 1;
            }
            pushed
        })
    }

    /// Entries pushed while the consumer drains arrive whole, in order,
    /// counted once, with the ring wrapping (capacity 4, entries of 3).
    #[test]
    fn push_and_drain_race() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(4, 2));
            let producer = produce(ring.clone(), [b"abc", b"def"]);
            let mut out = Vec::new();
            let mut entries = 0;
            while out.len() < 6 {
                entries += drain(&ring, |b| out.extend_from_slice(b));
                thread::yield_now();
            }
            assert_eq!(producer.join().unwrap(), 2);
            assert_eq!(out, b"abcdef");
            entries += drain(&ring, |_| {});
            assert_eq!(entries, 2);
        });
    }

    /// A successor made while its predecessor held an entry takes one
    /// more only once the consumer has drained the predecessor and reached
    /// it, and counts its own entries only.
    #[test]
    fn a_successor_releases_its_carry_when_drained() {
        loom::model(|| {
            let old = Arc::new(Ring::new(4, 2));
            // The successor is a std `Arc` (see the top of this file).
            let next = std::sync::Arc::new(Ring::following(4, 2, 1));
            assert!(push(&old, b"a"));
            // SAFETY: this thread is the producer of both until it hands
            // them over below.
            unsafe { old.seal(std::sync::Arc::clone(&next)) };
            let producer = produce(std::sync::Arc::clone(&next), [b"b", b"c"]);
            let mut out = Vec::new();
            let mut entries = drain(&old, |b| out.extend_from_slice(b));
            while out.len() < 3 {
                entries += drain(&next, |b| out.extend_from_slice(b));
                thread::yield_now();
            }
            producer.join().unwrap();
            entries += drain(&next, |_| {});
            assert_eq!(out, b"abc");
            assert_eq!(entries, 3);
        });
    }

    /// A drain that counts the entries each slice completes frees them
    /// slice by slice (a slice is 2 bytes under loom, so an entry of 3
    /// straddles two): with room for one entry, the producer's second
    /// needs the count freed with the slice that completed the first, and
    /// both arrive whole, in order, counted once.
    #[test]
    fn a_counting_drain_frees_entries_as_it_goes() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(8, 1));
            let producer = produce(ring.clone(), [b"abc", b"def"]);
            let mut out = Vec::new();
            let mut entries = 0;
            while out.len() < 6 {
                let cut = ring.cut();
                // SAFETY: this thread is the one consumer.
                entries += unsafe {
                    ring.drain_to(cut, |bytes| {
                        let before = out.len() / 3;
                        out.extend_from_slice(bytes);
                        (out.len() / 3 - before) as u64
                    })
                };
                thread::yield_now();
            }
            producer.join().unwrap();
            assert_eq!(out, b"abcdef");
            entries += drain(&ring, |_| {});
            assert_eq!(entries, 2);
        });
    }

    /// A consumer that sees the ring orphaned drains everything pushed.
    #[test]
    fn orphaned_ring_is_complete() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(8, 4));
            let producer = {
                let ring = ring.clone();
                thread::spawn(move || {
                    assert!(push(&ring, b"ab"));
                    assert!(push(&ring, b"cd"));
                    ring.orphan();
                })
            };
            let mut out = Vec::new();
            loop {
                let orphaned = ring.is_orphaned();
                drain(&ring, |b| out.extend_from_slice(b));
                if orphaned {
                    break;
                }
                thread::yield_now();
            }
            assert_eq!(out, b"abcd");
            producer.join().unwrap();
        });
    }
}
