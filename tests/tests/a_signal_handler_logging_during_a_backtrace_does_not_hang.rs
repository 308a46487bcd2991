//! A logger with backtraces, and a signal handler that logs at their level
//! while its thread is capturing one: std holds its backtrace lock (and the
//! allocator's, at moments) while it captures, and the handler, on the same
//! thread, could never get them. The handler's entry goes without a
//! backtrace (or is dropped and counted, as any entry of a handler that
//! interrupts velo), and nothing hangs.
#![cfg(unix)]

use std::sync::OnceLock;
use std::time::Duration;
use velo::{velo, Builder, Format, Level, Logger};
use velo_tests::{is_child, parse_line, run_child_within, signals, Capture, CHILD_TIMEOUT};

static LOGGER: OnceLock<Logger> = OnceLock::new();

extern "C" fn on_signal(_: libc::c_int) {
    if let Some(logger) = LOGGER.get() {
        velo!(logger: logger, error, "from the handler");
    }
}

#[test]
fn child_handler_logs_errors_during_captures() {
    if !is_child("child_handler_logs_errors_during_captures") {
        return;
    }
    // Blocked until both sites have run once and the thread has its
    // buffers: a site's first call registers it under a lock, and a
    // thread's first entry allocates, neither of which a handler may
    // interrupt (see the README's "Signal handlers"). The worker inherits
    // the blocked signal.
    signals::mask(libc::SIGUSR1, libc::SIG_BLOCK);
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .backtrace(Level::Error)
        .writer(out.clone())
        .build()
        .unwrap();
    LOGGER.set(logger.clone()).unwrap();
    signals::install(libc::SIGUSR1, on_signal);
    velo!(logger: &logger, error, "main", seq = 0u64);
    on_signal(libc::SIGUSR1);
    signals::while_sending(libc::SIGUSR1, Duration::from_micros(200), || {
        for seq in 1..300u64 {
            velo!(logger: &logger, error, "main", seq);
        }
    });
    logger.sync().unwrap();
    // The thread's own entries all arrive, in order, with their backtraces.
    let mains: Vec<_> = out
        .lines()
        .iter()
        .map(|l| parse_line(l))
        .filter(|e| e["msg"] == "main")
        .collect();
    let seqs: Vec<u64> = mains.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (0..300).collect::<Vec<_>>());
    assert!(mains.iter().all(|e| e["backtrace"].is_string()));
}

#[test]
fn a_handler_logging_during_a_backtrace_capture_does_not_hang() {
    let out = run_child_within(
        "child_handler_logs_errors_during_captures",
        &[],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
}
