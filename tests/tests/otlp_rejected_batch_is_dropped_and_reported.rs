//! A status OTLP says not to retry (400: the collector cannot use the
//! batch) drops the batch at once: its records are counted as dropped and
//! the next `sync` says why. The warning that counts them is sent once the
//! collector takes batches again.

use std::time::Duration;
use velo::{velo, Builder, ErrorKind};
use velo_tests::otlp::{attr, body, Any, Collector, Reply};
use velo_tests::{assert_child_passed, is_child, run_child_within};

fn scenario() {
    let collector = Collector::scripted(vec![Reply::retry_after(400, 0)]);
    let logger = Builder::new().otlp(collector.url()).build().unwrap();
    for i in 0..10u32 {
        velo!(logger: &logger, info, "refused", i);
    }
    let err = logger.sync().expect_err("the batch was refused");
    assert_eq!(err.kind(), ErrorKind::Write);
    assert!(err.to_string().contains("answered 400"), "{err}");
    let stats = logger.stats();
    assert_eq!((stats.written, stats.dropped), (0, 10), "{stats:?}");
    assert_eq!(collector.requests().len(), 1, "not retried");

    velo!(logger: &logger, info, "accepted");
    logger.sync().expect("the next batch goes through");
    let requests = collector.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    // The new entry, then (the output works again) the drop warning.
    assert_eq!(statuses, [400, 200, 200]);
    let records: Vec<_> = requests[1..].iter().flat_map(|r| r.records()).collect();
    let bodies: Vec<&str> = records.iter().map(body).collect();
    assert_eq!(
        bodies,
        [
            "accepted",
            "velo dropped entries: the output gave up on them"
        ]
    );
    assert!(
        matches!(attr(&records[1], "dropped"), Some(Any::IntValue(10))),
        "{:?}",
        records[1]
    );
    assert_eq!(logger.stats().written, 2);
}

#[test]
fn rejected_batch_is_dropped_and_reported() {
    if is_child("rejected_batch_is_dropped_and_reported") {
        return scenario();
    }
    let out = run_child_within(
        "rejected_batch_is_dropped_and_reported",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}

/// A collector that refuses everything: the refused entry is counted once,
/// and its warning waits for a batch that gets through instead of being
/// refused, counted and warned of in turn, pass after pass.
fn refusing_scenario() {
    let collector = Collector::scripted(vec![Reply::status(400); 50]);
    let logger = Builder::new().otlp(collector.url()).build().unwrap();
    velo!(logger: &logger, info, "refused");
    logger.sync().expect_err("the batch was refused");
    // The idle worker passes twice a second: four seconds of passes.
    std::thread::sleep(Duration::from_secs(4));
    let _ = logger.sync();
    let stats = logger.stats();
    assert_eq!(
        (stats.enqueued, stats.written, stats.dropped),
        (1, 0, 1),
        "{stats:?}"
    );
    let bodies: Vec<String> = collector
        .requests()
        .iter()
        .flat_map(|r| r.records())
        .map(|r| body(&r).to_owned())
        .collect();
    assert_eq!(bodies, ["refused"], "only the entry itself was sent");
}

#[test]
fn a_refusing_collector_gets_no_endless_warnings() {
    if is_child("a_refusing_collector_gets_no_endless_warnings") {
        return refusing_scenario();
    }
    let out = run_child_within(
        "a_refusing_collector_gets_no_endless_warnings",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}
