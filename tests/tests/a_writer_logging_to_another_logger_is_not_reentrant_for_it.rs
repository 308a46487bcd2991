//! Re-entrancy is tracked per logger: a writer of logger A that logs to
//! logger B is inside A's output, not B's, so for B it is an ordinary
//! caller. Its entries to B are written at `velo::close()` and at exit
//! (whichever logger closes first), are not dropped under `Overflow::Block`
//! with a one-entry queue, and `b.sync()` inside A's writer waits for them.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use velo::{velo, Builder, Format, Logger, Overflow};
use velo_tests::{is_child, parse_line, run_child_within, Capture, CHILD_TIMEOUT};

/// A writer of logger A that runs `on_write` (logging to B) on every write.
struct LogsElsewhere {
    on_write: Arc<dyn Fn() + Send + Sync>,
}

impl Write for LogsElsewhere {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (self.on_write)();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn logger_a(on_write: impl Fn() + Send + Sync + 'static) -> Logger {
    Builder::new()
        .format(Format::Json)
        .writer(LogsElsewhere {
            on_write: Arc::new(on_write),
        })
        .build()
        .unwrap()
}

#[test]
fn child_logs_to_b_from_as_writer() {
    if !is_child("child_logs_to_b_from_as_writer") {
        return;
    }
    // Which logger is made first decides which one `close` stops first.
    let b_first = std::env::var("VELO_TEST_ORDER").unwrap() == "b-first";
    let file = std::env::var("VELO_TEST_FILE").unwrap();
    let make_b = || {
        Builder::new()
            .format(Format::Json)
            .file(&file)
            .build()
            .unwrap()
    };
    let a_cell: Arc<OnceLock<Logger>> = Arc::default();
    let b_cell: Arc<OnceLock<Logger>> = Arc::default();
    if b_first {
        b_cell.set(make_b()).unwrap();
    }
    let a = logger_a({
        let (a_cell, b_cell) = (Arc::clone(&a_cell), Arc::clone(&b_cell));
        move || {
            // A's writer runs as A closes (at `velo::close()` or at exit):
            // after B's close with B made first, before it otherwise.
            while !a_cell.get().unwrap().is_closed() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            velo!(logger: b_cell.get().unwrap(), info, "from a's writer");
        }
    });
    a_cell.set(a.clone()).unwrap();
    if !b_first {
        b_cell.set(make_b()).unwrap();
    }
    velo!(logger: &a, info, "to a");
    if std::env::var("VELO_TEST_END").unwrap() == "close" {
        velo::close();
        let b = b_cell.get().unwrap().stats();
        eprintln!(
            "b after close: written {}, dropped {}",
            b.written, b.dropped
        );
    }
    // Otherwise `close` runs at exit, with both loggers still alive (as
    // when they sit in statics).
}

#[test]
fn entries_to_b_are_written_at_close_and_at_exit() {
    let dir = std::env::temp_dir().join(format!("velo-reentrant-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for order in ["a-first", "b-first"] {
        for end in ["close", "exit"] {
            let file = dir.join(format!("{order}-{end}.log"));
            let out = run_child_within(
                "child_logs_to_b_from_as_writer",
                &[
                    ("VELO_TEST_ORDER", order),
                    ("VELO_TEST_END", end),
                    ("VELO_TEST_FILE", file.to_str().unwrap()),
                ],
                CHILD_TIMEOUT,
            );
            assert!(out.status.success(), "{order} {end}: {out:?}");
            let msgs: Vec<_> = std::fs::read_to_string(&file)
                .unwrap()
                .lines()
                .map(|l| parse_line(l)["msg"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(msgs, ["from a's writer"], "{order} {end}");
            if end == "close" {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    stderr.contains("b after close: written 1, dropped 0"),
                    "{order}: {stderr}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_one_entry_queue_under_block_keeps_every_entry_from_as_writer() {
    let b_out = Capture::new();
    let b = Builder::new()
        .format(Format::Json)
        .buffer_size(1)
        .overflow(Overflow::Block)
        .writer(b_out.clone())
        .build()
        .unwrap();
    let a = logger_a({
        let b = b.clone();
        move || {
            for seq in 0..5u32 {
                velo!(logger: &b, info, "from a's writer", seq);
            }
        }
    });
    velo!(logger: &a, info, "to a");
    a.sync().unwrap();
    b.sync().unwrap();
    let entries = b_out.entries();
    let seqs: Vec<u64> = entries
        .iter()
        .filter(|e| e["msg"] == "from a's writer")
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4]);
    assert_eq!(b.stats().dropped, 0);
    assert_eq!(entries.len(), 5, "no drop warning either");
    a.close();
}

#[test]
fn b_sync_inside_as_writer_waits_for_the_entry() {
    let b_out = Capture::new();
    let b = Builder::new()
        .format(Format::Json)
        .writer(b_out.clone())
        .build()
        .unwrap();
    // What `b.sync()` returned inside A's writer, and how many lines B had
    // written by then.
    let seen: Arc<Mutex<Vec<(bool, usize)>>> = Arc::default();
    let a = logger_a({
        let (b, b_out, seen) = (b.clone(), b_out.clone(), Arc::clone(&seen));
        move || {
            velo!(logger: &b, info, "from a's writer");
            let synced = b.sync();
            let lines = b_out.lines().len();
            seen.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((synced.is_ok(), lines));
        }
    });
    for _ in 0..3 {
        velo!(logger: &a, info, "to a");
        a.sync().unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, [(true, 1), (true, 2), (true, 3)]);
    a.close();
}
