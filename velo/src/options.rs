//! The options a logger is built with: its format, schema and overflow
//! strategy, and what its callers and its worker keep of them.

use crate::level::Level;
use crate::timestamp::Timestamp;

/// Output format.
///
/// # Examples
///
/// ```
/// use velo::Format;
///
/// assert_eq!(Format::default(), Format::Auto);
/// let logger = velo::Builder::new()
///     .format(Format::Text)
///     .writer(std::io::sink())
///     .build()?;
/// velo::velo!(logger: &logger, info, "ready", port = 8080, name = "a b");
/// // 2026-11-27T17:03:12.123456Z INFO  ready port=8080 name="a b" caller=src/main.rs:7
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// `TIME LEVEL message key=value ...`, coloured on a terminal unless
    /// `NO_COLOR` is set (not empty), `CLICOLOR` is `0` or `TERM` is
    /// `dumb`; `CLICOLOR_FORCE` colours it anywhere; `RUST_LOG_STYLE`
    /// (`always`, `never`) comes before both (see
    /// [`Builder::color`](crate::Builder::color), which overrides them all).
    Text,
    /// Text when writing to a terminal, JSON otherwise (the default). The
    /// terminal is standard output or error, a writer that is one of them
    /// or a `File` on a terminal, or a file opened at a terminal device
    /// (`/dev/tty`); any other writer is not one.
    #[default]
    Auto,
}

/// The names of the keys velo writes itself (see
/// [`Builder::schema`](crate::Builder::schema)).
///
/// | | `Velo` (default) | `Ecs` | `Gcp` |
/// |---|---|---|---|
/// | time | `time` | `@timestamp` | `time` |
/// | level | `level`: `info` | `log.level`: `info` | `severity`: `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL` |
/// | message | `msg` | `message` | `message` |
/// | caller | `caller`: `file:line` | `log.origin.file.name`, `log.origin.file.line` | `logging.googleapis.com/sourceLocation`: `{"file":..,"line":".."}` |
/// | extra | | `"ecs.version":"8.11.0"` | |
///
/// Keys are flat, dotted names (`"log.level"`), not nested objects. The
/// schema applies to the JSON format; the text format is the same for all.
///
/// A key appears once per line: a field whose key is one velo writes
/// itself in that line (`message` under `Ecs` or `Gcp`, or `target`,
/// `suppressed` and `backtrace` when the entry has them) is written as
/// `fields.KEY`, keeping its value. Should the entry also have a field
/// named `fields.KEY`, the innermost of the two is written (the call's
/// over a scope's over the context's, as for any key, and a child
/// logger's over its parent's, an inner scope's over an outer one's);
/// of one call, the field named `fields.KEY` itself; of one `fields!`,
/// the later of the two.
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new()
///     .schema(velo::Schema::Ecs)
///     .writer(std::io::sink())
///     .build()?;
/// velo::velo!(logger: &logger, info, "indexed", message = "raw");
/// // {"@timestamp":..,"log.level":"info","message":"indexed",..,"fields.message":"raw"}
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Schema {
    /// velo's own names: `time`, `level`, `msg`, `caller`.
    #[default]
    Velo,
    /// Elastic Common Schema names, for Elasticsearch and Kibana.
    Ecs,
    /// Google Cloud Logging's structured-log names.
    Gcp,
}

