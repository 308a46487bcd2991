//! `fork(2)` without `exec`: the child gets working loggers.
//!
//! After `fork`, only the thread that called it exists in the child. The
//! loggers' workers are gone, a lock another thread held stays locked for
//! good, and whatever was queued or buffered is the parent's to write. So
//! every lock velo takes is taken under a shared hold on one of two
//! process-wide locks, which a `pthread_atfork` *prepare* handler takes
//! exclusively before the fork:
//!
//! - [`guard`], around a logger's output lock, which is held while the
//!   output writes and so may be held for long (a writer blocked on a full
//!   pipe). Prepare waits at most [`PREPARE_WAIT`] for it: a writer stuck
//!   longer does not hold up the fork, and the child then treats that
//!   logger's output as lost (see the core's reset).
//! - [`lock`], around every other lock (ring lists, the worker's handles,
//!   the registries), each held for a few instructions with no user code
//!   inside, and [`once`] around the one-time initialisations (the clock's,
//!   the default logger). Prepare always waits for these, so the child
//!   never finds one of them held, whatever the outputs do. Backtraces are
//!   captured under it too: std holds a process-wide lock while it
//!   captures and symbolises one (the first takes tens of milliseconds,
//!   loading the program's debug information), and a child forked while
//!   it was held could never capture one.
//!
//! The *child* handler resets every logger: discards what the parent
//! queued and buffered (the parent writes it), forgets the worker, and
//! marks the logger so that its next use starts a new worker.
//!
//! Threads that fork without velo loaded never pay anything; a fork costs
//! the wait for the locks, normally nothing.

use crate::pause::pause;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// How long the prepare handler waits for threads to leave the outputs.
pub(crate) const PREPARE_WAIT: Duration = Duration::from_secs(1);

/// Held shared by whoever holds a logger's output lock.
static FORK: RwLock<()> = RwLock::new(());
/// Held shared around every other lock velo takes.
static SHORT: RwLock<()> = RwLock::new(());
/// Set while a fork is being prepared: a thread that holds neither lock
/// waits before it takes one, so a stream of threads taking them in turn
/// cannot keep the prepare handler out.
static FORKING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Shared holds of [`FORK`] this thread has, so a fork from inside a
    /// writer does not wait for itself.
    static HELD: Cell<u32> = const { Cell::new(0) };
    /// Shared holds of [`SHORT`] this thread has (only a signal handler
    /// that forks could find one).
    static HELD_SHORT: Cell<u32> = const { Cell::new(0) };
    /// Set on the forking thread between prepare and the parent or child
    /// handler: it holds [`SHORT`] (and [`FORK`], unless an output was
    /// busy) exclusively, and neither [`guard`] nor [`lock`] takes them.
    static EXCLUSIVE: Cell<bool> = const { Cell::new(false) };
}

/// A shared hold on [`FORK`] or [`SHORT`]; see the module docs.
#[derive(Debug)]
pub(crate) struct Guard {
    lock: Option<RwLockReadGuard<'static, ()>>,
    held: &'static std::thread::LocalKey<Cell<u32>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.lock.is_some() {
            let _ = self.held.try_with(|h| h.set(h.get().saturating_sub(1)));
        }
    }
}

fn hold(lock: &'static RwLock<()>, held: &'static std::thread::LocalKey<Cell<u32>>) -> Guard {
    if EXCLUSIVE.try_with(Cell::get).unwrap_or(false) {
        return Guard { lock: None, held };
    }
    // Relaxed: a hint; the lock itself decides. A thread that holds either
    // lock already goes on, since prepare may be waiting for it.
    if FORKING.load(Ordering::Relaxed)
        && HELD.try_with(Cell::get).unwrap_or(0) == 0
        && HELD_SHORT.try_with(Cell::get).unwrap_or(0) == 0
    {
        while FORKING.load(Ordering::Relaxed) {
            pause(Duration::from_micros(50));
        }
    }
    let lock = lock.read().unwrap_or_else(PoisonError::into_inner);
    let _ = held.try_with(|h| h.set(h.get() + 1));
    Guard {
        lock: Some(lock),
        held,
    }
}

/// Takes the fork lock of outputs shared, for as long as the guard lives.
/// Blocks only while another thread is between a fork's prepare and its
/// end. Readers may nest: the exclusive side never queues (it polls), so a
/// thread that holds the lock can always take it again.
pub(crate) fn guard() -> Guard {
    hold(&FORK, &HELD)
}

