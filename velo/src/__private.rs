//! Items used by the code that `velo!` and `fields!` generate.
//!
//! Not public API: nothing here is covered by semver, and it may change in
//! any release. The macros bind this module to `__velo` and name nothing
//! else, so a renamed `velo` dependency and a user crate named `core` both
//! still work.

pub use crate::callsite::{CallSite, Site};
pub use crate::catalog::CATALOG;
pub use crate::entry::Entry;
pub use crate::fields::{Fields, FieldsBuilder};
pub use crate::level::Level;
pub use crate::limit::{Every, Sample};
pub use crate::logger::{logger, Logger};
pub use core::{concat, file, line, mem::forget, module_path, option::Option};
pub use linkme;
pub use velo_macros::{enabled_impl, fields_impl, velo_impl};

use crate::value::Value;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A field's value, given to `Entry::logN`: it must be a [`Value`]. Its
/// own call, spanned as the value's expression, so that a value that is
/// not one is reported there, once (the same bound of `Entry::logN`, at
/// the same span, is not reported again).
#[inline(always)]
pub fn loggable<V: Value + ?Sized>(value: &V) -> &V {
    value
}

/// A `%` field's value, given to `Entry::logN` (by reference): written
/// through `Display`, as [`Entry::display`] writes it. Spanned as
/// [`loggable`].
#[inline(always)]
pub fn shown<V: fmt::Display + ?Sized>(value: &V) -> Shown<'_, V> {
    Shown(value)
}

/// A `?` field's value, given to `Entry::logN` (by reference): written
/// through `Debug`, as [`Entry::debug`] writes it. Spanned as
/// [`loggable`].
#[inline(always)]
pub fn debugged<V: fmt::Debug + ?Sized>(value: &V) -> Debugged<'_, V> {
    Debugged(value)
}

/// A value written through its `Display` (see [`shown`]).
#[derive(Debug)]
pub struct Shown<'a, V: ?Sized>(&'a V);

impl<V: fmt::Display + ?Sized> Value for Shown<'_, V> {
    #[inline]
    fn encode(&self, e: &mut crate::Encoder<'_>) {
        e.display(self.0);
    }
}

/// A value written through its `Debug` (see [`debugged`]).
#[derive(Debug)]
pub struct Debugged<'a, V: ?Sized>(&'a V);

impl<V: fmt::Debug + ?Sized> Value for Debugged<'_, V> {
    #[inline]
    fn encode(&self, e: &mut crate::Encoder<'_>) {
        e.debug(self.0);
    }
}

/// What `logger: EXPR` accepts: a `Logger`, or a reference, `Arc`, `Box`,
/// `Rc`, `LazyLock` or lock guard of something that is one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a velo logger",
    label = "expected a `velo::Logger`",
    note = "`logger:` takes a `velo::Logger`, a reference to one, or an `Arc`, `Box`, `Rc`, `LazyLock` or lock guard of one; for another smart pointer, write `&*pointer`"
)]
pub trait AsLogger {
    /// The logger.
    fn as_logger(&self) -> &Logger;
}

impl AsLogger for Logger {
    #[inline(always)]
    fn as_logger(&self) -> &Logger {
        self
    }
}

impl<T: AsLogger + ?Sized> AsLogger for &T {
    #[inline(always)]
    fn as_logger(&self) -> &Logger {
        (**self).as_logger()
    }
}

impl<T: AsLogger + ?Sized> AsLogger for &mut T {
    #[inline(always)]
    fn as_logger(&self) -> &Logger {
        (**self).as_logger()
    }
}

/// What derefs to a logger the way the common holders of one do (a
/// `static` in a `LazyLock`, a logger behind a lock).
macro_rules! as_logger_through_deref {
    ($($holder:ty),* $(,)?) => {$(
        impl<T: AsLogger + ?Sized> AsLogger for $holder {
            #[inline(always)]
            fn as_logger(&self) -> &Logger {
                (**self).as_logger()
            }
        }
    )*};
}

as_logger_through_deref!(
    std::sync::Arc<T>,
    Box<T>,
    std::rc::Rc<T>,
    std::sync::MutexGuard<'_, T>,
    std::sync::RwLockReadGuard<'_, T>,
    std::sync::RwLockWriteGuard<'_, T>,
);

impl<T: AsLogger, F: FnOnce() -> T> AsLogger for std::sync::LazyLock<T, F> {
    #[inline(always)]
    fn as_logger(&self) -> &Logger {
        (**self).as_logger()
    }
}

