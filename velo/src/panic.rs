//! The panic hook that `install()` sets: it logs the panic at error level
//! with its message, location and thread, flushes every logger, then runs
//! the hook that was there before. Under `panic = "abort"` every program
//! that builds a logger gets a hook that flushes ([`flush_on_abort`]). A panic of the logger's own writer is not logged
//! through it: velo catches it, and reports it as a write error.
//!
//! The flush is bounded (see [`Logger::sync`]): a panic inside
//! `println!("{}", value)` holds stdout's lock while the hook runs, and the
//! logger's own stdout and stderr outputs write to the file descriptor, not
//! through that lock, so they never wait for it; a writer of the user's
//! that does is given up on after a few seconds.

use crate::callsite::{internal_site, CallSite};
use crate::entry::Entry;
use crate::logger::Logger;

pub(crate) static PANIC: CallSite = internal_site!(Error, "panic", ["panic", "location", "thread"]);

/// [`PANIC`] for a logger that writes every entry's thread name itself
/// (`Builder::thread_names`): without a `thread` field of its own.
static PANIC_NAMED: CallSite = internal_site!(Error, "panic", ["panic", "location"]);

/// Chains a hook logging panics to `logger` before the current hook.
pub(crate) fn install_hook(logger: &'static Logger) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // An error entry like any other: not written where the filter
        // passes no error at all (`off`, or `fatal` only).
        if !logger
            .filter()
            .max_level()
            .allows(crate::level::Level::Error)
        {
            return previous(info);
        }
        // A panic of the logger's own writer (or appender): velo catches
        // it and reports it as a write error. Logging it through that
        // output would feed it: a writer that panics on every entry would
        // panic again on this one, and so on without end.
        if crate::local::is_writing(logger.core().id) {
            return previous(info);
        }
        crate::local::as_panic_hook(|| log_panic(logger, info));
        previous(info);
        // Under `panic = "abort"` nothing of velo's runs after the hook:
        // what the hooks before logged is flushed now.
        if cfg!(panic = "abort") {
            sync_in_hook();
        }
    }));
}

/// Logs the panic `info` describes to `logger`, and makes it durable. A
/// panic raised here would abort the process ("panicked while processing
/// panic"), so a writer or appender of the user's never runs on this
/// thread meanwhile for a logger with a queue: the entry waits for the
/// worker (or is dropped, counted, when none will write it), and `sync`
/// writes nothing itself. A logger without one writes it here, as it
/// writes everything (see `Builder::asynchronous`).
fn log_panic(logger: &Logger, info: &std::panic::PanicHookInfo<'_>) {
    let named = logger.core().config.thread_names;
    let site = if named { &PANIC_NAMED } else { &PANIC };
    let mut entry = Entry::start::<false>(logger.core(), logger.context(), site.site(), None);
    entry.keep();
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    entry.value(message);
    match info.location() {
        Some(location) => entry.display(location),
        None => entry.value(&()),
    }
    if !named {
        entry.value(std::thread::current().name().unwrap_or("<unnamed>"));
    }
    entry.finish();
    // The process may be about to end (a panic on the main thread, or
    // any panic under `panic = "abort"`, where nothing of velo's runs
    // after the hook): make the entry durable, and every other logger's
    // entries too. Inside a logger's output its sync returns at once
    // instead of waiting for itself.
    let _ = crate::logger::sync();
}

/// How long building a program's first logger waits for its flushing hook
/// to be chained (see [`flush_on_abort`]): microseconds, unless another
/// thread runs the panic hook meanwhile.
const HOOK_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Under `panic = "abort"`, chains a hook that flushes every logger after
/// the current hook, once per process: an abort runs neither the exit's
/// close nor anything else of velo's, so without it a panic would lose
/// what the loggers' queues hold, the entries the program's own hook
/// logs about the panic among them (the hook `install()` sets flushes
/// too, and logs the panic). Under `panic = "unwind"` nothing is lost: a
/// panic on the main thread ends the process through the exit, which
/// closes every logger, and one on another thread ends that thread only.
///
/// Never from a panicking thread, where std refuses to change the hook
/// (a program's hook that logs first builds the default logger there);
/// and on a thread of its own, waited for [`HOOK_WAIT`] at most: while
/// another thread runs the panic hook std holds the hook's lock, and a
/// hook that waits for this thread would wait for good.
pub(crate) fn flush_on_abort() {
    if !cfg!(panic = "abort") || std::thread::panicking() {
        return;
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let (done, chained) = std::sync::mpsc::channel();
        let spawned = crate::thread::spawn("velo-panic-hook", move || {
            chain_flush();
            let _ = done.send(());
        });
        if spawned.is_ok() {
            let _ = chained.recv_timeout(HOOK_WAIT);
        }
    });
}

/// Chains the hook of [`flush_on_abort`].
fn chain_flush() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The hooks before first: what they log is flushed too.
        previous(info);
        sync_in_hook();
    }));
}

/// Flushes every logger from a panic hook. No user writer runs on this
/// thread meanwhile (see `log_panic`): a panic there would abort the
/// process before the rest of the hook runs.
fn sync_in_hook() {
    crate::local::as_panic_hook(|| {
        let _ = crate::logger::sync();
    });
}
