//! The background worker: its thread loop, parking, waking, `sync` and
//! stopping.
//!
//! The worker waits until its logger's queue has something, polling for a
//! while before it parks (see [`Worker::wait`]), then runs a *pass*: under
//! the output lock it drains every ring and flushes when they run empty, so
//! an idle logger holds nothing unwritten. The worker knows its logger
//! only as a [`Job`].
//!
//! Two handshakes with logging threads, each a store, a fence and a load on
//! both sides (see `barrier.rs`):
//!
//! - **Parking.** The worker sets [`PARKED`], fences, and looks at the
//!   queue once more before it parks; a caller publishes its entry,
//!   fences, and reads the state. One of them sees the other's store:
//!   either the worker sees the entry, or the caller sees `PARKED`, clears
//!   it, wakes the worker (a futex wake: microseconds) and yields its CPU,
//!   where the scheduler tends to queue the woken worker. The caller never
//!   writes the entry itself.
//! - **Stopping.** `close` sets [`STOPPED`]; the worker fences and drains
//!   for the last time. A caller that enqueued meanwhile sees `STOPPED`
//!   after its fence and drains the queue itself: logging after `close` is
//!   written synchronously.
//!
//! `tests/loom_close.rs` checks both handshakes with loom.
//!
//! No wait here is unbounded: `sync` and `stop` wait while the worker makes
//! progress (finishes passes, or keeps writing entries in a long one: the
//! output's beat) and give up after [`STALL`] without any (a writer blocked
//! on a full pipe, a writer that deadlocks), reporting a timeout.

use crate::barrier;
use crate::fork;
use crate::local;
use crate::thread;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker sleeps between looks at the queue; bounds the
/// delay before an entry reaches the output while the worker polls.
const POLL_INTERVAL: Duration = Duration::from_micros(50);

/// How long an idle worker polls before it parks. Bursts a few
/// milliseconds apart find it polling, so their callers pay nothing.
const POLL_FOR: Duration = Duration::from_millis(10);

/// How long a parked worker sleeps before looking again on its own. The
/// protocol never needs it (every enqueue that finds `PARKED` wakes the
/// worker); it bounds the damage of a missed wake-up, and lets outputs
/// retry (a lost syslog connection) while the program is idle.
const PARK_TIMEOUT: Duration = Duration::from_millis(500);

/// How long `sync` and `stop` wait without the worker finishing a pass
/// before they give up.
pub(crate) const STALL: Duration = Duration::from_secs(5);

/// How long a wait gives a worker that a wait gave up on, with no pass
/// since: long enough for one that was about to finish its pass, short
/// enough that closing a stuck logger twice, or at exit after `close`,
/// does not cost another [`STALL`].
const STALL_AGAIN: Duration = Duration::from_millis(100);

/// `state` bit: `close` was called; entries are written synchronously.
pub(crate) const STOPPED: u32 = 1;
/// `state` bit: the worker is parked (or about to park). The first caller
/// to enqueue after that clears it and wakes the worker.
pub(crate) const PARKED: u32 = 2;
/// `state` bit: there is no worker (the process forked); the next entry,
/// `sync` or `close` starts one.
pub(crate) const ORPHANED: u32 = 4;

/// What the worker works on: its logger.
pub(crate) trait Job: Send + Sync + 'static {
    /// Drains the queue and flushes.
    fn pass(&self) -> Pass;
    /// Whether the queue holds anything.
    fn has_work(&self) -> bool;
    /// The worker found nothing to do for a while and is about to sleep.
    fn idle(&self);
}

/// What a [`Job::pass`] did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Pass {
    /// The bytes of records drained.
    pub(crate) drained: usize,
    /// The output holds entries its receiver could not take yet and wants
    /// another pass after this long, queued entries or not (see
    /// `Output::retry_in`).
    pub(crate) retry_in: Option<Duration>,
}

