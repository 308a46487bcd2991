//! What the two ring baselines (`inplace.rs`, `deferred.rs`) share: a
//! single-producer byte ring per logging thread, and one worker that polls
//! every ring into a 64 KiB buffered writer. Only what a caller writes into
//! its ring, and what the worker does with it, differs between the two.
//!
//! # The ring
//!
//! [`RING_BYTES`] bytes (a power of two) plus [`SLACK`] bytes past the end.
//! `head` (written by the producer) and `tail` (by the worker) count bytes
//! ever written and read; a byte at position `n` lives at `n % RING_BYTES`.
//! A producer reserves [`SLACK`] bytes at `head`, so a record up to that
//! size is always contiguous in memory: one that starts near the end runs on
//! into the slack. Then it publishes the bytes it used:
//!
//! - the free-space check: `head + SLACK - tail <= RING_BYTES`, with `tail`
//!   as last seen (re-read with Acquire when the check fails: the worker's
//!   reads of those bytes happened before its Release store of `tail`);
//! - the bytes of a record that ran into the slack are also copied to the
//!   start of the ring (their place modulo `RING_BYTES`, free by the same
//!   check), so a reader can see the ring either way: records contiguous
//!   through the slack (`deferred`), or `[tail, head)` as two plain slices
//!   (`inplace`);
//! - `head` is stored with Release: the worker's Acquire load of it makes
//!   the record's bytes visible.
//!
//! Why the reservation never touches bytes the worker may still read: the
//! worker reads only `[tail, head)`, at positions modulo `RING_BYTES`, or,
//! for a record that runs into the slack, the slack bytes of a record that
//! starts in the lap before `head`'s. The check keeps `[head, head + SLACK)`
//! off the first; and a reservation that reaches into the slack starts past
//! `RING_BYTES - SLACK`, so the check puts `tail` past the start of
//! `head`'s lap, and so past every record that crosses into it.
//!
//! A full ring makes its producer wait (spinning, then yielding): nothing
//! is lost, and the benchmark's line counts check it.
//!
//! # The worker
//!
//! The worker's loop is velo's (`velo/src/worker.rs`), so the comparison is
//! of what the caller and the worker do per entry, not of polling policy: a
//! pass drains every ring and writes the 64 KiB buffer out (a flush); after
//! a pass that drained less than a buffer's worth the worker sleeps 50 us
//! before the next, so callers fill their rings without pulling cache lines
//! across cores at every entry. It does not park: a benchmark keeps it busy.

use super::json::SecondCache;
use std::cell::{RefCell, UnsafeCell};
use std::io::Write;
use std::ops::Range;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of a ring (a power of two): 1 MiB, velo's largest ring.
pub(crate) const RING_BYTES: usize = 1 << 20;

/// The most bytes one record may take; what the producer reserves.
pub(crate) const SLACK: usize = 4096;

const MASK: usize = RING_BYTES - 1;

/// The worker's buffer: velo's, 64 KiB.
pub(crate) const BUFFER: usize = 64 * 1024;

/// How long the worker sleeps after a small pass: velo's poll interval.
const POLL_INTERVAL: Duration = Duration::from_micros(50);

/// A value alone on its cache lines (two, for the adjacent-line
/// prefetcher).
#[repr(align(128))]
#[derive(Debug, Default)]
struct Padded<T>(T);

/// The producer's own view of the ring, and what its thread keeps for
/// formatting.
#[derive(Debug)]
pub(crate) struct Producer {
    /// `head` as published.
    head: usize,
    /// `tail` as last read.
    tail: usize,
    /// The thread's cached timestamp prefix (for callers that format).
    pub(crate) clock: SecondCache,
}

/// One thread's ring.
pub(crate) struct Ring {
    head: Padded<AtomicUsize>,
    tail: Padded<AtomicUsize>,
    producer: Padded<UnsafeCell<Producer>>,
    /// The producing thread has exited: once drained, the ring goes.
    orphaned: AtomicBool,
    /// Records whose producer found the ring full and waited.
    waits: AtomicU64,
    /// `RING_BYTES + SLACK` bytes.
    buf: NonNull<u8>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("head", &self.head.0)
            .field("tail", &self.tail.0)
            .finish_non_exhaustive()
    }
}