/// What a call does when the queue is full: when the calling thread's
/// queue holds [`Builder::buffer_size`](crate::Builder::buffer_size)
/// entries, or the most bytes it may hold (see there).
///
/// One case overrides every strategy: a writer of one logger that logs to
/// another whose queue is full, while a writer of that other logger logs
/// back to the first (each thread holding one output and waiting for the
/// other's). Waiting would never end, so the thread inside the logger made
/// later gives up: its entry to the earlier logger is dropped and counted,
/// at once when the other thread is seen waiting for it, else after a
/// second; the earlier logger's thread waits. Entries logged outside the
/// two outputs are not lost under `Sync`. One logged from inside a
/// logger's own output, directly or through the other logger's writer
/// running on the same thread, is queued if its thread's queue has room,
/// else dropped and counted, as for any writer logging to its own logger.
///
/// # Examples
///
/// ```
/// use velo::Overflow;
///
/// assert_eq!(Overflow::default(), Overflow::Sync);
/// let logger = velo::Builder::new()
///     .overflow(Overflow::Block)
///     .writer(std::io::sink())
///     .build()?;
/// velo::velo!(logger: &logger, info, "waits for room if the queue is full");
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Overflow {
    /// Nothing is lost and each thread's order is kept (the default).
    /// The caller waits for the worker to make room, for up to a
    /// millisecond (a thread logging flat out then runs at the worker's
    /// pace), waking it first if it is idle; after that, or when the worker
    /// is stopped or stuck, the caller does the worker's job: under the
    /// output's lock it drains what is queued, then writes its own entry.
    ///
    /// So a thread that logs may run the writer: the time of a writer
    /// that never returns is not bounded there, and a thread that holds a
    /// lock the writer takes must not log while it holds it, unless its
    /// queue cannot fill meanwhile. `Block` and `Drop` never run the
    /// writer on a full queue.
    #[default]
    Sync,
    /// The entry is discarded and counted; the worker later writes a
    /// warning entry with the count of entries dropped since its last
    /// such warning: while drops go on, one a second at most; once the
    /// worker idles, and at `sync` and `close`, what is left at once.
    /// A caller never waits, except with a
    /// program's last words: a `fatal` entry, or the panic the hook of
    /// [`Builder::install`](crate::Builder::install) logs, is written as
    /// under `Sync` rather than dropped.
    Drop,
    /// The caller waits for room in its queue, while the worker makes
    /// progress: after 5 s without any (a writer that never returns) the
    /// entry is dropped and counted, and until the worker moves again the
    /// callers that find their queue full drop at once instead of each
    /// waiting that long.
    Block,
}

/// The default queue capacity, in entries per logging thread.
///
/// # Examples
///
/// ```
/// assert!(velo::DEFAULT_BUFFER_SIZE.is_power_of_two());
/// let logger = velo::Builder::new()
///     .buffer_size(4 * velo::DEFAULT_BUFFER_SIZE)
///     .writer(std::io::sink())
///     .build()?;
/// # Ok::<(), velo::Error>(())
/// ```
pub const DEFAULT_BUFFER_SIZE: usize = 8192;

/// What a logger's callers need to know: how to fill in a record and what
/// to do when the queue is full.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    pub(crate) overflow: Overflow,
    /// Whether entries carry a time at all.
    pub(crate) timestamp: bool,
    /// Whether entries carry the name of the thread that logged them.
    pub(crate) thread_names: bool,
    /// Whether a `tracing` span gives entries inside it its name, as the
    /// field `span.name` (`Builder::span_names`).
    pub(crate) span_names: bool,
    /// Whether an output runs the user's code (a writer, an appender),
    /// which may panic: never inside velo's panic hook (see `panic.rs`).
    pub(crate) user_code: bool,
    /// The lowest level number whose entries carry a backtrace (past
    /// `Fatal` for none).
    backtrace_from: u8,
    /// The lowest level number whose entries start in the thread's buffer
    /// rather than in place in its ring (those with a backtrace, or every
    /// entry when they carry the thread's name): one comparison on every
    /// call.
    buffered_from: u8,
}

impl Config {
    /// With entries at or above `backtrace` carrying a backtrace.
    pub(crate) fn new(
        overflow: Overflow,
        timestamp: bool,
        thread_names: bool,
        backtrace: Option<Level>,
    ) -> Config {
        let backtrace_from = backtrace.map_or(u8::MAX, |l| l as u8);
        Config {
            overflow,
            timestamp,
            thread_names,
            span_names: false,
            user_code: false,
            backtrace_from,
            buffered_from: if thread_names { 0 } else { backtrace_from },
        }
    }

    /// Whether entries of any level carry a backtrace.
    pub(crate) fn has_backtraces(&self) -> bool {
        self.backtrace_from != u8::MAX
    }

    /// Whether an entry at `level` carries a backtrace.
    #[inline]
    pub(crate) fn backtrace_at(&self, level: Level) -> bool {
        level as u8 >= self.backtrace_from
    }

    /// Whether an entry at `level` starts in the thread's buffer, where
    /// what an entry written in place lacks is added (see `Entry::start`).
    #[inline]
    pub(crate) fn buffered_at(&self, level: Level) -> bool {
        level as u8 >= self.buffered_from
    }
}

/// How a logger's lines look; what its worker (and a caller writing
/// synchronously) formats them with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    /// Text format instead of JSON.
    pub(crate) text: bool,
    /// ANSI colours (text format on a terminal only).
    pub(crate) color: bool,
    pub(crate) timestamp: Timestamp,
    /// Timestamps in the zone this makes (the local one) instead of UTC.
    pub(crate) local_time: Option<crate::timestamp::ZoneMaker>,
    pub(crate) caller: bool,
    /// Every line writes its target: the call's `target:`, else its
    /// module path (`Builder::targets`).
    pub(crate) targets: bool,
    pub(crate) schema: Schema,
}
