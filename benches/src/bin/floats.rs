//! Shortest round-trip float formatting, ryu against zmij (what velo's
//! worker uses), on values that vary per call (compare's W3 `latency_ms`:
//! i*0.37 + (i%1000)/7), in the same run.
//!
//! `cargo run --release -p velo-benches --bin floats`
use std::hint::black_box;
use std::time::Instant;
fn main() {
    let n = 10_000_000u64;
    let vals: Vec<f64> = (0..n)
        .map(|i| i as f64 * 0.37 + (i % 1000) as f64 / 7.0)
        .collect();
    for round in 0..3 {
        let t = Instant::now();
        let mut len = 0;
        for v in &vals {
            len += ryu::Buffer::new().format(black_box(*v)).len();
        }
        let ryu_ns = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for v in &vals {
            len += zmij::Buffer::new().format(black_box(*v)).len();
        }
        let zmij_ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("round {round}: ryu {ryu_ns:.1} ns, zmij {zmij_ns:.1} ns per value ({len})");
    }
}
