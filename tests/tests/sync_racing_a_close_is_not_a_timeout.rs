//! `sync` on a logger that another thread is closing at that moment (or
//! `velo::sync()`, which syncs every logger of the process, while some
//! logger closes) finds the worker gone: that is not an output that made
//! no progress. It writes what is left itself and succeeds, and the output
//! is not marked stuck for the callers after it.

use std::sync::{Arc, Barrier};
use velo::{velo, Builder};
use velo_tests::json_logger;

#[test]
fn sync_while_another_thread_closes_succeeds_and_loses_nothing() {
    for round in 0..300u32 {
        let (logger, out) = json_logger(Builder::new());
        for n in 0..20u32 {
            velo!(logger: &logger, info, "before", round, n);
        }
        let barrier = Arc::new(Barrier::new(2));
        let closer = {
            let (logger, barrier) = (logger.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                logger.close();
            })
        };
        barrier.wait();
        // This logger's sync, and every other round the process-wide one.
        let synced = if round % 2 == 0 {
            logger.sync()
        } else {
            velo::sync()
        };
        closer.join().unwrap();
        assert!(synced.is_ok(), "round {round}: {synced:?}");
        // Not marked stuck: later entries are written, synchronously.
        velo!(logger: &logger, info, "after", round);
        logger.sync().unwrap();
        let msgs = out.msgs();
        assert_eq!(msgs.len(), 21, "round {round}: {msgs:?}");
        assert_eq!(msgs[20], "after");
        assert_eq!(logger.stats().dropped, 0);
    }
}
