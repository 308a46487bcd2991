//! velo and its peers behind one interface, each set up the way its
//! documentation recommends for asynchronous structured (JSON) logging,
//! plus hand-written baselines: the two ring designs velo is held to
//! (`inplace.rs`, the Quill/fmtlog design; `deferred.rs`, the NanoLog
//! design) and the simpler ones of issue 5 (`baseline.rs`).
//!
//! Workloads (see [`workload`]), every value varying with the event's
//! index `i`, so no logger can fold one into a constant or take a path only
//! a constant would hit:
//!
//! - W0: time, level and the message "request handled", no fields;
//! - W3: + `user_id` (u64, `i`), `path` (&str, one of eight by `i`),
//!   `latency_ms` (f64, `i * 0.37 + (i % 1000) / 7`);
//! - W10: + `status` (u16), `method` (&str), `bytes` (u64), `cache_hit`
//!   and `tls` (bool), `ratio` (f64), `peer` (an `Ipv4Addr` through
//!   `Display`).
//!
//! velo and the two ring baselines log all three; the other loggers W3.
//! The `log`-facade loggers (fast_log, ftlog, env_logger) are installed
//! globally, once per process: the comparison runs every scenario in a
//! child process of its own.

use crate::sink::Target;

mod baseline;
mod deferred;
mod envlogger_peer;
mod fastlog_peer;
mod ftlog_peer;
mod inplace;
mod json;
mod slog_peer;
mod spdlog_peer;
mod spsc;
mod tracing_peer;
mod velo_peer;

/// The message of every workload.
pub const MESSAGE: &str = "request handled";

/// The workloads and their values, as functions of the event's index.
pub mod workload {
    use std::net::Ipv4Addr;

    /// W0: the message only.
    pub const W0: u8 = 0;
    /// W3: three fields.
    pub const W3: u8 = 3;
    /// W10: ten fields.
    pub const W10: u8 = 10;
    /// Every workload, in table order.
    pub const ALL: [u8; 3] = [W0, W3, W10];

    /// The name of workload `w` (`"W3"`).
    pub fn name(w: u8) -> String {
        format!("W{w}")
    }

    /// Workload `name` (`"W3"`, `"w3"` or `"3"`).
    pub fn parse(name: &str) -> Option<u8> {
        let w = name.trim_start_matches(['W', 'w']).parse().ok()?;
        ALL.contains(&w).then_some(w)
    }

    const PATHS: [&str; 8] = [
        "/api/orders",
        "/api/users/me",
        "/health",
        "/api/orders/search",
        "/static/app.js",
        "/api/cart",
        "/login",
        "/api/v2/inventory/items",
    ];

    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

    const STATUSES: [u16; 5] = [200, 201, 204, 404, 503];

    /// `path`: one of eight by index.
    #[inline(always)]
    pub fn path(i: u64) -> &'static str {
        PATHS[(i % 8) as usize]
    }

    /// `latency_ms`: a float with a different value (and number of
    /// digits) at each event.
    #[inline(always)]
    pub fn latency_ms(i: u64) -> f64 {
        i as f64 * 0.37 + (i % 1000) as f64 / 7.0
    }

    /// `status`.
    #[inline(always)]
    pub fn status(i: u64) -> u16 {
        STATUSES[(i % 5) as usize]
    }

    /// `method`.
    #[inline(always)]
    pub fn method(i: u64) -> &'static str {
        METHODS[(i / 3 % 4) as usize]
    }

    /// `bytes`.
    #[inline(always)]
    pub fn bytes(i: u64) -> u64 {
        i.wrapping_mul(7919) % 1_000_003
    }

    /// `cache_hit`.
    #[inline(always)]
    pub fn cache_hit(i: u64) -> bool {
        i.is_multiple_of(3)
    }

    /// `tls`.
    #[inline(always)]
    pub fn tls(i: u64) -> bool {
        i % 2 == 1
    }

    /// `ratio`.
    #[inline(always)]
    pub fn ratio(i: u64) -> f64 {
        (i % 997) as f64 / 997.0
    }

    /// `peer`, logged through `Display`.
    #[inline(always)]
    pub fn peer(i: u64) -> Ipv4Addr {
        Ipv4Addr::from(0x0a00_0000 | (i as u32 & 0x00ff_ffff))
    }
}

