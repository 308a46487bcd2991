//! A writer that never takes a byte, answering every write `WouldBlock` (a
//! full non-blocking pipe whose reader is gone for good), is waited for 5 s
//! without progress, like a blocked one: `sync()` then returns a timeout,
//! and `close()` and the exit give up on it, however many entries keep
//! coming. Entries that only wait in the output's buffer while its writer
//! fails are no progress; before, each of them counted as some, and with
//! thousands queued `sync()` waited for minutes.

use std::io;
use std::time::{Duration, Instant};
use velo::{velo, Builder, ErrorKind};
use velo_tests::{assert_child_passed, is_child, run_child_within, CHILD_TIMEOUT};

/// Never takes a byte.
struct Full;

impl io::Write for Full {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const CHILD: &str = "child_logs_to_a_writer_that_never_takes_a_byte";

#[test]
fn child_logs_to_a_writer_that_never_takes_a_byte() {
    if !is_child(CHILD) {
        return;
    }
    let logger = Builder::new().writer(Full).build().unwrap();
    // More lines than the output's buffer holds, fewer than the queue.
    let start = Instant::now();
    for i in 0..5_000u32 {
        velo!(logger: &logger, info, "entry", i, padding = "x".repeat(100));
    }
    eprintln!("logged after {:?}", start.elapsed());
    let err = logger.sync().expect_err("nothing was written");
    eprintln!("sync: {:?} after {:?}", err.kind(), start.elapsed());
    assert!(
        matches!(err.kind(), ErrorKind::Timeout | ErrorKind::Write),
        "{err}"
    );
    // The last handle goes: its close gives up as well.
    drop(logger);
    eprintln!("dropped after {:?}", start.elapsed());
}

#[test]
fn sync_close_and_exit_give_up() {
    // A generous bound: the waits are 5 s each at most, the first of them;
    // before, this child waited for minutes.
    let bound = CHILD_TIMEOUT.min(Duration::from_secs(60));
    let out = run_child_within(CHILD, &[], bound);
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sync: "), "{stderr}");
    assert!(stderr.contains("dropped after"), "{stderr}");
}

const BESIDE: &str = "child_logs_to_a_stuck_writer_beside_an_appender";

/// The stuck writer beside an output that takes every entry (an
/// appender), first or second: the entries the appender takes are its
/// progress, and the writer's buffer must not cost each of them a 5 s
/// write-out (before, `sync` waited entries x 5 s).
#[test]
fn child_logs_to_a_stuck_writer_beside_an_appender() {
    if !is_child(BESIDE) {
        return;
    }
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = std::sync::Arc::clone(&taken);
    let appender = move |_: &velo::Record<'_>| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    };
    let logger = match std::env::var("VELO_TEST_ORDER").as_deref() {
        Ok("appender-first") => Builder::new()
            .appender(appender)
            .also(Builder::new().writer(Full))
            .build(),
        _ => Builder::new()
            .writer(Full)
            .also(Builder::new().appender(appender))
            .build(),
    }
    .unwrap();
    for i in 0..2_000u32 {
        velo!(logger: &logger, info, "entry", i, padding = "x".repeat(100));
    }
    let start = Instant::now();
    let synced = logger.sync();
    eprintln!(
        "sync: {:?} after {:?}",
        synced.map_err(|e| e.kind()),
        start.elapsed()
    );
    assert_eq!(
        taken.load(std::sync::atomic::Ordering::Relaxed),
        2_000,
        "the appender got every entry"
    );
    drop(logger);
    eprintln!("dropped after {:?}", start.elapsed());
}

#[test]
fn beside_an_appender_sync_close_and_exit_give_up_too() {
    for order in ["writer-first", "appender-first"] {
        let out = run_child_within(
            BESIDE,
            &[("VELO_TEST_ORDER", order)],
            Duration::from_secs(60),
        );
        assert_child_passed(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("dropped after"), "{order}: {stderr}");
    }
}

const AFTER_CLOSE: &str = "child_logs_after_close_to_a_writer_that_never_takes_a_byte";

/// `sync` waits the writer's 5 s once; `close` gives up what is buffered;
/// an entry logged after `close` is written by its caller, to the same
/// writer, which took nothing the last time: a tenth of a second, not
/// the whole 5 s again (before, the give-up forgot it).
#[test]
fn child_logs_after_close_to_a_writer_that_never_takes_a_byte() {
    if !is_child(AFTER_CLOSE) {
        return;
    }
    let logger = Builder::new().writer(Full).build().unwrap();
    for i in 0..10u32 {
        velo!(logger: &logger, info, "before close", i);
    }
    logger.sync().expect_err("nothing was written");
    logger.close();
    for i in 0..3u32 {
        let start = Instant::now();
        velo!(logger: &logger, info, "after close", i);
        eprintln!("after close {i}: {} ms", start.elapsed().as_millis());
    }
    // Those three wait in the output's buffer (counted written) for a
    // writer that may recover; the ten before were given up by `close`.
    let stats = logger.stats();
    assert_eq!((stats.written, stats.dropped), (3, 10), "{stats:?}");
}

#[test]
fn after_close_a_writer_that_took_nothing_costs_no_second_wait() {
    let out = run_child_within(AFTER_CLOSE, &[], Duration::from_secs(60));
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let waits: Vec<u128> = stderr
        .lines()
        .filter_map(|l| {
            l.strip_prefix("after close ")?
                .split(": ")
                .nth(1)?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(waits.len(), 3, "{stderr}");
    // 100 ms each (the patience for a writer that took nothing), with a
    // busy machine's margin; 5,000 ms is the whole patience.
    assert!(waits.iter().all(|&ms| ms < 2_000), "{waits:?}\n{stderr}");
}