/// A mutex held under a shared hold on the short fork lock (see the module
/// docs): no thread holds it at the instant of a fork.
pub(crate) struct Locked<'a, T> {
    // Declared first: unlocked before the fork lock is let go.
    guard: MutexGuard<'a, T>,
    _fork: Guard,
}

impl<T> std::ops::Deref for Locked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// Locks `mutex` (recovering it from poisoning) for a short section with no
/// user code inside; see the module docs.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Locked<'_, T> {
    let fork = hold(&SHORT, &HELD_SHORT);
    Locked {
        guard: mutex.lock().unwrap_or_else(PoisonError::into_inner),
        _fork: fork,
    }
}

/// Runs `f` under a shared hold on the short fork lock, for a lock that is
/// not a `Mutex` (a filter's `RwLock`), with no user code inside.
pub(crate) fn short<R>(f: impl FnOnce() -> R) -> R {
    let _fork = hold(&SHORT, &HELD_SHORT);
    f()
}

/// `cell`'s value, initialising it with `init` under a shared hold on the
/// short fork lock: an initialisation under way on another thread at a
/// fork would leave the cell locked for good in the child. Costs nothing
/// once the cell is set.
#[inline]
pub(crate) fn once<T>(cell: &std::sync::OnceLock<T>, init: impl FnOnce() -> T) -> &T {
    match cell.get() {
        Some(value) => value,
        None => short(|| cell.get_or_init(init)),
    }
}

/// What a logger does around a fork.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hooks {
    /// In the child, with the short lock held exclusively (so no lock but
    /// an output's can be held): reset every logger.
    pub(crate) child: fn(),
}

static HOOKS: std::sync::OnceLock<Hooks> = std::sync::OnceLock::new();

thread_local! {
    /// The exclusive guards between prepare and the parent or child handler.
    static PREPARED: std::cell::RefCell<Vec<RwLockWriteGuard<'static, ()>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Registers the fork handlers, once per process.
pub(crate) fn install(hooks: Hooks) {
    static ONCE: Once = Once::new();
    let _ = HOOKS.set(hooks);
    ONCE.call_once(sys::register);
}

/// Takes `lock` exclusively, polling (so readers never queue behind it and
/// may nest), until `deadline` if there is one.
fn take(lock: &'static RwLock<()>, deadline: Option<Instant>) {
    loop {
        let guard = match lock.try_write() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return;
                }
                pause(Duration::from_micros(100));
                continue;
            }
        };
        let _ = PREPARED.try_with(|p| p.borrow_mut().push(guard));
        return;
    }
}

fn prepare() {
    if HELD_SHORT.try_with(Cell::get).unwrap_or(0) > 0 {
        // Forking from a signal handler that interrupted velo on this
        // thread: the lock is this thread's; waiting would never end.
        return;
    }
    FORKING.store(true, Ordering::Relaxed);
    // Outputs first, with a deadline (a thread that holds an output lock
    // takes short locks too, but never waits for a fork while in one);
    // from inside a writer, that lock is this thread's. The child finds out
    // which outputs were held by trying their locks.
    if HELD.try_with(Cell::get).unwrap_or(0) == 0 {
        take(&FORK, Some(Instant::now() + PREPARE_WAIT));
    }
    // Short sections end on their own.
    take(&SHORT, None);
    let _ = EXCLUSIVE.try_with(|e| e.set(true));
}

fn release() {
    FORKING.store(false, Ordering::Relaxed);
    let _ = EXCLUSIVE.try_with(|e| e.set(false));
    // SHORT was pushed last: let go of it first.
    let _ = PREPARED.try_with(|p| {
        let mut held = p.borrow_mut();
        while held.pop().is_some() {}
    });
}

fn parent() {
    release();
}

fn child() {
    // Without the short lock (a fork from a signal handler inside velo),
    // the loggers' state cannot be trusted enough to reset it.
    let exclusive = EXCLUSIVE.try_with(Cell::get).unwrap_or(false);
    if let (Some(hooks), true) = (HOOKS.get(), exclusive) {
        // A panic must not unwind into libc.
        let _ = std::panic::catch_unwind(hooks.child);
    }
    release();
}

#[cfg(unix)]
mod sys {
    extern "C" fn prepare() {
        let _ = std::panic::catch_unwind(super::prepare);
    }

    extern "C" fn parent() {
        let _ = std::panic::catch_unwind(super::parent);
    }

    extern "C" fn child() {
        super::child();
    }

    pub(super) fn register() {
        // SAFETY: the three handlers are `extern "C" fn()` that never
        // unwind, as `pthread_atfork` requires.
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
    }
}

#[cfg(not(unix))]
mod sys {
    pub(super) fn register() {}
}
