//! Queues of one, two and four entries: under `Overflow::Sync` and
//! `Overflow::Block` every entry of every thread is written once, in its
//! thread's order, while callers whose queue is full wake the idle worker
//! (between its looks for work) and wait for it. (What that costs, against
//! waiting out the worker's next look: `benches/src/bin/small_queue.rs`.)

use std::collections::BTreeMap;
use velo::{velo, Builder, Format, Overflow};
use velo_tests::Capture;

const THREADS: u64 = 3;
const PER_THREAD: u64 = 2_000;

fn run(size: usize, overflow: Overflow) -> velo::Stats {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .buffer_size(size)
        .overflow(overflow)
        .writer(out.clone())
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let logger = &logger;
            s.spawn(move || {
                for seq in 0..PER_THREAD {
                    velo!(logger: logger, info, "entry", thread, seq);
                }
            });
        }
    });
    logger.sync().unwrap();
    let mut next: BTreeMap<u64, u64> = BTreeMap::new();
    for e in out.entries() {
        let (thread, seq) = (e["thread"].as_u64().unwrap(), e["seq"].as_u64().unwrap());
        let expected = next.entry(thread).or_default();
        assert_eq!(seq, *expected, "thread {thread}, size {size}, {overflow:?}");
        *expected += 1;
    }
    assert_eq!(next.len() as u64, THREADS);
    assert!(next.values().all(|&n| n == PER_THREAD), "{next:?}");
    logger.stats()
}

#[test]
fn every_entry_once_and_in_order() {
    for size in [1, 2, 4] {
        for overflow in [Overflow::Sync, Overflow::Block] {
            let stats = run(size, overflow);
            assert_eq!(stats.written, THREADS * PER_THREAD, "{stats:?}");
            assert_eq!(stats.dropped, 0, "{stats:?}");
            if overflow == Overflow::Block {
                assert_eq!(stats.sync_fallbacks, 0, "{stats:?}");
            }
        }
    }
}
