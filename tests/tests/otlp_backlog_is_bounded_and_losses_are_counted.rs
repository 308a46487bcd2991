//! With the collector away, the OTLP output keeps a bounded backlog and
//! counts what does not fit as dropped; callers never wait on the network.
//! When the collector comes back, it gets exactly the records that were
//! not counted as dropped, each once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use velo::{velo, Builder};
use velo_tests::otlp::{attr, body, free_port, Any, Collector};
use velo_tests::{assert_child_passed, is_child, run_child_within};

const N: u64 = 100_000;

fn scenario() {
    let port = free_port();
    let logger = Builder::new()
        .otlp(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let start = Instant::now();
    for seq in 0..N {
        velo!(logger: &logger, info, "tick", seq);
    }
    let logging = start.elapsed();
    assert!(logger.sync().is_err(), "the collector is away");
    let stats = logger.stats();
    // 64 batches of 512 wait, one is being retried: the rest is dropped.
    assert!(stats.dropped >= N - 66 * 512, "{stats:?}");
    assert!(stats.written >= 32 * 512, "{stats:?}");
    eprintln!("{N} entries logged in {logging:?} with the collector away; {stats:?}");

    let collector = Collector::on_port(port);
    // The first `sync` after the collector is back delivers, whatever the
    // sender was doing when it came back (backing off, or already in the
    // middle of the attempt that gets through). It may still return why
    // entries were dropped since the `sync` before (the drop warnings
    // written after it, which found the backlog full as well); the next
    // one has nothing to report.
    match logger.sync() {
        Err(e) if e.to_string().contains("backlog was full") => {}
        Err(e) => panic!(
            "the collector is back, yet sync fails: {e}; {:?}",
            logger.stats()
        ),
        Ok(()) => {}
    }
    if let Err(e) = logger.sync() {
        panic!(
            "nothing was lost since the last sync: {e}; {:?}",
            logger.stats()
        );
    }
    let stats = logger.stats();
    let records = collector.accepted();
    let mut ticks = BTreeSet::new();
    let mut warnings = 0;
    for record in &records {
        match attr(record, "seq") {
            Some(Any::IntValue(seq)) => assert!(ticks.insert(*seq), "tick {seq} arrived twice"),
            _ => {
                // The warning entry that reports drops: the output's own
                // (the queue, under `Overflow::Sync`, drops nothing).
                assert_eq!(
                    body(record),
                    "velo dropped entries: the output gave up on them"
                );
                warnings += 1;
            }
        }
    }
    assert_eq!(
        records.len() as u64,
        stats.written,
        "every entry counted as written arrived, and only those"
    );
    eprintln!("{warnings} drop warnings arrived");
    // Every tick that did not arrive was counted as dropped (the rest of
    // the count is warning entries dropped in turn).
    assert!(
        stats.dropped >= N - ticks.len() as u64,
        "{stats:?}, {} ticks arrived",
        ticks.len()
    );
}

#[test]
fn backlog_is_bounded_and_losses_are_counted() {
    if is_child("backlog_is_bounded_and_losses_are_counted") {
        return scenario();
    }
    let out = run_child_within(
        "backlog_is_bounded_and_losses_are_counted",
        &[],
        Duration::from_secs(90),
    );
    assert_child_passed(&out);
}
