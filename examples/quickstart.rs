//! The main demo: log with the default logger, then close it.
//!
//! Run with `cargo run --example quickstart`. The default logger writes to
//! stderr: text on a terminal, JSON otherwise; `VELO_FORMAT=json` or `text`
//! chooses, and `VELO_LOG=debug` (or `RUST_LOG`) sets the filter.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use velo::velo;

#[derive(Debug)]
struct Request<'a> {
    method: &'a str,
    path: &'a str,
}

fn main() {
    let port = 8080;
    velo!(
        info,
        "server started",
        port,
        tls = false,
        version = env!("CARGO_PKG_VERSION")
    );

    // Values: integers, floats, strings, options, durations, addresses, slices.
    // The message is a template checked at compile time: `{user_id}` is
    // the field of that name, `{peer}` a variable captured as a field.
    let user_id = 42u64;
    let name = "Ada Lovelace";
    let peer = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    velo!(
        info,
        "user {user_id} logged in from {peer}",
        user_id,
        name,
        roles = ["admin", "ops"],
        session = None::<&str>,
    );

    // `%` writes a value with Display, `?` with Debug; keys may be dotted.
    let req = Request {
        method: "GET",
        path: "/api/orders",
    };
    velo!(
        warn,
        "slow request",
        http.method = req.method,
        http.path = req.path,
        latency = Duration::from_micros(12_500),
        latency_ms = 12.5,
        request = ?req,
        peer = %peer,
    );

    // Hostile input cannot break the line or reach the terminal raw.
    let input = "line one\nline two \u{1b}[31mred\u{1b}[0m \"quoted\"";
    velo!(error, "rejected input", input);

    // Debug entries appear with VELO_LOG=debug.
    velo!(debug, "cache state", entries = 128, hit_ratio = 0.93);

    // A child logger carries bound fields into every entry; a scope adds
    // fields to everything this thread logs inside it, to any logger.
    let req_log = velo::logger().with(velo::fields!(request_id = 7, user_id));
    velo::scope(velo::fields!(trace_id = "4bf92f3577b34da6"), || {
        velo!(logger: &req_log, info, "request handled", status = 200);
    });

    // A noisy line, limited at its call site: one entry per 100 ms at most;
    // the next one written says how many were skipped ("suppressed":999).
    for round in 0..2 {
        for attempt in 0..1000 {
            velo!(every: 100ms, warn, "queue full", round, attempt);
        }
        std::thread::sleep(std::time::Duration::from_millis(120));
    }

    // Errors are written with their whole source chain.
    let err = std::fs::read("/nonexistent/velo.toml").unwrap_err();
    velo!(error, "config unreadable", err);

    // Flush everything and stop the worker before exit.
    velo::close();
}