/// W3 through the `log` facade, as the `log`-based peers (env_logger,
/// fast_log, ftlog) take it: the fields formatted into the message.
#[inline(always)]
pub(crate) fn log_facade_w3(i: u64) {
    log::info!(
        "request handled user_id={} path={} latency_ms={}",
        i,
        workload::path(i),
        workload::latency_ms(i)
    );
}

/// The writer of a hand-written baseline: the counting sink, or a new
/// file.
pub(crate) fn baseline_writer(target: Target) -> Box<dyn std::io::Write + Send> {
    match target {
        Target::Count(sink) => Box::new(sink),
        Target::File(path) => Box::new(std::fs::File::create(path).expect("baseline log file")),
    }
}

/// A configured logger under comparison.
pub trait Subject: Send + Sync {
    /// Logs event `i` of the workload the logger was built for.
    fn log(&self, i: u64);

    /// Pushes what was logged so far towards the writer, without tearing
    /// the logger down, where the library offers a way; the harness then
    /// waits until the lines are counted. The default does nothing.
    fn drain(&self) {}

    /// Flushes everything and stops the logger's worker, the way the
    /// library documents for the end of a program (drop a guard, flush).
    fn finish(self: Box<Self>);

    /// Entries so far whose caller found its queue full (and waited, or
    /// wrote the entry itself), where the logger counts them.
    fn queue_full(&self) -> Option<u64> {
        None
    }
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
    /// The workloads it logs.
    pub workloads: &'static [u8],
    /// Sets the logger up to write to a target and log a workload (one of
    /// `workloads`). Global loggers install themselves: call this once per
    /// process.
    pub build: fn(Target, u8) -> Box<dyn Subject>,
}

/// Only W3.
const W3_ONLY: &[u8] = &[workload::W3];

