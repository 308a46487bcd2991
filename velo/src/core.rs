//! What a logger's handles and its worker share: the queue, the output and
//! the worker, and the path an entry takes between them.
//!
//! A caller's record goes into its thread's ring ([`Core::submit`]); the
//! worker takes it from there. A caller writes to the output itself only
//! in the documented cases: its queue is full under `Overflow::Sync`, the
//! logger was closed, the logger has no worker (`asynchronous(false)`),
//! the entry is larger than the largest queue, or the thread is exiting and
//! can no longer have a queue.

use crate::caller_format;
use crate::clock;
use crate::error::{Error, ErrorKind};
use crate::fork;
use crate::line::LineFormat;
use crate::local::{self, Reserved, Unpushed};
use crate::options::{Config, Overflow, Style};
use crate::output::Output;
use crate::pause::pause;
use crate::queue::Queue;
use crate::record;
use crate::sink::{self, OutputLock, Report, Sink, SinkGuard, Wait, Waiting, Warnings};
use crate::stats::{self, Counters, Reason};
use crate::thread;
use crate::worker::{self, Job, Pass, Progress, Stalled, Waited, Worker};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Everything a logger's handles and its worker share.
pub(crate) struct Core {
    /// Unique among all cores ever made: names this core's rings in each
    /// thread's list.
    pub(crate) id: u64,
    pub(crate) config: Config,
    pub(crate) stats: Counters,
    /// The last write error, returned by the next `sync`.
    error: Mutex<Option<Error>>,
    output: OutputLock,
    /// The queue and the worker, for an asynchronous logger.
    pipe: Option<(Queue, Arc<Worker>)>,
    /// `sync` and `close` calls so far, and the count the last delivering
    /// pass served: a pass that finds them apart ends with
    /// `Output::deliver` (which may wait, bounded, for a network output)
    /// instead of a plain flush.
    deliveries: AtomicU64,
    delivered: AtomicU64,
    /// The worker's pass count when a `Block` wait last gave up on it
    /// (`u64::MAX`: none did): until the worker passes again, it is still
    /// stuck in the output, and a full queue drops at once instead of
    /// making every caller wait out the stall on its own.
    stuck_at: AtomicU64,
    /// This core, for starting a worker again after a fork.
    this: Weak<Core>,
    /// The style of the lines callers format themselves while the worker
    /// is behind (see `caller_format`); `None` when they never do: the
    /// logger has no worker, its output takes entries rather than lines
    /// (`Output::takes_lines`), or its lines are not the plain JSON ones
    /// callers format (`caller_format::formats`).
    caller_style: Option<Style>,
    /// For a logger without a queue: entries its writer logged to it from
    /// inside a write, which no queue can hold, written when that write
    /// ends (see [`Core::end_writing`]); at most [`REENTRANT_KEPT`].
    reentrant: Mutex<Vec<Vec<u8>>>,
    /// Whether `close` has been called: what a logger without a worker
    /// has of it (one with a worker asks the worker).
    closed: AtomicBool,
}

/// The most entries a writer of a logger without a queue may log to it
/// inside one write (see `Core::reentrant`); more are dropped, counted.
const REENTRANT_KEPT: usize = 64;

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("id", &self.id)
            .field("config", &self.config)
            .field("asynchronous", &self.pipe.is_some())
            .finish_non_exhaustive()
    }
}

/// Symbolises one backtrace, once per process, on a thread of its own. The
/// first backtrace symbolised in a process loads the program's debug
/// information: tens of milliseconds that would otherwise fall on the first
/// caller to log at a backtrace's level (and date its entry that much
/// late). Loaded now, it is kept for every later capture. On a thread of
/// its own, so that no logger's worker (nor its `sync` or `close`) waits
/// for it; under the fork lock, as every capture of velo's (see `fork.rs`).
fn warm_up_backtraces() {
    static WARM: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    fork::once(&WARM, || {
        // Best effort: without the thread, the first capture loads it.
        let _ = thread::spawn("velo-backtraces", || {
            fork::short(|| drop(std::backtrace::Backtrace::force_capture().to_string()));
        });
    });
}

/// How long a caller whose queue is full under `Overflow::Block` yields
/// its CPU between looks for room before it sleeps between them.
const BLOCK_YIELDING: Duration = Duration::from_micros(200);

/// How long a caller whose queue is full under `Overflow::Sync` waits for
/// the worker to make room before it writes the queue out itself.
const SYNC_PATIENCE: Duration = Duration::from_millis(1);

/// How many times a write on a caller's thread (a `sync`, a `close`, an
/// entry written after `close`) writes what the output's writer logged to
/// its own logger while the write ended (see [`Core::end_writing`]).
const REENTRANT_ROUNDS: usize = 8;

/// Live cores, for `velo::sync()`, `velo::close()` and fork.
static CORES: Mutex<Vec<Weak<Core>>> = Mutex::new(Vec::new());

/// Every live core.
pub(crate) fn live_cores() -> Vec<Arc<Core>> {
    let mut cores = fork::lock(&CORES);
    cores.retain(|w| w.strong_count() > 0);
    cores.iter().filter_map(Weak::upgrade).collect()
}

/// While one logger waits for its worker: notes where every worker is
/// (see `Worker::observe`), so that loggers stuck alike and waited for one
/// after the other cost one bounded wait in all.
fn observe_workers() {
    for core in live_cores() {
        if let Some((_, worker)) = &core.pipe {
            worker.observe();
        }
    }
}

/// How [`Core::write_pending`] ends, after draining.
#[derive(Clone, Copy)]
enum Then {
    /// A flush.
    Flush,
    /// The output's bounded delivery (`sync`; see `Output::deliver`).
    Deliver,
    /// Delivery, then giving up what the output could not deliver
    /// (`close`; see `Output::give_up`).
    GiveUp,
}

