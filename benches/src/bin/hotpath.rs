//! One workload in a loop, for instruction counts under callgrind:
//! `valgrind --tool=callgrind --separate-threads=yes target/release/hotpath W3 100000`.
//!
//! Workloads as in `throughput`: W0, W3, W10, Wctx; values vary per call.
//! Also W3tpl (W3 with its message a template of its three fields),
//! W0scope (W0 inside one scope of Wctx's ten fields), W3local (W3 with
//! `local_time(true)`) and every (a call site under `every: 1h`, suppressed
//! after its first call).
//! Every 1,000 calls the caller waits for the worker (`sync`), so that
//! under valgrind (which runs one thread at a time) the queue never fills
//! and the calling thread's count is the caller's cost alone; the
//! worker's thread has the formatting. With a third argument `stream`,
//! the caller logs flat out and the program prints the time per entry;
//! with `two`, two threads run the loop, and the worker merges them.

use std::hint::black_box;
use velo::{velo, Builder, Format};

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_else(|| "W3".into());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // `HOTPATH_OUTPUT=file` or `rolling`: into a file under the
    // temporary directory (`rolling`: by size, never due) instead of a
    // discarding writer, to see what those outputs cost the worker.
    let dir = std::env::temp_dir().join(format!("velo-hotpath-{}", std::process::id()));
    let builder = Builder::new().format(Format::Json);
    let builder = match std::env::var("HOTPATH_OUTPUT").as_deref() {
        Ok("file") => builder.file(dir.join("hotpath.log")),
        Ok("rolling") => {
            builder.rolling(velo::Rolling::new(dir.join("hotpath.log")).max_bytes(1 << 40))
        }
        _ => builder.writer(std::io::sink()),
    };
    let logger = builder.build().expect("valid");
    let child = logger.with(velo::fields!(
        a = 1,
        b = 2,
        c = "three",
        d = 4.5,
        e = true,
        f = 6,
        g = "seven",
        h = 8,
        i = 9,
        j = "ten"
    ));
    let local = Builder::new()
        .format(Format::Json)
        .local_time(true)
        .writer(std::io::sink())
        .build()
        .expect("valid");
    let scope = velo::fields!(
        a = 1,
        b = 2,
        c = "three",
        d = 4.5,
        e = true,
        f = 6,
        g = "seven",
        h = 8,
        i = 9,
        j = "ten"
    );
    let paths = ["/api/orders", "/api/users", "/health", "/api/orders/items"];
    // `hotpath W3 N stream`: no waiting for the worker; prints the time
    // and the logger's statistics.
    let mode = args.next();
    let stream = mode.as_deref() == Some("stream");
    // `hotpath W3 N two`: two threads log N entries each, so that the
    // worker's passes merge them (see `merge.rs`).
    let two = mode.as_deref() == Some("two");
    let start = std::time::Instant::now();
    let run = || {
        for i in 0..n {
            if !stream && i % 1000 == 0 {
                logger.sync().expect("synced");
                local.sync().expect("synced");
            }
            let i = black_box(i);
            match workload.as_str() {
                "W0" => velo!(logger: &logger, info, "request handled"),
                "W3" => {
                    let path = paths[(i % 4) as usize];
                    let latency = i as f64 * 0.37 + (i % 1000) as f64 / 7.0;
                    velo!(logger: &logger, info, "request handled", user_id = i, path, latency_ms = latency);
                }
                "W10" => {
                    let path = paths[(i % 4) as usize];
                    velo!(logger: &logger, info, "request handled",
                    user_id = i, path, latency_ms = i as f64 * 0.37, status = 200u16,
                    ok = i % 2 == 0, bytes = i * 3, method = "GET", retries = i % 3,
                    ratio = i as f64 / 7.0, peer = %"10.0.0.7");
                }
                "Wctx" => velo!(logger: &child, info, "request handled"),
                "W3tpl" => {
                    let path = paths[(i % 4) as usize];
                    let latency = i as f64 * 0.37 + (i % 1000) as f64 / 7.0;
                    velo!(logger: &logger, info, "request {path} by {user_id} handled in {latency_ms} ms", user_id = i, path, latency_ms = latency);
                }
                "W0scope" => velo!(logger: &logger, info, "request handled"),
                "W3local" => {
                    let path = paths[(i % 4) as usize];
                    let latency = i as f64 * 0.37 + (i % 1000) as f64 / 7.0;
                    velo!(logger: &local, info, "request handled", user_id = i, path, latency_ms = latency);
                }
                "every" => velo!(logger: &logger, every: 1h, info, "request handled", user_id = i),
                other => panic!("unknown workload {other}"),
            }
        }
    };
    if workload == "W0scope" {
        velo::scope(scope, run);
    } else if two {
        std::thread::scope(|s| {
            s.spawn(run);
            s.spawn(run);
        });
    } else {
        run();
    }
    logger.sync().expect("synced");
    local.sync().expect("synced");
    let _ = std::fs::remove_dir_all(&dir);
    if stream {
        let elapsed = start.elapsed();
        eprintln!(
            "{workload}: {:.0} ns/entry end to end, {:?}",
            elapsed.as_nanos() as f64 / n as f64,
            logger.stats()
        );
    }
}
