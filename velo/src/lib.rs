//! velo: a structured logger whose macro compiles each call site into its
//! own encoder.
//!
//! `velo!` checks the level, the message and every field at compile time
//! and pre-escapes all static text of the line (message, keys, caller) into
//! constants beside the call site. At run time the caller only records the
//! call site's address, a raw clock reading and the values (numbers as
//! numbers, text as text) into its thread's own queue; a background worker
//! formats the line in the logger's format and writes it through a 64 KiB
//! buffer. Logging threads never contend with each other, and the caller
//! never formats, escapes or waits for I/O, except in the cases listed
//! under [When a caller writes](#when-a-caller-writes).
//!
//! ```
//! use velo::velo;
//!
//! let id = 42;
//! let name = "ada";
//! velo!(info, "user {id} logged in", name = %name);
//! velo!(warn, "slow request", path = "/api", latency_ms = 12.5);
//! velo::close(); // flush before exit
//! ```
//!
//! A JSON line looks like this:
//!
//! ```text
//! {"time":"2026-11-27T17:03:12.123456Z","level":"info","msg":"user 42 logged in","caller":"src/main.rs:5","name":"ada","id":42}
//! ```
//!
//! Configure a logger with [`Builder`]; without one, the first `velo!` uses
//! a default logger writing to stderr (see [`logger`]).
//!
//! # When a caller writes
//!
//! The worker runs the output (your writer, the file, the socket). A
//! logging thread runs it itself only when:
//!
//! - its queue is full under [`Overflow::Sync`] (the default): it writes
//!   what is queued and its own entry, so nothing is lost (unless the
//!   writer makes no progress for 5 s: the entry is then dropped, counted,
//!   rather than wait for good);
//! - the logger was [closed](Logger::close) (logging after `close` is
//!   synchronous), or built with
//!   [`asynchronous(false)`](Builder::asynchronous) or
//!   [`test_writer()`](Builder::test_writer);
//! - the entry is larger than the largest queue (1 MiB with the default
//!   [`buffer_size`](Builder::buffer_size)), or its queue is as large as it
//!   may grow and still cannot hold it;
//! - the thread is exiting (a thread-local destructor logs) and can no
//!   longer have a queue.
//!
//! Each is counted in [`Stats::sync_fallbacks`] except logging after close
//! and synchronous loggers. An idle worker parks; the first entry after
//! that wakes it (a futex wake), it is not written by the caller.
//!
//! # Features beyond one line
//!
//! - Message templates: `velo!(info, "user {id} logged in", id)`: the
//!   placeholders are checked at compile time, a name that is not a field
//!   captures the variable, `{{` and `}}` are braces.
//! - `velo!(every: 10s, ...)`, `velo!(sample: 100, ...)`: per-call-site
//!   limits, an atomic or two; skipped calls evaluate nothing and are
//!   counted (`"suppressed"`).
//! - `velo!(target: "audit", ...)`: filtered as `audit` instead of the
//!   module path.
//! - [`catalog`] and [`catalog_json`]: every call site linked into the
//!   program, run or not.
//! - [`Schema`]: Elastic (ECS) or Google Cloud key names at no cost.
//! - [`scope`] and [`scoped`]: fields on every entry a thread (or a
//!   future) logs, to any logger.
//! - [`Chain`] and the `Value` impls of errors: errors with their source
//!   chain.
//! - [`Builder::backtrace`], [`Builder::local_time`],
//!   [`Builder::journald`], [`Builder::test_writer`].
//!
//! # Cargo features
//!
//! - `log`: `bridge_log()` sends records of crates that use the `log` facade
//!   through the default logger, key-values included.
//! - `serde`: `velo::Serde(&value)` logs any `serde::Serialize` value as
//!   nested JSON.
//! - `otlp`: `Builder::otlp` sends entries to an OpenTelemetry collector
//!   over OTLP/HTTP (protobuf), with no added dependency.
//! - `tracing`: `bridge_tracing()` makes velo the global `tracing`
//!   subscriber: events through the default logger, with their spans'
//!   fields.
//! - `tracing-subscriber`: `TracingLayer`, the same as a layer of a
//!   composed `tracing-subscriber` subscriber.
//! - `max_level_{off,error,warn,info,debug,trace}` and
//!   `release_max_level_*`: compile out call sites above a level, as in the
//!   `log` crate (see [`STATIC_MAX_LEVEL`]).
//!
//! # Layout
//!
//! Each module has one job and imports point one way, from the leaves to
//! the API:
//!
//! ```text
//! leaves      level error escape number clock timestamp options filter fork pause record stats value
//!   |         thread (velo's threads: named, asynchronous signals blocked)
//!   |         (record: the byte layout of an entry between caller and worker)
//! static      callsite (Site, CallSite, interest) catalog limit fields
//!   |
//! worker side event (decode a record) -> line (JSON/text) -> appender (the
//!   |         user's outputs: Record) -> output/ (Output trait: stream, journald, ...)
//! pipeline    ring -> local (per-thread state) -> queue (a logger's rings)
//!   |         caller_format (lines a caller formats while the worker is behind)
//!   |         merge (threads' records in time order) -> sink (output lock,
//!   |         drain) worker (thread loop, park, sync) -> core
//! API         entry (what velo! calls) logger builder panic log_bridge __private
//!             tracing_spans (span store) -> tracing_bridge -> tracing_layer
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// Leaves: no imports from the rest of the crate but each other.
mod buffer;
#[cfg(test)]
mod captured;
mod clock;
mod error;
mod escape;
mod filter;
mod fork;
mod level;
mod number;
mod options;
mod pause;
mod record;
mod stats;
mod stdio;
mod thread;
mod timestamp;
mod value;
// The static description of entries and fields.
mod callsite;
mod catalog;
mod fields;
mod limit;
// The worker's side: decoding, formatting, outputs.
pub mod appender;
mod event;
mod line;
mod output;
// The queue and the pipeline.
mod barrier;
mod caller_format;
mod core;
mod local;
mod merge;
mod queue;
mod ring;
mod sink;
mod worker;
// The caller's side and the API.
#[doc(hidden)]
pub mod __private;
// The real ring for the loom models in `tests/loom_close.rs`.
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom;
mod builder;
mod entry;
#[cfg(feature = "log")]
mod log_bridge;
mod logger;
mod panic;
#[cfg(feature = "serde")]
mod serde_value;
#[cfg(feature = "tracing")]
mod tracing_bridge;
#[cfg(feature = "tracing-subscriber")]
mod tracing_layer;
#[cfg(feature = "tracing")]
mod tracing_spans;

