//! A writer that panics is treated as one that failed: the worker lives on,
//! the bytes it had not taken are written by a later call, and the counts
//! match the output. Before, the panic unwound through the output's
//! bookkeeping: the entry whose line filled the buffer was counted neither
//! written nor dropped though it was written later, and bytes the writer
//! had taken in the same call before it panicked were written again.

use std::io::{self, Write};
use velo::{velo, Builder, Format};
use velo_tests::Capture;

/// Panics on every third call, after taking part of what it was given on
/// every sixth (so a call can panic having written some bytes already).
struct Panicky {
    calls: u64,
    out: Capture,
}

impl Write for Panicky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            panic!("the disk caught fire");
        }
        // Part of the buffer only: the next call gets the rest, and may
        // panic.
        let n = if self.calls.is_multiple_of(2) {
            buf.len().div_ceil(2)
        } else {
            buf.len()
        };
        self.out.write(&buf[..n])
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_entry_is_written_once_and_counted_as_written() {
    const N: u64 = 20_000;
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Panicky {
            calls: 0,
            out: out.clone(),
        })
        .build()
        .unwrap();
    // The panics' messages go to stderr; keep the test's output readable.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..N {
        velo!(logger: &logger, info, "entry", i, pad = "some text to fill the buffer sooner");
        if i % 4096 == 0 {
            // A sync (flush) now and then, so flushes meet the panics too.
            let _ = logger.sync();
        }
    }
    // The flushes after a panic retry what is left; a few rounds see it out.
    for _ in 0..10 {
        if logger.sync().is_ok() {
            break;
        }
    }
    logger.close();
    std::panic::set_hook(hook);
    let text = out.text();
    assert!(text.ends_with('\n'), "the output ends inside a line");
    let mut seen: Vec<u64> = text
        .lines()
        .map(|line| {
            let entry = velo_tests::parse_line(line);
            if entry["msg"] == "entry" {
                entry["i"].as_u64().unwrap()
            } else {
                u64::MAX // A warning entry.
            }
        })
        .collect();
    let lines = seen.len() as u64;
    seen.retain(|&i| i != u64::MAX);
    assert_eq!(
        seen,
        (0..N).collect::<Vec<_>>(),
        "entries lost, repeated or out of order"
    );
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.written, lines, "{stats:?}");
    assert!(
        stats.write_errors > 0,
        "the writer never panicked: {stats:?}"
    );
}

/// Panics on every write.
struct AlwaysPanics(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl std::io::Write for AlwaysPanics {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        panic!("the writer's bug")
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_installs_a_writer_that_always_panics() {
    if !velo_tests::is_child("child_installs_a_writer_that_always_panics") {
        return;
    }
    let writes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    velo::Builder::new()
        .writer(AlwaysPanics(std::sync::Arc::clone(&writes)))
        .install()
        .unwrap();
    velo::velo!(info, "one entry");
    let _ = velo::sync();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let stats = velo::logger().stats();
    eprintln!(
        "writes={} enqueued={}",
        writes.load(std::sync::atomic::Ordering::Relaxed),
        stats.enqueued
    );
}

/// With `install()`, a writer that panics on every write does not feed its
/// own panics back: the hook does not log a panic of the logger's own
/// writer through it, so one entry makes a write or two, not thousands.
#[test]
fn the_hook_does_not_feed_a_panicking_writer() {
    let out = velo_tests::run_child_within(
        "child_installs_a_writer_that_always_panics",
        &[("RUST_BACKTRACE", "0")],
        velo_tests::CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("writes="))
        .unwrap_or_else(|| panic!("{stderr}"));
    let numbers: Vec<u64> = line
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap().1.parse().unwrap())
        .collect();
    let [writes, enqueued] = numbers[..] else {
        panic!("{line}")
    };
    assert_eq!(enqueued, 1, "{stderr}");
    assert!(writes <= 4, "{writes} writes for one entry: {stderr}");
}
