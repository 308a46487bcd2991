//! A thread that a frequent signal keeps interrupting (a sampling
//! profiler's timer, every 50 us here) still gets through every wait velo
//! makes it do: for room in its queue under `Overflow::Block`, and for the
//! output lock under `Overflow::Sync` when the queue is full and the
//! writer slow. Each wait is a loop of short pauses that looks at the
//! clock and at progress between them; a pause that resumed after each
//! signal with the time left never ended at this rate, and the caller hung
//! for good. The handler logs nothing: the signal alone did it.
#![cfg(target_os = "linux")]

use std::io::{self, Write};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{assert_child_passed, is_child, run_child_within, Capture, CHILD_TIMEOUT};

extern "C" fn nothing(_: libc::c_int) {}

/// SIGALRM every 50 us from now on, to this thread alone.
fn start_timer() {
    velo_tests::signals::install(libc::SIGALRM, nothing);
    velo_tests::signals::every_on_this_thread(libc::SIGALRM, Duration::from_micros(50));
}

/// A writer that takes 2 ms per write. It spins: a sleep of its own would
/// never end on a caller thread under the timer, whatever velo does.
struct Slow(Capture);

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(2) {
            std::hint::spin_loop();
        }
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const ENTRIES: u64 = 3_000;

/// Logs `ENTRIES` under the timer through a logger made by `build` (which
/// starts the worker with SIGALRM blocked), then checks that every entry
/// is written, in order, or counted as dropped.
fn scenario(overflow: Overflow, buffer: usize, slow: bool) {
    velo_tests::signals::mask(libc::SIGALRM, libc::SIG_BLOCK);
    let out = Capture::new();
    let builder = Builder::new()
        .format(Format::Json)
        .overflow(overflow)
        .buffer_size(buffer);
    let builder = if slow {
        builder.writer(Slow(out.clone()))
    } else {
        builder.writer(out.clone())
    };
    let logger = builder.build().unwrap();
    velo!(logger: &logger, info, "worker started");
    logger.sync().unwrap();
    velo_tests::signals::mask(libc::SIGALRM, libc::SIG_UNBLOCK);
    start_timer();
    for i in 0..ENTRIES {
        velo!(logger: &logger, info, "tick", i);
    }
    velo_tests::signals::mask(libc::SIGALRM, libc::SIG_BLOCK);
    logger.sync().unwrap();
    let ticks: Vec<u64> = out
        .entries()
        .iter()
        .filter(|e| e["msg"] == "tick")
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "in order");
    let stats = logger.stats();
    assert_eq!(
        ticks.len() as u64 + stats.dropped,
        ENTRIES,
        "every entry written or counted: {stats:?}"
    );
    if overflow == Overflow::Sync {
        assert_eq!(stats.dropped, 0, "Sync drops nothing: {stats:?}");
    }
}

fn run(name: &str, overflow: Overflow, buffer: usize, slow: bool) {
    if is_child(name) {
        return scenario(overflow, buffer, slow);
    }
    let out = run_child_within(name, &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
}

#[test]
fn block_waits_for_room_under_a_frequent_signal() {
    run(
        "block_waits_for_room_under_a_frequent_signal",
        Overflow::Block,
        64,
        false,
    );
}

#[test]
fn sync_waits_for_the_output_under_a_frequent_signal() {
    run(
        "sync_waits_for_the_output_under_a_frequent_signal",
        Overflow::Sync,
        2,
        true,
    );
}