pub use appender::{Appender, FieldValue, Record};
pub use builder::Builder;
pub use callsite::CallSite;
pub use catalog::{catalog, catalog_json};
pub use error::{Error, ErrorKind};
pub use fields::{scope, scoped, Fields, Scoped};
pub use filter::Filter;
pub use level::{Level, LevelFilter, ParseLevelError, STATIC_MAX_LEVEL};
#[cfg(feature = "log")]
pub use log_bridge::bridge_log;
pub use logger::{close, logger, sync, Logger, Stats};
pub use options::{Format, Overflow, Schema, DEFAULT_BUFFER_SIZE};
#[cfg(unix)]
pub use output::Syslog;
pub use output::{Period, Rolling};
#[cfg(feature = "serde")]
pub use serde_value::Serde;
pub use timestamp::Timestamp;
#[cfg(feature = "tracing")]
pub use tracing_bridge::bridge_tracing;
#[cfg(feature = "tracing-subscriber")]
pub use tracing_layer::TracingLayer;
pub use value::{Chain, Encoder, Value};

/// Logs one entry.
///
/// ```text
/// velo!( [OPTION,]* LEVEL, "message" [, FIELD]* [,] )
/// OPTION := logger: EXPR      a logger other than the default
///         | every: 10s        at most one entry per period (ms, s, m, h)
///         | sample: N         the 1st, (N+1)th, ... call only
///         | target: "name"    filtered and written as `name`
/// LEVEL := trace | debug | info | warn | error | fatal
/// FIELD := KEY               the variable KEY, through velo::Value
///        | %KEY | ?KEY       the variable KEY, through Display | Debug
///        | KEY = EXPR        through velo::Value
///        | KEY = %EXPR       through Display
///        | KEY = ?EXPR       through Debug
/// KEY   := ident ( . ident )* | "string literal"
/// ```
///
/// `velo!` is an expression of type `()`; with `fatal`, of type `!` (it
/// does not return), so it can end a `match` arm of any type. Its arguments are evaluated only
/// when the level is enabled, each at most once, and borrowed, never moved.
/// Mistakes (an unknown level, a message that is not a string literal, a
/// duplicate or reserved key, a value that is not loggable) are compile
/// errors. `fatal` writes the entry, flushes every logger and exits the
/// process with status 1.
///
/// The options come before the level, in any order. `every:` and
/// `sample:` count per call site, after the filter and before any argument
/// is evaluated; the entry `every:` writes after skipping calls carries
/// `"suppressed"`, their number. `target:` takes a path such as `"audit"`
/// or `"my_app::audit"`, which filter directives match instead of the
/// module path.
///
/// In the message, `{name}` is replaced by the value of the field `name`
/// as the line writes it (strings without quotes); a name that is no field
/// of the call is a variable in scope, captured as a field after the
/// call's own. `{{` and `}}` are braces.
///
/// # Examples
///
/// ```
/// use velo::velo;
///
/// let port = 8080;
/// let user = "ada";
/// let headers = vec![("accept", "*/*")];
/// velo!(info, "server started", port, tls = false);
/// velo!(warn, "slow request", http.path = "/api", latency_ms = 12.5, user = %user, headers = ?headers);
///
/// let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// velo!(logger: &logger, error, "query failed", "error code" = 40001, attempt = 3);
///
/// // "msg":"user 42 logged in from 10.0.0.7","peer":"10.0.0.7","user_id":42
/// let user_id = 42;
/// velo!(info, "user {user_id} logged in from {peer}", peer = %"10.0.0.7");
/// for attempt in 0..1000 {
///     velo!(logger: &logger, every: 10s, warn, "retrying", attempt);
///     velo!(sample: 100, target: "metrics", debug, "cache miss", attempt);
/// }
/// ```
#[macro_export]
macro_rules! velo {
    ($($arg:tt)*) => {{
        use $crate::__private as __velo;
        __velo::velo_impl!($($arg)*)
    }};
}

