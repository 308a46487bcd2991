//! The process exits while two loggers whose writers log to each other are
//! busy, with tiny queues. A thread inside one logger's output that finds
//! its queue in the other full must not wait for room at exit: the other's
//! worker may be waiting for the output it holds. It queues if there is
//! room, else drops and counts, as it does before the exit, and the exit
//! ends at once instead of after the 5 s a stuck wait takes.

use std::io::{self, Write};
use std::sync::OnceLock;
use std::time::Duration;
use velo::{velo, Builder, Format, Logger, Overflow};
use velo_tests::{is_child, run_child_within};

static A: OnceLock<Logger> = OnceLock::new();
static B: OnceLock<Logger> = OnceLock::new();

/// Logs four echoes to the other logger per write, so its queue fills.
struct Echo(&'static OnceLock<Logger>);

impl Write for Echo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(other) = self.0.get() {
            for _ in 0..4 {
                velo!(logger: other, info, "echo");
            }
        }
        std::thread::sleep(Duration::from_micros(20));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn logger(other: &'static OnceLock<Logger>, overflow: Overflow) -> Logger {
    Builder::new()
        .format(Format::Json)
        .writer(Echo(other))
        .overflow(overflow)
        .buffer_size(2)
        .build()
        .unwrap()
}

#[test]
fn child_exits_while_mutual_writers_log() {
    if !is_child("child_exits_while_mutual_writers_log") {
        return;
    }
    let overflow = match std::env::var("VELO_TEST_OVERFLOW").unwrap().as_str() {
        "sync" => Overflow::Sync,
        _ => Overflow::Block,
    };
    A.set(logger(&B, overflow)).unwrap();
    B.set(logger(&A, overflow)).unwrap();
    for t in 0..2u64 {
        std::thread::spawn(move || {
            for i in 0u64.. {
                let l = if (i + t) % 2 == 0 { &A } else { &B };
                velo!(logger: l.get().unwrap(), info, "tick", t, i);
            }
        });
    }
    std::thread::sleep(Duration::from_millis(300));
    std::process::exit(0);
}

#[test]
fn the_exit_does_not_wait_out_a_stall() {
    for overflow in ["sync", "block"] {
        for _ in 0..3 {
            // Well under the 5 s a wait that gave up would take, well over
            // the 0.3 s the child runs for.
            let out = run_child_within(
                "child_exits_while_mutual_writers_log",
                &[("VELO_TEST_OVERFLOW", overflow)],
                Duration::from_secs(4),
            );
            assert!(out.status.success(), "{overflow}: {out:?}");
        }
    }
}
