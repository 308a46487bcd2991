//! A drain frees its thread's ring part by part (16 KiB at a time) while it
//! writes, so a record may straddle two parts, the ring's wrap, or both,
//! and the thread logs on into the room freed behind the drain. Records of
//! many sizes, logged flat out by one thread and then by two, into a writer
//! slow enough that every drain is long, all come out whole and in order,
//! under each overflow strategy that keeps every entry.

use std::time::Duration;
use velo::{velo, Builder, Overflow};
use velo_tests::{Capture, Slow};

/// The payload of entry `seq`: from empty to a few KiB, so that records
/// fall across the 16 KiB parts at every offset.
fn payload(seq: u64) -> String {
    let len = (seq * 131 % 2_900) as usize;
    (0..len)
        .map(|i| (b'a' + ((seq as usize + i) % 26) as u8) as char)
        .collect()
}

fn run(threads: u64, per_thread: u64, overflow: Overflow) {
    let out = Capture::new();
    let logger = Builder::new()
        .overflow(overflow)
        .writer(Slow::new(Duration::from_millis(2), out.clone()))
        .build()
        .expect("valid");
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let logger = &logger;
            scope.spawn(move || {
                for seq in 0..per_thread {
                    let body = payload(seq);
                    velo!(logger: logger, info, "drained", thread, seq, body = body.as_str());
                }
            });
        }
    });
    logger.sync().expect("synced");
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0, "{overflow:?}: {stats:?}");
    assert_eq!(stats.written, threads * per_thread, "{overflow:?}");
    let entries = out.entries();
    assert_eq!(entries.len() as u64, threads * per_thread, "{overflow:?}");
    let mut next = vec![0u64; threads as usize];
    for e in &entries {
        let thread = e["thread"].as_u64().expect("thread");
        let seq = e["seq"].as_u64().expect("seq");
        assert_eq!(
            seq, next[thread as usize],
            "{overflow:?}: thread {thread} out of order"
        );
        assert_eq!(
            e["body"],
            payload(seq).as_str(),
            "{overflow:?}: entry {seq} changed"
        );
        next[thread as usize] += 1;
    }
}

#[test]
fn one_thread_of_records_of_every_size() {
    for overflow in [Overflow::Block, Overflow::Sync] {
        run(1, 6_000, overflow);
    }
}

#[test]
fn two_threads_of_records_of_every_size() {
    for overflow in [Overflow::Block, Overflow::Sync] {
        run(2, 3_000, overflow);
    }
}
