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

/// Fails `.1` ways by turns.
struct ManyWays(u32, u32);

impl std::io::Write for ManyWays {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        self.0 += 1;
        Err(std::io::Error::other(format!(
            "failure {}",
            self.0 % self.1
        )))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_fails_many_ways_by_turns() {
    if !velo_tests::is_child("child_fails_many_ways_by_turns") {
        return;
    }
    let ways = std::env::var("WAYS").unwrap().parse().unwrap();
    let logger = Builder::new()
        .writer(ManyWays(0, ways))
        .asynchronous(false)
        .build()
        .unwrap();
    for seq in 0..50u32 {
        velo!(logger: &logger, info, "never written", seq);
    }
    assert!(logger.stats().write_errors >= 50);
}

/// Each of an output's errors is said once on stderr while it keeps
/// failing, however they alternate (two ways, or six).
#[test]
fn an_output_failing_several_ways_reports_each_once() {
    for ways in ["2", "6"] {
        let out = velo_tests::run_child("child_fails_many_ways_by_turns", &[("WAYS", ways)]);
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let reports: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("velo: writing log output failed"))
            .collect();
        assert_eq!(reports.len().to_string(), ways, "{stderr}");
    }
}

/// Answers every write `Interrupted`.
struct AlwaysInterrupted;

impl std::io::Write for AlwaysInterrupted {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::Interrupted.into())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// CPU time this process used so far.
#[cfg(unix)]
fn cpu_time() -> std::time::Duration {
    // SAFETY: `getrusage` fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let time =
        |t: libc::timeval| std::time::Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[cfg(unix)]
#[test]
fn child_writes_to_a_writer_always_interrupted() {
    if !velo_tests::is_child("child_writes_to_a_writer_always_interrupted") {
        return;
    }
    let logger = Builder::new().writer(AlwaysInterrupted).build().unwrap();
    velo!(logger: &logger, info, "never written");
    let before = cpu_time();
    // The worker retries the write meanwhile.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let used = cpu_time() - before;
    eprintln!("cpu={}", used.as_millis());
    std::process::exit(0);
}

#[cfg(unix)]
#[test]
fn a_writer_always_interrupted_does_not_spin_the_worker() {
    let out = velo_tests::run_child_within(
        "child_writes_to_a_writer_always_interrupted",
        &[],
        velo_tests::CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let cpu: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("cpu="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    // Spinning, it used the whole 2 s of one core; waiting, almost none.
    assert!(cpu < 1_000, "{cpu} ms of CPU in 2 s: {stderr}");
}

/// Says it wrote more bytes than it was given (against `Write`'s contract).
struct Overcounting;

impl std::io::Write for Overcounting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len() + 1)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A writer that says it wrote more than it was given fails its writes
/// with an error that says so, rather than making velo index past its
/// buffer (a panic, reported as the writer's, with lines written again).
#[test]
fn child_overcounts() {
    if !velo_tests::is_child("child_overcounts") {
        return;
    }
    let logger = Builder::new().writer(Overcounting).build().unwrap();
    for i in 0..20u32 {
        velo!(logger: &logger, info, "entry", i);
        let err = logger.sync().expect_err("the writer broke its contract");
        assert!(
            err.to_string().contains("more bytes than it was given"),
            "{err}"
        );
        assert!(!err.to_string().contains("panicked"), "{err}");
    }
}

/// ... and said once on stderr, however often it happens.
#[test]
fn a_writer_overcounting_its_bytes_is_an_error_not_a_panic() {
    let out = velo_tests::run_child("child_overcounts", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("more bytes than it was given").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn child_writes_to_a_full_device() {
    if !velo_tests::is_child("child_writes_to_a_full_device") {
        return;
    }
    let logger = Builder::new()
        .format(Format::Json)
        .file("/dev/full")
        .build()
        .unwrap();
    velo!(logger: &logger, info, "never written");
    let err = logger.sync().unwrap_err();
    eprintln!("sync: {err}");
}

/// A log file's errors name the file, on stderr and in what `sync`
/// returns: several loggers may share one stderr.
#[test]
fn a_files_errors_name_the_file() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let out = velo_tests::run_child("child_writes_to_a_full_device", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("velo: writing log output failed"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].starts_with("velo: writing log output failed: file /dev/full: "),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("sync: writing log output failed: file /dev/full: ")),
        "{stderr}"
    );
}