/// Whether a [`velo!`] call of this level, here, would be written: for
/// work done only to be logged, as `log_enabled!` and `tracing::enabled!`
/// are used. Like `velo!`, it uses the default logger when no `logger:`
/// is given, and so fixes it: [`Builder::install`] goes first.
///
/// ```text
/// enabled!( [logger: EXPR,] [target: "name",] LEVEL ) -> bool
/// ```
///
/// It asks what a `velo!` call in its place asks, with the same cost: the
/// compile-time ceiling (`max_level_*` features), then the call site's
/// cached answer of the logger's filter (the default logger unless
/// `logger:` names one), matching `target:` or the module path. Nothing is
/// logged, and the site is not in [`catalog`]. Work that only a field
/// needs does not need it: a field's expression is evaluated only when the
/// entry is written.
///
/// # Examples
///
/// ```
/// use velo::{enabled, velo};
///
/// let logger = velo::Builder::new().level(velo::Level::Info).writer(std::io::sink()).build()?;
/// if enabled!(logger: &logger, debug) {
///     unreachable!("debug is off");
/// }
/// assert!(enabled!(logger: &logger, target: "audit", warn));
/// # Ok::<(), velo::Error>(())
/// ```
#[macro_export]
macro_rules! enabled {
    ($($arg:tt)*) => {{
        use $crate::__private as __velo;
        __velo::enabled_impl!($($arg)*)
    }};
}

/// Encodes fields once, for [`Logger::with`] and [`Builder::fields`].
///
/// Takes the field grammar of [`velo!`]: `key = value`, `key = %display`,
/// `key = ?debug`, and the shorthand `key`.
///
/// # Examples
///
/// ```
/// let request_id = 7;
/// let fields = velo::fields!(request_id, service = "api", peer = %"10.0.0.1");
/// assert!(!fields.is_empty());
/// ```
#[macro_export]
macro_rules! fields {
    ($($arg:tt)*) => {{
        use $crate::__private as __velo;
        __velo::fields_impl!($($arg)*)
    }};
}

/// The README's examples, compiled (and run, but for those marked
/// `no_run`) as doc tests. They use every optional integration, so they
/// run with all of them on:
/// `cargo test -p velo --doc --features log,tracing-subscriber,serde,otlp Readme`.
#[cfg(all(
    doctest,
    feature = "log",
    feature = "tracing-subscriber",
    feature = "serde",
    feature = "otlp"
))]
#[doc = include_str!("../../README.md")]
pub struct Readme;
