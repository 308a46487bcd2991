//! [`Logger`], the global default, and the process-wide `sync` and `close`.

use crate::callsite::{self, CallSite, FilterCell, OVERFLOW, STALE};
use crate::core::{self as pipeline, Core};
use crate::error::{Error, ErrorKind};
use crate::fields::Fields;
use crate::filter::Filter;
use crate::level::LevelFilter;
use crate::local;
use crate::record;
use crate::stats;
use std::sync::{Arc, OnceLock};

/// A handle to a logger: cheap to clone, `Send + Sync`.
///
/// Clones and child loggers ([`Logger::with`]) share one worker and one
/// filter. Dropping a handle while others live changes nothing; when the
/// last one goes, the worker flushes and stops.
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new().writer(std::io::sink()).build()?;
/// let child = logger.with(velo::fields!(request_id = 7));
/// velo::velo!(logger: &child, info, "handled", status = 200);
/// child.sync()?;
/// assert_eq!(logger.stats().written, 1);
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Logger {
    shared: Arc<Shared>,
    /// Context fields, encoded.
    context: Arc<[u8]>,
}

#[derive(Debug)]
struct Shared {
    core: Arc<Core>,
    filter: Arc<FilterCell>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Busy while the registry's lock is held: a signal handler logging
        // meanwhile drops its entry rather than wait for that lock (see
        // `Logger::recompute`).
        local::while_busy(|| callsite::unregister_filter(&self.filter));
        self.core.close();
    }
}

/// Counters of a logger's pipeline, from [`Logger::stats`].
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new().writer(std::io::sink()).build()?;
/// velo::velo!(logger: &logger, info, "one");
/// velo::velo!(logger: &logger, info, "two");
/// logger.sync()?;
/// let stats = logger.stats();
/// assert_eq!((stats.enqueued, stats.written, stats.dropped), (2, 2, 0));
/// assert!(stats.bytes > 0);
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Entries accepted into the queues (the logging threads' rings),
    /// whether written since or not: it only ever grows. Entries a caller
    /// wrote itself (`sync_fallbacks`) never went through a queue.
    pub enqueued: u64,
    /// Entries the output took (the drop warnings included): written, or
    /// held in its buffer while the writer fails, to be written when it
    /// recovers. An entry the buffer has to give up on (see `dropped`) is
    /// taken back from this count.
    pub written: u64,
    /// Entries discarded: under [`Overflow::Drop`](crate::Overflow::Drop),
    /// logged from a signal handler that interrupted its thread inside
    /// velo (queueing another entry, or in a path that allocates or
    /// locks), logged from inside the logger's own output with no room
    /// left or while no worker would write it any more (by a writer that
    /// logs to its own logger as `close`, the exit or a write after
    /// `close` ends: such entries are written for a few rounds, then
    /// dropped), given up on by the output's buffer while its writer kept
    /// failing (past 256 KiB, the oldest lines first), or given up on by
    /// a network output (a syslog backlog that
    /// overflowed while the receiver was away, what it still held at
    /// `close`, an OTLP batch the collector refused or that found no room
    /// in the output's backlog), still queued for an output stuck in a
    /// write as the process exits, or lost to a panic in one of its values'
    /// `Display`, `Debug` or `Value` impls (the panic goes on out of
    /// `velo!`; later entries are unaffected). A drop warning given up on
    /// counts here too, as it counted in `written`.
    ///
    /// The entries of a write that never returns (a writer blocked for
    /// good) count by where they are when it starts: those the output's
    /// buffer already holds (the write was writing them out) count in
    /// `written`, as lines held while a writer fails do; those of the
    /// worker's pass under way, which counts what it wrote when it ends,
    /// in neither `written` nor here; those still queued here, if the
    /// process exits with them. So while a write hangs, `written` may be
    /// up to a buffer's worth (64 KiB of lines) ahead of what the writer
    /// has taken.
    pub dropped: u64,
    /// Bytes of the lines counted in `written`. (An OTLP batch given up
    /// on is taken back from `written` only.)
    pub bytes: u64,
    /// Failed writes and flushes. An entry an output refused outright (a
    /// journald send or an appender's `append` that failed) counts here
    /// only, in neither `written` nor `dropped`. A syslog datagram sent
    /// over UDP counts in `written`: UDP hears of a refusal (the
    /// receiver's ICMP reply) only at the send after the one refused,
    /// which fails, counts here, and is sent again later.
    pub write_errors: u64,
    /// Entries a caller wrote itself because its queue was full under
    /// [`Overflow::Sync`](crate::Overflow::Sync), because the entry was
    /// larger than its queue can hold (under any strategy), because its
    /// thread was exiting, or, under [`Overflow::Block`](crate::Overflow::Block),
    /// because waiting for room could never end (the queue full while
    /// its thread writes the logger's own output, or with the worker
    /// gone).
    ///
    /// Entries logged after [`close`](Logger::close), and every entry of
    /// a logger built with
    /// [`asynchronous(false)`](crate::Builder::asynchronous), are written
    /// by their caller by design: they count in `written` (or `dropped`)
    /// only, neither here nor in `enqueued`.
    pub sync_fallbacks: u64,
}

