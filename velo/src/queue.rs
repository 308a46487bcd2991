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
use crate::ring::{self, Cut, Ring};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many rings of one logger may be at their largest size at once: the
/// bytes rings grow by come from a budget of this many times the growth of
/// one ring, so a burst on hundreds of threads cannot grow them all. A
/// thread whose ring cannot grow applies the overflow strategy.
pub(crate) const GROWN_RINGS: usize = 8;

/// What [`Queue::drain`] passes on, in order.
#[derive(Debug)]
pub(crate) enum Drained<'a> {
    /// A pass starts; this many threads had entries queued as it started.
    Start(usize),
    /// Published bytes of the current ring. The callback returns how many
    /// entries they completed (`0` if it does not count: see
    /// `Ring::drain_to`), and must be done with them when it returns.
    Bytes(&'a [u8]),
    /// The current ring's bytes are all passed on.
    RingEnd,
    /// The current thread's rings are all passed on.
    ThreadEnd,
}

/// A ring's extent and state as a pass began (see [`Queue::drain`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    cut: Cut,
    /// The ring was sealed or orphaned: this pass takes its last entries.
    last: bool,
    /// The ring was sealed: its successor follows.
    sealed: bool,
}

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
    /// Entries published into rings no longer in the list (replaced by
    /// their successors, or freed after their thread exited). Changed only
    /// with the list, under its lock, so that list and count are read
    /// together ([`Queue::enqueued`]).
    retired: AtomicU64,
    /// Entries thrown away in a forked child ([`Queue::discard`]): the
    /// parent's, which this process neither writes nor drops.
    discarded: AtomicU64,
    /// Whether the logger's callers format their own lines while the
    /// worker is behind (see `caller_format`): only then do drains note
    /// their rings' backlog.
    #[cfg_attr(loom, allow(dead_code))]
    callers_format: bool,
}

