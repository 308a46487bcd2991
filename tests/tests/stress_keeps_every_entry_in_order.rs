//! 8 threads x 100,000 entries through a queue small enough to overflow
//! constantly: under `Block` and `Sync` every entry arrives exactly once, as
//! valid JSON, and each thread's entries keep the order it logged them in.
//! The same through queues of one, two and four entries, whose callers
//! wake the idle worker (between its looks for work) and wait for it on
//! nearly every entry.

use velo::{velo, Builder, Overflow};
use velo_tests::{parse_line, Capture};

const THREADS: u64 = 8;

/// Entries per thread: 100,000, or `VELO_STRESS_PER_THREAD` (fewer for a
/// run under valgrind).
fn per_thread() -> u64 {
    std::env::var("VELO_STRESS_PER_THREAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn run(overflow: Overflow) {
    run_with(overflow, 64, per_thread());
}

fn run_with(overflow: Overflow, buffer_size: usize, per_thread: u64) {
    let out = Capture::new();
    let logger = Builder::new()
        .format(velo::Format::Json)
        .writer(out.clone())
        .buffer_size(buffer_size)
        .overflow(overflow)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let logger = &logger;
            s.spawn(move || {
                for seq in 0..per_thread {
                    velo!(logger: logger, info, "stress", thread, seq);
                }
            });
        }
    });
    logger.sync().unwrap();

    let lines = out.lines();
    assert_eq!(lines.len() as u64, THREADS * per_thread, "{overflow:?}");
    let mut next = vec![0u64; THREADS as usize];
    for line in &lines {
        let entry = parse_line(line);
        let thread = entry["thread"].as_u64().unwrap();
        let seq = entry["seq"].as_u64().unwrap();
        // In order and exactly once: each thread's next entry is the one
        // after its previous.
        assert_eq!(seq, next[thread as usize], "{overflow:?}: thread {thread}");
        next[thread as usize] += 1;
    }
    assert!(next.iter().all(|&n| n == per_thread));
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.written, THREADS * per_thread);
    assert_eq!(stats.write_errors, 0);
    if overflow == Overflow::Sync {
        assert_eq!(stats.enqueued + stats.sync_fallbacks, THREADS * per_thread);
    } else {
        assert_eq!(stats.enqueued, THREADS * per_thread);
    }
}

#[test]
fn block_loses_nothing_and_keeps_order() {
    run(Overflow::Block);
}

#[test]
fn sync_loses_nothing_and_keeps_order() {
    run(Overflow::Sync);
}

#[test]
fn tiny_queues_lose_nothing_and_keep_order() {
    for size in [1, 2, 4] {
        for overflow in [Overflow::Sync, Overflow::Block] {
            // 2,000 a thread; 40 under valgrind (`VELO_STRESS_PER_THREAD`
            // of 2,000), where each wake-up of the worker takes long.
            run_with(overflow, size, (per_thread() / 50).min(2_000));
        }
    }
}
