//! Sending entries to an OpenTelemetry collector over OTLP/HTTP.
//!
//! ```sh
//! cargo run -p velo --example otlp --features otlp                          # no collector needed
//! cargo run -p velo --example otlp --features otlp -- http://127.0.0.1:4318 # a real one
//! ```
//!
//! Without an argument it sends to a loopback port where nothing listens,
//! to show what happens while the collector is away: callers never wait,
//! the output keeps a bounded backlog (64 batches of up to 512 records, at
//! most 16 MiB) and counts the rest as dropped, and `sync` gives up after 3 seconds with
//! an error saying why.

use std::net::TcpListener;
use velo::{velo, Builder};

fn main() -> Result<(), velo::Error> {
    let endpoint = match std::env::args().nth(1) {
        Some(endpoint) => endpoint,
        None => {
            // A port that was free a moment ago: nothing listens there.
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_or(4318, |a| a.port());
            format!("http://127.0.0.1:{port}")
        }
    };
    println!("sending to {endpoint}");
    let logger = Builder::new()
        .otlp(&endpoint)
        .app_name("otlp-example")
        .level(velo::Level::Debug)
        .fields(velo::fields!(deployment.environment = "example"))
        .build()?;

    velo!(logger: &logger, info, "server started", port = 8080u16, tls = false);
    let user_id = 42u64;
    velo!(logger: &logger, info, "user {user_id} logged in", peer = %"10.0.0.7");
    velo!(logger: &logger, warn, "slow request", path = "/api/orders", latency_ms = 12.5, tags = ["db", "slow"]);
    velo!(logger: &logger, error, "checksum", expected = u64::MAX, got = -1i64, nonce = 1u128 << 100);

    let start = std::time::Instant::now();
    for i in 0..50_000u64 {
        velo!(logger: &logger, debug, "tick", i);
    }
    println!(
        "logged 50,004 entries in {:?} (callers never wait on the network)",
        start.elapsed()
    );

    let start = std::time::Instant::now();
    match logger.sync() {
        Ok(()) => println!("sync: everything delivered in {:?}", start.elapsed()),
        Err(e) => println!("sync returned after {:?}: {e}", start.elapsed()),
    }
    let stats = logger.stats();
    // `written` counts what the output took into its batches; with the
    // collector away those wait, and what is still waiting at exit is
    // given up and said so on stderr.
    println!(
        "taken into batches {}, dropped {} (beyond the backlog), write errors {}",
        stats.written, stats.dropped, stats.write_errors
    );
    Ok(())
}