impl<T: AsLogger, F: FnOnce() -> T> AsLogger for std::cell::LazyCell<T, F> {
    #[inline(always)]
    fn as_logger(&self) -> &Logger {
        (**self).as_logger()
    }
}

/// Borrows the logger given as `logger: EXPR`.
#[inline(always)]
pub fn as_logger<L: AsLogger + ?Sized>(logger: &L) -> &Logger {
    logger.as_logger()
}

/// `fatal` calls whose entry is on its way (between [`fatal_begins`] and
/// [`fatal_exit`]), with the id of the process they are in: `(pid << 32) |
/// count`. A forked child's count starts again from zero, the parent's
/// other threads not being in it.
static FATAL_PENDING: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Of those, this thread's own: a `fatal` logged while this thread
    /// writes another's entry (from a value's `Display`) waits for no one
    /// but other threads.
    static OWN_PENDING: Cell<u32> = const { Cell::new(0) };
}

/// The count in `word` (see [`FATAL_PENDING`]) if it is this process's.
fn pending_in(word: u64, pid: u32) -> u32 {
    if (word >> 32) as u32 == pid {
        word as u32
    } else {
        0
    }
}

/// A `fatal` call on its way to [`fatal_exit`]; counted in
/// `FATAL_PENDING` until it gets there, or unwinds (a value's `Display`
/// that panicked).
#[derive(Debug)]
pub struct FatalPending(());

impl Drop for FatalPending {
    fn drop(&mut self) {
        let pid = std::process::id();
        let _ = FATAL_PENDING.fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
            let count = pending_in(word, pid);
            (count != 0).then(|| (u64::from(pid) << 32) | u64::from(count - 1))
        });
        let _ = OWN_PENDING.try_with(|own| own.set(own.get().saturating_sub(1)));
    }
}

/// Before a `fatal` call's entry: counts it as on its way, so that a
/// `fatal` of another thread waits for it before exiting.
#[cold]
pub fn fatal_begins() -> FatalPending {
    let pid = std::process::id();
    let _ = FATAL_PENDING.fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
        let count = pending_in(word, pid).saturating_add(1);
        Some((u64::from(pid) << 32) | u64::from(count))
    });
    let _ = OWN_PENDING.try_with(|own| own.set(own.get() + 1));
    FatalPending(())
}

/// Whether another thread's `fatal` is on its way.
fn others_pending() -> bool {
    let all = pending_in(FATAL_PENDING.load(Ordering::Acquire), std::process::id());
    let own = OWN_PENDING.try_with(Cell::get).unwrap_or(0);
    all > own
}

/// How long a `fatal` waits at least before it closes the loggers and
/// exits, for other threads failing at the same moment (see
/// [`fatal_exit`]).
const FATAL_GRACE: std::time::Duration = std::time::Duration::from_millis(20);

/// After a `fatal` entry: flush every logger and exit with status 1.
///
/// Each logger's flush is bounded (see [`Logger::sync`]); a logger whose
/// output this thread is inside of (a `fatal` logged from a writer) cannot
/// be flushed from here, and is not waited for.
///
/// From an exit handler that runs after velo's own (one registered before
/// the first logger was built), this thread is exiting the process already
/// and may not call `exit` again (std aborts: "called re-entrantly"): there
/// it ends with `_exit(1)`, the loggers flushed. Another thread's `fatal`
/// during the exit calls `exit`, which std makes wait for the exit under
/// way rather than cut it. Code that runs at exit
/// before velo's handler (a main thread-local's destructor, an exit
/// handler registered later) is past what velo can tell; `exit` aborts
/// there, after the entry is written.
#[cold]
pub fn fatal_exit(pending: FatalPending) -> ! {
    drop(pending);
    // Another thread's `fatal` begun meanwhile gets its entry queued or
    // written before the loggers close: threads that fail at once all say
    // why. This thread gives its CPU up for a scheduler's time slice or
    // two first, so that one that failed at the same moment but has not
    // run since (more threads than cores: a woken thread can wait several
    // milliseconds for a CPU) gets as far as `fatal_begins`; 1 ms lost
    // such a thread in 1 run of about 120 on two busy cores. Bounded, as
    // every wait of velo's.
    let start = std::time::Instant::now();
    let deadline = start + crate::worker::STALL;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(1));
        let now = std::time::Instant::now();
        if (!others_pending() && now >= start + FATAL_GRACE) || now >= deadline {
            break;
        }
    }
    crate::close();
    #[cfg(unix)]
    if crate::sink::this_thread_exits() {
        // SAFETY: `_exit` ends the process at once, which is what this
        // function promises; every logger was flushed above.
        unsafe { libc::_exit(1) }
    }
    std::process::exit(1)
}
