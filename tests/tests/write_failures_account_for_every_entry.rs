//! While the writer fails, lines wait in the output's buffer for the next
//! attempt, up to a bound past which the oldest are dropped. Every entry is
//! accounted for once the writer works again and `sync` returns: written
//! (and in the output) or counted in `dropped`, never both, never neither;
//! the warnings in the output count every entry dropped; and the failure is
//! counted and returned by `sync`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{Capture, Switch};

/// Logs `n` entries through a writer that fails until they are all
/// logged and a first `sync` returned; returns (user lines in the output,
/// written, dropped, write_errors, whether that first sync failed).
fn run(n: u32) -> (u64, u64, u64, u64, bool) {
    let out = Capture::new();
    let broken = Arc::new(AtomicBool::new(true));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Switch {
            broken: Arc::clone(&broken),
            out: out.clone(),
        })
        .overflow(Overflow::Block)
        .build()
        .unwrap();
    for i in 0..n {
        velo!(logger: &logger, info, "entry", i, pad = "padding to make each line a hundred bytes or so");
    }
    let first = logger.sync();
    broken.store(false, Ordering::SeqCst);
    logger.sync().expect("the writer works again");
    let stats = logger.stats();
    let entries = out.entries();
    let users = entries.iter().filter(|e| e["msg"] == "entry").count() as u64;
    // Each user entry at most once, in order.
    let ids: Vec<u64> = entries
        .iter()
        .filter(|e| e["msg"] == "entry")
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, once each");
    let warnings = entries.len() as u64 - users;
    assert_eq!(
        stats.written,
        users + warnings,
        "written is what reached the output: {stats:?}"
    );
    assert_eq!(
        stats.bytes,
        out.text().len() as u64,
        "bytes is what reached the output: {stats:?}"
    );
    // The warnings wait for the writer to work: none was dropped in turn,
    // and together they count every entry dropped.
    let announced: u64 = entries
        .iter()
        .filter(|e| e["msg"] != "entry")
        .map(|e| {
            assert_eq!(e["level"], "warn", "{e:?}");
            e["dropped"].as_u64().expect("a count")
        })
        .sum();
    assert_eq!(announced, stats.dropped, "{stats:?}");
    (
        users,
        stats.written,
        stats.dropped,
        stats.write_errors,
        first.is_err(),
    )
}

#[test]
fn a_short_failure_loses_nothing() {
    let (users, _, dropped, errors, failed) = run(1_000);
    assert_eq!((users, dropped), (1_000, 0));
    assert!(errors > 0 && failed, "the failure is counted and returned");
}

#[test]
fn a_long_failure_drops_the_oldest_and_counts_them() {
    // Far more than the output keeps (256 KiB) while its writer fails.
    let (users, _, dropped, errors, failed) = run(20_000);
    assert!(dropped > 0, "some were dropped");
    // Every entry written or counted, once.
    assert_eq!(users + dropped, 20_000, "{users} + {dropped}");
    assert!(errors > 0 && failed);
}

/// A disk of `room` bytes in front of a [`Capture`]: a write takes what
/// still fits (so the last one ends inside a line), the next fails.
struct Full {
    room: Arc<std::sync::atomic::AtomicUsize>,
    out: Capture,
}

impl std::io::Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.room.load(Ordering::SeqCst);
        if room == 0 {
            return Err(std::io::Error::other("no space left on device"));
        }
        let n = buf.len().min(room);
        self.room.store(room - n, Ordering::SeqCst);
        self.out.write(&buf[..n])
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_line_cut_by_a_full_disk_is_never_glued_to_a_later_one() {
    let out = Capture::new();
    // Room for about 40 lines, the last of them cut.
    let room = Arc::new(std::sync::atomic::AtomicUsize::new(4_321));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Full {
            room: Arc::clone(&room),
            out: out.clone(),
        })
        .overflow(Overflow::Block)
        .build()
        .unwrap();
    // Far more than the output keeps while the disk is full: the rest of
    // the cut line goes with the oldest lines dropped.
    const N: u64 = 20_000;
    for i in 0..N {
        velo!(logger: &logger, info, "entry", i, pad = "padding to make each line a hundred bytes or so");
    }
    assert!(logger.sync().is_err(), "the disk was full");
    room.store(usize::MAX, Ordering::SeqCst);
    logger.sync().expect("the disk has room again");
    let stats = logger.stats();
    let text = out.text();
    assert!(text.ends_with('\n'), "the output ends with a whole line");
    let mut users = 0;
    let mut torn = 0;
    for line in text.lines() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(e) if e["msg"] == "entry" => users += 1,
            Ok(e) => assert_eq!(e["level"], "warn", "{e:?}"),
            Err(_) => {
                // The line the disk cut: its start alone on its line,
                // nothing after it.
                torn += 1;
                assert_eq!(line.matches("{\"").count(), 1, "glued: {line:?}");
            }
        }
    }
    assert_eq!(torn, 1, "the cut line, once");
    assert!(stats.dropped > 0, "{stats:?}");
    // The cut entry is counted dropped, not written.
    assert_eq!(users + stats.dropped, N, "{users} + {stats:?}");
    assert_eq!(stats.bytes, text.len() as u64, "{stats:?}");
}
