//! `close()` and `sync()` called from inside a writer never wait for a
//! pass that cannot run until that writer returns: neither on a logging
//! thread that writes itself (a full queue under `Overflow::Sync`, an entry
//! larger than any queue), where the wait would be for the lock this thread
//! holds, nor across two loggers whose writers wait for each other's
//! worker. Such a wait ended only at the 5 s bound, after which the output
//! was taken for stuck and `Sync` dropped entries.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger};
use velo_tests::{in_child, Capture, Slow};

/// What a writer does on each write before passing the bytes on.
#[derive(Clone, Copy)]
enum Act {
    /// `close()` its own logger.
    CloseOwn,
    /// `velo::sync()`: every logger.
    SyncAll,
}

/// A writer that acts on each write, timing the longest act.
struct Acting {
    logger: Arc<OnceLock<Logger>>,
    act: Act,
    longest_us: Arc<AtomicU64>,
    out: Capture,
}

impl Write for Acting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(logger) = self.logger.get() {
            let start = Instant::now();
            match self.act {
                Act::CloseOwn => logger.close(),
                Act::SyncAll => {
                    let _ = velo::sync();
                }
            }
            let took = start.elapsed().as_micros() as u64;
            self.longest_us.fetch_max(took, Ordering::Relaxed);
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A logger with a small queue whose writer acts on every write; its
/// output, and the longest act in microseconds.
fn logger(act: Act) -> (Logger, Capture, Arc<AtomicU64>) {
    let cell = Arc::new(OnceLock::new());
    let out = Capture::new();
    let longest_us = Arc::new(AtomicU64::new(0));
    let logger = Builder::new()
        .format(Format::Json)
        .buffer_size(16)
        .writer(Acting {
            logger: Arc::clone(&cell),
            act,
            longest_us: Arc::clone(&longest_us),
            out: out.clone(),
        })
        .build()
        .unwrap();
    cell.set(logger.clone()).ok().unwrap();
    (logger, out, longest_us)
}

const PER_THREAD: u32 = 3000;

/// Two threads log `PER_THREAD` entries each to every logger of `loggers`.
fn log_from_two_threads(loggers: &[Logger]) {
    std::thread::scope(|s| {
        for t in 0..2u32 {
            s.spawn(move || {
                for seq in 0..PER_THREAD {
                    for logger in loggers {
                        velo!(logger: logger, info, "entry", t, seq);
                    }
                }
            });
        }
    });
}

/// Every entry is in `out`, each thread's in order, and none was dropped.
fn check(logger: &Logger, out: &Capture, longest_us: &AtomicU64, what: &str) {
    logger.close();
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0, "{what}: {stats:?}");
    for t in 0..2u64 {
        let seqs: Vec<u64> = out
            .entries()
            .iter()
            .filter(|e| e["msg"] == "entry" && e["t"] == t)
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (0..u64::from(PER_THREAD)).collect::<Vec<_>>(),
            "{what}"
        );
    }
    // Not the 5 s bound of a wait that can never end.
    let longest = Duration::from_micros(longest_us.load(Ordering::Relaxed));
    assert!(longest < Duration::from_secs(2), "{what}: {longest:?}");
}

fn close_own_scenario() {
    let (logger, out, longest) = logger(Act::CloseOwn);
    // An entry larger than any queue: its caller writes it, and the
    // writer's `close` runs on this thread, holding the output.
    velo!(logger: &logger, info, "big", big = "x".repeat(10 << 20).as_str());
    assert_eq!(out.msgs(), ["big"]);
    // Callers write their own entries now, under contention.
    log_from_two_threads(std::slice::from_ref(&logger));
    check(&logger, &out, &longest, "close inside the writer");
}

#[test]
fn close_inside_a_writer_on_a_logging_thread() {
    in_child(
        "close_inside_a_writer_on_a_logging_thread",
        close_own_scenario,
    );
}

fn sync_all_scenario() {
    let (a, a_out, a_longest) = logger(Act::SyncAll);
    let (b, b_out, b_longest) = logger(Act::SyncAll);
    log_from_two_threads(&[a.clone(), b.clone()]);
    check(&a, &a_out, &a_longest, "the first logger");
    check(&b, &b_out, &b_longest, "the second logger");
}

#[test]
fn two_writers_syncing_every_logger() {
    in_child("two_writers_syncing_every_logger", sync_all_scenario);
}

/// With no cycle, a writer's `sync` of an earlier, slow logger waits for
/// its entry, as any `sync` does.
fn forward_scenario() {
    let earlier_out = Capture::new();
    let earlier = Builder::new()
        .format(Format::Json)
        .writer(Slow::new(Duration::from_millis(1500), earlier_out.clone()))
        .build()
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let later = Builder::new()
        .format(Format::Json)
        .writer(Forwarding {
            to: earlier.clone(),
            out: earlier_out.clone(),
            seen: Arc::clone(&seen),
        })
        .build()
        .unwrap();
    velo!(logger: &later, info, "to the later logger");
    later.sync().unwrap();
    assert_eq!(*seen.lock().unwrap(), [(true, 1)]);
}

/// A writer that logs to another logger and syncs it, noting whether that
/// sync succeeded and how many entries the other logger's output held.
struct Forwarding {
    to: Logger,
    out: Capture,
    seen: Arc<std::sync::Mutex<Vec<(bool, usize)>>>,
}

impl Write for Forwarding {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        velo!(logger: &self.to, info, "forwarded");
        let synced = self.to.sync().is_ok();
        let lines = self.out.lines().len();
        self.seen.lock().unwrap().push((synced, lines));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_syncing_an_earlier_slow_logger_waits_for_it() {
    in_child(
        "a_writer_syncing_an_earlier_slow_logger_waits_for_it",
        forward_scenario,
    );
}
