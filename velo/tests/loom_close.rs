//! Model checks of the handshakes between logging threads and a logger's
//! worker (`worker.rs`), on the real ring (`velo::__loom::Ring`, whose
//! atomics are loom's under `--cfg loom`).
//!
//! Run with `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p velo --test loom_close --release`.
//!
//! The worker, the caller's side of `Core::submit` and the state word are
//! rewritten here with loom's atomics, line for line with `worker.rs` and
//! `core.rs` (the real ones use the standard library's, which loom cannot
//! see); the ring, its `Release` tail store and its relaxed `has_pending`
//! look are the real code. The models:
//!
//! - **Parking.** The worker sets `PARKED`, fences, looks at the ring and
//!   parks; the caller pushes, fences, reads the state, and if it sees
//!   `PARKED`, clears it and unparks the worker, which then writes the
//!   entry. The caller never writes it. The property: the entry is written
//!   exactly once, by the worker, and never waits in the ring while the
//!   worker sleeps unwoken. Also with the caller's ring registered while
//!   the worker parks.
//! - **Stopping.** `close` sets `STOPPED` and wakes the worker, which fences
//!   and drains for the last time; a caller that enqueued meanwhile sees
//!   `STOPPED` after its fence and drains itself, under the output lock.
//!   The property: the entry is written exactly once.
//! - **Two loggers.** Logger A's writer logs to logger B on A's worker
//!   thread: for B that is an ordinary caller, which wakes B's parked
//!   worker. Both entries are written once and neither worker stays
//!   parked.
//!
//! Each has a variant without the caller's fence that must fail, which
//! shows the model finds the race the fence prevents.
//!
//! What loom cannot see, and how it is covered instead:
//!
//! - The `membarrier(2)` barrier (`barrier.rs`): where Linux offers it the
//!   caller's fence is only a compiler fence and the worker makes every
//!   thread fence. Loom knows no process-wide barrier, so the models use
//!   `SeqCst` fences on both sides (the fallback `barrier.rs` takes without
//!   it); the asymmetric version rests on the kernel's guarantee, and the
//!   stress and parking integration tests run it on Linux.
//! - Parking itself: the model stops the worker's thread where it would
//!   park, records who cleared `PARKED` (the one that would unpark it),
//!   and runs the woken worker's pass afterwards. A missed wake-up thus
//!   shows as an entry in the ring of an unwoken worker rather than as a
//!   hang; that `unpark` before `park` is not lost is the standard
//!   library's promise (and loom's `park` cannot be combined with its
//!   mutexes: an unpark wakes a thread blocked on one). The timed waits
//!   (`park_timeout`, polling, `PARK_TIMEOUT`) only delay parking.
//! - The `Relaxed` producer-side stores of the ring (loom does not see
//!   races behind a relaxed store, tokio-rs/loom#107); the ring's own loom
//!   tests and its module docs cover them.
//! - Fork, signals and thread exit: covered by integration tests in child
//!   processes (`tests/tests/`).
#![cfg(loom)]

use loom::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use velo::__loom::Ring;

/// `worker.rs`'s state bits.
const STOPPED: u32 = 1;
const PARKED: u32 = 2;

/// A logger as the handshakes see it: one caller's ring, the worker's state
/// word, and the output lock with what was written.
struct Logger {
    ring: Ring,
    /// Whether the ring is in the logger's ring list yet (registration).
    listed: Mutex<bool>,
    state: AtomicU32,
    /// The worker's thread stopped where it would park.
    parked: AtomicBool,
    /// Someone cleared `PARKED` or stopped the worker: it would unpark the
    /// worker's thread.
    woken: AtomicBool,
    /// The output lock; the bytes written under it.
    output: Mutex<Vec<u8>>,
    /// Whether the caller fences between its push and its look at the
    /// state (`barrier::light`).
    caller_fence: bool,
}

impl Logger {
    fn new(listed: bool, caller_fence: bool) -> Arc<Logger> {
        Arc::new(Logger {
            ring: Ring::new(8, 4),
            listed: Mutex::new(listed),
            state: AtomicU32::new(0),
            parked: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            output: Mutex::new(Vec::new()),
            caller_fence,
        })
    }

    /// `Job::pass`: drains the rings in the list under the output lock and
    /// hands what it wrote to `writer`.
    fn pass(&self, writer: &mut dyn FnMut(&[u8])) {
        let mut written = Vec::new();
        {
            let mut output = self.output.lock().unwrap();
            if *self.listed.lock().unwrap() {
                // SAFETY: every drain runs under the output lock: one
                // consumer.
                unsafe { self.ring.drain(|bytes| written.extend_from_slice(bytes)) };
            }
            output.extend_from_slice(&written);
        }
        // The user's writer (the model runs it after the lock; only its
        // thread matters here).
        if !written.is_empty() {
            writer(&written);
        }
    }

    /// `Job::has_work`: the relaxed look at the rings in the list.
    fn has_work(&self) -> bool {
        *self.listed.lock().unwrap() && self.ring.has_pending()
    }

    /// `Core::submit`, `Core::after_enqueue` and `Core::on_state`, for the
    /// ring's one producer thread.
    fn log(&self, entry: &[u8]) {
        if self.state.load(Ordering::Relaxed) & STOPPED != 0 {
            // `write_owned`: after close, written on this thread.
            self.output.lock().unwrap().extend_from_slice(entry);
            return;
        }
        // `Queue::register`: the ring joins the list under its lock.
        *self.listed.lock().unwrap() = true;
        // SAFETY: this thread is the ring's one producer.
        assert!(unsafe { self.ring.push(entry) }, "room in the ring");
        if self.caller_fence {
            fence(Ordering::SeqCst);
        }
        let state = self.state.load(Ordering::Acquire);
        if state & STOPPED != 0 {
            // `write_pending`.
            self.pass(&mut |_| {});
        } else if state & PARKED != 0 {
            // `Worker::wake_if_parked`: the first to clear it wakes.
            if self.state.fetch_and(!PARKED, Ordering::AcqRel) & PARKED != 0 {
                self.woken.store(true, Ordering::Relaxed);
            }
        }
    }

