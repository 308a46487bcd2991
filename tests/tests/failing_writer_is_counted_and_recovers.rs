//! A writer that fails N times then recovers: no panic, errors counted and
//! returned by the next `sync()`, later entries arrive.

use velo::{velo, Builder, ErrorKind, Format};
use velo_tests::{Capture, Flaky};

#[test]
fn errors_are_counted_returned_once_and_logging_resumes() {
    for asynchronous in [true, false] {
        let out = Capture::new();
        let logger = Builder::new()
            .format(Format::Json)
            .writer(Flaky::new(3, out.clone()))
            .asynchronous(asynchronous)
            .build()
            .unwrap();
        for seq in 0..5u32 {
            velo!(logger: &logger, info, "while failing", seq);
            // One write per entry reaches the writer.
            logger.sync().ok();
        }
        let stats = logger.stats();
        assert_eq!(stats.write_errors, 3, "async={asynchronous}: {stats:?}");

        velo!(logger: &logger, info, "recovered");
        logger.sync().expect("the error was already returned");
        let msgs: Vec<_> = out
            .entries()
            .into_iter()
            .map(|e| e["msg"].clone())
            .collect();
        assert!(
            msgs.contains(&"recovered".into()),
            "async={asynchronous}: {msgs:?}"
        );
        assert!(!msgs.is_empty());
    }
}

#[test]
fn sync_returns_the_write_error() {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Flaky::new(1, out.clone()))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "lost or retried");
    let err = logger.sync().expect_err("the failed write is reported");
    assert_eq!(err.kind(), ErrorKind::Write);
    assert!(err.to_string().contains("disk on fire"), "{err}");
    // Reported once.
    assert!(logger.sync().is_ok());
    velo!(logger: &logger, info, "after");
    logger.sync().unwrap();
    assert!(out.lines().iter().any(|l| l.contains("\"after\"")));
}

#[test]
fn a_panicking_writer_does_not_stop_logging() {
    struct PanicOnce(bool, Capture);
    impl std::io::Write for PanicOnce {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.0 {
                self.0 = true;
                panic!("writer bug");
            }
            self.1.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(PanicOnce(false, out.clone()))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "first");
    assert!(logger.sync().is_err());
    velo!(logger: &logger, info, "second");
    logger.sync().unwrap();
    assert!(out.text().contains("\"second\""));
}

#[test]
fn child_fails_repeatedly() {
    if !velo_tests::is_child("child_fails_repeatedly") {
        return;
    }
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Flaky::new(usize::MAX, Capture::new()))
        .asynchronous(false)
        .build()
        .unwrap();
    for seq in 0..20u32 {
        velo!(logger: &logger, info, "never written", seq);
    }
    assert_eq!(logger.stats().write_errors, 20);
}

#[test]
fn identical_errors_are_reported_once_on_stderr() {
    let out = velo_tests::run_child("child_fails_repeatedly", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports = stderr
        .lines()
        .filter(|l| l.contains("velo: writing log output failed: disk on fire"))
        .count();
    assert_eq!(reports, 1, "{stderr}");
}

/// Fails two ways by turns.
struct TwoWays(u32);

impl std::io::Write for TwoWays {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        self.0 += 1;
        let kind = if self.0.is_multiple_of(2) {
            "connection reset"
        } else {
            "broken pipe"
        };
        Err(std::io::Error::other(kind))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_fails_two_ways_by_turns() {
    if !velo_tests::is_child("child_fails_two_ways_by_turns") {
        return;
    }
    let logger = Builder::new()
        .writer(TwoWays(0))
        .asynchronous(false)
        .build()
        .unwrap();
    for seq in 0..50u32 {
        velo!(logger: &logger, info, "never written", seq);
    }
    assert!(logger.stats().write_errors >= 50);
}

#[test]
fn an_output_failing_two_ways_reports_each_once() {
    let out = velo_tests::run_child("child_fails_two_ways_by_turns", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("velo: writing log output failed"))
        .collect();
    assert_eq!(reports.len(), 2, "{stderr}");
}