/// A logger's worker: the thread and the words shared with callers.
#[derive(Debug, Default)]
pub(crate) struct Worker {
    /// [`STOPPED`], [`PARKED`], [`ORPHANED`]: one word, so a caller learns
    /// all with the one load after its fence.
    state: AtomicU32,
    /// The worker thread, to wake it.
    thread: Mutex<Option<Thread>>,
    handle: Mutex<Option<JoinHandle<()>>>,
    /// A worker thread is running its loop.
    running: AtomicBool,
    /// The worker thread's [`local::this_thread`] while it runs (0 before),
    /// to recognise it where its thread-locals are gone (in `exit`).
    tid: AtomicUsize,
    /// Syncs asked for, and the last one done (tickets).
    sync_asked: AtomicU64,
    sync_done: AtomicU64,
    /// Passes finished: with `beat`, the progress bounded waits watch.
    passes: AtomicU64,
    /// Bumped by whoever writes the logger's entries, every so many entries
    /// (see `sink::OutputLock::beat`): a pass that writes for longer than
    /// [`STALL`] to a slow output (a pipe read slowly) is making progress.
    beat: Arc<AtomicU64>,
    /// One more than `passes` when a wait last gave up (0: none did): until
    /// the worker finishes another pass, later waits give up after
    /// [`STALL_AGAIN`] instead of each waiting [`STALL`] again.
    stalled_at: AtomicU64,
    /// Threads waiting in `sync` or `stop`, to wake after a pass.
    waiters: Mutex<Vec<Thread>>,
    /// Set while the worker runs a pass: only then can it be stuck.
    in_pass: AtomicBool,
    /// The progress count seen inside one pass, and when it was first seen
    /// (see [`Worker::observe`]).
    seen: Mutex<Option<(u64, Instant)>>,
}

/// The worker's passes at an instant: where a bounded wait starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Progress {
    passes: u64,
    since: Instant,
}

impl Progress {
    /// The worker's passes when this wait began, or at its last pass.
    pub(crate) fn passes(&self) -> u64 {
        self.passes
    }

    /// Notes a pass of `worker` since the last look; whether it has made
    /// none for [`STALL`]: a wait that should give up.
    pub(crate) fn stalled(&mut self, worker: &Worker) -> bool {
        let now = worker.progress_count();
        if now != self.passes {
            *self = Progress {
                passes: now,
                since: Instant::now(),
            };
            return false;
        }
        let stalled = self.since.elapsed() >= STALL;
        if stalled {
            worker.gave_up(self.passes, self.since);
        }
        stalled
    }
}

/// How a wait for the worker ended, short of [`Stalled`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Waited {
    /// What it waited for happened.
    Done,
    /// There is no worker to wait for (it exited, or none was asked).
    Gone,
    /// It gave way to the thread waiting (see `Worker::wait_from`): what it waited
    /// for comes once that thread lets go of the output it is in.
    Later,
}

/// A wait that gave up: the worker made no progress for [`STALL`] (or for
/// [`STALL_AGAIN`] more, after an earlier wait gave up with no pass since).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stalled;

impl Worker {
    /// A worker whose progress includes `beat` (the output's).
    pub(crate) fn with_beat(beat: Arc<AtomicU64>) -> Worker {
        Worker {
            beat,
            ..Worker::default()
        }
    }

    /// Passes finished plus the output's beats: changes while the worker
    /// gets anywhere.
    fn progress_count(&self) -> u64 {
        // Relaxed (`beat`): compared for change only.
        self.passes
            .load(Ordering::SeqCst)
            .wrapping_add(self.beat.load(Ordering::Relaxed))
    }

