//! End-to-end cost per entry for velo's workloads: N entries to a
//! discarding writer, timed until everything is written (`sync`), with one
//! and with two producer threads.
//!
//! `cargo run --release -p velo-benches --bin throughput [-- N]`
//!
//! - W0: a static message, no fields.
//! - W3: `user_id` (u64), `path` (&str), `latency_ms` (f64).
//! - W10: ten fields of mixed kinds.
//! - Wctx: W0 through a child logger with ten bound context fields.
//! - W3 text: W3 in the text format.

use std::time::Instant;
use velo::{velo, Builder, Format, Logger};

type Workload = fn(&Logger, u64);

fn w0(l: &Logger, _: u64) {
    velo!(logger: l, info, "request handled");
}

fn w3(l: &Logger, i: u64) {
    velo!(logger: l, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5);
}

fn w10(l: &Logger, i: u64) {
    let method = "GET";
    velo!(
        logger: l,
        info,
        "request handled",
        user_id = i,
        path = "/api/orders",
        latency_ms = 12.5,
        status = 200u16,
        method,
        bytes = 5120u64,
        cache_hit = true,
        retries = 0u8,
        region = "eu-west-1",
        ratio = 0.25,
    );
}

fn run(logger: &Logger, work: Workload, threads: u64, n: u64) -> f64 {
    let per_thread = n / threads;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for i in 0..per_thread {
                    work(logger, i);
                }
            });
        }
    });
    logger.sync().unwrap();
    start.elapsed().as_nanos() as f64 / (per_thread * threads) as f64
}

fn logger(format: Format) -> Logger {
    Builder::new()
        .format(format)
        .writer(std::io::sink())
        .build()
        .unwrap()
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let json = logger(Format::Json);
    let ctx = json.with(velo::fields!(
        service = "api",
        version = "1.4.2",
        region = "eu-west-1",
        host = "web-7",
        pid = 4242u32,
        env = "prod",
        build = 31337u64,
        shard = 3u8,
        zone = "b",
        canary = false,
    ));
    let text = logger(Format::Text);
    let cases: [(&str, &Logger, Workload); 5] = [
        ("W0", &json, w0),
        ("W3", &json, w3),
        ("W10", &json, w10),
        ("Wctx", &ctx, w0),
        ("W3 text", &text, w3),
    ];
    run(&json, w3, 1, n / 10); // warm-up
    println!("| workload | 1 thread ns/entry | 2 threads ns/entry |");
    println!("|---|---|---|");
    for (name, logger, work) in cases {
        let one = run(logger, work, 1, n);
        let two = run(logger, work, 2, n);
        println!("| {name} | {one:.0} | {two:.0} |");
    }
    for logger in [&json, &text] {
        let stats = logger.stats();
        assert_eq!(stats.dropped, 0);
        assert_eq!(stats.write_errors, 0);
    }
}