/// A [`Core::begin_sync`] under way: the worker's ticket, if it has one.
pub(crate) struct SyncStarted(Option<(u64, Progress)>);

impl Core {
    /// Builds a core; with `capacity`, spawns its worker.
    pub(crate) fn start(
        config: Config,
        style: Style,
        output: Box<dyn Output>,
        context: &[u8],
        capacity: Option<usize>,
    ) -> std::io::Result<Arc<Core>> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // The output's progress, which the worker's waits watch too.
        let beat = Arc::new(AtomicU64::new(0));
        let caller_style = (capacity.is_some() && output.takes_lines())
            .then_some(style)
            .filter(caller_format::formats);
        let core = Arc::new_cyclic(|this| Core {
            id,
            config,
            stats: Counters::default(),
            error: Mutex::new(None),
            output: OutputLock::new(
                id,
                Sink::new(output, LineFormat::new(style), context),
                Arc::clone(&beat),
            ),
            pipe: capacity.map(|entries| {
                let worker = Arc::new(Worker::with_beat(Arc::clone(&beat)));
                (Queue::new(id, entries, caller_style.is_some()), worker)
            }),
            this: Weak::clone(this),
            deliveries: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            stuck_at: AtomicU64::new(u64::MAX),
            caller_style,
            reentrant: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        });
        if let Some((_, worker)) = &core.pipe {
            worker.spawn(Arc::clone(&core) as Arc<dyn Job>)?;
        }
        if core.config.has_backtraces() {
            warm_up_backtraces();
        }
        fork::install(fork::Hooks { child: after_fork });
        let mut cores = fork::lock(&CORES);
        cores.retain(|w| w.strong_count() > 0);
        cores.push(Arc::downgrade(&core));
        Ok(core)
    }

    fn report(&self) -> Report<'_> {
        Report {
            stats: &self.stats,
            error: &self.error,
            beat: self.output.beat(),
        }
    }

    /// The queue and worker, unless the logger writes synchronously (it has
    /// none, or `close` was called).
    #[inline]
    fn open_pipe(&self) -> Option<(&Queue, &Worker)> {
        let (queue, worker) = self.pipe.as_ref()?;
        (worker.state() & worker::STOPPED == 0).then_some((queue, &**worker))
    }

    /// Hands a finished record to the pipeline, and its buffer back to this
    /// thread for the next entry.
    #[inline]
    pub(crate) fn submit(&self, buf: Vec<u8>) {
        let Some((queue, worker)) = self.open_pipe() else {
            return self.write_owned(buf);
        };
        match local::push_and_keep(self.id, buf, self.caller_style) {
            Ok(()) => self.after_enqueue(worker),
            Err((buf, unpushed)) => self.unpushed(queue, worker, buf, unpushed),
        }
    }

    /// Room in this thread's ring to write an entry in place (see
    /// `local::reserve`), while the logger is open.
    #[inline(always)]
    pub(crate) fn reserve(&self, min: usize) -> Option<(Reserved, bool)> {
        self.open_pipe()?;
        local::reserve(self.id, min)
    }

    /// Publishes the entry written in place in `reserved`: as its record,
    /// or, while the worker is behind, as its line (see `caller_format`).
    #[inline(always)]
    pub(crate) fn commit(&self, reserved: Reserved) {
        if reserved.worker_behind() {
            return self.commit_line(reserved);
        }
        self.commit_record(reserved);
    }

    /// [`Core::commit`] while the worker is behind, which only a logger
    /// whose callers format notes (see `Queue::new`).
    #[cold]
    #[inline(never)]
    fn commit_line(&self, reserved: Reserved) {
        local::commit_with(reserved, |slot| {
            if let Some(style) = self.caller_style {
                caller_format::rewrite(self.id, style, slot);
            }
        });
        self.committed();
    }

    /// Publishes the entry written in place in `reserved` as its record,
    /// with no look at whether the worker is behind: for an entry a caller
    /// never formats (one without values: see `caller_format`), or one
    /// [`Core::commit`] found it is not behind on.
    #[inline(always)]
    pub(crate) fn commit_record(&self, reserved: Reserved) {
        local::commit(reserved);
        self.committed();
    }

    /// An entry written in place was published ([`local::commit`]).
    #[inline]
    pub(crate) fn committed(&self) {
        if let Some((_, worker)) = &self.pipe {
            self.after_enqueue(worker);
        }
    }

    /// The caller's side of the handshakes with the worker (see
    /// `worker.rs`).
    #[inline]
    fn after_enqueue(&self, worker: &Worker) {
        let state = worker.state_after_enqueue();
        if state != 0 {
            self.on_state(worker, state);
        }
    }

    #[cold]
    fn on_state(&self, worker: &Worker, state: u32) {
        if state & worker::STOPPED != 0 {
            // Not busy: it writes, which may run the user's writer.
            // Closed while this entry was enqueued: the worker may have
            // made its last pass already.
            self.write_pending(Then::Flush);
        } else if state & worker::ORPHANED != 0 {
            local::while_busy(|| self.restart_worker());
        } else if state & worker::PARKED != 0 && local::while_busy(|| worker.wake_if_parked()) {
            // The woken worker is often queued on this thread's CPU (the
            // scheduler places a wakee near its waker); a caller that goes
            // on running would keep it waiting until the next tick (2-4 ms
            // here), so give it the CPU now. Only after an idle spell.
            std::thread::yield_now();
        }
    }

    /// Starts a worker again in a forked child.
    #[cold]
    fn restart_worker(&self) {
        let Some((_, worker)) = &self.pipe else {
            return;
        };
        if !worker.claim_orphan() {
            return;
        }
        let Some(this) = self.this.upgrade() else {
            return;
        };
        if worker.spawn(this as Arc<dyn Job>).is_err() {
            // No thread to be had: write synchronously from now on.
            let _ = worker.stop();
        }
    }

    /// An entry that is not in this thread's ring yet.
    #[cold]
    fn unpushed(&self, queue: &Queue, worker: &Worker, mut buf: Vec<u8>, unpushed: Unpushed) {
        match unpushed {
            Unpushed::NoRing => {
                if local::while_busy(|| queue.register()) {
                    match local::push(self.id, &mut buf) {
                        Ok(()) => self.after_enqueue(worker),
                        Err(Unpushed::Full) => self.overflow(queue, worker, &mut buf),
                        Err(_) => self.unqueueable(&mut buf),
                    }
                } else {
                    // The thread is exiting and has no ring any more.
                    self.unqueueable(&mut buf);
                }
            }
            Unpushed::Full => self.overflow(queue, worker, &mut buf),
            // Logged from a signal handler that interrupted this thread
            // inside velo: nothing here may allocate, wait or take a lock.
            Unpushed::Busy => self.stats.drop_for(Reason::Interrupted),
        }
        local::give(buf);
    }

    /// Whether an entry is logged from a signal handler that interrupted
    /// this thread inside velo: busy (see `local::while_busy`), or taking
    /// or letting go of this output's lock.
    fn interrupted_inside(&self) -> bool {
        local::is_busy() || local::is_acquiring(self.id)
    }

    /// An entry that cannot go into this thread's ring at all: written by
    /// the caller, unless that would deadlock.
    fn unqueueable(&self, entry: &mut [u8]) {
        self.write_now(entry, true);
    }

    /// The ring has no room for `entry`: move to a larger ring if it may
    /// still grow, else apply the overflow strategy.
    #[cold]
    fn overflow(&self, queue: &Queue, worker: &Worker, entry: &mut [u8]) {
        if self.interrupted_inside() {
            // Waiting for room would wait on the code the signal handler
            // interrupted, and each later signal would wait again.
            return self.stats.drop_for(Reason::Interrupted);
        }
        if entry.len() > queue.max_ring_bytes {
            // It would never fit; every strategy writes it on this thread
            // rather than wait forever or lose it.
            return self.unqueueable(entry);
        }
        if local::while_busy(|| queue.grow(entry.len())) && local::push(self.id, entry).is_ok() {
            return self.after_enqueue(worker);
        }
        if local::ring(self.id).is_some_and(|ring| ring.capacity() < entry.len()) {
            // Larger than this thread's ring, which may not grow: no room
            // for it will ever appear.
            return self.unqueueable(entry);
        }
        match self.config.overflow {
            Overflow::Sync => self.overflow_sync(worker, entry),
            // A `fatal` entry or a panic's: the last words, never dropped.
            Overflow::Drop if record::must_keep(entry) => self.overflow_sync(worker, entry),
            Overflow::Drop => stats::inc(&self.stats.dropped),
            Overflow::Block => self.push_blocking(worker, entry),
        }
    }

    /// `Overflow::Sync` with a full ring. While the worker makes progress,
    /// room is about to appear: the caller waits for it, for up to
    /// [`SYNC_PATIENCE`], rather than format everything queued itself,
    /// which would leave the worker idle and the two threads taking turns
    /// (a thread logging flat out then runs at the worker's pace, both
    /// cores busy). An idle worker (parked, or sleeping between its looks
    /// for work) is woken first, so that the wait is its wake-up, not the
    /// rest of its sleep: a small queue (`buffer_size(1)`) waited out the
    /// worker's poll interval on every entry. After [`SYNC_PATIENCE`], or
    /// when the worker is stopped or stuck, the caller drains and writes,
    /// as the strategy promises.
    fn overflow_sync(&self, worker: &Worker, entry: &mut [u8]) {
        let start = std::time::Instant::now();
        // A worker stuck in the output makes no room: no patience.
        while !self.output.is_stuck()
            && start.elapsed() < SYNC_PATIENCE
            && worker.is_running()
            && !worker.is_stopped()
            && !local::is_writing(self.id)
        {
            local::while_busy(|| worker.wake_if_idle());
            std::thread::yield_now();
            match local::push(self.id, entry) {
                Ok(()) => return self.after_enqueue(worker),
                Err(Unpushed::Full) => {}
                Err(_) => return self.unqueueable(entry),
            }
        }
        self.write_now(entry, true);
    }

    /// Waits for room in this thread's ring, then pushes `entry`.
    fn push_blocking(&self, worker: &Worker, entry: &mut [u8]) {
        // A thread inside another logger's output: its holder may be
        // waiting for this thread (see `sink::Waiting`).
        let _waiting = Waiting::start(self.id);
        let began = Instant::now();
        let mut progress = worker.progress();
        // Relaxed: a stale value costs one more wait or one drop more.
        if self.stuck_at.load(Ordering::Relaxed) == progress.passes() {
            // Given up on, and no pass since: the worker is still stuck.
            return self.stats.drop_for(Reason::Stuck);
        }
        loop {
            // Waiting on the worker from inside this logger's output, or
            // after it stopped or died, would never end; from inside a
            // later logger's output, it could wait for this thread.
            if worker.is_stopped() {
                // Closed while this thread waited: written as every entry
                // after `close` is, by its caller, and no fallback.
                return self.write_now(entry, false);
            }
            if local::is_writing(self.id)
                || local::holds_output_after(self.id)
                || !worker.is_running()
            {
                return self.write_now(entry, true);
            }
            // Yield first: a worker woken below drains within
            // microseconds, and a sleep (even of 50 us) ends only after the
            // system's timer slack and a wake-up of its own, which a small
            // queue (`buffer_size(1)`) would pay on every entry.
            if began.elapsed() < BLOCK_YIELDING {
                std::thread::yield_now();
            } else {
                pause(Duration::from_micros(50));
            }
            match local::push(self.id, entry) {
                Ok(()) => return self.after_enqueue(worker),
                Err(Unpushed::Full) => {}
                Err(_) => return self.unqueueable(entry),
            }
            local::while_busy(|| worker.wake_if_idle());
            if progress.stalled(worker) {
                // The worker is stuck in the output: waiting longer could
                // hang the program.
                self.stuck_at.store(progress.passes(), Ordering::Relaxed);
                return self.stats.drop_for(Reason::Stuck);
            }
        }
    }

    /// [`Core::write_now`], then keeps the buffer for the next entry.
    #[cold]
    fn write_owned(&self, mut buf: Vec<u8>) {
        if local::is_busy() {
            // From a signal handler that interrupted this thread inside
            // velo, which may hold the allocator's lock or this output's.
            self.stats.drop_for(Reason::Interrupted);
        } else {
            self.write_now(&mut buf, false);
        }
        local::give(buf);
    }

    /// Writes a record on this thread, after everything queued before it.
    #[cold]
    ///
    /// With `fallback` (its queue could not take it), an entry this thread
    /// writes counts in `sync_fallbacks`; one it queues or drops instead
    /// counts where it goes.
    fn write_now(&self, entry: &mut [u8], fallback: bool) {
        if self.output.is_lost() {
            return stats::inc(&self.stats.dropped);
        }
        if self.config.user_code && self.pipe.is_some() && local::in_panic_hook() {
            return self.queue_in_panic_hook(entry);
        }
        let Some(mut sink) = self.output.lock(Wait::Caller) else {
            // Refused for the exit (not from inside an output, this one's
            // or another's, whose holder this logger's worker may wait for).
            if sink::exit_forbids_writing() {
                return self.queue_at_exit(entry);
            }
            if self.output.is_stuck() {
                // This thread waited for the holder as long as a `sync`
                // would: the waits for the worker after it (a `close`,
                // the exit) give it a tenth of a second, as after a
                // `sync` that gave up.
                if let Some((_, worker)) = &self.pipe {
                    let since = Instant::now().checked_sub(sink::STUCK);
                    worker.gave_up(
                        worker.progress().passes(),
                        since.unwrap_or_else(Instant::now),
                    );
                }
            }
            // From inside this logger's output, or with the output stuck
            // (or held by a thread that waits for this one): queue it if
            // there is room, else it cannot be written without waiting for
            // good.
            return self.queue_reentrant(entry);
        };
        if fallback {
            stats::inc(&self.stats.sync_fallbacks);
        }
        let report = self.report();
        // Dated before the drain takes its cut, not after the drain: the
        // records it drains were published before the cut, so they are
        // older; those other threads publish while it drains come after
        // this entry in the output, and are newer. The drop warnings the
        // drain writes before it show its time too.
        let time = clock::read();
        record::set_time(entry, || time);
        // One converter for those warnings and this entry, however long
        // the drain takes: converted alike, they show the same time.
        sink.hold_clock(true);
        self.drain_locked_with(&mut sink, Warnings::At(time));
        sink.write_own(entry, &report);
        sink.hold_clock(false);
        self.end_writing(&mut sink, Then::Flush);
    }

    /// An entry velo's panic hook logs that this thread would write itself
    /// (its queue full past the `Sync` patience, the logger closed): the
    /// user's writer may not run there, as a panic inside a panic hook
    /// aborts the process. It waits for room while the worker runs, as
    /// under `Overflow::Block`; else no one but this thread would write
    /// it, and it is dropped, counted.
    #[cold]
    fn queue_in_panic_hook(&self, entry: &mut [u8]) {
        match &self.pipe {
            Some((_, worker))
                if worker.is_running()
                    && !worker.is_stopped()
                    && !local::is_writing(self.id)
                    && !local::holds_output_after(self.id) =>
            {
                self.push_blocking(worker, entry);
            }
            _ => self.stats.drop_for(Reason::PanicHook),
        }
    }

    /// Queues an entry that this thread may not write because another is
    /// running the process's exit: waits for room in this thread's ring
    /// while the worker drains (until it has made the last pass the exit's
    /// `close` asks for), and drops the entry, counted, only once no one
    /// will drain any more but that `close` (the worker gone or stuck). Dropping it while the worker still
    /// drains would let this thread's later entries be written after a gap.
    /// So what a thread logs as the process exits is written up to some
    /// entry, in order, and not after it (unless the output is stuck: the
    /// exit then gives up on what is queued, as `close` does). A thread
    /// inside an output does not come here: it may be what the worker
    /// waits for.
    #[cold]
    fn queue_at_exit(&self, entry: &mut [u8]) {
        let Some((queue, worker)) = &self.pipe else {
            return self.stats.drop_for(Reason::Exiting);
        };
        if entry.len() > queue.max_ring_bytes {
            return self.stats.drop_for(Reason::Exiting);
        }
        let mut progress = worker.progress();
        loop {
            match local::push(self.id, entry) {
                Ok(()) => return self.after_enqueue(worker),
                Err(Unpushed::Full) => {}
                Err(_) => return self.queue_reentrant(entry),
            }
            // A stopped worker still makes its last pass before it exits.
            if !worker.is_running() || self.output.is_stuck() {
                // Its last pass may have made room after the look above
                // (it stops running after it lets go of the ring).
                if local::push(self.id, entry).is_ok() {
                    return self.after_enqueue(worker);
                }
                return self.stats.drop_for(Reason::Exiting);
            }
            local::while_busy(|| worker.wake_if_parked());
            if progress.stalled(worker) {
                // The exit gives up on a stuck output.
                return self.stats.drop_for(Reason::Exiting);
            }
            pause(Duration::from_micros(50));
        }
    }

    /// Queues an entry that cannot be written here (logged from inside this
    /// logger's output, or with the output stuck), or drops it, counted:
    /// nothing here may wait.
    fn queue_reentrant(&self, entry: &mut [u8]) {
        // In the exit's handler this thread's thread-locals are gone; the
        // output lock still knows its holder.
        let inside = local::is_writing(self.id) || self.output.held_here();
        // The last round of a write that ends (see `end_writing`); at the
        // exit, with this thread's ring gone too, the exit's write is that
        // round (what it logs could be neither queued nor written).
        let last_round =
            local::drops_reentrant(self.id) || (self.pipe.is_some() && sink::this_thread_exits());
        if inside && last_round {
            // The writer's, unless a signal handler that interrupted velo
            // logged it (see below).
            return self.stats.drop_for(if local::in_output_user_code() {
                Reason::Inside
            } else {
                Reason::Interrupted
            });
        }
        let queued = match &self.pipe {
            Some((queue, _)) => {
                entry.len() <= queue.max_ring_bytes
                    && match local::push(self.id, entry) {
                        Err(Unpushed::NoRing) => {
                            local::while_busy(|| queue.register())
                                && local::push(self.id, entry).is_ok()
                        }
                        pushed => pushed.is_ok(),
                    }
            }
            // No queue: kept aside for the end of the write this thread is
            // inside (a panic hook's entry, logged from inside the writer
            // that panicked, among them).
            None => inside && self.keep_reentrant(entry),
        };
        // Inside the output but not in the user's code there: this entry
        // comes from a signal handler that interrupted velo's own code.
        let interrupted = if inside {
            !local::in_output_user_code()
        } else {
            self.interrupted_inside()
        };
        if !queued && interrupted {
            self.stats.drop_for(Reason::Interrupted);
        } else if !queued && !inside && self.output.is_stuck() {
            self.stats.drop_for(Reason::Stuck);
        } else if !queued && self.pipe.is_none() {
            // Not for want of room in a queue, which such a logger has not:
            // a warning must not say so.
            self.stats.drop_for(if inside {
                Reason::Inside
            } else {
                Reason::Stuck
            });
        } else if !queued {
            stats::inc(&self.stats.dropped);
        } else if inside {
            local::note_reentrant(self.id);
        }
    }

    /// Drains on this thread, then ends as `then` says. `false` when the
    /// output could not be taken (see [`OutputLock::lock`]): nothing was
    /// written.
    fn write_pending(&self, then: Then) -> bool {
        if self.config.user_code && local::in_panic_hook() {
            // See `queue_in_panic_hook`.
            return false;
        }
        // `close`'s goes before the threads writing their own entries.
        let wait = match then {
            Then::GiveUp => Wait::Closing,
            Then::Flush | Then::Deliver => Wait::Caller,
        };
        let Some(mut sink) = self.output.lock(wait) else {
            return false;
        };
        self.drain_locked(&mut sink);
        self.end_writing(&mut sink, then);
        true
    }

    /// Ends a write on this thread as `then` says.
    ///
    /// A writer that logs to its own logger queues what it logs in this
    /// thread's ring (see [`Core::queue_reentrant`]) for the worker, which
    /// may not follow (after `close`, at the exit). So while the writer
    /// logs, what is queued is drained and the write ended again, up to
    /// [`REENTRANT_ROUNDS`] times. A writer that logs whenever it writes
    /// never runs out of entries: unless the worker still runs, what it
    /// logs in the last round is dropped, counted. At the exit there is
    /// one round only (draining again would write other threads' entries
    /// queued after ones the exit dropped: see `queue_at_exit`), and none
    /// follows an output found stuck.
    fn end_writing(&self, sink: &mut SinkGuard<'_>, then: Then) {
        let report = self.report();
        let closing = matches!(then, Then::GiveUp);
        let exiting = sink::this_thread_exits();
        // The marks of outer writes (another logger's write in its last
        // round, whose writer began this one) stay while this one ends,
        // and are as they were after it.
        let outer = local::drop_marks();
        let no_drain_follows = closing
            || exiting
            || self
                .pipe
                .as_ref()
                .is_none_or(|(_, worker)| !worker.is_running());
        // What this thread queued earlier in this write counts too.
        for round in 1..=REENTRANT_ROUNDS {
            let last = round == REENTRANT_ROUNDS || exiting;
            if last && no_drain_follows {
                local::drop_reentrant(self.id);
                if self.pipe.is_none() {
                    // What the writer logged in the round before: written
                    // now, as no drain follows for a logger without a
                    // queue (what these writes log is dropped, counted).
                    self.drain_locked(sink);
                }
            }
            match then {
                Then::Flush => sink.flush(&report),
                Then::Deliver | Then::GiveUp => sink.deliver(&report),
            }
            if last || !local::take_reentrant(self.id) || self.output.is_stuck() {
                break;
            }
            self.drain_locked(sink);
        }
        if closing || exiting {
            // What the writer of a logger without a queue logged in the
            // last round stays unwritten: no later write will come for it.
            let left = std::mem::take(&mut *fork::lock(&self.reentrant)).len();
            for _ in 0..left {
                self.stats.drop_for(Reason::Inside);
            }
        }
        if closing {
            // No output's `give_up` runs the user's writer.
            sink.give_up(&report);
        }
        if closing || exiting {
            // No write follows to carry their warning into the output.
            sink.say_dropped_inside(&report);
        }
        local::restore_drops(outer);
    }

    /// Keeps `entry`, dated, for a logger without a queue (see
    /// [`Core::reentrant`]); `false` when it keeps as many already.
    #[cold]
    fn keep_reentrant(&self, entry: &mut [u8]) -> bool {
        // Busy: see `drain_locked_with`.
        local::while_busy(|| {
            let mut kept = fork::lock(&self.reentrant);
            if kept.len() >= REENTRANT_KEPT {
                return false;
            }
            clock::stamp(entry);
            kept.push(entry.to_vec());
            true
        })
    }

    /// Writes every queued entry, and the drop warnings due; the caller
    /// holds the output lock.
    fn drain_locked(&self, sink: &mut SinkGuard<'_>) -> usize {
        self.drain_locked_with(sink, Warnings::Now)
    }

    /// [`Core::drain_locked`], with the drop warnings written as `warnings`
    /// says.
    fn drain_locked_with(&self, sink: &mut SinkGuard<'_>, warnings: Warnings) -> usize {
        match &self.pipe {
            Some((queue, _)) => sink.drain(queue, &self.report(), warnings),
            None => {
                let report = self.report();
                // What the writer logged inside the write that ends (taken
                // out first: writing it may log more). Busy while the lock
                // is held and while the entries are freed: a signal handler
                // logging meanwhile drops its entry rather than wait for
                // this lock, or the allocator's, held by the code it
                // interrupted.
                let kept = local::while_busy(|| std::mem::take(&mut *fork::lock(&self.reentrant)));
                let written = kept.len();
                for entry in &kept {
                    sink.write_own(entry, &report);
                }
                local::while_busy(|| drop(kept));
                // Drops to announce as a drain would (an entry whose value
                // panicked).
                let time = match warnings {
                    Warnings::At(time) => time,
                    Warnings::Now | Warnings::Paced => clock::read(),
                };
                let _ = sink.announce_drops(&report, time);
                written
            }
        }
    }

    /// Waits until everything submitted before the call is written and
    /// flushed; returns the last write error since the previous sync.
    pub(crate) fn sync(&self) -> Result<(), Error> {
        let started = self.begin_sync();
        self.finish_sync(started)
    }

    /// The first half of [`Core::sync`]: asks the worker for a delivering
    /// pass, without waiting (see `Worker::begin_sync`). `None` from
    /// inside this logger's output, where waiting would be for itself.
    pub(crate) fn begin_sync(&self) -> Option<SyncStarted> {
        if local::is_writing(self.id) {
            return None;
        }
        // Before the worker's ticket: the pass that serves the ticket sees
        // it (see `Job::pass` below).
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        let ticket = self.pipe.as_ref().and_then(|(_, worker)| {
            if worker.state() & worker::ORPHANED != 0 {
                self.restart_worker();
            }
            worker.begin_sync()
        });
        Some(SyncStarted(ticket))
    }

    /// The second half of [`Core::sync`].
    pub(crate) fn finish_sync(&self, started: Option<SyncStarted>) -> Result<(), Error> {
        let Some(SyncStarted(ticket)) = started else {
            // From inside the output: the worker (or this very call's
            // caller) is busy writing.
            return self.take_error();
        };
        if let Some((_, worker)) = &self.pipe {
            let waited = self
                .wait_for_worker(|give_way| worker.finish_sync(ticket, &observe_workers, give_way));
            match waited {
                // `Later`: the pass comes once the output this thread is in
                // lets go.
                Ok(Waited::Done | Waited::Later) => return self.take_error(),
                Ok(Waited::Gone) => {}
                Err(Stalled) => {
                    self.output.mark_stuck();
                    return Err(stalled("sync"));
                }
            }
        }
        if !self.write_pending(Then::Deliver) && !self.output.is_lost() {
            // Held by a writer found stuck, or the process is exiting:
            // what is queued is not written, and `sync` must not say it
            // is. (A lost output says why through `take_error`.)
            return Err(unwritable("sync"));
        }
        self.take_error()
    }

    fn take_error(&self) -> Result<(), Error> {
        fork::lock(&self.error).take().map_or(Ok(()), Err)
    }

    /// Flushes and stops the worker; later entries are written
    /// synchronously. Idempotent and safe from any thread; waits for the
    /// worker at most while it makes progress (see `worker::STALL`).
    pub(crate) fn close(&self) {
        let started = self.begin_close();
        self.finish_close(started);
    }

    /// The first half of [`Core::close`]: tells the worker to stop, without
    /// waiting (see `Worker::begin_stop`).
    pub(crate) fn begin_close(&self) -> Option<Progress> {
        // The worker's last pass delivers (see `sync`).
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        self.closed.store(true, Ordering::Relaxed);
        self.output.closing();
        self.pipe.as_ref().map(|(_, worker)| worker.begin_stop())
    }

    /// The second half of [`Core::close`].
    pub(crate) fn finish_close(&self, started: Option<Progress>) {
        if local::is_writing(self.id) {
            // Inside this logger's output: the worker's last pass (or this
            // thread's own write, further up its stack) follows.
            return;
        }
        if let (Some((_, worker)), Some(from)) = (&self.pipe, started) {
            match self
                .wait_for_worker(|give_way| worker.finish_stop(from, &observe_workers, give_way))
            {
                Ok(Waited::Done | Waited::Gone) => {}
                // The last pass comes once the output this thread is in
                // lets go.
                Ok(Waited::Later) => return,
                Err(Stalled) => {
                    // The worker is stuck in the output; it finishes (or
                    // not) on its own. Writing here would wait for the same
                    // lock, and so would later callers.
                    self.output.mark_stuck();
                    if sink::this_thread_exits() {
                        self.say_lost_at_exit();
                    }
                    return;
                }
            }
        }
        // Entries that raced with the worker's last pass; then what the
        // output could not deliver is given up, and counted.
        self.write_pending(Then::GiveUp);
    }

    /// The exit gives up on an output stuck in a write: what is still
    /// queued for it is lost with the process, and said so on stderr (no
    /// warning entry could reach the log).
    #[cold]
    fn say_lost_at_exit(&self) {
        let Some((queue, _)) = &self.pipe else {
            return;
        };
        let n = queue.unwritten();
        if n != 0 {
            // Counted, for what reads the statistics at the exit after this
            // (an `atexit` handler): enqueued, and never to be written.
            self.stats.drop_many_for(Reason::Stuck, n);
            crate::stdio::say(format_args!(
                "the log output made no progress for {} s as the process exited: \
                 {} queued for it {} lost",
                worker::STALL.as_secs(),
                crate::escape::entries(n),
                if n == 1 { "is" } else { "are" }
            ));
        }
    }

    /// Runs `wait`, a wait for this logger's worker, recorded in the
    /// registry of waits between outputs (`sink::Waiting`), and handed what
    /// makes it give way: on a thread inside a later logger's output (see
    /// `local::holds_output_after`), this logger's worker may be waiting
    /// for that output in turn, in its own writer's `sync` or `close`; the
    /// wait then ends as soon as the registry shows it. Otherwise (and on
    /// any other thread) the wait is bounded by the worker's progress, as
    /// always; a cycle through three loggers' writers or more is not seen,
    /// and ends at that bound.
    fn wait_for_worker<R>(&self, wait: impl FnOnce(Option<&dyn Fn() -> bool>) -> R) -> R {
        let _waiting = Waiting::start(self.id);
        let cycle = || Waiting::is_cycle(self.id);
        wait(local::holds_output_after(self.id).then_some(&cycle as &dyn Fn() -> bool))
    }

    /// Reopens the output's file.
    pub(crate) fn reopen(&self) -> Result<(), Error> {
        let Some(mut sink) = self.output.lock(Wait::Caller) else {
            return Err(if local::is_writing(self.id) {
                Error::new(
                    ErrorKind::File,
                    "cannot reopen the log file from inside the logger's own output",
                )
            } else {
                unwritable("reopen")
            });
        };
        let report = self.report();
        self.drain_locked(&mut sink);
        sink.reopen(&report)
    }

    /// Entries accepted into the queue so far.
    pub(crate) fn enqueued(&self) -> u64 {
        self.pipe.as_ref().map_or(0, |(queue, _)| queue.enqueued())
    }

    /// Whether `close` has been called.
    pub(crate) fn is_stopped(&self) -> bool {
        match &self.pipe {
            Some((_, worker)) => worker.is_stopped(),
            None => self.closed.load(Ordering::Relaxed),
        }
    }

    /// In a forked child (see `fork.rs`): what was queued and buffered is
    /// the parent's; the worker thread does not exist here. Every lock but
    /// the output's is free (the fork handlers see to it).
    fn reset_in_child(&self) {
        self.output.forget_waiters();
        let Some((queue, worker)) = &self.pipe else {
            if let Some(mut sink) = self.output.lock_in_child() {
                sink.after_fork();
            } else {
                self.lost_in_fork();
            }
            return;
        };
        if local::is_writing(self.id) {
            // Forked from inside this logger's output: this thread holds
            // the output lock and is draining the queue further up its
            // stack, and goes on when `fork` returns.
            worker.forget_after_fork(false);
            return;
        }
        let sink = self.output.lock_in_child();
        // SAFETY: this is the only thread of the child, so no other
        // consumer drains (one that held the output lock in the parent does
        // not exist here).
        unsafe { queue.discard() };
        let lost = match sink {
            Some(mut sink) => {
                sink.after_fork();
                false
            }
            None => {
                self.lost_in_fork();
                true
            }
        };
        worker.forget_after_fork(lost);
    }

    /// In a forked child whose output was held by another thread at the
    /// fork: entries are dropped and counted from now on, and the next
    /// `sync` says why.
    fn lost_in_fork(&self) {
        *fork::lock(&self.error) = Some(Error::new(
            ErrorKind::Write,
            "the log output was lost in fork(): another thread was writing to it",
        ));
    }
}