    /// Starts the worker thread for `job`.
    pub(crate) fn spawn(self: &Arc<Worker>, job: Arc<dyn Job>) -> std::io::Result<()> {
        barrier::init();
        let worker = Arc::clone(self);
        self.running.store(true, Ordering::SeqCst);
        let spawned = thread::spawn("velo-worker", move || worker.run(&*job));
        match spawned {
            Ok(handle) => {
                *fork::lock(&self.handle) = Some(handle);
                Ok(())
            }
            Err(e) => {
                self.running.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// The state word, after the caller's side of the handshakes; see the
    /// module docs. Zero in the common case.
    #[inline]
    pub(crate) fn state_after_enqueue(&self) -> u32 {
        // A full fence, or, where the worker can make every thread fence
        // from its side, a compiler fence (see `barrier.rs`).
        barrier::light();
        // Acquire: seeing `PARKED` makes the worker's thread handle visible.
        self.state.load(Ordering::Acquire)
    }

    /// The state word, without the handshake.
    #[inline]
    pub(crate) fn state(&self) -> u32 {
        // Relaxed: a stale value is caught by the check after the fence.
        self.state.load(Ordering::Relaxed)
    }

    /// Whether `stop` has been called.
    #[inline]
    pub(crate) fn is_stopped(&self) -> bool {
        self.state() & STOPPED != 0
    }

    /// Whether a worker thread runs.
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// After a caller saw `PARKED`: the first to clear it wakes the worker;
    /// returns whether this call did.
    #[cold]
    pub(crate) fn wake_if_parked(&self) -> bool {
        let parked = self.state.fetch_and(!PARKED, Ordering::AcqRel) & PARKED != 0;
        if parked {
            self.unpark();
        }
        parked
    }

    /// For a caller waiting for room: wakes the worker unless it is in a
    /// pass (parked, or sleeping between its looks for work), so that it
    /// drains now rather than at its next look.
    #[cold]
    pub(crate) fn wake_if_idle(&self) {
        if !self.wake_if_parked() && !self.in_pass.load(Ordering::SeqCst) {
            self.unpark();
        }
    }

    fn unpark(&self) {
        if let Some(thread) = &*fork::lock(&self.thread) {
            thread.unpark();
        }
    }

    fn wake_waiters(&self) {
        let waiters = std::mem::take(&mut *fork::lock(&self.waiters));
        for thread in waiters {
            thread.unpark();
        }
    }

    /// Notes where the worker is, if inside a pass: a wait that begins
    /// later, with no progress since, counts the time without any from
    /// this look. A logger that waits for its worker looks at every
    /// logger's, before and while it waits, so that several stuck loggers
    /// closed (or dropped) one after the other cost one [`STALL`] in all,
    /// not one each.
    pub(crate) fn observe(&self) {
        let mut seen = fork::lock(&self.seen);
        if !self.in_pass.load(Ordering::SeqCst) {
            *seen = None;
            return;
        }
        let now = self.progress_count();
        if !seen.is_some_and(|(count, _)| count == now) {
            *seen = Some((now, Instant::now()));
        }
    }

    /// A wait gave up on the worker, seen at progress `count` without any
    /// since `since`: until it makes progress, later waits give it
    /// [`STALL_AGAIN`] at most, and while it is still in the same pass no
    /// more than their own minimum (it has made none for [`STALL`] then).
    pub(crate) fn gave_up(&self, count: u64, since: Instant) {
        // Relaxed: a stale value costs one long wait more or one less.
        self.stalled_at.store(count + 1, Ordering::Relaxed);
        let mut seen = fork::lock(&self.seen);
        if self.in_pass.load(Ordering::SeqCst) && self.progress_count() == count {
            let since = match *seen {
                Some((at_count, at)) if at_count == count => at.min(since),
                _ => since,
            };
            *seen = Some((count, since));
        }
    }

    /// Since when the worker has been seen at progress `count` in one
    /// pass, if it still is in it.
    fn seen_at(&self, count: u64) -> Option<Instant> {
        let seen = *fork::lock(&self.seen);
        match seen {
            Some((at_count, since)) if at_count == count && self.in_pass.load(Ordering::SeqCst) => {
                Some(since)
            }
            _ => None,
        }
    }

    /// Where the worker is now: the start of a bounded wait.
    pub(crate) fn progress(&self) -> Progress {
        Progress {
            passes: self.progress_count(),
            since: Instant::now(),
        }
    }

    /// Waits until `done` holds, while the worker makes progress; gives up
    /// after [`STALL`] without a pass ([`STALL_AGAIN`] when a wait already
    /// gave up and no pass came since), or at once when no worker runs.
    /// The time without a pass counts from `from`, or from an earlier look
    /// that saw the worker where it still is (see [`Worker::observe`]);
    /// the wait lasts [`STALL_AGAIN`] from `from` at least, so that a worker
    /// about to move is never given up on at once. `watch` runs at each
    /// look: it notes where the other workers are, so that the waits that
    /// follow this one know how long theirs have been stuck.
    ///
    /// `give_way` ends the wait early, [`Waited::Later`], when it says so:
    /// for a thread inside another logger's output, which this worker may
    /// be waiting for in turn (see `Core::wait_for_worker`).
    fn wait_from(
        &self,
        from: Progress,
        watch: &dyn Fn(),
        done: impl Fn() -> bool,
        give_way: Option<&dyn Fn() -> bool>,
    ) -> Result<Waited, Stalled> {
        let Progress {
            mut passes,
            mut since,
        } = from;
        // Waits that began together (a global `close`) share this bound.
        let began = from.since;
        if let Some(seen) = self.seen_at(passes) {
            since = since.min(seen);
        }
        // Relaxed: a stale value costs one long wait more or one less.
        let patience = if self.stalled_at.load(Ordering::Relaxed) == passes + 1 {
            STALL_AGAIN
        } else {
            STALL
        };
        loop {
            if done() {
                return Ok(Waited::Done);
            }
            if !self.is_running() {
                return if done() {
                    Ok(Waited::Done)
                } else {
                    Err(Stalled)
                };
            }
            if give_way.is_some_and(|now| now()) {
                return Ok(Waited::Later);
            }
            let now = self.progress_count();
            if now != passes {
                // Progress, unless a look made while this wait waited on
                // others saw the worker get there long ago.
                passes = now;
                since = self.seen_at(now).unwrap_or_else(Instant::now);
            } else if since.elapsed() >= patience && began.elapsed() >= STALL_AGAIN {
                self.gave_up(passes, since);
                return Err(Stalled);
            }
            watch();
            fork::lock(&self.waiters).push(std::thread::current());
            if done() {
                return Ok(Waited::Done);
            }
            // Woken after every pass; the timeout covers a wake-up that
            // raced with the registration.
            std::thread::park_timeout(Duration::from_millis(10));
        }
    }

    /// A sync, in two halves: asks the worker for a pass that starts after
    /// this call, without waiting (`None` when there is no worker to ask);
    /// [`Worker::finish_sync`] waits for it. Syncing several workers, each
    /// is asked first and then each waited for, so that a stuck one costs
    /// one wait, not one after the other (as [`Worker::begin_stop`]).
    pub(crate) fn begin_sync(&self) -> Option<(u64, Progress)> {
        if !self.is_running() {
            return None;
        }
        let from = self.progress();
        // AcqRel: the entries this thread enqueued before are visible to
        // the worker once it reads the ticket (Acquire, in `run`).
        let ticket = self.sync_asked.fetch_add(1, Ordering::AcqRel) + 1;
        self.unpark();
        Some((ticket, from))
    }

    /// The second half of a sync (see [`Worker::begin_sync`]): waits, from
    /// the progress the first half saw, for the pass it asked for.
    pub(crate) fn finish_sync(
        &self,
        started: Option<(u64, Progress)>,
        watch: &dyn Fn(),
        give_way: Option<&dyn Fn() -> bool>,
    ) -> Result<Waited, Stalled> {
        let Some((ticket, from)) = started else {
            return Ok(Waited::Gone);
        };
        match self.wait_from(
            from,
            watch,
            || self.sync_done.load(Ordering::Acquire) >= ticket,
            give_way,
        ) {
            Ok(waited) => Ok(waited),
            // The worker exited meanwhile (a `close` on another thread):
            // not stuck; the caller writes what is left itself.
            Err(Stalled) if !self.is_running() => Ok(Waited::Gone),
            Err(stalled) => Err(stalled),
        }
    }

    /// Sets `STOPPED`, wakes the worker, and waits for it to finish its
    /// last pass and exit; the thread is joined if it did.
    pub(crate) fn stop(&self) -> Result<Waited, Stalled> {
        let from = self.begin_stop();
        self.finish_stop(from, &|| {}, None)
    }

    /// The first half of [`Worker::stop`]: sets `STOPPED` and wakes the
    /// worker, without waiting. Stopping several workers, each is told
    /// first and then each waited for, so that their last passes run at
    /// once and a stuck one costs one wait, not one after the other.
    pub(crate) fn begin_stop(&self) -> Progress {
        let from = self.progress();
        self.state.fetch_or(STOPPED, Ordering::SeqCst);
        self.unpark();
        from
    }

    /// The second half of [`Worker::stop`]: waits, from `from`, for the
    /// worker to exit, and joins it.
    /// [`Waited::Later`] when it exits only after this thread lets go.
    pub(crate) fn finish_stop(
        &self,
        from: Progress,
        watch: &dyn Fn(),
        give_way: Option<&dyn Fn() -> bool>,
    ) -> Result<Waited, Stalled> {
        let this = local::this_thread();
        if this != 0 && self.tid.load(Ordering::SeqCst) == this {
            // The worker's own thread (from inside the output): it exits
            // once it returns to its loop.
            return Ok(Waited::Later);
        }
        let waited = self.wait_from(from, watch, || !self.is_running(), give_way)?;
        if waited == Waited::Done {
            let handle = fork::lock(&self.handle).take();
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
        Ok(waited)
    }

    /// In a forked child: there is no worker thread; mark the worker so the
    /// next use starts one, unless it was stopped or `lost` (the output
    /// cannot be written here: entries are written, that is dropped,
    /// synchronously).
    pub(crate) fn forget_after_fork(&self, lost: bool) {
        // The parent's handle names a thread this process does not have:
        // neither join nor detach it. (No other thread held these locks at
        // the fork; see `fork.rs`.)
        std::mem::forget(fork::lock(&self.handle).take());
        *fork::lock(&self.thread) = None;
        fork::lock(&self.waiters).clear();
        *fork::lock(&self.seen) = None;
        self.in_pass.store(false, Ordering::SeqCst);
        self.running.store(false, Ordering::SeqCst);
        self.tid.store(0, Ordering::SeqCst);
        let done = self.sync_asked.load(Ordering::SeqCst);
        self.sync_done.store(done, Ordering::SeqCst);
        self.state.fetch_and(!PARKED, Ordering::SeqCst);
        if lost {
            self.state.fetch_or(STOPPED, Ordering::SeqCst);
        } else if self.state() & STOPPED == 0 {
            self.state.fetch_or(ORPHANED, Ordering::SeqCst);
        }
    }

    /// Clears [`ORPHANED`]; `true` for the one caller that should start the
    /// new worker.
    pub(crate) fn claim_orphan(&self) -> bool {
        self.state.fetch_and(!ORPHANED, Ordering::SeqCst) & ORPHANED != 0
    }

    /// Waits until the queue or a request has something.
    ///
    /// A parked worker must be woken by the caller that enqueues next, and
    /// on a busy logger that hand-off (a wake-up per entry, and the worker
    /// chasing every entry) costs more than encoding. So after the queue
    /// runs dry the worker first polls, sleeping [`POLL_INTERVAL`] between
    /// looks: callers then enqueue without waking anyone and the worker
    /// takes whole batches. Only after polling for [`POLL_FOR`] does it
    /// park, by the handshake in the module docs.
    ///
    /// With `pause` (the last pass found less than a buffer's worth), the
    /// worker first lets entries accumulate for one interval: draining as
    /// fast as a thread logs would pull every cache line of its ring across
    /// cores while it is being written, which costs the logging thread more
    /// than the copy it saves. A `sync` or `close` cuts the pause short.
    ///
    /// After a pass (`last`) whose output has entries waiting on its
    /// receiver (see `Output::retry_in`), the wait ends after that long at
    /// the latest; and if that pass found nothing queued, the worker parks
    /// at once instead of polling, so a receiver stuck for good costs a
    /// wake-up per retry, not two hundred.
    fn wait(&self, job: &dyn Job, last: Option<Pass>) {
        // No pause before the first pass.
        let pause = last.is_some_and(|p| p.drained < crate::output::STREAM_BUFFER);
        let retry_in = last.and_then(|p| p.retry_in);
        let poll = !last.is_some_and(|p| p.retry_in.is_some() && p.drained == 0);
        let asked = || {
            self.sync_asked.load(Ordering::Relaxed) != self.sync_done.load(Ordering::Relaxed)
                || self.is_stopped()
        };
        let retry_at = retry_in.map(|d| Instant::now() + d);
        let due = || retry_at.is_some_and(|t| Instant::now() >= t);
        let ready = || job.has_work() || asked() || due();
        if pause && !asked() {
            std::thread::park_timeout(POLL_INTERVAL);
        }
        if poll {
            let start = Instant::now();
            loop {
                if ready() {
                    return;
                }
                if start.elapsed() >= POLL_FOR {
                    break;
                }
                std::thread::park_timeout(POLL_INTERVAL);
            }
            // Idle: give back what a burst of large entries took.
            job.idle();
        }
        loop {
            // Re-armed on every round: a caller may have cleared it.
            self.state.fetch_or(PARKED, Ordering::SeqCst);
            // Pairs with the barrier in `state_after_enqueue`. A ring
            // registered after the look below was registered after this
            // thread's store, through the list's lock, so its producer sees
            // `PARKED`.
            let reliable = barrier::heavy();
            if ready() {
                break;
            }
            let timeout = if reliable {
                PARK_TIMEOUT
            } else {
                POLL_INTERVAL
            };
            let until_retry =
                retry_at.map_or(timeout, |t| t.saturating_duration_since(Instant::now()));
            std::thread::park_timeout(timeout.min(until_retry));
            if ready() {
                break;
            }
            // A timed wake-up: let the job retry what it waits for.
            job.pass();
        }
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
    }

    /// The worker thread's loop.
    fn run(&self, job: &dyn Job) {
        /// Marks the worker gone however it ends (a panic that escaped the
        /// output's guard included), so no one waits for it.
        struct Done<'a>(&'a Worker);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.tid.store(0, Ordering::SeqCst);
                self.0.running.store(false, Ordering::SeqCst);
                self.0.wake_waiters();
            }
        }
        let _done = Done(self);
        self.tid.store(local::this_thread(), Ordering::SeqCst);
        // Stored here, before this thread can set `PARKED`, rather than by
        // the spawning thread after `spawn` returns: a caller that sees
        // `PARKED` (Acquire) finds the handle to wake.
        *fork::lock(&self.thread) = Some(std::thread::current());
        let mut last = None;
        let mut extra_pass = false;
        loop {
            self.wait(job, last);
            // Acquire: pairs with the ticket's increment in `sync`, so this
            // pass sees what the asking thread enqueued.
            let asked = self.sync_asked.load(Ordering::Acquire);
            let stopped = self.is_stopped();
            if stopped {
                // Pairs with the barrier in `state_after_enqueue`: a caller
                // that enqueued before this fence is drained below; one
                // after sees `STOPPED` and drains itself. If the barrier
                // failed, `close` drains once more after the worker exits.
                barrier::heavy();
            }
            self.in_pass.store(true, Ordering::SeqCst);
            last = Some(job.pass());
            self.in_pass.store(false, Ordering::SeqCst);
            self.sync_done.fetch_max(asked, Ordering::Release);
            self.passes.fetch_add(1, Ordering::SeqCst);
            self.wake_waiters();
            if stopped {
                // Entries queued while the last pass was under way (logged
                // after `close` while the output was held or stuck, which
                // queues rather than waits) get one more pass: nobody else
                // would write them before the logger is used again.
                if !extra_pass && job.has_work() {
                    extra_pass = true;
                    continue;
                }
                return;
            }
        }
    }
}
