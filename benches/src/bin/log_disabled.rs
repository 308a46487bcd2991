//! A disabled `log::debug!` through velo's bridge (default filter `info`):
//! with `log::max_level()` following the filter, as the bridge keeps it,
//! or, with `PINNED=1` set, pinned at `Trace` as the bridge once left it.
//!
//! `cargo run --release -p velo-benches --bin log_disabled 2>/dev/null`
//! (and again with `PINNED=1`)
use std::hint::black_box;
use std::time::Instant;
fn main() {
    velo::bridge_log().unwrap();
    log::info!("makes the default logger");
    if std::env::var_os("PINNED").is_some() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    println!("log::max_level() = {}", log::max_level());
    let n = 100_000_000u64;
    for round in 0..3 {
        let t = Instant::now();
        for i in 0..n {
            log::debug!("disabled {}", black_box(i));
        }
        println!(
            "round {round}: {:.2} ns per disabled log::debug!",
            t.elapsed().as_nanos() as f64 / n as f64
        );
    }
    velo::close();
}