impl Logger {
    /// A logger with `context` (a block made by `record::context_block`,
    /// the one its core's warnings carry too).
    pub(crate) fn new(core: Arc<Core>, filter: Filter, context: Arc<[u8]>) -> Logger {
        // Busy: see `Shared::drop`.
        let filter = local::while_busy(|| callsite::register_filter(filter));
        Logger {
            context,
            shared: Arc::new(Shared { core, filter }),
        }
    }

    #[inline]
    pub(crate) fn core(&self) -> &Core {
        &self.shared.core
    }

    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn filter_cell(&self) -> &FilterCell {
        &self.shared.filter
    }

    /// The logger's context as a record carries it: its id, then its
    /// fields (see `record::context_block`); empty without fields.
    #[inline]
    pub(crate) fn context(&self) -> &[u8] {
        &self.context
    }

    /// Whether this logger accepts call site `cs`, given its interest word.
    #[doc(hidden)]
    #[inline]
    pub fn accepts(&self, cs: &'static CallSite, interest: u64) -> bool {
        let interest = if interest & STALE == 0 {
            interest
        } else {
            self.recompute(cs)
        };
        let mask = self.shared.filter.mask;
        interest & mask != 0 && (mask != OVERFLOW || self.shared.filter.enabled(cs.site()))
    }

    /// [`callsite::recompute`], which locks the registry and may allocate,
    /// with this thread marked busy. From a signal handler that interrupted
    /// this thread inside velo (there, say), which may hold that lock or
    /// the allocator's, the site is not looked up: its entry is dropped and
    /// counted, and nothing is cached, so its next call outside one
    /// decides.
    #[cold]
    #[inline(never)]
    fn recompute(&self, cs: &'static CallSite) -> u64 {
        if local::is_busy() {
            self.core()
                .stats
                .drop_for(crate::stats::Reason::Interrupted);
            return 0;
        }
        local::while_busy(|| callsite::recompute(cs))
    }

    /// A child logger that adds `fields` to every entry, after this logger's
    /// own context; a key both set takes the child's value. The fields are
    /// encoded once, when `fields!` runs.
    ///
    /// Cheap enough to make one per request: `fields!` and `with` take
    /// three allocations in all (the fields, the merged context, the
    /// context the child's clones share), and the worker formats the
    /// context once, at the child's first entry.
    ///
    /// The child is the same logger with more context: it shares this
    /// logger's filter, queue, worker and output with every clone and
    /// child (so [`set_filter`](Logger::set_filter) on any of them changes
    /// what all of them pass). For a different filter or output, build
    /// another logger.
    ///
    /// # Examples
    ///
    /// ```
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// let request_id = 42;
    /// let req_log = logger.with(velo::fields!(request_id));
    /// velo::velo!(logger: &req_log, info, "request started");
    /// ```
    #[must_use]
    pub fn with(&self, fields: Fields) -> Logger {
        Logger {
            shared: Arc::clone(&self.shared),
            context: record::merged_context_block(
                record::context_fields(&self.context),
                fields.as_bytes(),
            ),
        }
    }

    /// Replaces the filter; existing call sites see the change at once.
    ///
    /// The filter is this logger's and its clones' and children's (see
    /// [`with`](Logger::with)); other loggers keep theirs.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Filter`] for a bad directive, or a bare word that looks
    /// like a misspelt level in a filter with no default level (`inf`, see
    /// [`Builder::filter`](crate::Builder::filter)); the filter is
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// logger.set_filter("debug,noisy=warn")?;
    /// assert!(logger.filter().enabled(velo::Level::Debug, "my_app"));
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn set_filter(&self, directives: &str) -> Result<(), Error> {
        let filter = directives.parse()?;
        // Busy: see `Shared::drop`.
        local::while_busy(|| callsite::set_filter(&self.shared.filter, filter));
        Ok(())
    }