// SAFETY: the bytes are shared by the protocol in the module docs (the
// producer writes only reserved, unpublished bytes; the worker reads only
// published, unreleased ones); `producer` is touched by the producing
// thread only (see `Ring::write`).
unsafe impl Send for Ring {}
// SAFETY: as for `Send`.
unsafe impl Sync for Ring {}

impl Ring {
    fn new() -> Ring {
        let mut bytes = vec![0u8; RING_BYTES + SLACK].into_boxed_slice();
        // Touch every page now, so no page fault lands in a measurement.
        for page in bytes.chunks_mut(4096) {
            // SAFETY: `page` is a valid, non-empty, exclusively borrowed
            // slice.
            unsafe { std::ptr::write_volatile(page.as_mut_ptr(), 1) };
        }
        let buf = NonNull::from(Box::leak(bytes)).cast::<u8>();
        Ring {
            head: Padded::default(),
            tail: Padded::default(),
            producer: Padded(UnsafeCell::new(Producer {
                head: 0,
                tail: 0,
                clock: SecondCache::new(),
            })),
            orphaned: AtomicBool::new(false),
            waits: AtomicU64::new(0),
            buf,
        }
    }

    /// Writes one record: `fill` gets [`SLACK`] contiguous bytes and this
    /// thread's [`Producer`] state, and returns how many bytes it used,
    /// which are then published. Waits while the ring is full.
    ///
    /// # Safety
    ///
    /// Only the ring's one producer, the thread that registered it, calls
    /// this, and not re-entrantly (not from inside `fill`).
    #[inline]
    pub(crate) unsafe fn write(&self, fill: impl FnOnce(&mut [u8], &mut Producer) -> usize) {
        // SAFETY: only the producing thread touches `producer`, and not
        // re-entrantly (the caller's obligation).
        let p = unsafe { &mut *self.producer.0.get() };
        if p.head + SLACK - p.tail > RING_BYTES {
            self.wait_for_room(p);
        }
        let at = p.head & MASK;
        // SAFETY: `at + SLACK` is within the allocation (`at < RING_BYTES`),
        // and the worker reads none of these bytes until `head` passes them
        // (see "Why the reservation..." in the module docs).
        let slot = unsafe { std::slice::from_raw_parts_mut(self.buf.as_ptr().add(at), SLACK) };
        let used = fill(slot, p);
        assert!(used <= SLACK, "a record larger than its reservation");
        if at + used > RING_BYTES {
            self.mirror(at + used - RING_BYTES);
        }
        p.head += used;
        // Release: the record's bytes are visible to the worker's Acquire
        // load of `head`.
        self.head.0.store(p.head, Ordering::Release);
    }

