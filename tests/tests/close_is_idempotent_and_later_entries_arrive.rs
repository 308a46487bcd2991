//! `close()` flushes and stops the worker; logging afterwards is written
//! synchronously and never lost; concurrent closes do not deadlock.

use std::time::{Duration, Instant};
use velo::{velo, Builder};
use velo_tests::json_logger;

#[test]
fn entries_after_close_are_written_synchronously() {
    let (logger, out) = json_logger(Builder::new());
    let child = logger.with(velo::fields!(child = true));
    for seq in 0..100u32 {
        velo!(logger: &logger, info, "before", seq);
    }
    child.close();
    assert!(
        logger.is_closed(),
        "close on a child closes the shared worker"
    );
    assert_eq!(out.lines().len(), 100, "close flushed everything");
    velo!(logger: &logger, info, "after close");
    velo!(logger: &child, info, "child after close");
    // No sync: written on this thread.
    let lines = out.lines();
    assert_eq!(lines.len(), 102);
    assert!(lines[100].contains("after close"));
    assert!(lines[101].contains("\"child\":true"));
    logger.close();
    logger.close();
    assert!(logger.sync().is_ok());
}

#[test]
fn concurrent_close_and_logging_lose_nothing() {
    for _ in 0..20 {
        let (logger, out) = json_logger(Builder::new().buffer_size(4));
        std::thread::scope(|s| {
            for t in 0..3u32 {
                let logger = &logger;
                s.spawn(move || {
                    for seq in 0..300u32 {
                        velo!(logger: logger, info, "racing", t, seq);
                    }
                });
            }
            s.spawn(|| logger.close());
            s.spawn(|| logger.close());
        });
        logger.close();
        assert_eq!(out.entries().len(), 900);
    }
}

#[test]
fn global_close_from_two_threads() {
    let (logger, out) = json_logger(Builder::new());
    velo!(logger: &logger, info, "one");
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(velo::close);
        s.spawn(velo::close);
    });
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(logger.is_closed());
    assert_eq!(out.lines().len(), 1);
}

#[test]
fn dropping_the_last_handle_flushes() {
    let (logger, out) = json_logger(Builder::new());
    let clone = logger.clone();
    drop(logger);
    for seq in 0..10u32 {
        velo!(logger: &clone, info, "still open", seq);
    }
    assert!(!clone.is_closed(), "dropping one handle changes nothing");
    drop(clone);
    assert_eq!(out.lines().len(), 10);
}

#[test]
fn an_idle_logger_flushes_without_sync() {
    let (logger, out) = json_logger(Builder::new());
    velo!(logger: &logger, info, "delivered");
    let deadline = Instant::now() + Duration::from_secs(5);
    while out.lines().is_empty() {
        assert!(Instant::now() < deadline, "the worker flushes when idle");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(out.flushes() > 0);
}

#[test]
fn synchronous_logger_writes_before_returning() {
    let (logger, out) = json_logger(Builder::new().asynchronous(false));
    velo!(logger: &logger, warn, "now");
    assert_eq!(out.lines().len(), 1);
}

/// `is_closed` says whether `close` was called for a logger without a
/// worker too (a synchronous one, a test writer's), and it keeps logging.
#[test]
fn a_logger_without_a_worker_is_closed_once_close_is_called() {
    let (logger, out) = json_logger(Builder::new().asynchronous(false));
    assert!(!logger.is_closed());
    logger.clone().close();
    assert!(logger.is_closed(), "closed for every clone");
    logger.close();
    velo!(logger: &logger, warn, "after close");
    assert_eq!(out.msgs(), ["after close"]);
    assert!(logger.is_closed());

    let logger = Builder::new().test_writer().build().unwrap();
    assert!(!logger.is_closed());
    logger.close();
    assert!(logger.is_closed());
}

/// After each idle spell the worker parks; the next entry must still reach
/// the writer without `sync`, well before the worker's own 1 s look: the
/// first caller after the spell writes it, and wakes the worker for the
/// next spell. Without that path an entry would wait for the worker's
/// timeout. (The race between a caller and a worker that is just parking
/// is checked by the loom model in `velo/tests/loom_close.rs`.)
#[test]
fn entries_after_the_worker_parks_arrive_without_sync() {
    let (logger, out) = json_logger(Builder::new());
    for round in 0..5u32 {
        // Longer than the worker polls before it parks (10 ms).
        std::thread::sleep(Duration::from_millis(40));
        let logger = logger.clone();
        std::thread::spawn(move || velo!(logger: &logger, info, "after idle", round))
            .join()
            .unwrap();
        let deadline = Instant::now() + Duration::from_millis(800);
        while out.lines().len() <= round as usize {
            assert!(
                Instant::now() < deadline,
                "round {round}: the entry waited for the worker's timeout"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert_eq!(out.lines().len(), 5);
}

/// Under `Overflow::Block`, an entry waiting for room when `close` comes
/// is written by its caller, as every entry after `close` is: no
/// `sync_fallbacks` (which Block never counts for a full queue).
#[test]
fn an_entry_waiting_for_room_under_block_when_close_comes_is_no_fallback() {
    let out = velo_tests::Capture::new();
    let gate = velo_tests::Held::new(out.clone());
    let logger = Builder::new()
        .format(velo::Format::Json)
        .overflow(velo::Overflow::Block)
        .buffer_size(1)
        .writer(gate.clone())
        .build()
        .unwrap();
    // Taken by the worker, which then waits at the gate.
    velo!(logger: &logger, info, "one");
    gate.wait_entered();
    let waiter = {
        let logger = logger.clone();
        std::thread::spawn(move || {
            velo!(logger: &logger, info, "two");
            // The ring holds one entry: this one waits for room.
            velo!(logger: &logger, info, "three");
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let closer = {
        let logger = logger.clone();
        std::thread::spawn(move || logger.close())
    };
    std::thread::sleep(Duration::from_millis(100));
    gate.open();
    closer.join().unwrap();
    waiter.join().unwrap();
    assert_eq!(out.msgs(), ["one", "two", "three"]);
    let stats = logger.stats();
    assert_eq!(stats.sync_fallbacks, 0, "{stats:?}");
    assert_eq!(stats.written, 3, "{stats:?}");
}