    /// `Worker::stop`, without the wait for the worker to exit: it always
    /// unparks the worker.
    fn stop(&self) {
        self.state.fetch_or(STOPPED, Ordering::SeqCst);
        self.woken.store(true, Ordering::Relaxed);
    }

    fn ready(&self) -> bool {
        self.has_work() || self.state.load(Ordering::Relaxed) & STOPPED != 0
    }

    /// `Worker::wait`'s parking (its polling phase only delays it) and, if
    /// it does not park, `Worker::run`'s pass. Stops where the thread would
    /// park.
    fn run_worker(&self, writer: &mut dyn FnMut(&[u8])) {
        self.state.fetch_or(PARKED, Ordering::SeqCst);
        // `barrier::heavy`.
        fence(Ordering::SeqCst);
        if !self.ready() {
            self.parked.store(true, Ordering::Relaxed);
            return;
        }
        self.after_wait(writer);
    }

    /// The rest of `Worker::run` once `wait` returns.
    fn after_wait(&self, writer: &mut dyn FnMut(&[u8])) {
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
        if self.state.load(Ordering::Relaxed) & STOPPED != 0 {
            fence(Ordering::SeqCst);
        }
        self.pass(writer);
    }

    /// After every thread has ended: a worker that parked must have been
    /// woken if anything waits for it; if it was, its pass runs now.
    fn finish_parked(&self, writer: &mut dyn FnMut(&[u8])) {
        if !self.parked.load(Ordering::Relaxed) {
            return;
        }
        if self.woken.load(Ordering::Relaxed) {
            assert!(self.ready(), "woken with nothing to do");
            self.after_wait(writer);
        } else {
            assert!(!self.ready(), "an entry waits while the worker sleeps");
        }
    }

    fn written(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }
}

/// Every interleaving of two threads; with three (close, two loggers)
/// the search would take hours, so it is bounded at three preemptions,
/// which finds the races the variants without fences show. Set
/// `LOOM_MAX_PREEMPTIONS` to change the bound.
fn model(threads: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if threads > 2 && builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// The parking handshake; with `register`, the caller's ring joins the
/// list only as it logs, while the worker parks.
fn check_parking(register: bool, caller_fence: bool) {
    model(2, move || {
        let logger = Logger::new(!register, caller_fence);
        let worker = {
            let logger = logger.clone();
            thread::spawn(move || logger.run_worker(&mut |_| {}))
        };
        logger.log(b"ab");
        worker.join().unwrap();
        logger.finish_parked(&mut |_| {});
        assert_eq!(logger.written(), b"ab", "written exactly once");
    });
}

#[test]
fn a_parked_worker_is_woken_and_writes_the_entry_once() {
    check_parking(false, true);
}

#[test]
fn an_entry_in_a_ring_registered_while_the_worker_parks_is_written_once() {
    check_parking(true, true);
}

#[test]
#[should_panic(expected = "an entry waits while the worker sleeps")]
fn without_the_callers_fence_a_parking_worker_can_sleep_on_an_entry() {
    check_parking(false, false);
}

/// The stopping handshake: an entry logged while another thread closes.
fn check_close(caller_fence: bool) {
    model(3, move || {
        let logger = Logger::new(true, caller_fence);
        let worker = {
            let logger = logger.clone();
            thread::spawn(move || logger.run_worker(&mut |_| {}))
        };
        let caller = {
            let logger = logger.clone();
            thread::spawn(move || logger.log(b"ab"))
        };
        // `Core::close`: stop and wake the worker, wait for its last pass.
        logger.stop();
        worker.join().unwrap();
        logger.finish_parked(&mut |_| {});
        // A worker that passed before the stop passes again: the last one.
        if !logger.parked.load(Ordering::Relaxed) {
            logger.after_wait(&mut |_| {});
        }
        caller.join().unwrap();
        assert_eq!(logger.written(), b"ab", "written exactly once");
    });
}

#[test]
fn an_entry_racing_with_close_is_written_exactly_once() {
    check_close(true);
}

#[test]
#[should_panic(expected = "written exactly once")]
fn without_the_callers_fence_an_entry_racing_with_close_can_be_stranded() {
    check_close(false);
}

/// Two loggers: A's writer logs to B on A's worker thread.
fn check_two_loggers(caller_fence: bool) {
    model(3, move || {
        let a = Logger::new(true, true);
        let b = Logger::new(true, caller_fence);
        let worker_b = {
            let b = b.clone();
            thread::spawn(move || b.run_worker(&mut |_| {}))
        };
        let worker_a = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || a.run_worker(&mut |_| b.log(b"cd")))
        };
        a.log(b"ab");
        worker_a.join().unwrap();
        worker_b.join().unwrap();
        // A woken A writes now, and its writer logs to B from this thread
        // (the one producer of B's ring in that case).
        a.finish_parked(&mut |_| b.log(b"cd"));
        b.finish_parked(&mut |_| {});
        assert_eq!(a.written(), b"ab", "A's entry written exactly once");
        assert_eq!(b.written(), b"cd", "B's entry written exactly once");
    });
}

#[test]
fn a_writer_of_one_logger_wakes_another_loggers_parked_worker() {
    check_two_loggers(true);
}

#[test]
#[should_panic(expected = "an entry waits while the worker sleeps")]
fn without_the_fence_a_writer_logging_elsewhere_can_leave_that_worker_asleep() {
    check_two_loggers(false);
}
