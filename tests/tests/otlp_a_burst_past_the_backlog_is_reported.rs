//! A burst that outpaces the OTLP sender (a slow collector) drops what its
//! backlog cannot hold: counted in `stats().dropped`, and, as the README
//! says, the reason printed once on stderr and returned by the next
//! `sync()`. Before, such drops were counted only.

use std::time::Duration;
use velo::{velo, Builder};
use velo_tests::otlp::Collector;
use velo_tests::{assert_child_passed, is_child, run_child_within, CHILD_TIMEOUT};

const CHILD: &str = "child_bursts_at_a_slow_collector";

#[test]
fn child_bursts_at_a_slow_collector() {
    if !is_child(CHILD) {
        return;
    }
    let collector = Collector::slow(Duration::from_millis(30));
    let logger = Builder::new().otlp(collector.url()).build().unwrap();
    for i in 0..100_000u32 {
        velo!(logger: &logger, info, "burst", i);
    }
    let synced = logger.sync();
    let stats = logger.stats();
    eprintln!("dropped={} sync={synced:?}", stats.dropped);
    assert!(
        stats.dropped > 0,
        "a slow collector and 100,000 entries: {stats:?}"
    );
    let err = synced.expect_err("the drops are reported by sync");
    assert!(err.to_string().contains("backlog was full"), "{err}");
}

#[test]
fn the_reason_is_on_stderr_once_and_returned_by_sync() {
    let out = run_child_within(CHILD, &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .lines()
        .filter(|l| l.starts_with("velo: ") && l.contains("backlog was full"))
        .count();
    assert_eq!(said, 1, "{stderr}");
}
