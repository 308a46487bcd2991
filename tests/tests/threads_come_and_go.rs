//! Each logging thread has its own ring: entries of threads that exit
//! before anything is written still arrive, hundreds of threads can log at
//! once, and an entry too large for a ring is written rather than lost.

use std::collections::HashMap;
use velo::{velo, Builder, Overflow};
use velo_tests::json_logger;

#[test]
fn entries_of_exited_threads_arrive_in_order() {
    const THREADS: u64 = 300;
    const PER_THREAD: u64 = 20;
    let (logger, out) = json_logger(Builder::new().overflow(Overflow::Block));
    // Short-lived threads, a few alive at a time, each gone before `sync`.
    for batch in 0..THREADS / 30 {
        let handles: Vec<_> = (0..30)
            .map(|i| {
                let logger = logger.clone();
                let thread = batch * 30 + i;
                std::thread::spawn(move || {
                    for seq in 0..PER_THREAD {
                        velo!(logger: &logger, info, "short-lived", thread, seq);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    }
    logger.sync().unwrap();

    let mut next: HashMap<u64, u64> = HashMap::new();
    let entries = out.entries();
    assert_eq!(entries.len() as u64, THREADS * PER_THREAD);
    for entry in &entries {
        let thread = entry["thread"].as_u64().unwrap();
        let seq = entry["seq"].as_u64().unwrap();
        let expected = next.entry(thread).or_insert(0);
        assert_eq!(seq, *expected, "thread {thread} out of order");
        *expected += 1;
    }
    let stats = logger.stats();
    assert_eq!(stats.written, THREADS * PER_THREAD);
    assert_eq!(stats.enqueued, THREADS * PER_THREAD);
}

#[test]
fn hundreds_of_threads_log_at_once() {
    const THREADS: u64 = 200;
    let (logger, out) = json_logger(Builder::new());
    let barrier = std::sync::Barrier::new(THREADS as usize);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (logger, barrier) = (&logger, &barrier);
            s.spawn(move || {
                barrier.wait();
                for seq in 0..10u64 {
                    velo!(logger: logger, info, "crowd", thread, seq);
                }
            });
        }
    });
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len() as u64, THREADS * 10);
    let mut seen = vec![0u64; THREADS as usize];
    for entry in &entries {
        seen[entry["thread"].as_u64().unwrap() as usize] += 1;
    }
    assert!(seen.iter().all(|&n| n == 10), "{seen:?}");
}

#[test]
fn an_entry_larger_than_a_ring_is_written_under_every_strategy() {
    for overflow in [Overflow::Sync, Overflow::Drop, Overflow::Block] {
        // A queue of one entry gets the smallest ring (4 KiB).
        let (logger, out) = json_logger(Builder::new().buffer_size(1).overflow(overflow));
        let big = "x".repeat(100_000);
        velo!(logger: &logger, info, "small before");
        velo!(logger: &logger, info, "big", payload = big.as_str());
        velo!(logger: &logger, info, "small after");
        logger.sync().unwrap();
        let entries = out.entries();
        let msgs: Vec<_> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(msgs, ["small before", "big", "small after"], "{overflow:?}");
        assert_eq!(entries[1]["payload"].as_str().unwrap(), big);
        let stats = logger.stats();
        assert_eq!(stats.dropped, 0, "{overflow:?}");
        assert_eq!(stats.written, 3, "{overflow:?}");
    }
}

/// A thread-local whose destructor logs: it may run after velo's own
/// per-thread state is gone, and the entry must still be written.
#[test]
fn logging_from_a_thread_local_destructor_is_written() {
    struct LogsOnDrop(velo::Logger);
    impl Drop for LogsOnDrop {
        fn drop(&mut self) {
            velo!(logger: &self.0, info, "from a destructor");
        }
    }
    thread_local! {
        static GUARD: std::cell::RefCell<Option<LogsOnDrop>> = const { std::cell::RefCell::new(None) };
    }
    let (logger, out) = json_logger(Builder::new());
    for _ in 0..4 {
        let logger = logger.clone();
        std::thread::spawn(move || {
            // Log first, so velo's per-thread state exists and is torn down
            // along with the guard, in an order the platform chooses.
            velo!(logger: &logger, info, "before exit");
            GUARD.with(|g| *g.borrow_mut() = Some(LogsOnDrop(logger)));
        })
        .join()
        .unwrap();
    }
    logger.sync().unwrap();
    let msgs = out.msgs();
    assert_eq!(msgs.iter().filter(|m| *m == "before exit").count(), 4);
    assert_eq!(msgs.iter().filter(|m| *m == "from a destructor").count(), 4);
}
