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
