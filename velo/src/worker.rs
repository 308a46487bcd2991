//! The pipeline behind a logger: queue, background worker, and the sink.
//!
//! Each logging thread copies its encoded entries into its own ring (see
//! `ring.rs`); the logger's queue is the set of those rings. The worker
//! waits until a ring (or its control channel) has something, polling for a
//! while before it parks (see `Core::wait`), then, holding the sink lock,
//! drains every ring into a 64 KiB `BufWriter` and flushes when they run
//! empty, so an idle logger holds nothing unwritten.
//!
//! Rings are only ever drained under the sink lock, by the worker or by a
//! caller that writes synchronously (the `Sync` overflow strategy, logging
//! after `close`). That is what keeps each thread's entries in order:
//! whoever holds the lock writes everything queued before its own.
//!
//! Closing sets `STOPPED` and asks the worker to drain, flush and exit. A
//! caller that enqueued while that happened reads the state after a barrier
//! and, if stopped, drains the rings itself; the worker sets `STOPPED` and
//! passes a barrier before its final drain, so every entry is written by
//! one side or the other. An idle worker parks by the same kind of
//! handshake (see `PARKED`). The barriers are `SeqCst` fences on both sides,
//! or, where Linux offers `membarrier(2)`, a compiler fence on the caller's
//! side and a process-wide barrier on the worker's (see `barrier.rs`).
//! `tests/loom_close.rs` checks both handshakes with loom (with fences), and
//! `ring.rs` checks the rings.

use crate::barrier;
use crate::buffer::{self, Unpushed};
use crate::config::Overflow;
use crate::error::{Error, ErrorKind};
use crate::ring::{self, Ring};
use crate::time::Timestamp;
use crossbeam_channel::{Receiver, Sender};
use std::cell::Cell;
use std::io::{self, BufWriter, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

/// Size of the buffered writer between the worker and the output.
pub(crate) const WRITE_BUFFER_SIZE: usize = 64 * 1024;

/// How long an idle worker sleeps between looks at the queue; bounds the
/// delay before an entry reaches the writer while the worker polls.
const POLL_INTERVAL: Duration = Duration::from_micros(50);

/// How long an idle worker polls before it parks. Bursts a few
/// milliseconds apart find it polling, so their callers pay nothing.
const POLL_FOR: Duration = Duration::from_millis(10);

/// `Core::state` bit: `close` was called; entries are written synchronously.
const STOPPED: u32 = 1;
/// `Core::state` bit: the worker is parked (or about to park). The first
/// caller to enqueue after that clears it, writes what is queued itself and
/// unparks the worker: waking a parked thread can take milliseconds (an idle
/// virtual CPU is descheduled by its host), and an entry logged by an idle
/// program must not wait for that.
const PARKED: u32 = 2;

/// How long a parked worker sleeps before looking again on its own. The
/// protocol never needs it (every enqueue that finds `PARKED` unparks); it
/// bounds the damage of a missed wake-up.
const PARK_TIMEOUT: Duration = Duration::from_secs(1);

/// How a logger's entries look; fixed when it is built.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Text format instead of JSON.
    pub text: bool,
    /// ANSI colours (text format on a terminal only).
    pub color: bool,
    pub timestamp: Timestamp,
    pub caller: bool,
    pub overflow: Overflow,
}

/// Counters behind [`crate::Stats`]. Callers touch them only on slow paths
/// (overflow, errors); entries taken off the queue are counted by whoever
/// drains, under the sink lock, so the fast path shares no counter.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Entries taken off the queue; plus those still in it, the entries
    /// accepted into it.
    pub dequeued: AtomicU64,
    pub written: AtomicU64,
    pub dropped: AtomicU64,
    pub bytes: AtomicU64,
    pub write_errors: AtomicU64,
    pub sync_fallbacks: AtomicU64,
}

fn inc(counter: &AtomicU64) {
    // Relaxed: statistics only, read without synchronisation.
    counter.fetch_add(1, Ordering::Relaxed);
}

enum Control {
    /// Drain, flush, and answer with the pending write error.
    Sync(Sender<Result<(), Error>>),
    /// Drain, flush and exit.
    Close,
}

