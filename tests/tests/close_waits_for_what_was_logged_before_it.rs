//! `close` waits for the entries logged before it, not for those other
//! threads go on logging after it: after `close` each of those is written
//! by its own caller, so while threads log the output's lock is always
//! wanted, and the worker's last pass must not wait behind them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use velo::{velo, Builder};
use velo_tests::{Capture, Slow};

#[test]
fn close_is_not_held_up_by_threads_that_keep_logging() {
    for round in 0..4 {
        let out = Capture::new();
        let logger = Builder::new()
            .writer(Slow::new(Duration::from_millis(50), out.clone()))
            .buffer_size(4)
            .build()
            .unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            for t in 0..3u64 {
                let (logger, stop) = (&logger, &stop);
                s.spawn(move || {
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        velo!(logger: logger, info, "m", t, i);
                        i += 1;
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(200));
            let stats = logger.stats();
            // Logged before `close`: queued, or written by their callers.
            let before = stats.enqueued + stats.sync_fallbacks;
            logger.close();
            let written = out.lines().len() as u64;
            stop.store(true, Ordering::Relaxed);
            // What `close` found queued, and at most a few entries each
            // thread wrote itself while the worker's last passes waited
            // for the lock: a few hundred milliseconds at 50 ms a write.
            assert!(
                written <= before + 20,
                "round {round}: {} entries logged after close was called were written before it returned",
                written - before
            );
        });
        let lines = out.lines();
        assert!(lines.iter().all(|l| l.ends_with('}')));
    }
}
