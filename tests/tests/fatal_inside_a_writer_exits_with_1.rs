//! `velo!(fatal, ...)` from inside a writer (on the worker's thread, in the
//! middle of a pass) still exits the process with status 1 and does not
//! hang: flushing the logger whose output it is inside cannot wait for
//! itself, and every other logger is flushed.

use std::io::{self, Write};
use velo::{velo, Builder, Format};
use velo_tests::{is_child, json_lines, run_child_within, CHILD_TIMEOUT};

/// A writer that logs `fatal` to the default logger on its first write.
struct FatalOnWrite;

impl Write for FatalOnWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        velo!(fatal, "fatal from a writer", bytes = buf.len());
        #[allow(unreachable_code, reason = "the point of the test")]
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_logs_fatal_from_a_writer() {
    if !is_child("child_logs_fatal_from_a_writer") {
        return;
    }
    let own = std::env::var("VELO_TEST_OWN").is_ok();
    if own {
        // The default logger's own writer logs the fatal entry.
        Builder::new()
            .format(Format::Json)
            .writer(FatalOnWrite)
            .install()
            .unwrap();
        velo!(info, "reaches the writer");
    } else {
        Builder::new()
            .format(Format::Json)
            .stderr()
            .install()
            .unwrap();
        velo!(info, "before");
        let other = Builder::new()
            .format(Format::Json)
            .writer(FatalOnWrite)
            .build()
            .unwrap();
        velo!(logger: &other, info, "reaches the writer");
        std::mem::forget(other);
    }
    // The worker exits the process meanwhile.
    std::thread::sleep(std::time::Duration::from_secs(30));
    eprintln!("fatal did not exit");
}

#[test]
fn fatal_from_another_loggers_writer_is_written_and_exits_1() {
    let out = run_child_within("child_logs_fatal_from_a_writer", &[], CHILD_TIMEOUT);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let msgs: Vec<_> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["msg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(msgs, ["before", "fatal from a writer"]);
}

#[test]
fn fatal_from_the_default_loggers_own_writer_exits_1() {
    let out = run_child_within(
        "child_logs_fatal_from_a_writer",
        &[("VELO_TEST_OWN", "1")],
        CHILD_TIMEOUT,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("fatal did not exit"));
}
