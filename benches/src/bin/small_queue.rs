//! What a small queue costs: one thread logs N entries (W3-like, values
//! varying per entry) to a discarding writer through a logger with
//! `buffer_size(B)` under each overflow strategy that keeps every entry,
//! timed until `sync` returns; ns per entry, and how many entries callers
//! wrote themselves (`Stats::sync_fallbacks`).
//!
//! `cargo run --release -p velo-benches --bin small_queue [-- N]`
//! (N defaults to 100,000).

use std::time::Instant;
use velo::{velo, Builder, Overflow};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    println!("| buffer_size | Sync ns/entry | Sync written by callers | Block ns/entry |");
    println!("|--:|--:|--:|--:|");
    for size in [1, 2, 4, 16, 64, 256, 16_384] {
        let mut row = format!("| {size} |");
        for overflow in [Overflow::Sync, Overflow::Block] {
            let logger = Builder::new()
                .buffer_size(size)
                .overflow(overflow)
                .writer(std::io::sink())
                .build()
                .expect("a logger");
            let path = ["/", "/api", "/api/orders"];
            let start = Instant::now();
            for i in 0..n {
                let p = path[(i % 3) as usize];
                velo!(logger: &logger, info, "request", user_id = i, path = p, latency_ms = i as f64 / 7.0);
            }
            logger.sync().expect("synced");
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            let stats = logger.stats();
            assert_eq!(stats.written, n, "every entry written");
            row += &format!(" {ns:.0} |");
            if overflow == Overflow::Sync {
                row += &format!(" {} |", stats.sync_fallbacks);
            }
        }
        println!("{row}");
    }
}
