//! While the collector is down, callers go on and `sync` gives up after a
//! few seconds with an error; once it is up, the next `sync` delivers
//! everything logged meanwhile, each record once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use velo::{velo, Builder, ErrorKind};
use velo_tests::otlp::{attr, free_port, Any, Collector};
use velo_tests::{assert_child_passed, is_child, run_child_within};

fn seqs(collector: &Collector) -> Vec<i64> {
    collector
        .accepted()
        .iter()
        .map(|r| match attr(r, "seq") {
            Some(Any::IntValue(seq)) => *seq,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn scenario() {
    let port = free_port();
    let logger = Builder::new()
        .otlp(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    for seq in 0..100 {
        velo!(logger: &logger, info, "while down", seq);
    }
    let start = Instant::now();
    let err = logger.sync().expect_err("nothing to deliver to");
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Write);
    assert!(err.to_string().contains("not delivered"), "{err}");
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    // Still down: a second sync knows, and does not wait as long.
    let start = Instant::now();
    assert!(logger.sync().is_err());
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );

    let collector = Collector::on_port(port);
    for seq in 100..150 {
        velo!(logger: &logger, info, "once up", seq);
    }
    logger.sync().expect("the collector is up: sync delivers");
    let got = seqs(&collector);
    let unique: BTreeSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no record twice");
    assert_eq!(
        unique,
        (0..150).collect(),
        "every record, the ones logged while down too"
    );
    assert_eq!(logger.stats().dropped, 0);
}

#[test]
fn collector_down_then_up_gets_everything() {
    if is_child("collector_down_then_up_gets_everything") {
        return scenario();
    }
    let out = run_child_within(
        "collector_down_then_up_gets_everything",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}