impl worker::Job for Core {
    fn pass(&self) -> Pass {
        // Read before draining. SeqCst: a `sync` increments this before it
        // takes its ticket, and the worker reads the ticket (Acquire)
        // before this pass; so the pass that serves a ticket sees the
        // increment, and with it every entry the syncing thread queued.
        let asked = self.deliveries.load(Ordering::SeqCst);
        let Some(mut sink) = self.output.lock(Wait::Worker) else {
            return Pass::default();
        };
        // A flood of drops is announced once a second, not once a pass.
        let drained = self.drain_locked_with(&mut sink, Warnings::Paced);
        // Only the worker runs passes.
        if asked != self.delivered.load(Ordering::Relaxed) {
            sink.deliver(&self.report());
            self.delivered.store(asked, Ordering::Relaxed);
        } else {
            sink.flush(&self.report());
        }
        Pass {
            drained,
            retry_in: sink.retry_in(),
        }
    }

    fn idle(&self) {
        if let Some(mut sink) = self.output.lock(Wait::Free) {
            sink.idle(&self.report());
        }
    }

    fn has_work(&self) -> bool {
        self.pipe
            .as_ref()
            .is_some_and(|(queue, _)| queue.has_pending())
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // The rings' storage goes now; the threads that logged here forget
        // the rings themselves when they next register one.
        if let Some((queue, _)) = &self.pipe {
            // SAFETY: this core is being dropped, so no thread holds a
            // handle through which to push into or drain its rings (a
            // worker holds a handle too, and has exited).
            unsafe { queue.retire() };
        }
    }
}

