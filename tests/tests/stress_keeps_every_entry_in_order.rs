//! 8 threads x 100,000 entries through a queue small enough to overflow
//! constantly: under `Block` and `Sync` every entry arrives exactly once, as
//! valid JSON, and each thread's entries keep the order it logged them in.

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
    let per_thread = per_thread();
    let out = Capture::new();
    let logger = Builder::new()
        .format(velo::Format::Json)
        .writer(out.clone())
        .buffer_size(64)
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
