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
    let user_id = 42u64;
    let name = "Ada Lovelace";
    let peer = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    velo!(
        info,
        "user logged in",
        user_id,
        name,
        peer,
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

    // A child logger carries bound fields into every entry.
    let req_log = velo::logger().with(velo::fields!(request_id = 7, user_id));
    velo!(logger: &req_log, info, "request handled", status = 200);

    // Flush everything and stop the worker before exit.
    velo::close();
}
