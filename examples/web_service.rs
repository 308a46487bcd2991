//! A service as velo sees it: several worker threads, a child logger per
//! request with its id bound once, a scope carrying the trace id to every
//! entry logged while handling it, a rate-limited warning, and the
//! logger's statistics at the end.
//!
//! Run with `cargo run --example web_service` (JSON lines on stderr).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Level};

/// A request as a handler sees it.
struct Request {
    id: u64,
    path: &'static str,
    user_id: u64,
}

fn handle(log: &velo::Logger, req: &Request, slow: &AtomicU64) {
    let started = Instant::now();
    velo!(logger: log, debug, "routing {path}", path = req.path);
    if req.id.is_multiple_of(97) {
        // Under load this would flood the output: one entry per second
        // from this line at most; the next one written after a second
        // carries the count of the ones skipped (`"suppressed"`).
        slow.fetch_add(1, Ordering::Relaxed);
        velo!(logger: log, every: 1s, warn, "slow backend", backend = "db-2");
    }
    let status: u16 = if req.path == "/admin" { 403 } else { 200 };
    velo!(
        logger: log,
        info,
        "request {id} done",
        id = req.id,
        status,
        elapsed = started.elapsed(),
    );
}

fn main() -> Result<(), velo::Error> {
    let logger = Arc::new(
        Builder::new()
            .format(Format::Json)
            .level(Level::Info)
            .fields(velo::fields!(
                service = "orders",
                version = env!("CARGO_PKG_VERSION")
            ))
            .build()?,
    );
    let slow = Arc::new(AtomicU64::new(0));
    let paths = ["/orders", "/orders/7", "/health", "/admin"];
    let workers: Vec<_> = (0..4u64)
        .map(|worker| {
            let logger = Arc::clone(&logger);
            let slow = Arc::clone(&slow);
            std::thread::spawn(move || {
                for n in 0..250u64 {
                    let req = Request {
                        id: worker * 1000 + n,
                        path: paths[(n % 4) as usize],
                        user_id: 40 + n % 7,
                    };
                    // Bound once per request: every entry of this handler
                    // carries `request_id` and `user_id`.
                    let log =
                        logger.with(velo::fields!(request_id = req.id, user_id = req.user_id));
                    let trace_id = format!("{:016x}", req.id.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                    velo::scope(velo::fields!(trace_id), || handle(&log, &req, &slow));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker thread");
    }
    std::thread::sleep(Duration::from_millis(10));
    logger.sync()?;
    let stats = logger.stats();
    velo!(
        logger: &logger,
        info,
        "shutting down",
        enqueued = stats.enqueued,
        written = stats.written,
        dropped = stats.dropped,
        slow_requests = slow.load(Ordering::Relaxed),
    );
    logger.close();
    eprintln!(
        "# {} entries written, {} dropped, {} bytes",
        logger.stats().written,
        logger.stats().dropped,
        logger.stats().bytes
    );
    Ok(())
}
