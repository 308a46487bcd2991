//! `Stats::enqueued` counts the entries accepted into the queues. Read
//! while threads log and the worker drains, rings grow (a thread moves to
//! a larger ring) and threads exit (their rings are freed), it never goes
//! down; once every thread is done and the logger is synced, it is exactly
//! what went through the queues: the entries written less those a caller
//! wrote itself. (It used to be the entries drained plus those waiting,
//! and an entry being drained was counted in neither.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use velo::{velo, Builder, Format, Overflow};

const THREADS: u64 = 8;
const PER_THREAD: u64 = 20_000;

#[test]
fn enqueued_only_grows_and_ends_exact() {
    let logger = Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .overflow(Overflow::Block)
        .build()
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let logger = logger.clone();
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let (mut last, mut reads, mut drops) = (0, 0u64, Vec::new());
            while !done.load(Ordering::Relaxed) {
                let now = logger.stats().enqueued;
                if now < last {
                    drops.push((last, now));
                }
                last = last.max(now);
                reads += 1;
            }
            (reads, drops)
        })
    };
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let logger = logger.clone();
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    velo!(logger: &logger, info, "tick", t, i);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    logger.sync().unwrap();
    done.store(true, Ordering::Relaxed);
    let (reads, drops) = poller.join().unwrap();
    assert!(
        reads > 100,
        "the count was read while threads logged: {reads}"
    );
    assert!(
        drops.is_empty(),
        "the count went down: {:?}",
        &drops[..drops.len().min(5)]
    );
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.written, THREADS * PER_THREAD, "{stats:?}");
    assert_eq!(
        stats.enqueued + stats.sync_fallbacks,
        THREADS * PER_THREAD,
        "{stats:?}"
    );
}