/// The asynchronous side of a logger: the rings of the threads that log to
/// it, and the worker's control channel.
#[derive(Debug)]
struct Pipe {
    /// Every ring of this logger, in registration order.
    rings: Mutex<Vec<Arc<Ring>>>,
    /// Bumped on every change to `rings`, so a sink's copy of the list is
    /// refreshed only when it changed.
    generation: AtomicU64,
    /// The most bytes a ring grows to.
    max_ring_bytes: usize,
    /// The most entries a ring holds: the logger's `buffer_size`.
    ring_entries: usize,
    ctl_tx: Sender<Control>,
    ctl_rx: Receiver<Control>,
}

impl Pipe {
    fn rings(&self) -> MutexGuard<'_, Vec<Arc<Ring>>> {
        self.rings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The size rings start at.
    fn start_ring_bytes(&self) -> usize {
        ring::start_bytes_for(self.max_ring_bytes)
    }

    /// Whether any ring holds unwritten entries.
    fn has_pending(&self) -> bool {
        self.rings().iter().any(|ring| ring.has_pending())
    }
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Control::Sync(_) => "Sync",
            Control::Close => "Close",
        })
    }
}

/// The output side: the buffered writer and error bookkeeping.
struct Sink {
    out: BufWriter<Box<dyn Write + Send>>,
    /// The last write error, returned by the next `sync`.
    pending_error: Option<Error>,
    /// The text of the last error reported on stderr, so identical
    /// consecutive errors are reported once.
    last_reported: Option<String>,
    /// `dropped` count already announced by a warning entry.
    reported_drops: u64,
    /// The logger's rings as of `generation`, so draining does not hold the
    /// list's lock while writing.
    rings: Vec<Arc<Ring>>,
    generation: u64,
    /// Bytes rings may still grow by, all together (see [`GROWN_RINGS`]).
    grow_budget: usize,
}

/// How many rings of one logger may be at their largest size at once: the
/// bytes rings grow by come from a budget of this many times the growth of
/// one ring, so a burst on hundreds of threads cannot grow them all. A
/// thread whose ring cannot grow applies the overflow strategy.
const GROWN_RINGS: usize = 8;

impl Sink {
    /// Writes one entry.
    fn write(&mut self, bytes: &[u8], stats: &Counters) {
        if self.write_bytes(bytes, stats) {
            inc(&stats.written);
        }
    }

    /// Writes part of the output; `false` on an error (already recorded).
    fn write_bytes(&mut self, bytes: &[u8], stats: &Counters) -> bool {
        let out = &mut self.out;
        match guarded(|| out.write_all(bytes)) {
            Ok(()) => {
                stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.fail(e, stats);
                false
            }
        }
    }

    fn flush(&mut self, stats: &Counters) {
        let out = &mut self.out;
        match guarded(|| out.flush()) {
            Ok(()) => self.last_reported = None,
            Err(e) => self.fail(e, stats),
        }
    }

    fn fail(&mut self, e: io::Error, stats: &Counters) {
        inc(&stats.write_errors);
        let text = e.to_string();
        if self.last_reported.as_deref() != Some(text.as_str()) {
            // Not `eprintln!`, which panics when stderr is gone.
            let _ = writeln!(io::stderr(), "velo: writing log output failed: {text}");
            self.last_reported = Some(text);
        }
        self.pending_error = Some(Error::io(ErrorKind::Write, "writing log output failed", e));
    }
}

/// Runs a call into the user's writer, turning a panic into an error so the
/// worker survives a writer that panics.
fn guarded(f: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(io::Error::other("the log writer panicked")))
}

thread_local! {
    /// Set while this thread holds a sink lock: logging from inside the
    /// writer must not take the lock again.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

struct SinkGuard<'a>(MutexGuard<'a, Sink>);

impl Drop for SinkGuard<'_> {
    fn drop(&mut self) {
        IN_SINK.set(false);
    }
}

impl std::ops::Deref for SinkGuard<'_> {
    type Target = Sink;
    fn deref(&self) -> &Sink {
        &self.0
    }
}

impl std::ops::DerefMut for SinkGuard<'_> {
    fn deref_mut(&mut self) -> &mut Sink {
        &mut self.0
    }
}