impl Queue {
    /// The queue of the logger core `id`, whose threads' rings hold
    /// `entries` each; with `callers_format`, its drains mark rings the
    /// worker is behind on (see `Ring::worker_behind`).
    pub(crate) fn new(id: u64, entries: usize, callers_format: bool) -> Queue {
        let max_ring_bytes = ring::max_bytes_for(entries);
        let start = ring::start_bytes_for(max_ring_bytes);
        Queue {
            id,
            rings: Mutex::new(Arc::new(Vec::new())),
            max_ring_bytes,
            ring_entries: entries,
            budget: AtomicUsize::new((max_ring_bytes - start).saturating_mul(GROWN_RINGS)),
            retired: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            callers_format,
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
        if capacity >= self.max_ring_bytes || (len <= capacity && old.is_full_of_entries()) {
            // A larger ring would not hold more entries, and this one
            // takes the entry once it has room: the thread's queue is
            // full. (An entry too large for this ring still moves the
            // thread to a larger one, which takes it once the entries
            // before it are drained.)
            return false;
        }
        let size = (capacity * 2)
            .max(len.next_power_of_two())
            .min(self.max_ring_bytes);
        let grown = size - self.start_bytes();
        if !self.reserve(grown) {
            return false;
        }
        let next = Arc::new(Ring::following(size, self.ring_entries, old.queued()));
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

    /// Entries in the rings that the worker has not taken yet (those a pass
    /// under way took count as taken): for what `close` at exit leaves
    /// behind.
    pub(crate) fn unwritten(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter_map(|ring| chain(ring).last())
            .map(|ring| ring.queued())
            .sum()
    }

    /// Entries accepted into the rings so far, drained or not: every ring's
    /// count of what it was given, those of the list and those it had
    /// before, read under the list's lock so that no ring is counted twice
    /// or missed as it leaves the list. It only ever grows.
    pub(crate) fn enqueued(&self) -> u64 {
        let rings = fork::lock(&self.rings);
        let live: u64 = rings
            .iter()
            .flat_map(chain)
            .map(|ring| ring.produced())
            .sum();
        // Relaxed: written only under the lock held here (`retired`), or
        // before any thread of this process logs (`discarded`).
        (live + self.retired.load(Ordering::Relaxed))
            .saturating_sub(self.discarded.load(Ordering::Relaxed))
    }

    /// Passes the bytes published in every ring when the call began to
    /// `write`, thread by thread: first [`Drained::Start`] with how many
    /// threads have entries among them, then for each ring its bytes in
    /// slices (a record may run across several; each slice is freed once `write`
    /// returns, see `Ring::drain_to`) and
    /// [`Drained::RingEnd`], and after a thread's last ring
    /// [`Drained::ThreadEnd`]. Follows sealed
    /// rings to their successors (the same thread's later entries) and
    /// frees the rings of exited threads.
    ///
    /// Every ring's extent is read first, within nanoseconds, and only that
    /// is drained: what a thread publishes while the others' entries are
    /// written waits for the next pass, so no entry of this pass was
    /// handed over after one of the next (see `merge`). `cuts` is scratch
    /// space, kept by the caller so a pass allocates nothing.
    ///
    /// # Safety
    ///
    /// One consumer at a time: the caller holds the logger's output lock,
    /// which every drain of this queue runs under.
    pub(crate) unsafe fn drain(
        &self,
        cuts: &mut Vec<Seen>,
        mut write: impl FnMut(Drained<'_>) -> u64,
    ) {
        let mut rings = self.snapshot();
        let mut busy = Self::cut(&rings, cuts);
        // A thread that registered its ring between the snapshot and the
        // cut (a thread's first entry) logged before entries of other
        // threads the cut took, if they waited for it (joined it): the
        // cut is taken again with its ring, so that its entry is not
        // written a pass after theirs. A ring registered after the list is
        // seen unchanged below was registered after the cut, and its
        // entries are dated after everything the cut took.
        for _ in 0..4 {
            let now = self.snapshot();
            if Arc::ptr_eq(&now, &rings) {
                break;
            }
            rings = now;
            busy = Self::cut(&rings, cuts);
        }
        write(Drained::Start(busy));
        let mut changed = false;
        let mut seen = cuts.iter();
        for ring in rings.iter() {
            let mut ring = Arc::clone(ring);
            // The same rings as above, in the same order: a successor
            // once set stays.
            for &Seen { cut, last, sealed } in seen.by_ref() {
                // Not under loom: a hint that orders nothing, and states
                // more for the models to explore.
                #[cfg(not(loom))]
                if self.callers_format {
                    // SAFETY: as below.
                    unsafe { ring.note_backlog(cut) };
                }
                // SAFETY: the caller holds the output lock, as it did when
                // it took the cut (the contract).
                unsafe { ring.drain_to(cut, |bytes| write(Drained::Bytes(bytes))) };
                // The end of a ring's bytes ends any record split across
                // its wrap.
                write(Drained::RingEnd);
                changed |= last;
                match ring.successor().filter(|_| sealed) {
                    Some(next) => ring = next,
                    None => break,
                }
            }
            write(Drained::ThreadEnd);
        }
        if changed {
            self.tidy();
        }
    }

    /// Reads the extent of every ring into `cuts`; returns how many threads
    /// have entries in them. Read again when the reads were far apart (this
    /// thread preempted in between, say), as the rings read first would
    /// then miss what the others hold.
    fn cut(rings: &[Arc<Ring>], cuts: &mut Vec<Seen>) -> usize {
        /// Reads this far apart are read again (a few times at most).
        const SPREAD: Duration = Duration::from_micros(20);
        let mut busy = 0;
        for _ in 0..4 {
            let start = Instant::now();
            cuts.clear();
            busy = 0;
            for ring in rings {
                let mut ring = Arc::clone(ring);
                let mut pending = false;
                loop {
                    // Read before the extent: once either is seen, the
                    // extent holds the ring's last entries.
                    let successor = ring.successor();
                    let orphaned = ring.is_orphaned();
                    let cut = ring.cut();
                    pending |= ring.has_pending_in(cut);
                    cuts.push(Seen {
                        cut,
                        last: orphaned || successor.is_some(),
                        sealed: successor.is_some(),
                    });
                    match successor {
                        Some(next) => ring = next,
                        None => break,
                    }
                }
                busy += usize::from(pending);
            }
            if busy < 2 || start.elapsed() < SPREAD {
                break;
            }
        }
        busy
    }

    /// Replaces drained sealed rings by their successors and frees the
    /// drained rings of exited threads, giving back what they grew by.
    #[cold]
    fn tidy(&self) {
        let start = self.start_bytes();
        let mut freed = 0;
        let mut retired = 0;
        self.edit(|list| {
            let mut out = Vec::with_capacity(list.len());
            for ring in list.drain(..) {
                let mut ring = ring;
                while let (Some(next), false) = (ring.successor(), ring.has_pending()) {
                    freed += ring.capacity().saturating_sub(start);
                    retired += ring.produced();
                    ring = next;
                }
                if ring.is_orphaned() && !ring.has_pending() && ring.successor().is_none() {
                    freed += ring.capacity().saturating_sub(start);
                    retired += ring.produced();
                    continue;
                }
                out.push(ring);
            }
            *list = out;
            // Under the list's lock, with the list (see `retired`).
            self.retired.fetch_add(retired, Ordering::Relaxed);
        });
        self.release(freed);
    }

    /// Throws away every queued entry: in a child process after `fork`.
    ///
    /// # Safety
    ///
    /// As for [`Queue::drain`].
    pub(crate) unsafe fn discard(&self) {
        let mut discarded = 0;
        for ring in self.snapshot().iter().flat_map(chain) {
            // SAFETY: forwarded.
            discarded += unsafe { ring.discard() };
        }
        self.discarded.fetch_add(discarded, Ordering::Relaxed);
    }

    /// Frees the storage of every ring: the logger is gone.
    ///
    /// # Safety
    ///
    /// No one can push into or drain these rings any more.
    pub(crate) unsafe fn retire(&self) {
        for ring in self.snapshot().iter().flat_map(chain) {
            // SAFETY: forwarded.
            unsafe { ring.retire() };
        }
    }
}

/// `ring` and the rings its thread moved on to, oldest first. (Where the
/// successor must be read before something else of the ring, as when a
/// pass takes its cuts, the loop is written out.)
fn chain(ring: &Arc<Ring>) -> impl Iterator<Item = Arc<Ring>> {
    std::iter::successors(Some(Arc::clone(ring)), |ring| ring.successor())
}
