//! `fork(2)` without `exec`: the child gets working loggers.
//!
//! After `fork`, only the thread that called it exists in the child. The
//! loggers' workers are gone, a lock another thread held stays locked for
//! good, and whatever was queued or buffered is the parent's to write. So:
//!
//! - Every lock velo takes is taken under a shared [`guard`] of one
//!   process-wide lock (outputs, ring lists, the registries), and a
//!   `pthread_atfork` *prepare* handler takes it exclusively before the
//!   fork: no velo lock is held by another thread at the instant of the
//!   fork. It waits at most [`PREPARE_WAIT`] for threads to finish what
//!   they are writing; a writer stuck longer (on a full pipe) does not hold
//!   up the fork, and the child then treats that logger's output as lost
//!   (see the core's reset).
//! - The *child* handler resets every logger: discards what the parent
//!   queued and buffered (the parent writes it), forgets the worker, and
//!   marks the logger so that its next use starts a new worker.
//!
//! Threads that fork without velo loaded never pay anything; a fork costs
//! the wait for the lock, normally nothing.

use std::cell::Cell;
use std::sync::{Once, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// How long the prepare handler waits for threads to leave velo's locks.
pub(crate) const PREPARE_WAIT: Duration = Duration::from_secs(1);

static FORK: RwLock<()> = RwLock::new(());

thread_local! {
    /// Shared guards this thread holds, so a fork from inside a writer does
    /// not wait for itself.
    static HELD: Cell<u32> = const { Cell::new(0) };
    /// Set on the forking thread between prepare and the parent or child
    /// handler: it holds the lock exclusively, and [`guard`] is a no-op.
    static EXCLUSIVE: Cell<bool> = const { Cell::new(false) };
}

/// A shared hold on the fork lock; see the module docs.
#[derive(Debug)]
pub(crate) struct Guard {
    _lock: Option<RwLockReadGuard<'static, ()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self._lock.is_some() {
            let _ = HELD.try_with(|h| h.set(h.get().saturating_sub(1)));
        }
    }
}

/// Takes the fork lock shared, for as long as the guard lives. Blocks only
/// while another thread is between a fork's prepare and its end. Readers
/// may nest: the exclusive side never queues (it polls), so a thread that
/// holds the lock can always take it again.
pub(crate) fn guard() -> Guard {
    if EXCLUSIVE.try_with(Cell::get).unwrap_or(false) {
        return Guard { _lock: None };
    }
    let lock = FORK
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = HELD.try_with(|h| h.set(h.get() + 1));
    Guard { _lock: Some(lock) }
}

/// What a logger does around a fork.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hooks {
    /// In the child, with the lock held exclusively (or not, see
    /// `quiesced`): reset every logger.
    pub(crate) child: fn(quiesced: bool),
}

static HOOKS: std::sync::OnceLock<Hooks> = std::sync::OnceLock::new();

thread_local! {
    /// The exclusive guard between prepare and the parent or child handler.
    static PREPARED: std::cell::RefCell<Option<RwLockWriteGuard<'static, ()>>> =
        const { std::cell::RefCell::new(None) };
}

/// Registers the fork handlers, once per process.
pub(crate) fn install(hooks: Hooks) {
    static ONCE: Once = Once::new();
    let _ = HOOKS.set(hooks);
    ONCE.call_once(sys::register);
}

fn prepare() {
    if HELD.try_with(Cell::get).unwrap_or(0) > 0 {
        // Forking from inside velo (a writer that forks): the lock is this
        // thread's; waiting for it would never end.
        return;
    }
    let deadline = Instant::now() + PREPARE_WAIT;
    loop {
        match FORK.try_write() {
            Ok(guard) => {
                let _ = PREPARED.try_with(|p| *p.borrow_mut() = Some(guard));
                let _ = EXCLUSIVE.try_with(|e| e.set(true));
                return;
            }
            Err(std::sync::TryLockError::Poisoned(e)) => {
                let _ = PREPARED.try_with(|p| *p.borrow_mut() = Some(e.into_inner()));
                let _ = EXCLUSIVE.try_with(|e| e.set(true));
                return;
            }
            Err(std::sync::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(100));
            }
            Err(std::sync::TryLockError::WouldBlock) => return,
        }
    }
}

fn release() {
    let _ = EXCLUSIVE.try_with(|e| e.set(false));
    let _ = PREPARED.try_with(|p| p.borrow_mut().take());
}

fn parent() {
    release();
}

fn child() {
    let quiesced = EXCLUSIVE.try_with(Cell::get).unwrap_or(false);
    if let Some(hooks) = HOOKS.get() {
        // A panic must not unwind into libc.
        let _ = std::panic::catch_unwind(|| (hooks.child)(quiesced));
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
