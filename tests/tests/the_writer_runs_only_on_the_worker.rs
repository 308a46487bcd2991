//! The user's writer runs on the logger's worker thread, never on a thread
//! that logs, outside the documented cases (a full queue under
//! `Overflow::Sync`, logging after `close`, `asynchronous(false)`, an entry
//! larger than the largest queue, an exiting thread). In particular not for
//! the first entry after the worker went idle and parked, nor for a thread
//! that logs now and then: a caller that holds a lock its writer also takes
//! would deadlock.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use velo::{velo, Builder, Format, Logger};
use velo_tests::{is_child, run_child_within, Capture, CHILD_TIMEOUT};

/// Longer than the worker polls before it parks (10 ms).
const IDLE: Duration = Duration::from_millis(30);

/// A writer that notes the thread of every call into it, and takes a lock
/// the program shares with it on every write.
#[derive(Clone)]
struct NotesThreads {
    threads: Arc<Mutex<Vec<String>>>,
    shared: Arc<Mutex<()>>,
    out: Capture,
}

impl NotesThreads {
    fn new() -> NotesThreads {
        NotesThreads {
            threads: Arc::default(),
            shared: Arc::default(),
            out: Capture::new(),
        }
    }

    fn note(&self) {
        let name = std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned();
        self.threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name);
    }

    /// The threads that called the writer so far, each once.
    fn threads(&self) -> Vec<String> {
        let mut threads = self
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        threads.dedup();
        threads
    }

    fn logger(&self) -> Logger {
        Builder::new()
            .format(Format::Json)
            .writer(self.clone())
            .build()
            .unwrap()
    }
}

impl Write for NotesThreads {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.note();
        let _shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.note();
        self.out.flush()
    }
}

#[test]
fn entries_after_the_worker_parked_are_written_by_the_worker() {
    let writer = NotesThreads::new();
    let logger = writer.logger();
    for seq in 0..5u32 {
        velo!(logger: &logger, info, "after an idle spell", seq);
        std::thread::sleep(IDLE);
    }
    logger.sync().unwrap();
    assert_eq!(writer.out.msgs().len(), 5);
    assert_eq!(writer.threads(), ["velo-worker"]);
    assert_eq!(logger.stats().sync_fallbacks, 0);
}

#[test]
fn a_thread_logging_every_50_ms_never_writes() {
    let writer = NotesThreads::new();
    let logger = writer.logger();
    std::thread::Builder::new()
        .name("every-50-ms".into())
        .spawn({
            let logger = logger.clone();
            move || {
                for seq in 0..8u32 {
                    velo!(logger: &logger, info, "tick", seq);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
    logger.sync().unwrap();
    assert_eq!(writer.out.msgs().len(), 8);
    assert_eq!(writer.threads(), ["velo-worker"]);
    assert_eq!(logger.stats().sync_fallbacks, 0);
}

#[test]
fn child_logs_while_holding_the_writers_lock() {
    if !is_child("child_logs_while_holding_the_writers_lock") {
        return;
    }
    let writer = NotesThreads::new();
    let logger = writer.logger();
    velo!(logger: &logger, info, "first");
    logger.sync().unwrap();
    for seq in 0..3u32 {
        std::thread::sleep(IDLE);
        let held = writer.shared.lock().unwrap();
        velo!(logger: &logger, info, "logged while holding the lock", seq);
        // The worker may be waiting for the lock now; it gets it below.
        std::thread::sleep(Duration::from_millis(5));
        drop(held);
    }
    logger.sync().unwrap();
    println!("lines: {}", writer.out.msgs().len());
    println!("threads: {}", writer.threads().join(","));
    println!("sync_fallbacks: {}", logger.stats().sync_fallbacks);
}

#[test]
fn a_caller_holding_a_lock_its_writer_takes_does_not_deadlock() {
    let out = run_child_within(
        "child_logs_while_holding_the_writers_lock",
        &[],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("lines: 4\n"), "{stdout}");
    assert!(stdout.contains("threads: velo-worker\n"), "{stdout}");
    assert!(stdout.contains("sync_fallbacks: 0\n"), "{stdout}");
}