/// The fork handler's child side: reset every live core.
fn after_fork() {
    // The fork locks are this thread's, and no other thread held the list.
    let cores: Vec<Arc<Core>> = fork::lock(&CORES)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for core in cores {
        core.reset_in_child();
    }
}

/// The output could not be taken by a caller: its holder is stuck in the
/// writer, or the process is exiting (see `OutputLock::lock`).
fn unwritable(what: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "velo {what}: the logger's output is held by a writer that made no progress \
             (or the process is exiting); what is queued was not written"
        ),
    )
}

fn stalled(what: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "velo {what}: the logger's output made no progress for {} s",
            worker::STALL.as_secs()
        ),
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::captured::Captured;
    use crate::options::Schema;
    use crate::output::Stream;
    use crate::timestamp::Timestamp;
    use std::io::{self, Write};

    fn core_with(entries: usize, writer: impl Write + Send + 'static) -> Arc<Core> {
        let config = Config::new(Overflow::Sync, false, false, None);
        let style = Style {
            text: true,
            color: false,
            timestamp: Timestamp::Off,
            local_time: None,
            caller: false,
            targets: false,
            schema: Schema::Velo,
        };
        Core::start(
            config,
            style,
            Box::new(Stream::new(Box::new(writer))),
            &[],
            Some(entries),
        )
        .unwrap()
    }

    /// An entry of velo's own with one string field, as the worker's tests
    /// need: the record of a `velo!(info, "m", v = text)`.
    fn record(text: &str) -> Vec<u8> {
        use crate::callsite::{internal_site, CallSite};
        static SITE: CallSite = internal_site!(Info, "m", ["v"]);
        let mut buf = Vec::new();
        crate::record::begin(&mut buf, crate::record::NO_TIME, SITE.level(), SITE.site());
        crate::value::Encoder::new(&mut buf).str(text);
        crate::record::finish(&mut buf);
        buf
    }

    fn rings(core: &Core) -> usize {
        core.pipe.as_ref().unwrap().0.snapshot().len()
    }

    #[test]
    fn rings_of_exited_threads_are_freed_once_drained() {
        let out = Captured::default();
        let core = core_with(64, out.clone());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| core.submit(record("x")));
            }
        });
        core.submit(record("x"));
        // A scoped thread's TLS destructors (which orphan its rings) may run
        // after the scope has seen it finish; each sync frees what is
        // orphaned by then.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            core.sync().unwrap();
            if rings(&core) == 1 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} rings left",
                rings(&core)
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(stats::get(&core.stats.written), 5);
        core.close();
    }

    #[test]
    fn a_ring_that_fills_grows_and_keeps_order() {
        let out = Captured::default();
        let core = core_with(8192, out.clone());
        let (queue, _) = core.pipe.as_ref().unwrap();
        let mut expected = String::new();
        // 4 MiB logged at once: far more than a 16 KiB ring holds while
        // the worker looks away.
        for i in 0..40_000u32 {
            let text = format!("v{i:0>97}");
            core.submit(record(&text));
            expected.push_str(&format!("INFO  m v={text}\n"));
        }
        core.sync().unwrap();
        let capacity = local::ring(core.id).unwrap().capacity();
        assert!(
            capacity > queue.start_bytes() && capacity <= queue.max_ring_bytes,
            "{capacity}"
        );
        assert_eq!(out.lines().join("\n") + "\n", expected);
        core.close();
    }

    #[test]
    fn rings_grow_within_the_logger_budget() {
        let core = core_with(8192, io::sink());
        let (queue, _) = core.pipe.as_ref().unwrap();
        const THREADS: usize = 16;
        let filled = std::sync::Barrier::new(THREADS + 1);
        let measured = std::sync::Barrier::new(THREADS + 1);
        let grown = std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    // 4 MiB each, as fast as it goes: every ring fills.
                    let entry = record(&"x".repeat(70));
                    for _ in 0..40_000 {
                        core.submit(entry.clone());
                    }
                    filled.wait();
                    measured.wait();
                });
            }
            filled.wait();
            let grown: usize = queue
                .snapshot()
                .iter()
                .map(|r| r.capacity() - queue.start_bytes())
                .sum();
            // Release the threads before asserting, or a failure would hang.
            measured.wait();
            grown
        });
        let budget = (queue.max_ring_bytes - queue.start_bytes()) * crate::queue::GROWN_RINGS;
        assert!(grown <= budget, "{grown} > {budget}");
        core.sync().unwrap();
        assert_eq!(stats::get(&core.stats.written), THREADS as u64 * 40_000);
        core.close();
    }

    #[test]
    fn a_thread_forgets_the_rings_of_dropped_loggers() {
        let first = core_with(64, io::sink());
        first.submit(record("x"));
        first.close();
        let ring = Arc::clone(&first.pipe.as_ref().unwrap().0.snapshot()[0]);
        drop(first);
        assert!(ring.is_retired());
        assert_eq!(ring.capacity(), 1, "the storage is freed with the logger");
        let second = core_with(64, io::sink());
        second.submit(record("x"));
        assert_eq!(Arc::strong_count(&ring), 1, "the thread let go of it");
        second.close();
    }

    #[test]
    fn a_parked_worker_is_woken_and_the_caller_does_not_write() {
        /// Records which thread wrote.
        #[derive(Clone, Default)]
        struct Who(Arc<Mutex<Vec<std::thread::ThreadId>>>);
        impl Write for Who {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().push(std::thread::current().id());
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let who = Who::default();
        let core = core_with(64, who.clone());
        for n in 1..=3 {
            // Long enough for the worker to poll, then park.
            std::thread::sleep(Duration::from_millis(40));
            core.submit(record("after an idle spell"));
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while stats::get(&core.stats.written) < n {
                assert!(std::time::Instant::now() < deadline, "never written");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        core.sync().unwrap();
        let me = std::thread::current().id();
        assert!(
            who.0.lock().unwrap().iter().all(|&t| t != me),
            "the caller wrote"
        );
        core.close();
    }
}