    /// Passes `level` and above everywhere: [`set_filter`](Logger::set_filter)
    /// with a filter of one level.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Level;
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// logger.set_level(Level::Warn);
    /// assert!(!logger.filter().enabled(Level::Info, "my_app"));
    /// assert!(logger.filter().enabled(Level::Error, "my_app"));
    /// ```
    pub fn set_level(&self, level: impl Into<LevelFilter>) {
        let filter = Filter::level(level.into());
        // Busy: see `Shared::drop`.
        local::while_busy(|| callsite::set_filter(&self.shared.filter, filter));
    }

    /// The current filter.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .filter("info,my_app::db=debug")
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// let filter = logger.filter();
    /// assert_eq!(filter.to_string(), "info,my_app::db=debug");
    /// assert!(filter.enabled(velo::Level::Debug, "my_app::db"));
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn filter(&self) -> Filter {
        self.shared.filter.get()
    }

    /// Blocks until every entry logged before the call is written and
    /// flushed.
    ///
    /// The wait is bounded: it lasts while the logger's worker makes
    /// progress, and ends with an error after five seconds without any (an
    /// output that blocks, such as a full pipe nobody reads). Called from
    /// inside this logger's own writer, it does not wait (the pass it would
    /// wait for runs once the writer returns); from inside another
    /// logger's writer, not once this logger's worker is waiting for that
    /// writer in turn.
    ///
    /// # Errors
    ///
    /// The last write error since the previous `sync`, if any;
    /// [`ErrorKind::Timeout`] when the output made no progress.
    ///
    /// # Examples
    ///
    /// ```
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "written before sync returns");
    /// logger.sync()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn sync(&self) -> Result<(), Error> {
        self.core().sync()
    }

    /// Flushes and stops this logger's worker. Logging goes on afterwards,
    /// synchronously on the caller's thread. Idempotent; waits for the
    /// worker as [`sync`](Logger::sync) does (and, like it, not for a pass
    /// that waits for the writer it is called from).
    ///
    /// # Examples
    ///
    /// ```
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// logger.close();
    /// velo::velo!(logger: &logger, info, "still written, synchronously");
    /// assert!(logger.is_closed());
    /// ```
    pub fn close(&self) {
        self.core().close();
    }

    /// Reopens the log file of a [`Builder::file`](crate::Builder::file) or
    /// [`Builder::rolling`](crate::Builder::rolling) output, after
    /// everything queued is written to the old one: what logrotate's
    /// "move, then signal" needs. Other outputs do nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::File`] when the file cannot be opened again.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let logger = velo::Builder::new().file("app.log").build()?;
    /// // after `mv app.log app.log.1`:
    /// logger.reopen()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn reopen(&self) -> Result<(), Error> {
        self.core().reopen()
    }

    /// Whether [`close`](Logger::close) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().writer(std::io::sink()).build()?;
    /// assert!(!logger.is_closed());
    /// logger.clone().close(); // closes every clone
    /// assert!(logger.is_closed());
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.core().is_stopped()
    }

    /// The pipeline's counters.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().writer(std::io::sink()).build()?;
    /// velo::velo!(logger: &logger, info, "counted");
    /// velo::velo!(logger: &logger, debug, "filtered out, not counted");
    /// logger.sync()?;
    /// assert_eq!(logger.stats().written, 1);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        let c = &self.core().stats;
        Stats {
            enqueued: self.core().enqueued(),
            written: stats::get(&c.written),
            dropped: stats::get(&c.dropped),
            bytes: stats::get(&c.bytes),
            write_errors: stats::get(&c.write_errors),
            sync_fallbacks: stats::get(&c.sync_fallbacks),
        }
    }
}

impl AsRef<Logger> for Logger {
    fn as_ref(&self) -> &Logger {
        self
    }
}

static DEFAULT: OnceLock<Logger> = OnceLock::new();

/// The default logger, used by `velo!` without `logger:`: the installed
/// one, or else one built from the environment on first use (see
/// [`Builder::from_env`](crate::Builder::from_env)) writing to stderr.
///
/// # Examples
///
/// ```
/// let stats = velo::logger().stats();
/// # let _ = stats;
/// ```
#[track_caller]
#[inline]
pub fn logger() -> &'static Logger {
    match DEFAULT.get() {
        Some(logger) => logger,
        None => first_use(Some(std::panic::Location::caller())),
    }
}

/// [`logger`] for velo's bridges, whose first use names no line of the
/// user's code.
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn for_bridge() -> &'static Logger {
    match DEFAULT.get() {
        Some(logger) => logger,
        None => first_use(None),
    }
}

/// The code whose first use made the default logger (`None`: a bridge),
/// for the error of a later `install()`.
static FIRST_USE: OnceLock<Option<&'static std::panic::Location<'static>>> = OnceLock::new();

