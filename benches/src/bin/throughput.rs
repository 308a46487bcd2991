//! End-to-end cost per entry: N entries to a discarding writer, timed until
//! everything is written (`sync`), with one and with two producer threads.
//!
//! `cargo run --release -p velo-benches --bin throughput [-- N]`

use std::time::Instant;
use velo::{velo, Builder, Format, Logger};

fn run(logger: &Logger, threads: u64, n: u64) -> f64 {
    let per_thread = n / threads;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for i in 0..per_thread {
                    velo!(logger: logger, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5);
                }
            });
        }
    });
    logger.sync().unwrap();
    start.elapsed().as_nanos() as f64 / (per_thread * threads) as f64
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let logger = Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .build()
        .unwrap();
    run(&logger, 1, n / 10); // warm-up
    println!("| producers | entries | ns/entry (end to end) |");
    println!("|---|---|---|");
    for threads in [1, 2] {
        let ns = run(&logger, threads, n);
        println!("| {threads} | {n} | {ns:.0} |");
    }
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0);
    eprintln!("{stats:?}");
}