/// Every logger of the comparison: velo, the two ring baselines, then the
/// peers and the baselines of issue 5 (W3 only).
pub fn all() -> &'static [Peer] {
    &[
        Peer {
            key: "velo",
            name: "velo",
            format: "JSON",
            workloads: &workload::ALL,
            build: velo_peer::build,
        },
        Peer {
            key: "inplace",
            name: "baseline: in-place ring (Quill/fmtlog: caller formats into its SPSC ring)",
            format: "JSON",
            workloads: &workload::ALL,
            build: inplace::build,
        },
        Peer {
            key: "deferred",
            name:
                "baseline: deferred encoding (NanoLog: caller copies TSC + values, worker formats)",
            format: "JSON",
            workloads: &workload::ALL,
            build: deferred::build,
        },
        Peer {
            key: "tracing",
            name: "tracing + fmt json + non_blocking (lossless)",
            format: "JSON",
            workloads: W3_ONLY,
            build: tracing_peer::build,
        },
        Peer {
            key: "slog",
            name: "slog + slog-json + slog-async (Block)",
            format: "JSON",
            workloads: W3_ONLY,
            build: slog_peer::build,
        },
        Peer {
            key: "spdlog",
            name: "spdlog-rs (AsyncPoolSink, Block)",
            format: "JSON",
            workloads: W3_ONLY,
            build: spdlog_peer::build,
        },
        Peer {
            key: "fast_log",
            name: "fast_log",
            format: "JSON, fields in msg",
            workloads: W3_ONLY,
            build: fastlog_peer::build,
        },
        Peer {
            key: "ftlog",
            name: "ftlog (bounded, blocking)",
            format: "text",
            workloads: W3_ONLY,
            build: ftlog_peer::build,
        },
        Peer {
            key: "env_logger",
            name: "env_logger (synchronous)",
            format: "text",
            workloads: W3_ONLY,
            build: envlogger_peer::build,
        },
        Peer {
            key: "hand_format",
            name: "issue 5 baseline: formatting only, no queue",
            format: "JSON",
            workloads: W3_ONLY,
            build: baseline::build_direct,
        },
        Peer {
            key: "hand_blocking",
            name: "issue 5 baseline: + pooled Vec + crossbeam bounded(8192), worker blocks in recv",
            format: "JSON",
            workloads: W3_ONLY,
            build: baseline::build_blocking,
        },
        Peer {
            key: "hand_polling",
            name: "issue 5 baseline: same, worker polls (sleeps 50 us when empty)",
            format: "JSON",
            workloads: W3_ONLY,
            build: baseline::build_polling,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The lines `key` writes to a file for events `0..n` of workload `w`,
    /// from `threads` threads (thread `t` logs the events `i` with
    /// `i % threads == t`).
    fn lines(key: &str, w: u8, n: u64, threads: u64) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("out.log");
        let peer = all().iter().find(|p| p.key == key).expect("a logger");
        let subject = (peer.build)(Target::File(path.clone()), w);
        let shared: &dyn Subject = &*subject;
        std::thread::scope(|scope| {
            for t in 0..threads {
                scope.spawn(move || {
                    for i in (t..n).step_by(threads as usize) {
                        shared.log(i);
                    }
                });
            }
        });
        subject.finish();
        let text = std::fs::read_to_string(&path).expect("the log file");
        text.lines().map(str::to_owned).collect()
    }

    /// `line` with its time and caller replaced by placeholders, after
    /// checking their shape.
    fn masked(line: &str) -> String {
        let rest = line
            .strip_prefix("{\"time\":\"")
            .unwrap_or_else(|| panic!("no time first: {line}"));
        let (time, rest) = rest.split_at(28);
        assert!(
            time.len() == 28 && time.as_bytes()[10] == b'T' && time.ends_with("Z\""),
            "{line}"
        );
        let (head, rest) = rest
            .split_once(",\"caller\":\"")
            .unwrap_or_else(|| panic!("no caller: {line}"));
        let (caller, rest) = rest.split_once('"').expect("caller ends");
        assert!(caller.starts_with("benches/src/peers/"), "{line}");
        assert!(line.ends_with('}'), "{line}");
        format!("{{\"time\":T{head},\"caller\":C{rest}")
    }

    #[test]
    fn the_ring_baselines_write_velos_lines() {
        for w in workload::ALL {
            let velo: Vec<String> = lines("velo", w, 3000, 1)
                .iter()
                .map(|l| masked(l))
                .collect();
            assert_eq!(velo.len(), 3000);
            for key in ["inplace", "deferred"] {
                let theirs: Vec<String> =
                    lines(key, w, 3000, 1).iter().map(|l| masked(l)).collect();
                assert_eq!(theirs, velo, "{key}, W{w}");
            }
        }
    }

    #[test]
    fn the_ring_baselines_deliver_every_line_across_wraps() {
        // 60,000 W10 lines of about 300 bytes: each thread's 1 MiB ring
        // wraps about eight times.
        for key in ["inplace", "deferred"] {
            let lines = lines(key, workload::W10, 60_000, 2);
            let mut ids = BTreeSet::new();
            for line in &lines {
                let m = masked(line);
                let id = m
                    .split_once("\"user_id\":")
                    .and_then(|(_, r)| r.split_once(','))
                    .and_then(|(id, _)| id.parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("{key}: no user_id: {line}"));
                assert!(
                    m.contains(&format!("\"peer\":\"{}\"", workload::peer(id))),
                    "{line}"
                );
                assert!(ids.insert(id), "{key}: {id} twice");
            }
            assert_eq!(ids.len(), 60_000, "{key}");
        }
    }
}
