//! velo's panic hook (`install()`) logs a panic through the logger. A
//! panic raised inside a panic hook aborts the process, so the hook never
//! runs the user's writer on the panicking thread of a logger with a
//! queue: after `close()` the panic's entry is dropped, counted; with the
//! queue full under `Overflow::Sync` it waits for the worker. Either way
//! an ordinary panic stays one that `join()` catches, as it would be
//! without velo, even with a writer that panics.

use std::io::{self, Write};
use std::time::Duration;
use velo::{velo, Builder, Format};
use velo_tests::{assert_child_passed, is_child, run_child_within, CHILD_TIMEOUT};

/// Panics on every write made off velo's worker thread; slow on it
/// (20 ms a write).
struct PanicsOffTheWorker;

impl Write for PanicsOffTheWorker {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if std::thread::current().name() != Some("velo-worker") {
            panic!("the writer runs off the worker");
        }
        std::thread::sleep(Duration::from_millis(20));
        io::stdout().write(b)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

/// A thread that panics, joined: whether its panic was caught.
fn a_thread_panics() -> bool {
    std::thread::spawn(|| panic!("an ordinary panic"))
        .join()
        .is_err()
}

#[test]
fn after_close_child() {
    if !is_child("after_close_child") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .writer(PanicsOffTheWorker)
        .install()
        .unwrap();
    velo!(info, "before");
    velo::close();
    assert!(a_thread_panics());
    let stats = velo::logger().stats();
    assert_eq!(stats.dropped, 1, "the panic's entry, counted: {stats:?}");
    println!("DONE");
}

#[test]
fn a_panic_after_close_is_caught_not_an_abort() {
    let out = run_child_within("after_close_child", &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"msg\":\"before\""), "{stdout}");
    assert!(stdout.contains("DONE"), "{stdout}");
}

#[test]
fn full_queue_child() {
    if !is_child("full_queue_child") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .writer(PanicsOffTheWorker)
        .buffer_size(2)
        .install()
        .unwrap();
    // The worker takes 20 ms a write: once it is inside the first, two
    // more fill this thread's queue, and the panic's entry, logged on
    // this thread, finds it full.
    velo!(info, "filler", i = 0);
    std::thread::sleep(Duration::from_millis(5));
    for i in 1..3 {
        velo!(info, "filler", i);
    }
    let caught = std::panic::catch_unwind(|| panic!("an ordinary panic"));
    assert!(caught.is_err());
    velo::sync().unwrap();
    println!("DONE");
    velo::close();
}

#[test]
fn a_panic_with_the_queue_full_waits_for_the_worker() {
    let out = run_child_within("full_queue_child", &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let panics: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("\"msg\":\"panic\""))
        .collect();
    assert_eq!(panics.len(), 1, "{stdout}");
    assert!(panics[0].contains("an ordinary panic"), "{}", panics[0]);
    assert!(stdout.contains("DONE"), "{stdout}");
}
