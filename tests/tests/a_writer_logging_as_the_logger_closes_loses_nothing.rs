//! A writer that logs to its own logger while `close()` (or the exit) writes
//! the last entries: what it logs is written before `close` returns, or
//! counted dropped, never left queued with no one to write it. The same
//! holds for an entry logged after `close`, which its caller writes.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use velo::{velo, Builder, Format, Logger, Stats};
use velo_tests::{is_child, json_lines, run_child_within, Capture, CHILD_TIMEOUT};

/// Logs one entry to its own logger on each of its next `budget` writes
/// (`usize::MAX`: on every write), then passes the bytes on.
struct LogsWhileWriting<W> {
    logger: Arc<OnceLock<Logger>>,
    budget: Arc<AtomicUsize>,
    /// How many entries it logged.
    logged: Arc<AtomicUsize>,
    out: W,
}

impl<W: Write> Write for LogsWhileWriting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.budget.load(Ordering::Relaxed);
        if left > 0 {
            if left != usize::MAX {
                self.budget.store(left - 1, Ordering::Relaxed);
            }
            if let Some(logger) = self.logger.get() {
                velo!(logger: logger, info, "from the writer", bytes = buf.len());
                self.logged.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The logger, the writer's budget and how many entries it logged.
type Logging = (Logger, Arc<AtomicUsize>, Arc<AtomicUsize>);

fn logger<W: Write + Send + 'static>(out: W, budget: usize) -> Logging {
    let cell = Arc::new(OnceLock::new());
    let budget = Arc::new(AtomicUsize::new(budget));
    let logged = Arc::new(AtomicUsize::new(0));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(LogsWhileWriting {
            logger: Arc::clone(&cell),
            budget: Arc::clone(&budget),
            logged: Arc::clone(&logged),
            out,
        })
        .build()
        .unwrap();
    cell.set(logger.clone()).ok().unwrap();
    (logger, budget, logged)
}

fn count(out: &Capture, msg: &str) -> usize {
    out.entries().iter().filter(|e| e["msg"] == msg).count()
}

#[test]
fn what_the_writer_logs_during_close_is_written_before_close_returns() {
    for _ in 0..20 {
        let out = Capture::new();
        let (logger, budget, _) = logger(out.clone(), 3);
        velo!(logger: &logger, info, "outer");
        logger.close();
        // No sync after: what is not in the output now waits for no one.
        assert_eq!(count(&out, "outer"), 1);
        assert_eq!(count(&out, "from the writer"), 3, "{:?}", out.lines());
        let stats = logger.stats();
        assert_eq!((stats.written, stats.dropped), (4, 0), "{stats:?}");

        // After close the caller writes its entry, and what the writer
        // logs meanwhile, before `velo!` returns.
        budget.store(3, Ordering::Relaxed);
        velo!(logger: &logger, info, "after close");
        assert_eq!(count(&out, "after close"), 1);
        assert_eq!(count(&out, "from the writer"), 6, "{:?}", out.lines());
        let stats = logger.stats();
        assert_eq!((stats.written, stats.dropped), (8, 0), "{stats:?}");
    }
}

#[test]
fn child_with_a_writer_that_always_logs() {
    if !is_child("child_with_a_writer_that_always_logs") {
        return;
    }
    let out = Capture::new();
    let (logger, budget, logged) = logger(out.clone(), usize::MAX);
    for seq in 0..10u32 {
        velo!(logger: &logger, info, "outer", seq);
    }
    logger.close();
    // What close left is in the output or counted: nothing is queued.
    budget.store(0, Ordering::Relaxed);
    let report = |stats: Stats| {
        eprintln!(
            "outer {} writer {} logged {} written {} dropped {}",
            count(&out, "outer"),
            count(&out, "from the writer"),
            logged.load(Ordering::Relaxed),
            stats.written,
            stats.dropped
        )
    };
    report(logger.stats());
    logger.sync().unwrap();
    report(logger.stats());
}

/// A writer that logs each time it writes makes entries for good: `close`
/// writes them for a few rounds, then drops the last ones, counted, and
/// returns.
#[test]
fn close_ends_with_a_writer_that_logs_on_every_write() {
    let output = run_child_within("child_with_a_writer_that_always_logs", &[], CHILD_TIMEOUT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let reports: Vec<Vec<u64>> = stderr
        .lines()
        .filter(|l| l.starts_with("outer "))
        .map(|l| {
            l.split(' ')
                .skip(1)
                .step_by(2)
                .map(|n| n.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(reports.len(), 2, "{stderr}");
    let [outer, writer, logged, written, dropped] = reports[0][..] else {
        panic!("{stderr}")
    };
    assert_eq!(outer, 10);
    assert!(writer >= 1, "{stderr}");
    assert_eq!(written, outer + writer, "{stderr}");
    // Every entry the writer logged is written, but for its last one,
    // counted dropped.
    assert_eq!(logged, writer + 1, "{stderr}");
    assert_eq!(dropped, 1, "{stderr}");
    // No pass follows to write the warning into the output: it is said on
    // stderr, once.
    let said: Vec<&str> = stderr.lines().filter(|l| l.starts_with("velo: ")).collect();
    assert_eq!(
        said,
        ["velo: 1 entry was dropped: the log writer logged them while writing its own entries, round after round"],
        "{stderr}"
    );
    // A later sync finds nothing queued.
    assert_eq!(reports[1][..3], reports[0][..3], "{stderr}");
}

/// The child's logger and its writer's count, for its exit handler.
static AT_EXIT: OnceLock<(Logger, Arc<AtomicUsize>)> = OnceLock::new();

extern "C" fn report_at_exit() {
    if let Some((logger, logged)) = AT_EXIT.get() {
        let stats = logger.stats();
        eprintln!(
            "at exit: logged {} written {} dropped {}",
            logged.load(Ordering::Relaxed),
            stats.written,
            stats.dropped
        );
    }
}

#[test]
fn child_exits_with_a_writer_that_logs() {
    if !is_child("child_exits_with_a_writer_that_logs") {
        return;
    }
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    }
    // Registered before velo's exit handler (the logger's first entry
    // registers it), so it runs after it, on the closed logger.
    // SAFETY: `atexit` is the C library's, with its C signature; the
    // handler takes no arguments and does not unwind.
    assert_eq!(unsafe { atexit(report_at_exit) }, 0);
    let (logger, _, logged) = logger(io::stderr(), 3);
    AT_EXIT.set((logger.clone(), logged)).ok().unwrap();
    velo!(logger: &logger, info, "outer");
    // Returns from the test: the exit closes the logger.
}

/// At the exit, what the writer logs is written, or, while the exit's
/// close ends its last write (when no drain may follow: see
/// `Core::end_writing`), dropped and counted.
#[test]
fn what_the_writer_logs_at_exit_is_written_or_counted() {
    for _ in 0..5 {
        let output = run_child_within("child_exits_with_a_writer_that_logs", &[], CHILD_TIMEOUT);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let msgs: Vec<String> = json_lines(&output.stderr)
            .iter()
            .map(|e| e["msg"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(msgs[0], "outer", "{stderr}");
        let writer = msgs.iter().filter(|m| *m == "from the writer").count();
        assert_eq!(writer + 1, msgs.len(), "{stderr}");
        let report = velo_tests::reported_counts(&stderr, "at exit: ");
        let [logged, written, dropped] = report[..] else {
            panic!("{stderr}")
        };
        assert_eq!(logged, 3, "{stderr}");
        assert_eq!(written, msgs.len(), "{stderr}");
        assert_eq!(writer + dropped, logged, "{stderr}");
        let said = stderr
            .lines()
            .filter(|l| l.contains("the log writer logged them"))
            .collect::<Vec<_>>();
        let expected = velo_tests::writer_drops_said(dropped);
        match dropped {
            0 => assert!(said.is_empty(), "{stderr}"),
            _ => assert_eq!(said, [expected.as_str()], "{stderr}"),
        }
    }
}

/// After `close`, each entry's caller writes it, and a writer that logs on
/// every write has its last round's entry dropped each time: the warnings
/// that count them say why, and add up to `stats().dropped`.
#[test]
fn the_warning_for_what_the_writer_logged_says_so() {
    let out = Capture::new();
    let (logger, budget, logged) = logger(out.clone(), usize::MAX);
    logger.close();
    velo!(logger: &logger, info, "after close", n = 1);
    velo!(logger: &logger, info, "after close", n = 2);
    budget.store(0, Ordering::Relaxed);
    // Writes the warnings for what was dropped so far.
    velo!(logger: &logger, info, "after close", n = 3);
    let entries = out.entries();
    let warnings: Vec<_> = entries.iter().filter(|e| e["level"] == "warn").collect();
    assert!(!warnings.is_empty(), "{:?}", out.lines());
    for w in &warnings {
        assert_eq!(
            w["msg"],
            "velo dropped entries: the log writer logged them while writing its own entries, round after round"
        );
    }
    let warned: u64 = warnings
        .iter()
        .map(|w| w["dropped"].as_u64().unwrap())
        .sum();
    let stats = logger.stats();
    assert_eq!(warned, stats.dropped, "{:?}", out.lines());
    assert_eq!(count(&out, "after close"), 3);
    assert_eq!(
        logged.load(Ordering::Relaxed),
        count(&out, "from the writer") + stats.dropped as usize,
        "{:?}",
        out.lines()
    );
}

/// A writer that logs a burst to its own logger on its first write.
struct Bursts(
    std::sync::Arc<std::sync::OnceLock<velo::Logger>>,
    velo_tests::Capture,
    bool,
);

impl std::io::Write for Bursts {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if !std::mem::replace(&mut self.2, true) {
            if let Some(logger) = self.0.get() {
                for i in 0..100u32 {
                    velo::velo!(logger: logger, info, "burst", i);
                }
            }
        }
        std::io::Write::write(&mut self.1, b)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a writer logs to its queued logger past the queue's room is a full
/// queue's drop, said so.
#[test]
fn a_burst_from_the_writer_past_its_queue_is_a_full_queue() {
    let slot = std::sync::Arc::new(std::sync::OnceLock::new());
    let out = velo_tests::Capture::new();
    let logger = velo::Builder::new()
        .format(velo::Format::Json)
        .buffer_size(16)
        .writer(Bursts(std::sync::Arc::clone(&slot), out.clone(), false))
        .build()
        .unwrap();
    slot.set(logger.clone()).unwrap();
    velo::velo!(logger: &logger, info, "first");
    logger.sync().unwrap();
    logger.sync().unwrap();
    let msgs = out.msgs();
    assert!(
        msgs.iter()
            .any(|m| m == "velo dropped entries: the queue was full"),
        "{msgs:?}"
    );
    assert!(
        !msgs
            .iter()
            .any(|m| m.contains("while writing its own entries, round after round")),
        "{msgs:?}"
    );
}