    /// Copies the first `len` bytes of the slack to the start of the ring.
    #[cold]
    fn mirror(&self, len: usize) {
        // SAFETY: both ranges lie in the allocation (`len < SLACK`), do not
        // overlap (`len < RING_BYTES`), and are reserved by the producer
        // (the start of the ring holds the same positions, modulo
        // `RING_BYTES`, as the slack bytes).
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.buf.as_ptr().add(RING_BYTES),
                self.buf.as_ptr(),
                len,
            );
        }
    }

    #[cold]
    fn wait_for_room(&self, p: &mut Producer) {
        // Acquire: the worker is done with the bytes before `tail`.
        p.tail = self.tail.0.load(Ordering::Acquire);
        if p.head + SLACK - p.tail <= RING_BYTES {
            return;
        }
        self.waits.fetch_add(1, Ordering::Relaxed);
        let mut spins = 0u32;
        loop {
            // Acquire: the worker is done with the bytes before `tail`.
            p.tail = self.tail.0.load(Ordering::Acquire);
            if p.head + SLACK - p.tail <= RING_BYTES {
                return;
            }
            if spins < 64 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// The positions the worker may read now.
    ///
    /// # Safety
    ///
    /// Only the worker calls this, [`Ring::bytes`] and [`Ring::release`].
    pub(crate) unsafe fn readable(&self) -> Range<usize> {
        // Relaxed: only the worker stores `tail`.
        let tail = self.tail.0.load(Ordering::Relaxed);
        // Acquire: pairs with the producer's Release store.
        let head = self.head.0.load(Ordering::Acquire);
        tail..head
    }

    /// `len` bytes from position `at`, contiguous in memory (running into
    /// the slack when they cross the end of the ring).
    ///
    /// # Safety
    ///
    /// Only the worker calls this, with `at..at + len` inside the last
    /// [`Ring::readable`] and not yet released, and `len` no more than
    /// `RING_BYTES + SLACK - at % RING_BYTES` (a record's length, or a
    /// run that stops at the end of the ring).
    pub(crate) unsafe fn bytes(&self, at: usize, len: usize) -> &[u8] {
        let at = at & MASK;
        debug_assert!(at + len <= RING_BYTES + SLACK);
        // SAFETY: in the allocation (the caller's bound); published and not
        // released, so the producer does not write them (the module docs).
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().add(at), len) }
    }

    /// Hands the bytes before position `to` back to the producer.
    pub(crate) fn release(&self, to: usize) {
        // Release: the reads of those bytes happen before the producer's
        // Acquire load that lets it reuse them.
        self.tail.0.store(to, Ordering::Release);
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let bytes = std::ptr::slice_from_raw_parts_mut(self.buf.as_ptr(), RING_BYTES + SLACK);
        // SAFETY: `buf` came from `Box::leak` of a slice of this length, and
        // nothing else holds it (the ring is being dropped).
        drop(unsafe { Box::from_raw(bytes) });
    }
}

/// Lines formatted into a 64 KiB buffer, written out whenever it fills
/// and at every flush: velo's `Stream`.
pub(crate) struct LineBuffer {
    /// Formatted lines not written out yet.
    pub(crate) buf: Vec<u8>,
    out: Box<dyn Write + Send>,
}

impl LineBuffer {
    fn new(out: Box<dyn Write + Send>) -> LineBuffer {
        LineBuffer {
            // Room for a buffer's worth plus the longest line, so the
            // vector never grows.
            buf: Vec::with_capacity(BUFFER + 2 * SLACK),
            out,
        }
    }

    /// After a line was appended to `buf`: writes the buffer out if full.
    #[inline]
    pub(crate) fn line_done(&mut self) {
        if self.buf.len() >= BUFFER {
            self.write_out();
        }
    }

    /// Appends formatted bytes, writing out each full buffer.
    pub(crate) fn extend(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let n = (BUFFER - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.line_done();
        }
    }

    fn write_out(&mut self) {
        self.out.write_all(&self.buf).expect("baseline write");
        self.buf.clear();
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.write_out();
        }
        self.out.flush().expect("baseline flush");
    }
}

/// What the worker does with a ring's bytes.
pub(crate) trait Drain: Send + 'static {
    /// Moves every record readable in `ring` into `out` and releases it;
    /// returns the ring bytes consumed.
    fn drain(&mut self, ring: &Ring, out: &mut LineBuffer) -> usize;
}

/// What callers and the worker share.
#[derive(Debug, Default)]
struct Shared {
    rings: Mutex<Vec<Arc<Ring>>>,
    stop: AtomicBool,
    /// Syncs asked for, and the last one done (tickets).
    sync_asked: AtomicU64,
    sync_done: AtomicU64,
    /// Records whose producer found its ring full and waited.
    waits: AtomicU64,
}