/// Everything a logger's handles and its worker share.
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) stats: Counters,
    /// Unique among all cores ever made: names this core's rings in each
    /// thread's list.
    id: u64,
    sink: Mutex<Sink>,
    pipe: Option<Pipe>,
    /// [`STOPPED`] and [`PARKED`]: one word, so a caller learns both with
    /// the one load after its fence.
    state: AtomicU32,
    /// Set by the worker when it has exited.
    worker_done: AtomicBool,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// The worker thread, to unpark it; set by the worker itself before it
    /// can first park.
    worker_thread: OnceLock<Thread>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("config", &self.config)
            .field("asynchronous", &self.pipe.is_some())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Live cores, for `velo::sync()` and `velo::close()`.
static CORES: Mutex<Vec<Weak<Core>>> = Mutex::new(Vec::new());

/// Every live core.
pub(crate) fn live_cores() -> Vec<Arc<Core>> {
    let mut cores = CORES.lock().unwrap_or_else(PoisonError::into_inner);
    cores.retain(|w| w.strong_count() > 0);
    cores.iter().filter_map(Weak::upgrade).collect()
}

impl Core {
    /// Builds a core; with `capacity`, spawns its worker.
    pub(crate) fn start(
        config: Config,
        writer: Box<dyn Write + Send>,
        capacity: Option<usize>,
    ) -> io::Result<Arc<Core>> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let pipe = capacity.map(|entries| {
            let (ctl_tx, ctl_rx) = crossbeam_channel::unbounded();
            Pipe {
                rings: Mutex::new(Vec::new()),
                generation: AtomicU64::new(0),
                max_ring_bytes: ring::max_bytes_for(entries),
                ring_entries: entries,
                ctl_tx,
                ctl_rx,
            }
        });
        let core = Arc::new(Core {
            config,
            stats: Counters::default(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            sink: Mutex::new(Sink {
                out: BufWriter::with_capacity(WRITE_BUFFER_SIZE, writer),
                pending_error: None,
                last_reported: None,
                reported_drops: 0,
                rings: Vec::new(),
                generation: 0,
                grow_budget: pipe.as_ref().map_or(0, |p| {
                    (p.max_ring_bytes - p.start_ring_bytes()).saturating_mul(GROWN_RINGS)
                }),
            }),
            pipe,
            state: AtomicU32::new(0),
            worker_done: AtomicBool::new(false),
            worker: Mutex::new(None),
            worker_thread: OnceLock::new(),
        });
        if core.pipe.is_some() {
            barrier::init();
            let worker_core = Arc::clone(&core);
            let handle = std::thread::Builder::new()
                .name("velo-worker".into())
                .spawn(move || worker_core.run())?;
            *core.worker.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
            crate::logger::close_at_exit();
        }
        let mut cores = CORES.lock().unwrap_or_else(PoisonError::into_inner);
        cores.retain(|w| w.strong_count() > 0);
        cores.push(Arc::downgrade(&core));
        Ok(core)
    }

