//! The pipeline behind a logger: queue, background worker, and the sink.
//!
//! Entries arrive as encoded buffers on a bounded queue. The worker waits
//! until the queue (or its control channel) is ready, polling for a while
//! before it parks (see `Core::wait`), then, holding the sink lock, drains
//! every ready entry into a 64 KiB `BufWriter` and flushes when the queue
//! runs empty, so an idle logger holds nothing unwritten.
//!
//! Entries are only ever taken off the queue under the sink lock, by the
//! worker or by a caller that writes synchronously (the `Sync` overflow
//! strategy, logging after `close`). That is what keeps each thread's entries
//! in order: whoever holds the lock writes everything queued before its own.
//!
//! Closing sets `STOPPED` and asks the worker to drain, flush and exit. A
//! caller that enqueued while that happened reads the state after a `SeqCst`
//! fence and, if stopped, drains the queue itself; the worker sets `STOPPED`
//! and fences before its final drain, so every entry is written by one side
//! or the other. An idle worker parks by the same kind of handshake (see
//! `PARKED`). `tests/loom_close.rs` checks both with loom.

use crate::buffer::Pool;
use crate::config::Overflow;
use crate::error::{Error, ErrorKind};
use crate::time::Timestamp;
use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError};
use std::cell::Cell;
use std::io::{self, BufWriter, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
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

#[derive(Debug)]
struct Queue {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
    ctl_tx: Sender<Control>,
    ctl_rx: Receiver<Control>,
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
}

impl Sink {
    fn write(&mut self, bytes: &[u8], stats: &Counters) {
        let out = &mut self.out;
        match guarded(|| out.write_all(bytes)) {
            Ok(()) => {
                inc(&stats.written);
                stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) => self.fail(e, stats),
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
            eprintln!("velo: writing log output failed: {text}");
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
    pub(crate) pool: Pool,
    pub(crate) stats: Counters,
    sink: Mutex<Sink>,
    queue: Option<Queue>,
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
            .field("asynchronous", &self.queue.is_some())
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
        let queue = capacity.map(|cap| {
            let (tx, rx) = crossbeam_channel::bounded(cap);
            let (ctl_tx, ctl_rx) = crossbeam_channel::unbounded();
            Queue {
                tx,
                rx,
                ctl_tx,
                ctl_rx,
            }
        });
        let core = Arc::new(Core {
            config,
            // Enough idle buffers for a full queue plus the ones in flight.
            pool: Pool::new(capacity.unwrap_or(16).saturating_add(64)),
            stats: Counters::default(),
            sink: Mutex::new(Sink {
                out: BufWriter::with_capacity(WRITE_BUFFER_SIZE, writer),
                pending_error: None,
                last_reported: None,
                reported_drops: 0,
            }),
            queue,
            state: AtomicU32::new(0),
            worker_done: AtomicBool::new(false),
            worker: Mutex::new(None),
            worker_thread: OnceLock::new(),
        });
        if core.queue.is_some() {
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
    /// from inside the writer).
    fn lock_sink(&self) -> Option<SinkGuard<'_>> {
        if IN_SINK.get() {
            return None;
        }
        let guard = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        IN_SINK.set(true);
        Some(SinkGuard(guard))
    }

    /// Hands an encoded entry to the pipeline.
    pub(crate) fn submit(&self, buf: Vec<u8>) {
        let Some(queue) = &self.queue else {
            return self.write_now(buf);
        };
        // Relaxed: a stale value is caught by the check after the fence.
        if self.state.load(Ordering::Relaxed) & STOPPED != 0 {
            return self.write_now(buf);
        }
        let queued = match self.config.overflow {
            Overflow::Sync => match queue.tx.try_send(buf) {
                Ok(()) => true,
                Err(TrySendError::Full(buf) | TrySendError::Disconnected(buf)) => {
                    inc(&self.stats.sync_fallbacks);
                    self.write_now(buf);
                    false
                }
            },
            Overflow::Drop => match queue.tx.try_send(buf) {
                Ok(()) => true,
                Err(e) => {
                    inc(&self.stats.dropped);
                    self.pool.give(e.into_inner());
                    false
                }
            },
            Overflow::Block => match queue.tx.try_send(buf) {
                Ok(()) => true,
                Err(TrySendError::Full(buf) | TrySendError::Disconnected(buf)) => {
                    self.send_blocking(queue, buf)
                }
            },
        };
        if queued {
            self.after_enqueue();
        }
    }

    /// The caller's half of the two handshakes with the worker, after an
    /// entry is in the queue.
    ///
    /// The worker sets [`STOPPED`] (before its final drain) or [`PARKED`]
    /// (before its last look at the queue), then fences, then looks at the
    /// queue; this side enqueues, fences, then reads the state. Of two such
    /// store-fence-load sequences at least one sees the other's store, so
    /// either the worker sees the entry, or this thread sees the flag and
    /// drains the queue itself (after a close) or unparks the worker.
    #[inline]
    fn after_enqueue(&self) {
        fence(Ordering::SeqCst);
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

    #[cold]
    fn send_blocking(&self, queue: &Queue, mut buf: Vec<u8>) -> bool {
        loop {
            match queue.tx.send_timeout(buf, Duration::from_millis(1)) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(b) | SendTimeoutError::Disconnected(b)) => {
                    // Waiting on the worker from the worker's own thread, or
                    // after it stopped, would never end.
                    if IN_SINK.get() || self.is_stopped() {
                        self.write_now(b);
                        return false;
                    }
                    buf = b;
                }
            }
        }
    }

    /// Writes an entry on this thread, after everything queued before it.
    #[cold]
    fn write_now(&self, buf: Vec<u8>) {
        match self.lock_sink() {
            Some(mut sink) => {
                self.drain_locked(&mut sink);
                sink.write(&buf, &self.stats);
                // The worker flushes whatever it drains; if nothing is left
                // for it, this thread must flush.
                let idle = self.queue.as_ref().is_none_or(|q| q.rx.is_empty()) || self.is_stopped();
                if idle {
                    sink.flush(&self.stats);
                }
            }
            // Re-entered from inside the writer: queue it if there is room,
            // else it cannot be written without deadlocking.
            None => {
                let rejected = match &self.queue {
                    Some(q) => q.tx.try_send(buf).err().map(TrySendError::into_inner),
                    None => Some(buf),
                };
                match rejected {
                    Some(buf) => {
                        inc(&self.stats.dropped);
                        self.pool.give(buf);
                    }
                    None => self.after_enqueue(),
                }
                return;
            }
        }
        self.pool.give(buf);
    }

    /// Drains and flushes on this thread.
    fn write_pending(&self) {
        if let Some(mut sink) = self.lock_sink() {
            self.drain_locked(&mut sink);
            sink.flush(&self.stats);
        }
    }

    /// Writes every queued entry; the caller holds the sink lock.
    fn drain_locked(&self, sink: &mut Sink) {
        if let Some(queue) = &self.queue {
            while let Ok(buf) = queue.rx.try_recv() {
                inc(&self.stats.dequeued);
                sink.write(&buf, &self.stats);
                self.pool.give(buf);
            }
        }
        self.report_drops(sink);
    }

    /// Writes one warning entry for entries dropped since the last one.
    fn report_drops(&self, sink: &mut Sink) {
        let dropped = self.stats.dropped.load(Ordering::Relaxed);
        if dropped > sink.reported_drops {
            let entry = crate::entry::dropped_warning(self, dropped - sink.reported_drops);
            sink.reported_drops = dropped;
            sink.write(&entry, &self.stats);
            self.pool.give(entry);
        }
    }

    /// Waits until the queue or the control channel has something.
    ///
    /// A parked worker must be woken by the caller that enqueues next, and on
    /// a busy logger that hand-off (a wake-up per entry, and the worker
    /// chasing every send) costs more than encoding. So after the queue runs
    /// dry the worker first polls, sleeping [`POLL_INTERVAL`] between looks:
    /// callers then enqueue without waking anyone and the worker takes whole
    /// batches. Only after polling for [`POLL_FOR`] does it park, by the
    /// handshake described at [`Core::after_enqueue`]; the first caller
    /// after that writes its entry itself (see [`PARKED`]), at most once per
    /// idle spell.
    fn wait(&self, queue: &Queue) {
        let ready = || !queue.rx.is_empty() || !queue.ctl_rx.is_empty();
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
            // SeqCst: pairs with the fence in `after_enqueue`.
            fence(Ordering::SeqCst);
            if ready() {
                break;
            }
            std::thread::park_timeout(PARK_TIMEOUT);
        }
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
    }

    /// The worker thread's loop.
    fn run(&self) {
        let queue = self.queue.as_ref().expect("a worker has a queue");
        let _ = self.worker_thread.set(std::thread::current());
        loop {
            self.wait(queue);
            if let Some(mut sink) = self.lock_sink() {
                self.drain_locked(&mut sink);
                sink.flush(&self.stats);
            }
            while let Ok(control) = queue.ctl_rx.try_recv() {
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
                        fence(Ordering::SeqCst);
                        self.write_pending();
                        self.worker_done.store(true, Ordering::SeqCst);
                        // Answer syncs that raced with the close.
                        while let Ok(Control::Sync(ack)) = queue.ctl_rx.try_recv() {
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
        if let Some(queue) = &self.queue {
            if !self.worker_done.load(Ordering::SeqCst) {
                let (tx, rx) = crossbeam_channel::bounded(1);
                if queue.ctl_tx.send(Control::Sync(tx)).is_ok() {
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
        let Some(queue) = &self.queue else {
            self.write_pending();
            return;
        };
        if self.state.fetch_or(STOPPED, Ordering::SeqCst) & STOPPED == 0 {
            let _ = queue.ctl_tx.send(Control::Close);
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

    /// Entries accepted into the queue so far.
    pub(crate) fn enqueued(&self) -> u64 {
        let waiting = self.queue.as_ref().map_or(0, |q| q.rx.len() as u64);
        self.stats.dequeued.load(Ordering::Relaxed) + waiting
    }

    /// Whether `close` has been called.
    pub(crate) fn is_stopped(&self) -> bool {
        self.state.load(Ordering::Relaxed) & STOPPED != 0
    }
}