/// A logger of the ring design: per-thread rings and one worker.
#[derive(Debug)]
pub(crate) struct Pipeline {
    /// Names this pipeline's ring in each thread's list.
    id: u64,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

/// This thread's rings, by pipeline id. At thread exit they are marked
/// orphaned: the worker drains, then drops them.
struct Rings(RefCell<Vec<(u64, Arc<Ring>)>>);

impl Drop for Rings {
    fn drop(&mut self) {
        for (_, ring) in self.0.get_mut().drain(..) {
            // Release: the thread's records are visible to the worker that
            // sees the flag.
            ring.orphaned.store(true, Ordering::Release);
        }
    }
}

thread_local! {
    static RINGS: Rings = const { Rings(RefCell::new(Vec::new())) };
}

impl Pipeline {
    /// Starts the worker, draining with `drain` into `out`.
    pub(crate) fn start(out: Box<dyn Write + Send>, mut drain: impl Drain) -> Pipeline {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let shared = Arc::new(Shared::default());
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("ring baseline worker".into())
                .spawn(move || {
                    let mut out = LineBuffer::new(out);
                    loop {
                        // Acquire: pairs with `sync`'s increment and
                        // `finish`'s store, so this pass sees what those
                        // threads wrote before.
                        let asked = shared.sync_asked.load(Ordering::Acquire);
                        let stop = shared.stop.load(Ordering::Acquire);
                        let drained = pass(&shared, &mut drain, &mut out);
                        out.flush();
                        shared.sync_done.fetch_max(asked, Ordering::Release);
                        if stop {
                            return;
                        }
                        if drained < BUFFER {
                            std::thread::sleep(POLL_INTERVAL);
                        }
                    }
                })
                .expect("spawn baseline worker")
        };
        Pipeline {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shared,
            worker: Some(worker),
        }
    }

    /// Writes one record into this thread's ring (see [`Ring::write`]).
    #[inline]
    pub(crate) fn write(&self, fill: impl FnOnce(&mut [u8], &mut Producer) -> usize) {
        let mut fill = Some(fill);
        let written = RINGS.try_with(|rings| {
            let rings = rings.0.borrow();
            let Some((_, ring)) = rings.iter().find(|(id, _)| *id == self.id) else {
                return false;
            };
            let fill = fill.take().expect("called once");
            // SAFETY: a ring in this thread's list is written by this
            // thread only; `fill` formats values and does not log.
            unsafe { ring.write(fill) };
            true
        });
        if written != Ok(true) {
            if let Some(fill) = fill {
                self.write_registering(fill);
            }
        }
    }

    /// The first record of a thread: registers its ring.
    #[cold]
    fn write_registering(&self, fill: impl FnOnce(&mut [u8], &mut Producer) -> usize) {
        let ring = Arc::new(Ring::new());
        self.shared
            .rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&ring));
        let kept = RINGS.try_with(|rings| rings.0.borrow_mut().push((self.id, Arc::clone(&ring))));
        // SAFETY: the ring is new and this thread's: no other producer.
        unsafe { ring.write(fill) };
        if kept.is_err() {
            // The thread is exiting: this is its only record here.
            ring.orphaned.store(true, Ordering::Release);
        }
    }

    /// Records so far whose producer found its ring full and waited.
    pub(crate) fn waits(&self) -> u64 {
        self.shared.waits.load(Ordering::Relaxed)
            + self
                .shared
                .rings
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|r| r.waits.load(Ordering::Relaxed))
                .sum::<u64>()
    }

    /// Waits until the worker wrote out everything written before.
    pub(crate) fn sync(&self) {
        // AcqRel: this thread's records are visible to the worker once it
        // reads the ticket.
        let ticket = self.shared.sync_asked.fetch_add(1, Ordering::AcqRel) + 1;
        while self.shared.sync_done.load(Ordering::Acquire) < ticket {
            std::thread::sleep(Duration::from_micros(20));
        }
    }
}

impl Drop for Pipeline {
    /// Stops the worker after a last pass, and waits for it.
    fn drop(&mut self) {
        // Release: everything written before is visible to the last pass.
        self.shared.stop.store(true, Ordering::Release);
        if let Some(worker) = self.worker.take() {
            worker.join().expect("baseline worker");
        }
    }
}

/// One pass over every ring; returns the bytes consumed.
fn pass(shared: &Shared, drain: &mut impl Drain, out: &mut LineBuffer) -> usize {
    let mut rings = shared.rings.lock().unwrap_or_else(PoisonError::into_inner);
    let mut drained = 0;
    let mut i = 0;
    while i < rings.len() {
        // Acquire: pairs with the store at thread exit, so the drain below
        // sees the thread's last records.
        let orphaned = rings[i].orphaned.load(Ordering::Acquire);
        drained += drain.drain(&rings[i], out);
        if orphaned {
            let ring = rings.swap_remove(i);
            shared
                .waits
                .fetch_add(ring.waits.load(Ordering::Relaxed), Ordering::Relaxed);
        } else {
            i += 1;
        }
    }
    drained
}
