//! After `close()` every entry is written by its caller, and what the
//! logger's own writer logs meanwhile is drained and written in rounds
//! (`Core::end_writing`), which can grow and shrink the output's buffer.
//! A signal handler that logs may interrupt any of it, the allocator's
//! calls included: its entry must take no lock and allocate nothing there
//! (it is queued, or dropped and counted), or the thread hangs for good
//! with every signal blocked. Nor may it wait for the lock its own thread
//! is taking or letting go of: no call may wait out the 5 s after which a
//! holder counts as stuck. The signal comes to the logging thread alone,
//! so the handler also lands in a site's first lookup in the call-site
//! registry (the writer's, the handler's own), whose lock it must not
//! take.
#![cfg(target_os = "linux")]

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger};
use velo_tests::{is_child, run_child_within, CHILD_TIMEOUT};

static LOGGER: OnceLock<Logger> = OnceLock::new();
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
/// Set for one write: the writer then logs a burst of entries, which the
/// rounds write (over 64 KiB: the output's buffer grows).
static BURST: AtomicBool = AtomicBool::new(false);

struct LogsBursts;

impl Write for LogsBursts {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if BURST.swap(false, Ordering::SeqCst) {
            let logger = LOGGER.get().unwrap();
            for i in 0..600u32 {
                velo!(logger: logger, info, "from the writer", i,
                    pad = "0123456789012345678901234567890123456789012345678901234567890123456789");
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

extern "C" fn on_alarm(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
    velo!(logger: LOGGER.get().unwrap(), info, "from a signal handler");
}

#[test]
fn child_logs_from_a_frequent_signal() {
    if !is_child("child_logs_from_a_frequent_signal") {
        return;
    }
    let logger = Builder::new()
        .format(Format::Json)
        .writer(LogsBursts)
        .build()
        .unwrap();
    LOGGER.set(logger).ok().unwrap();
    let logger = LOGGER.get().unwrap();
    velo!(logger: logger, info, "first");
    logger.close();
    velo_tests::signals::install(libc::SIGALRM, on_alarm);
    velo_tests::signals::every_on_this_thread(libc::SIGALRM, Duration::from_micros(50));
    let start = Instant::now();
    let mut cycles = 0u32;
    let mut longest = Duration::ZERO;
    while start.elapsed() < Duration::from_secs(3) {
        // Small writes (the buffer shrinks back), then one whose writer
        // logs a burst.
        for n in 0..300u32 {
            let call = Instant::now();
            velo!(logger: logger, info, "small", n);
            longest = longest.max(call.elapsed());
        }
        BURST.store(true, Ordering::SeqCst);
        velo!(logger: logger, info, "burst");
        cycles += 1;
    }
    velo_tests::signals::mask(libc::SIGALRM, libc::SIG_BLOCK);
    eprintln!(
        "finished {cycles} cycles, {} signals, longest call {} ms",
        SIGNALS.load(Ordering::SeqCst),
        longest.as_millis()
    );
}

#[test]
fn a_handler_logging_during_the_writers_rounds_does_not_hang() {
    let output = run_child_within("child_logs_from_a_frequent_signal", &[], CHILD_TIMEOUT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let finished = stderr
        .lines()
        .find_map(|l| l.strip_prefix("finished "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let numbers: Vec<u64> = finished.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert!(numbers[0] > 0 && numbers[1] > 0, "{stderr}");
    // Far below the 5 s a wait for a stuck holder lasts.
    assert!(numbers[2] < 4_000, "{stderr}");
}
