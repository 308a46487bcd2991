//! A collector that answers 503 twice (once with `Retry-After`) then 200
//! gets every record exactly once, in batches of at most 512, and `sync`
//! returns once it has them all.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use velo::{velo, Builder};
use velo_tests::otlp::{attr, Any, Collector, Reply};
use velo_tests::{assert_child_passed, is_child, run_child_within};

const N: u64 = 1200;

fn scenario() {
    let collector = Collector::scripted(vec![Reply::retry_after(503, 1), Reply::status(503)]);
    let logger = Builder::new().otlp(collector.url()).build().unwrap();
    let start = Instant::now();
    for seq in 0..N {
        velo!(logger: &logger, info, "order placed", seq);
    }
    logger.sync().expect("sync: every record delivered");
    let elapsed = start.elapsed();

    let requests = collector.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [503, 503, 200, 200, 200],
        "1200 records: 3 batches, the first retried twice"
    );
    assert!(
        elapsed >= Duration::from_secs(1),
        "Retry-After: 1 was honoured ({elapsed:?})"
    );
    assert_eq!(
        requests[0].raw, requests[1].raw,
        "a retry sends the same batch"
    );
    assert_eq!(requests[1].raw, requests[2].raw);
    let sizes: Vec<usize> = requests[2..].iter().map(|r| r.records().len()).collect();
    assert_eq!(sizes, [512, 512, 176]);

    let mut seen = BTreeMap::new();
    for record in collector.accepted() {
        let Some(Any::IntValue(seq)) = attr(&record, "seq") else {
            panic!("no seq in {record:?}");
        };
        *seen.entry(*seq).or_insert(0) += 1;
    }
    assert_eq!(seen.len() as u64, N, "every record arrived");
    assert!(seen.values().all(|&n| n == 1), "no record arrived twice");
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..N as i64).collect::<Vec<_>>()
    );
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.write_errors),
        (N, 0, 0)
    );
}

#[test]
fn retries_503_and_delivers_each_record_once() {
    if is_child("retries_503_and_delivers_each_record_once") {
        return scenario();
    }
    let out = run_child_within(
        "retries_503_and_delivers_each_record_once",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}
