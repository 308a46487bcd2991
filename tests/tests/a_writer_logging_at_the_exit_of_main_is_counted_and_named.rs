//! A writer that logs to its own logger on every write, in a program that
//! logs on its main thread and returns from `main`: the exit's close runs
//! on that thread after its thread-locals are gone, and its last write
//! makes the writer log once more. That entry can be neither written (no
//! pass follows) nor queued (the thread's queue went with its
//! thread-locals): it is dropped, counted, and named on stderr, as README
//! says, never lost without a word.
//!
//! Its own `main` (no test harness, whose tests run on other threads):
//! without arguments it runs itself as the child and checks what the
//! child wrote.

use std::io::{self, Write};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use velo::{velo, Builder, Format, Logger};
use velo_tests::{json_lines, run_within, CHILD_TIMEOUT};

const CHILD: &str = "VELO_TEST_EXIT_CHILD";

/// The child's logger, and how many entries its writer logged.
static LOGGER: OnceLock<Logger> = OnceLock::new();
static LOGGED: AtomicUsize = AtomicUsize::new(0);

/// Logs one entry to its own logger on every write, then writes to stderr.
struct LogsOnEveryWrite;

impl Write for LogsOnEveryWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(logger) = LOGGER.get() {
            velo!(logger: logger, warn, "from the writer", bytes = buf.len());
            LOGGED.fetch_add(1, Ordering::Relaxed);
        }
        io::stderr().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

extern "C" fn report_at_exit() {
    if let Some(logger) = LOGGER.get() {
        let stats = logger.stats();
        eprintln!(
            "at exit: logged {} written {} dropped {}",
            LOGGED.load(Ordering::Relaxed),
            stats.written,
            stats.dropped
        );
    }
}

fn child(install: bool) {
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    }
    // Registered before velo's exit handler (building the logger registers
    // it), so it runs after it, on the closed logger.
    // SAFETY: `atexit` is the C library's, with its C signature; the
    // handler takes no arguments and does not unwind.
    assert_eq!(unsafe { atexit(report_at_exit) }, 0);
    let builder = Builder::new().format(Format::Json).writer(LogsOnEveryWrite);
    let logger = if install {
        builder.install().unwrap();
        velo::logger().clone()
    } else {
        builder.build().unwrap()
    };
    LOGGER.set(logger.clone()).ok().unwrap();
    velo!(logger: &logger, info, "outer");
    // Returns from `main`: the exit closes the logger.
}

/// Runs the child; checks that every entry the writer logged was written
/// or dropped, at least one dropped, and every drop named on stderr.
fn check(install: bool) {
    for _ in 0..3 {
        let mut cmd = Command::new(std::env::current_exe().expect("this test's path"));
        cmd.env(CHILD, if install { "install" } else { "build" });
        let output = run_within(cmd, CHILD_TIMEOUT);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let msgs: Vec<String> = json_lines(&output.stderr)
            .iter()
            .map(|e| e["msg"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(msgs.first().map(String::as_str), Some("outer"), "{stderr}");
        let writer = msgs.iter().filter(|m| *m == "from the writer").count();
        let report = velo_tests::reported_counts(&stderr, "at exit: ");
        let [logged, written, dropped] = report[..] else {
            panic!("{stderr}")
        };
        assert_eq!(written, msgs.len(), "{stderr}");
        assert_eq!(writer + dropped, logged, "{stderr}");
        assert!(dropped >= 1, "{stderr}");
        let expected = velo_tests::writer_drops_said(dropped);
        let said: Vec<&str> = stderr.lines().filter(|l| l.starts_with("velo: ")).collect();
        assert_eq!(said, [expected.as_str()], "{stderr}");
    }
}

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("install") => child(true),
        Ok(_) => child(false),
        Err(_) => {
            check(false);
            check(true);
            println!("a writer logging at the exit of main: ok");
        }
    }
}