#[cold]
#[inline(never)]
fn first_use(at: Option<&'static std::panic::Location<'static>>) -> &'static Logger {
    crate::fork::once(&DEFAULT, || {
        let _ = FIRST_USE.set(at);
        default_logger()
    })
}

/// The default logger if it is made already (installed, or made by a first
/// use); never makes it.
#[cfg(feature = "log")]
pub(crate) fn default_if_made() -> Option<&'static Logger> {
    DEFAULT.get()
}

#[cold]
fn default_logger() -> Logger {
    crate::Builder::from_env().build().unwrap_or_else(|e| {
        crate::stdio::say(format_args!("{e}; using the default settings"));
        crate::Builder::new()
            .build()
            .expect("the default configuration is valid")
    })
}

/// Whether the default logger came from `install()` (rather than from the
/// environment on first use), for the error of a second `install()`.
static INSTALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes `logger` the default.
pub(crate) fn install(logger: Logger) -> Result<&'static Logger, Error> {
    let mut slot = Some(logger);
    let installed = crate::fork::once(&DEFAULT, || slot.take().expect("taken once"));
    if slot.is_some() {
        return Err(already_installed());
    }
    INSTALLED.store(true, std::sync::atomic::Ordering::Relaxed);
    // A bridge set up before (`bridge_log()` first) follows its filter
    // from now on, not from its first record.
    callsite::run_filter_hooks(&installed.shared.filter);
    Ok(installed)
}

/// The error of an `install()` after the default logger is set: checked
/// before the logger is built too, so that a refused install opens no
/// file and starts no thread.
pub(crate) fn check_installable() -> Result<(), Error> {
    match DEFAULT.get() {
        Some(_) => Err(already_installed()),
        None => Ok(()),
    }
}

fn already_installed() -> Error {
    if INSTALLED.load(std::sync::atomic::Ordering::Relaxed) {
        return Error::new(
            ErrorKind::AlreadyInstalled,
            "a default logger is already installed; install() sets it once per process",
        );
    }
    let by = match FIRST_USE.get() {
        Some(Some(at)) => format!("the first use, at {at}"),
        _ => "a bridge".into(),
    };
    Error::new(
        ErrorKind::AlreadyInstalled,
        format!(
            "a default logger is already in use (made from the environment by {by}): \
             install() must run before the first velo! or enabled! call, velo::logger() \
             or bridge; set_filter still works on the logger in use"
        ),
    )
}

/// Blocks until everything logged so far, by every logger, is written and
/// flushed.
///
/// # Errors
///
/// The first logger's last write error since the previous sync.
///
/// # Examples
///
/// ```
/// velo::velo!(info, "about to sync");
/// velo::sync()?;
/// # Ok::<(), velo::Error>(())
/// ```
pub fn sync() -> Result<(), Error> {
    let cores = pipeline::live_cores();
    // Every worker asked first, then each waited for: their passes run at
    // once, and several stuck outputs cost one bounded wait in all (as in
    // `close`).
    let started: Vec<_> = cores.iter().map(|core| core.begin_sync()).collect();
    let mut result = Ok(());
    for (core, started) in cores.iter().zip(started) {
        let r = core.finish_sync(started);
        if result.is_ok() {
            result = r;
        }
    }
    result
}

/// Flushes and stops every logger's worker; later entries are written
/// synchronously. Idempotent, safe from any thread; call it before exit.
///
/// # Examples
///
/// ```
/// velo::velo!(info, "shutting down");
/// velo::close();
/// velo::velo!(info, "still written, synchronously");
/// ```
pub fn close() {
    let cores = pipeline::live_cores();
    // Every worker told first, then each waited for: their last passes run
    // at once, and several stuck outputs cost one bounded wait in all.
    let started: Vec<_> = cores.iter().map(|core| core.begin_close()).collect();
    for (core, started) in cores.iter().zip(started) {
        core.finish_close(started);
    }
}

/// Registers [`close`] to run at process exit, once, so that returning from
/// `main` without calling it loses nothing.
pub(crate) fn close_at_exit() {
    #[cfg(any(unix, windows))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        extern "C" {
            fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
        }
        extern "C" fn on_exit() {
            crate::sink::exit_begins();
            // A panic must not unwind into C.
            let _ = std::panic::catch_unwind(close);
        }
        ONCE.call_once(|| {
            // SAFETY: `atexit` is the C standard library's, declared with its
            // C signature; `on_exit` is an `extern "C" fn` with no arguments
            // that never unwinds, as `atexit` requires.
            unsafe {
                atexit(on_exit);
            }
        });
    }
}
