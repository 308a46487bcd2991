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
