//! Model checks of the handshakes between a logging thread and the worker:
//! `close()`, and the worker parking when idle.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p velo --test loom_close --release`.
//!
//! The real pipeline (per-thread rings, a sink lock, a control channel) is
//! too large to model whole, so this models the handshake of `worker.rs`
//! with loom atomics: one ring slot published by the caller and claimed by
//! whoever drains (the rings themselves are checked in `src/ring.rs`), the
//! `stopped` flag, the two `SeqCst` fences, and the close request the
//! worker waits for. The property: an entry logged while another
//! thread closes is written exactly once, by the worker's final drain or by
//! the logging thread itself. The variant without the caller's fence must
//! fail, which shows the model can find the race the fences prevent.
#![cfg(loom)]

use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

#[derive(Default)]
struct Model {
    /// 1 while the entry sits in the queue.
    slot: AtomicUsize,
    stopped: AtomicBool,
    /// The close request on the control channel.
    close_requested: AtomicBool,
    /// How many times the entry was written.
    written: AtomicUsize,
}

impl Model {
    /// Takes the entry off the queue if it is there, and writes it.
    fn drain(&self) {
        // A compare-exchange, like the channel's claim of a slot. (loom 0.7
        // mis-orders plain stores against `swap`, tokio-rs/loom#254.)
        if self
            .slot
            .compare_exchange(1, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.written.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn check(caller_fence: bool) {
    loom::model(move || {
        let m = Arc::new(Model::default());

        let caller = {
            let m = m.clone();
            thread::spawn(move || {
                // `Core::submit`.
                if m.stopped.load(Ordering::Relaxed) {
                    m.written.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                m.slot
                    .compare_exchange(0, 1, Ordering::Release, Ordering::Relaxed)
                    .unwrap();
                if caller_fence {
                    fence(Ordering::SeqCst);
                }
                if m.stopped.load(Ordering::Relaxed) {
                    m.drain();
                }
            })
        };

        let worker = {
            let m = m.clone();
            thread::spawn(move || {
                // `Core::run`, reduced to waiting for the close request.
                while !m.close_requested.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                m.stopped.store(true, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                m.drain();
            })
        };

        // `Core::close`.
        m.stopped.store(true, Ordering::SeqCst);
        m.close_requested.store(true, Ordering::Release);

        caller.join().unwrap();
        worker.join().unwrap();
        assert_eq!(m.written.load(Ordering::Relaxed), 1, "written exactly once");
    });
}

#[test]
fn an_entry_racing_with_close_is_written_exactly_once() {
    check(true);
}

#[test]
#[should_panic(expected = "written exactly once")]
fn without_the_callers_fence_an_entry_can_be_stranded() {
    check(false);
}

const PARKED: usize = 1;

/// The parking handshake of `Core::wait` and `Core::after_enqueue`: an
/// idle worker sets `PARKED`, fences and looks at the rings once more
/// before it parks; a caller enqueues, fences and reads the state, and if
/// the worker is parked, clears the flag and writes the entry itself. The
/// model stops the worker where it would park: after both sides are done,
/// the entry must have been written (by one of them, exactly once), or it
/// would wait in a ring with the worker asleep.
///
/// With `register`, the caller's ring does not exist yet: the caller adds
/// it to the list (under the list's lock) just before its first entry,
/// while the worker scans only the rings in the list.
///
/// The worker looks with a relaxed load first, as `Ring::has_pending` does,
/// so without the caller's fence both sides can miss each other.
fn check_parking(register: bool, caller_fence: bool) {
    loom::model(move || {
        let m = Arc::new(Model::default());
        let state = Arc::new(AtomicUsize::new(0));
        // The list of rings: whether the caller's ring is in it.
        let listed = Arc::new(loom::sync::Mutex::new(!register));

        let worker = {
            let (m, state, listed) = (m.clone(), state.clone(), listed.clone());
            thread::spawn(move || {
                state.fetch_or(PARKED, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                if *listed.lock().unwrap() && m.slot.load(Ordering::Relaxed) != 0 {
                    m.drain();
                }
                // Otherwise the worker parks here.
            })
        };

        // The caller.
        if register {
            *listed.lock().unwrap() = true;
        }
        m.slot
            .compare_exchange(0, 1, Ordering::Release, Ordering::Relaxed)
            .unwrap();
        if caller_fence {
            fence(Ordering::SeqCst);
        }
        if state.load(Ordering::Acquire) & PARKED != 0
            && state.fetch_and(!PARKED, Ordering::AcqRel) & PARKED != 0
        {
            m.drain();
        }

        worker.join().unwrap();
        assert_eq!(m.written.load(Ordering::Relaxed), 1, "written exactly once");
    });
}

#[test]
fn an_entry_logged_while_the_worker_parks_is_written_exactly_once() {
    check_parking(false, true);
}

#[test]
fn an_entry_in_a_ring_registered_while_the_worker_parks_is_written_once() {
    check_parking(true, true);
}

#[test]
#[should_panic(expected = "written exactly once")]
fn without_the_callers_fence_a_parking_worker_can_miss_an_entry() {
    check_parking(false, false);
}
