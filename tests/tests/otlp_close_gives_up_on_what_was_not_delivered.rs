//! `close` waits for the collector within its bound, then gives up on what
//! the sender has not delivered: counted as dropped, not as written, and
//! said once on stderr. A second `close` does not wait again.

use std::time::{Duration, Instant};
use velo::{velo, Builder};
use velo_tests::otlp::{free_port, silent_collector};
use velo_tests::{assert_child_passed, is_child, run_child_within};

const N: u64 = 2000;

fn scenario(url: String) {
    let logger = Builder::new().otlp(url).build().unwrap();
    for i in 0..N {
        velo!(logger: &logger, info, "into the void", i);
    }
    // Encoded and handed over by the worker: counted as written so far.
    let deadline = Instant::now() + Duration::from_secs(20);
    while logger.stats().written < N {
        assert!(Instant::now() < deadline, "{:?}", logger.stats());
        std::thread::sleep(Duration::from_millis(10));
    }
    let start = Instant::now();
    logger.close();
    let first = start.elapsed();
    let stats = logger.stats();
    assert_eq!((stats.written, stats.dropped), (0, N), "{stats:?}");
    assert!(first < Duration::from_secs(6), "{first:?}");
    let start = Instant::now();
    logger.close();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(logger.stats().dropped, N, "{:?}", logger.stats());
}

fn silent() {
    scenario(silent_collector());
}

fn away() {
    scenario(format!("http://127.0.0.1:{}", free_port()));
}

fn check(name: &str) {
    let out = run_child_within(name, &[], Duration::from_secs(60));
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = format!("{N} entries were never delivered");
    assert_eq!(stderr.matches(&said).count(), 1, "{stderr}");
}

#[test]
fn a_silent_collector_at_close() {
    if is_child("a_silent_collector_at_close") {
        return silent();
    }
    check("a_silent_collector_at_close");
}

#[test]
fn a_collector_away_at_close() {
    if is_child("a_collector_away_at_close") {
        return away();
    }
    check("a_collector_away_at_close");
}
