//! velo and its peers behind one interface, each set up the way its
//! documentation recommends for asynchronous structured (JSON) logging,
//! plus the hand-written baselines of issue 5.
//!
//! Workload W3: one line per event with time, level, the message
//! "request handled", `user_id` (u64, the loop index), `path` (&str
//! "/api/orders") and `latency_ms` (f64 12.5). Every logger gets its values
//! through `black_box`, so none can fold them into constants.
//!
//! The `log`-facade loggers (fast_log, ftlog, env_logger) are installed
//! globally, once per process: the comparison runs every scenario in a
//! child process of its own.

use crate::sink::Target;

mod baseline;
mod envlogger_peer;
mod fastlog_peer;
mod ftlog_peer;
mod slog_peer;
mod spdlog_peer;
mod tracing_peer;
mod velo_peer;

/// The message of W3.
pub const MESSAGE: &str = "request handled";
/// The `path` field of W3.
pub const PATH: &str = "/api/orders";
/// The `latency_ms` field of W3.
pub const LATENCY_MS: f64 = 12.5;

/// A configured logger under comparison.
/// W3 through the `log` facade, as the `log`-based peers (env_logger,
/// fast_log, ftlog) take it: the fields formatted into the message.
#[inline(always)]
pub(crate) fn log_facade_w3(i: u64) {
    log::info!(
        "request handled user_id={} path={} latency_ms={}",
        i,
        std::hint::black_box(PATH),
        std::hint::black_box(LATENCY_MS)
    );
}

pub trait Subject: Send + Sync {
    /// Logs event `i` of W3 (`user_id = i`).
    fn log(&self, i: u64);

    /// Pushes what was logged so far towards the writer, without tearing
    /// the logger down, where the library offers a way; the harness then
    /// waits until the lines are counted. The default does nothing.
    fn drain(&self) {}

    /// Flushes everything and stops the logger's worker, the way the
    /// library documents for the end of a program (drop a guard, flush).
    fn finish(self: Box<Self>);
}

/// One logger of the comparison.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    /// Name on the command line (`--only`, child processes).
    pub key: &'static str,
    /// Name in the table.
    pub name: &'static str,
    /// What its lines look like.
    pub format: &'static str,
    /// Sets the logger up to write to a target. Global loggers install
    /// themselves: call this once per process.
    pub build: fn(Target) -> Box<dyn Subject>,
}

/// Every logger of the comparison, velo first.
pub fn all() -> &'static [Peer] {
    &[
        Peer {
            key: "velo",
            name: "velo",
            format: "JSON",
            build: velo_peer::build,
        },
        Peer {
            key: "tracing",
            name: "tracing + fmt json + non_blocking (lossless)",
            format: "JSON",
            build: tracing_peer::build,
        },
        Peer {
            key: "slog",
            name: "slog + slog-json + slog-async (Block)",
            format: "JSON",
            build: slog_peer::build,
        },
        Peer {
            key: "spdlog",
            name: "spdlog-rs (AsyncPoolSink, Block)",
            format: "JSON",
            build: spdlog_peer::build,
        },
        Peer {
            key: "fast_log",
            name: "fast_log",
            format: "JSON, fields in msg",
            build: fastlog_peer::build,
        },
        Peer {
            key: "ftlog",
            name: "ftlog (bounded, blocking)",
            format: "text",
            build: ftlog_peer::build,
        },
        Peer {
            key: "env_logger",
            name: "env_logger (synchronous)",
            format: "text",
            build: envlogger_peer::build,
        },
        Peer {
            key: "hand_format",
            name: "hand-written: formatting only, no queue",
            format: "JSON",
            build: baseline::build_direct,
        },
        Peer {
            key: "hand_blocking",
            name: "hand-written: + pooled Vec + crossbeam bounded(8192), worker blocks in recv",
            format: "JSON",
            build: baseline::build_blocking,
        },
        Peer {
            key: "hand_polling",
            name: "hand-written: same, worker polls (sleeps 50 us when empty)",
            format: "JSON",
            build: baseline::build_polling,
        },
    ]
}
