//! A collector that accepts connections and never answers holds up neither
//! the callers nor the worker (the sender thread waits for it, alone), and
//! `sync` gives up on it within its bound.

use std::time::{Duration, Instant};
use velo::{velo, Builder, ErrorKind};
use velo_tests::otlp::silent_collector;
use velo_tests::{assert_child_passed, is_child, run_child_within};

fn scenario() {
    let url = silent_collector();
    let logger = Builder::new().otlp(url).build().unwrap();
    for i in 0..2000u32 {
        velo!(logger: &logger, info, "into the void", i);
    }
    // The worker encodes every entry and hands batches over while the
    // sender waits for an answer; nothing here waits for the collector.
    let deadline = Instant::now() + Duration::from_secs(20);
    while logger.stats().written < 2000 {
        assert!(Instant::now() < deadline, "{:?}", logger.stats());
        std::thread::sleep(Duration::from_millis(10));
    }
    let start = Instant::now();
    let err = logger.sync().expect_err("nothing was delivered");
    assert_eq!(err.kind(), ErrorKind::Write);
    assert!(err.to_string().contains("not answered"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(logger.stats().dropped, 0, "four batches fit the queue");
}

#[test]
fn silent_collector_holds_up_no_one() {
    if is_child("silent_collector_holds_up_no_one") {
        return scenario();
    }
    let out = run_child_within(
        "silent_collector_holds_up_no_one",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}