    /// Locks the sink, or `None` when this thread already holds it (logging
    /// from inside the writer) or, without `wait`, when another thread does.
    fn lock_sink_with(&self, wait: bool) -> Option<SinkGuard<'_>> {
        if IN_SINK.get() {
            return None;
        }
        let guard = if wait {
            self.sink.lock().unwrap_or_else(PoisonError::into_inner)
        } else {
            match self.sink.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return None,
            }
        };
        IN_SINK.set(true);
        Some(SinkGuard(guard))
    }

    /// Locks the sink, or `None` when this thread already holds it.
    fn lock_sink(&self) -> Option<SinkGuard<'_>> {
        self.lock_sink_with(true)
    }

    /// The pipe, unless the logger writes synchronously (it has none, or
    /// `close` was called).
    #[inline]
    fn open_pipe(&self) -> Option<&Pipe> {
        // Relaxed: a stale value is caught by the check after the fence.
        let stopped = self.state.load(Ordering::Relaxed) & STOPPED != 0;
        self.pipe.as_ref().filter(|_| !stopped)
    }

    /// Hands an encoded entry to the pipeline, and its buffer back to this
    /// thread for the next entry.
    #[inline]
    pub(crate) fn submit(&self, buf: Vec<u8>) {
        let Some(pipe) = self.open_pipe() else {
            return self.write_owned(buf);
        };
        match buffer::push_and_keep(self.id, buf) {
            Ok(()) => self.after_enqueue(),
            Err((buf, unpushed)) => self.unpushed(pipe, buf, unpushed),
        }
    }

    /// An entry that is not in this thread's ring yet.
    #[cold]
    fn unpushed(&self, pipe: &Pipe, buf: Vec<u8>, unpushed: Unpushed) {
        match unpushed {
            Unpushed::Full => self.overflow(pipe, &buf),
            Unpushed::NoRing => self.register(pipe, &buf),
        }
        buffer::give(buf);
    }

    /// Gives this thread a ring for this logger; `false` when the thread is
    /// exiting and can have none.
    fn add_ring(&self, pipe: &Pipe) -> bool {
        buffer::register(self.id, || {
            let ring = Arc::new(Ring::new(pipe.start_ring_bytes(), pipe.ring_entries));
            let mut rings = pipe.rings();
            rings.push(Arc::clone(&ring));
            // Release: a sink that sees the new generation sees the ring.
            pipe.generation.fetch_add(1, Ordering::Release);
            ring
        })
    }

    /// Gives this thread a ring for this logger, then pushes `entry`.
    #[cold]
    fn register(&self, pipe: &Pipe, entry: &[u8]) {
        if !self.add_ring(pipe) {
            // The thread is exiting and has no ring any more.
            return self.write_now(entry);
        }
        match buffer::push(self.id, entry) {
            Ok(()) => self.after_enqueue(),
            Err(_) => self.overflow(pipe, entry),
        }
    }

    /// The ring has no room for `entry`: grow it if it may still grow, else
    /// apply the overflow strategy.
    #[cold]
    fn overflow(&self, pipe: &Pipe, entry: &[u8]) {
        if entry.len() > pipe.max_ring_bytes {
            // It would never fit; every strategy writes it on this thread
            // rather than wait forever or lose it.
            inc(&self.stats.sync_fallbacks);
            return self.write_now(entry);
        }
        if self.grow_and_push(pipe, entry) {
            return self.after_enqueue();
        }
        match self.config.overflow {
            Overflow::Sync => {
                inc(&self.stats.sync_fallbacks);
                self.write_now(entry);
            }
            Overflow::Drop => inc(&self.stats.dropped),
            Overflow::Block => self.push_blocking(entry),
        }
    }

    /// Grows this thread's ring, when it is below the largest size, and
    /// pushes `entry` into it; `false` when the ring may not grow (or the
    /// sink lock is out of reach: held by this thread, or by another under
    /// `Overflow::Drop`, which never waits for it).
    ///
    /// A ring fills when its thread logs faster than the worker drains
    /// between two looks, so the ring grows until it holds what the thread
    /// logs in that time; threads that log little keep small rings. The
    /// storage is swapped under the sink lock with the ring just drained,
    /// as [`Ring::grow`] requires.
    fn grow_and_push(&self, pipe: &Pipe, entry: &[u8]) -> bool {
        let Some(capacity) = buffer::ring_capacity(self.id) else {
            return false;
        };
        if capacity >= pipe.max_ring_bytes {
            return false;
        }
        let size = (capacity * 2)
            .max(entry.len().next_power_of_two())
            .min(pipe.max_ring_bytes);
        // `Drop` never waits for the lock.
        let Some(mut sink) = self.lock_sink_with(self.config.overflow != Overflow::Drop) else {
            return false;
        };
        let Some(budget) = sink.grow_budget.checked_sub(size - capacity) else {
            return false;
        };
        self.drain_locked(&mut sink);
        // SAFETY: the sink lock is held. (If the writer logged into this
        // ring meanwhile, it is not empty and keeps its size this time.)
        if unsafe { buffer::grow_ring(self.id, size) } {
            sink.grow_budget = budget;
        }
        // The worker may be parked; what was drained must not wait for it.
        sink.flush(&self.stats);
        drop(sink);
        buffer::push(self.id, entry).is_ok()
    }

    /// Waits for room in this thread's ring, then pushes `entry`.
    fn push_blocking(&self, entry: &[u8]) {
        let mut spins = 0u32;
        loop {
            // Waiting on the worker from the worker's own thread (or from
            // inside the writer), or after it stopped or died, would never
            // end.
            if IN_SINK.get() || self.is_stopped() || self.worker_done.load(Ordering::Relaxed) {
                return self.write_now(entry);
            }
            if spins < 16 {
                spins += 1;
                std::thread::yield_now();
            } else {
                std::thread::sleep(POLL_INTERVAL);
            }
            match buffer::push(self.id, entry) {
                Ok(()) => return self.after_enqueue(),
                Err(Unpushed::Full) => {}
                Err(Unpushed::NoRing) => return self.write_now(entry),
            }
        }
    }

    /// The caller's half of the two handshakes with the worker, after an
    /// entry is in the ring.
    ///
    /// The worker sets [`STOPPED`] (before its final drain) or [`PARKED`]
    /// (before its last look at the rings), then fences, then looks at the
    /// rings; this side publishes, fences, then reads the state. Of two such
    /// store-fence-load sequences at least one sees the other's store, so
    /// either the worker sees the entry, or this thread sees the flag and
    /// drains the rings itself (after a close) or unparks the worker.
    #[inline]
    fn after_enqueue(&self) {
        // A full fence, or, where the worker can make every thread fence
        // from its side, a compiler fence (see `barrier.rs`).
        barrier::light();
        // Acquire: seeing `PARKED` makes the worker's `Thread` visible.
        let state = self.state.load(Ordering::Acquire);
        if state != 0 {
            self.on_state(state);
        }
    }

    #[cold]
    fn on_state(&self, state: u32) {
        if state & STOPPED != 0 {
            self.write_pending();
        } else if state & PARKED != 0
            && self.state.fetch_and(!PARKED, Ordering::AcqRel) & PARKED != 0
        {
            // Only the caller that cleared the flag writes; the others
            // enqueue as usual and the worker, once awake, drains them.
            self.write_pending();
            self.unpark_worker();
        }
    }

    fn unpark_worker(&self) {
        if let Some(thread) = self.worker_thread.get() {
            thread.unpark();
        }
    }

    /// [`Core::write_now`], then keeps the buffer for the next entry.
    #[cold]
    fn write_owned(&self, buf: Vec<u8>) {
        self.write_now(&buf);
        buffer::give(buf);
    }

    /// Writes an entry on this thread, after everything queued before it.
    #[cold]
    fn write_now(&self, entry: &[u8]) {
        let Some(mut sink) = self.lock_sink() else {
            // Re-entered from inside the writer: queue it if there is room,
            // else it cannot be written without deadlocking.
            return self.queue_reentrant(entry);
        };
        self.drain_locked(&mut sink);
        sink.write(entry, &self.stats);
        // The worker flushes whatever it drains; if nothing is left for it,
        // this thread must flush. (A ring registered since the drain
        // refreshed the list is the worker's to flush.)
        let idle = self.is_stopped() || !sink.rings.iter().any(|r| r.has_pending());
        if idle {
            sink.flush(&self.stats);
        }
    }

    /// Queues an entry logged from inside the writer, or drops it: it
    /// cannot be written here, and nothing here may wait.
    fn queue_reentrant(&self, entry: &[u8]) {
        let queued = self.pipe.as_ref().is_some_and(|pipe| {
            entry.len() <= pipe.max_ring_bytes
                && match buffer::push(self.id, entry) {
                    Err(Unpushed::NoRing) => {
                        self.add_ring(pipe) && buffer::push(self.id, entry).is_ok()
                    }
                    pushed => pushed.is_ok(),
                }
        });
        if queued {
            self.after_enqueue();
        } else {
            inc(&self.stats.dropped);
        }
    }

    /// Drains and flushes on this thread.
    fn write_pending(&self) {
        if let Some(mut sink) = self.lock_sink() {
            self.drain_locked(&mut sink);
            sink.flush(&self.stats);
        }
    }

    /// Writes every queued entry and returns how many bytes that was; the
    /// caller holds the sink lock.
    fn drain_locked(&self, sink: &mut Sink) -> usize {
        let mut drained = 0;
        if let Some(pipe) = &self.pipe {
            // Acquire: pairs with the bump in `register`.
            let generation = pipe.generation.load(Ordering::Acquire);
            if generation != sink.generation {
                let rings = pipe.rings();
                sink.rings.clone_from(&rings);
                sink.generation = generation;
            }
            let mut orphans = false;
            let (mut dequeued, mut written) = (0, 0);
            // By index, with a clone of each `Arc`: the list stays in the
            // sink even if the writer panics through here.
            for i in 0..sink.rings.len() {
                let ring = Arc::clone(&sink.rings[i]);
                // Read before draining: once the flag is seen, this drain
                // takes the ring's last entries.
                let orphaned = ring.is_orphaned();
                let mut ok = true;
                // SAFETY: the caller holds the sink lock, which every drain
                // of this logger's rings runs under.
                let entries = unsafe {
                    ring.drain(|bytes| {
                        drained += bytes.len();
                        ok &= sink.write_bytes(bytes, &self.stats);
                    })
                };
                dequeued += entries;
                if ok {
                    written += entries;
                }
                orphans |= orphaned;
            }
            if dequeued != 0 {
                self.stats.dequeued.fetch_add(dequeued, Ordering::Relaxed);
                self.stats.written.fetch_add(written, Ordering::Relaxed);
            }
            if orphans {
                self.forget_orphans(pipe, sink);
            }
        }
        self.report_drops(sink);
        drained
    }

    /// Frees the drained rings of threads that have exited.
    #[cold]
    fn forget_orphans(&self, pipe: &Pipe, sink: &mut Sink) {
        let mut rings = pipe.rings();
        rings.retain(|ring| {
            let keep = !ring.is_orphaned() || ring.has_pending();
            if !keep {
                // What it grew by goes back to the budget.
                sink.grow_budget += ring.capacity().saturating_sub(pipe.start_ring_bytes());
            }
            keep
        });
        sink.rings.clone_from(&rings);
        sink.generation = pipe.generation.fetch_add(1, Ordering::Release) + 1;
    }

    /// Writes one warning entry for entries dropped since the last one.
    fn report_drops(&self, sink: &mut Sink) {
        let dropped = self.stats.dropped.load(Ordering::Relaxed);
        if dropped > sink.reported_drops {
            let entry = crate::entry::dropped_warning(self, dropped - sink.reported_drops);
            sink.reported_drops = dropped;
            sink.write(&entry, &self.stats);
            buffer::give(entry);
        }
    }

    /// Waits until a ring or the control channel has something.
    ///
    /// A parked worker must be woken by the caller that enqueues next, and on
    /// a busy logger that hand-off (a wake-up per entry, and the worker
    /// chasing every entry) costs more than encoding. So after the rings run
    /// dry the worker first polls, sleeping [`POLL_INTERVAL`] between looks:
    /// callers then enqueue without waking anyone and the worker takes whole
    /// batches. Only after polling for [`POLL_FOR`] does it park, by the
    /// handshake described at [`Core::after_enqueue`]; the first caller
    /// after that writes its entry itself (see [`PARKED`]), at most once per
    /// idle spell.
    ///
    /// With `pause` (the last round found less than a buffer's worth),
    /// the worker first lets entries accumulate for one interval: draining
    /// as fast as a thread logs would pull every cache line of its ring
    /// across cores while it is being written, which costs the logging
    /// thread more than the copy it saves. A `sync` or `close` cuts the
    /// pause short by unparking the worker.
    fn wait(&self, pipe: &Pipe, pause: bool) {
        let ready = || pipe.has_pending() || !pipe.ctl_rx.is_empty();
        if pause {
            std::thread::park_timeout(POLL_INTERVAL);
        }
        let start = std::time::Instant::now();
        loop {
            if ready() {
                return;
            }
            if start.elapsed() >= POLL_FOR {
                break;
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        loop {
            // Re-armed on every round: a caller may have cleared it.
            self.state.fetch_or(PARKED, Ordering::SeqCst);
            // Pairs with the barrier in `after_enqueue`. A ring
            // registered after the scan below was registered after this
            // thread's store, through the list's lock, so its producer sees
            // `PARKED`.
            let reliable = barrier::heavy();
            if ready() {
                break;
            }
            std::thread::park_timeout(if reliable {
                PARK_TIMEOUT
            } else {
                POLL_INTERVAL
            });
        }
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
    }

    /// The worker thread's loop.
    fn run(&self) {
        /// Marks the worker done however it ends, so `sync` never waits for
        /// a worker that died (a panic that escaped the writer's guard).
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _done = Done(&self.worker_done);
        let pipe = self.pipe.as_ref().expect("a worker has a pipe");
        let _ = self.worker_thread.set(std::thread::current());
        let mut pause = false;
        loop {
            self.wait(pipe, pause);
            if let Some(mut sink) = self.lock_sink() {
                let drained = self.drain_locked(&mut sink);
                sink.flush(&self.stats);
                pause = drained < WRITE_BUFFER_SIZE;
            }
            while let Ok(control) = pipe.ctl_rx.try_recv() {
                match control {
                    Control::Sync(ack) => {
                        let result = self.lock_sink().map_or(Ok(()), |mut sink| {
                            self.drain_locked(&mut sink);
                            sink.flush(&self.stats);
                            sink.pending_error.take().map_or(Ok(()), Err)
                        });
                        let _ = ack.send(result);
                    }
                    Control::Close => {
                        // Set `STOPPED` (already set by `close`; setting it
                        // here makes the handshake of `after_enqueue` local
                        // to this thread), fence, then drain for the last
                        // time.
                        self.state.fetch_or(STOPPED, Ordering::SeqCst);
                        // If the barrier failed, entries it should have
                        // caught are drained by `close` after the join.
                        barrier::heavy();
                        self.write_pending();
                        self.worker_done.store(true, Ordering::SeqCst);
                        // Answer syncs that raced with the close.
                        while let Ok(Control::Sync(ack)) = pipe.ctl_rx.try_recv() {
                            let _ = ack.send(Ok(()));
                        }
                        return;
                    }
                }
            }
        }
    }

    /// Waits until everything submitted before the call is written and
    /// flushed; returns the last write error since the previous sync.
    pub(crate) fn sync(&self) -> Result<(), Error> {
        if IN_SINK.get() {
            // Called from inside the writer: the lock is ours already.
            return Ok(());
        }
        if let Some(pipe) = &self.pipe {
            if !self.worker_done.load(Ordering::SeqCst) {
                let (tx, rx) = crossbeam_channel::bounded(1);
                if pipe.ctl_tx.send(Control::Sync(tx)).is_ok() {
                    self.unpark_worker();
                    loop {
                        match rx.recv_timeout(Duration::from_millis(10)) {
                            Ok(result) => return result,
                            Err(_) if self.worker_done.load(Ordering::SeqCst) => break,
                            Err(_) => {}
                        }
                    }
                }
            }
        }
        let Some(mut sink) = self.lock_sink() else {
            return Ok(());
        };
        self.drain_locked(&mut sink);
        sink.flush(&self.stats);
        sink.pending_error.take().map_or(Ok(()), Err)
    }

    /// Flushes and stops the worker; later entries are written synchronously.
    /// Idempotent and safe from any thread.
    pub(crate) fn close(&self) {
        let Some(pipe) = &self.pipe else {
            self.write_pending();
            return;
        };
        if self.state.fetch_or(STOPPED, Ordering::SeqCst) & STOPPED == 0 {
            let _ = pipe.ctl_tx.send(Control::Close);
            self.unpark_worker();
        }
        if IN_SINK.get() {
            // On the worker's thread (or inside the writer): it cannot wait
            // for itself; the worker drains once it returns to its loop.
            return;
        }
        // Holding the lock while joining makes a concurrent `close` wait
        // until the output is flushed.
        let mut worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = worker.take() {
            if handle.thread().id() == std::thread::current().id() {
                *worker = Some(handle);
                return;
            }
            let _ = handle.join();
        }
        drop(worker);
        // Entries that raced with the worker's final drain.
        self.write_pending();
    }

    /// Entries accepted into the rings so far.
    pub(crate) fn enqueued(&self) -> u64 {
        let waiting: u64 = self
            .pipe
            .as_ref()
            .map_or(0, |p| p.rings().iter().map(|r| r.queued()).sum());
        self.stats.dequeued.load(Ordering::Relaxed) + waiting
    }

    /// Whether `close` has been called.
    pub(crate) fn is_stopped(&self) -> bool {
        self.state.load(Ordering::Relaxed) & STOPPED != 0
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // The rings' storage goes now; the threads that logged here forget
        // the rings themselves when they next register one.
        if let Some(pipe) = &self.pipe {
            for ring in pipe.rings().iter() {
                // SAFETY: this core is being dropped, so no thread holds a
                // handle through which to push into or drain its rings (a
                // worker holds a handle too, and has exited).
                unsafe { ring.retire() };
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn core() -> Arc<Core> {
        core_with(64, Box::new(io::sink()))
    }

    fn core_with(entries: usize, writer: Box<dyn Write + Send>) -> Arc<Core> {
        let config = Config {
            text: false,
            color: false,
            timestamp: Timestamp::Off,
            caller: false,
            overflow: Overflow::Sync,
        };
        Core::start(config, writer, Some(entries)).unwrap()
    }

    #[test]
    fn rings_of_exited_threads_are_freed_once_drained() {
        let core = core();
        let rings = || core.pipe.as_ref().unwrap().rings().len();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| core.submit(b"{}\n".to_vec()));
            }
        });
        core.submit(b"{}\n".to_vec());
        // A scoped thread's TLS destructors (which orphan its rings) may run
        // after the scope has seen it finish; each sync frees what is
        // orphaned by then.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            core.sync().unwrap();
            if rings() == 1 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} rings left",
                rings()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(core.stats.written.load(Ordering::Relaxed), 5);
        core.close();
    }

    #[test]
    fn a_ring_that_fills_grows_and_keeps_order() {
        let out = Arc::new(Mutex::new(Vec::new()));
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let core = core_with(8192, Box::new(Shared(out.clone())));
        let pipe = core.pipe.as_ref().unwrap();
        let mut expected = Vec::new();
        // 4 MiB logged at once: far more than a 16 KiB ring holds while
        // the worker looks away.
        for i in 0..40_000u32 {
            let entry = format!("{i:0>98}\n");
            core.submit(entry.clone().into_bytes());
            expected.extend_from_slice(entry.as_bytes());
        }
        core.sync().unwrap();
        let capacity = buffer::ring_capacity(core.id).unwrap();
        assert!(
            capacity > pipe.start_ring_bytes() && capacity <= pipe.max_ring_bytes,
            "{capacity}"
        );
        assert_eq!(*out.lock().unwrap(), expected);
        core.close();
    }

    #[test]
    fn rings_grow_within_the_logger_budget() {
        let core = core_with(8192, Box::new(io::sink()));
        let pipe = core.pipe.as_ref().unwrap();
        const THREADS: usize = 16;
        let filled = std::sync::Barrier::new(THREADS + 1);
        let measured = std::sync::Barrier::new(THREADS + 1);
        let grown = std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    // 4 MiB each, as fast as it goes: every ring fills.
                    for _ in 0..40_000 {
                        core.submit(vec![b'x'; 100]);
                    }
                    filled.wait();
                    measured.wait();
                });
            }
            filled.wait();
            let grown: usize = pipe
                .rings()
                .iter()
                .map(|r| r.capacity() - pipe.start_ring_bytes())
                .sum();
            // Release the threads before asserting, or a failure would hang.
            measured.wait();
            grown
        });
        let budget = (pipe.max_ring_bytes - pipe.start_ring_bytes()) * GROWN_RINGS;
        assert!(grown <= budget, "{grown} > {budget}");
        core.sync().unwrap();
        assert_eq!(
            core.stats.written.load(Ordering::Relaxed),
            THREADS as u64 * 40_000
        );
        core.close();
    }

    #[test]
    fn a_thread_forgets_the_rings_of_dropped_loggers() {
        let first = core();
        first.submit(b"{}\n".to_vec());
        first.close();
        let ring = Arc::clone(&first.pipe.as_ref().unwrap().rings()[0]);
        drop(first);
        assert!(ring.is_retired());
        assert_eq!(ring.capacity(), 1, "the storage is freed with the logger");
        let second = core();
        second.submit(b"{}\n".to_vec());
        assert_eq!(Arc::strong_count(&ring), 1, "the thread let go of it");
        second.close();
    }
}
