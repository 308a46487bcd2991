//! velo: a structured logger whose macro compiles each call site into its
//! own encoder.
//!
//! `velo!` checks the level, the message and every field at compile time and
//! pre-escapes all static text of the line (level, message, keys, caller)
//! into constants. At run time the caller only copies those bytes and
//! encodes the values into a reused buffer, then copies the entry into its
//! thread's own queue, which a background worker drains through a 64 KiB
//! buffered writer. Logging threads never contend with each other, and a
//! caller writes only in two cases: the first entry after the worker has
//! gone idle (it is written at once rather than after waking the worker,
//! which can take milliseconds), and a full queue under the default
//! [`Overflow::Sync`].
//!
//! ```
//! use velo::velo;
//!
//! let id = 42;
//! let name = "ada";
//! velo!(info, "user logged in", user_id = id, name = %name);
//! velo!(warn, "slow request", path = "/api", latency_ms = 12.5);
//! velo::close(); // flush before exit
//! ```
//!
//! A JSON line looks like this:
//!
//! ```text
//! {"time":"2026-11-27T17:03:12.123456Z","level":"info","msg":"user logged in","caller":"src/main.rs:10","user_id":42,"name":"ada"}
//! ```
//!
//! Configure a logger with [`Builder`]; without one, the first `velo!` uses
//! a default logger writing to stderr (see [`logger`]).
//!
//! # Cargo features
//!
//! - `log`: `bridge_log()` sends records of crates that use the `log` facade
//!   through the default logger.
//! - `max_level_{off,error,warn,info,debug,trace}` and
//!   `release_max_level_*`: compile out call sites above a level, as in the
//!   `log` crate (see [`STATIC_MAX_LEVEL`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// Leaves: no imports from the rest of the crate but each other.
mod clock;
mod error;
mod escape;
mod filter;
mod level;
mod number;
mod options;
mod record;
mod stats;
mod timestamp;
mod value;
// The static description of entries and fields.
mod callsite;
mod catalog;
mod fields;
mod limit;
// The worker's side: decoding, formatting, outputs.
mod event;
mod line;
mod output;
// The queue and the pipeline.
mod barrier;
mod core;
mod fork;
mod local;
mod queue;
mod ring;
mod sink;
mod worker;
// The caller's side and the API.
#[doc(hidden)]
pub mod __private;
mod builder;
mod entry;
#[cfg(feature = "log")]
mod log_bridge;
mod logger;
mod panic;

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
pub use timestamp::Timestamp;
pub use value::{Chain, Encoder, Value};

/// Logs one entry.
///
/// ```text
/// velo!( [logger: EXPR,] LEVEL, "message" [, FIELD]* [,] )
/// LEVEL := trace | debug | info | warn | error | fatal
/// FIELD := KEY               the variable KEY, through velo::Value
///        | %KEY | ?KEY       the variable KEY, through Display | Debug
///        | KEY = EXPR        through velo::Value
///        | KEY = %EXPR       through Display
///        | KEY = ?EXPR       through Debug
/// KEY   := ident ( . ident )* | "string literal"
/// ```
///
/// `velo!` is an expression of type `()`. Its arguments are evaluated only
/// when the level is enabled, each at most once, and borrowed, never moved.
/// Mistakes (an unknown level, a message that is not a string literal, a
/// duplicate or reserved key, a value that is not loggable) are compile
/// errors. `fatal` writes the entry, flushes every logger and exits the
/// process with status 1.
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
/// ```
#[macro_export]
macro_rules! velo {
    ($($arg:tt)*) => {{
        use $crate::__private as __velo;
        __velo::velo_impl!($($arg)*)
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
