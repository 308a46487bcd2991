//! An output that takes 100 ms per write, but writes: a pass (or a caller
//! draining the queue itself) holds the output for longer than the 5 s a
//! stuck writer is given, while entries keep going out. That is progress:
//! under `Overflow::Sync` callers wait for it and lose nothing, and `sync`
//! waits too, instead of taking the output for stuck (which used to drop
//! 99.8% of the entries and report a timeout).

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format};
use velo_tests::{assert_child_passed, is_child, run_child_within, CHILD_TIMEOUT};

/// Counts the lines it is given, 100 ms per write.
struct Slow(Arc<AtomicU64>);

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(100));
        let lines = buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.0.fetch_add(lines, Ordering::SeqCst);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_logs_to_a_slow_output() {
    if !is_child("child_logs_to_a_slow_output") {
        return;
    }
    let lines = Arc::new(AtomicU64::new(0));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Slow(Arc::clone(&lines)))
        .build()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(7);
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let logger = logger.clone();
            std::thread::spawn(move || {
                let pad = "p".repeat(200);
                let mut i = 0u64;
                while Instant::now() < until {
                    velo!(logger: &logger, info, "bulk", t, i, pad);
                    i += 1;
                }
                i
            })
        })
        .collect();
    let logged: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    logger
        .sync()
        .expect("sync waits for a slow output that writes");
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0, "Sync drops nothing: {stats:?}");
    assert_eq!(stats.written, logged, "{stats:?}");
    assert_eq!(
        lines.load(Ordering::SeqCst),
        logged,
        "every line reached the writer"
    );
}

#[test]
fn a_slow_output_loses_nothing_under_sync() {
    let out = run_child_within("child_logs_to_a_slow_output", &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
}

/// Takes at most 16 bytes per write, 60 ms per write: an entry takes
/// several writes, half a second.
struct Trickle(velo_tests::Capture);

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(60));
        self.0.write(&buf[..buf.len().min(16)])
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_syncs_a_trickling_writer() {
    if !is_child("child_syncs_a_trickling_writer") {
        return;
    }
    let out = velo_tests::Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Trickle(out.clone()))
        .build()
        .unwrap();
    // About 1,800 bytes written out at once by the worker's flush: some
    // 115 writes, 7 s, no write ever blocked long.
    for seq in 0..14u32 {
        velo!(logger: &logger, info, "trickled", seq, pad = "some padding to make the line longer");
    }
    logger
        .sync()
        .expect("sync waits for a writer that keeps taking bytes");
    let seqs: Vec<u64> = out
        .entries()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..14).collect::<Vec<_>>());
    assert_eq!(logger.stats().written, 14);
}

#[test]
fn a_writer_that_takes_a_little_at_a_time_is_not_stuck() {
    let out = run_child_within("child_syncs_a_trickling_writer", &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
}
