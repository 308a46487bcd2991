//! A logger without a queue (`asynchronous(false)`) writes each entry on
//! the thread that logs it. What its own writer logs to it from inside a
//! write (a writer that reports on itself) cannot be written at that
//! moment: it is kept, and written as that write ends, after the entry
//! being written. Before, such entries were dropped and announced as "the
//! queue was full", for a logger that has no queue. A panic of the writer
//! is its write error, and the hook of `install()` does not log it through
//! that writer.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use velo::{velo, Builder, Format};
use velo_tests::{assert_child_passed, is_child, run_child_within, Capture, CHILD_TIMEOUT};

/// Panics on its second write; writes to stdout otherwise.
struct PanicsOnce(u32);

impl io::Write for PanicsOnce {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0 += 1;
        if self.0 == 2 {
            panic!("the writer's bug");
        }
        io::stdout().write(b)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

const HOOK: &str = "child_installs_a_synchronous_logger_whose_writer_panics";

#[test]
fn child_installs_a_synchronous_logger_whose_writer_panics() {
    if !is_child(HOOK) {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .writer(PanicsOnce(0))
        .asynchronous(false)
        .install()
        .unwrap();
    velo!(info, "one");
    let _ = std::panic::catch_unwind(|| velo!(info, "two"));
    velo!(info, "three");
    let stats = velo::logger().stats();
    eprintln!("dropped={}", stats.dropped);
}

#[test]
fn the_panic_of_its_writer_is_a_write_error_and_nothing_is_dropped() {
    let out = run_child_within(HOOK, &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let entries: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.find('{').map(|at| velo_tests::parse_line(&l[at..])))
        .collect();
    let msgs: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    // "two" went to the writer that panicked; the writer's panic is its
    // write error, not an entry of its own (through that very writer).
    assert!(msgs.contains(&"one") && msgs.contains(&"three"), "{stdout}");
    assert!(!msgs.contains(&"panic"), "{stdout}");
    assert!(!stdout.contains("queue was full"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the log writer panicked"), "{stderr}");
    assert!(stderr.contains("dropped=0"), "{stderr}");
}

#[test]
fn what_its_writer_logs_follows_the_entry_it_was_writing() {
    static WRITES: AtomicU32 = AtomicU32::new(0);
    let out = Capture::new();
    let slot = std::sync::Arc::new(std::sync::OnceLock::new());
    // The writer needs the logger it writes for: a clone of the handle,
    // set once the logger is built (a cycle that keeps the logger alive,
    // which this test does not mind).
    struct Shared(std::sync::Arc<std::sync::OnceLock<velo::Logger>>, Capture);
    impl io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let n = WRITES.fetch_add(1, Ordering::Relaxed);
            if n < 3 {
                if let Some(logger) = self.0.get() {
                    velo!(logger: logger, info, "wrote a chunk", n);
                }
            }
            self.1.write(b)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Shared(std::sync::Arc::clone(&slot), out.clone()))
        .asynchronous(false)
        .build()
        .unwrap();
    slot.set(logger.clone()).unwrap();
    velo!(logger: &logger, info, "first");
    velo!(logger: &logger, info, "second");
    logger.sync().unwrap();
    let msgs = out.msgs();
    assert_eq!(msgs[0], "first", "{msgs:?}");
    assert!(
        msgs.iter().filter(|m| *m == "wrote a chunk").count() >= 2,
        "{msgs:?}"
    );
    assert!(msgs.contains(&"second".to_owned()), "{msgs:?}");
    assert!(
        !msgs.iter().any(|m| m.contains("queue was full")),
        "{msgs:?}"
    );
}
