//! velo's own messages on stderr (a writer's error, a directive of
//! `VELO_LOG` it cannot read) quote text that comes from outside velo: a
//! control character in it is written as its escape, so that it can neither
//! break the message's line nor reach the terminal as an escape sequence.

use std::io;
use velo::{velo, Builder};
use velo_tests::{assert_child_passed, is_child, run_child_within, CHILD_TIMEOUT};

/// A writer whose error says something hostile.
struct Hostile;

impl io::Write for Hostile {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("\x1b[31mEVIL\nvelo: forged line\x1b[0m"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const CHILD: &str = "child_logs_to_a_hostile_writer";

#[test]
fn child_logs_to_a_hostile_writer() {
    if !is_child(CHILD) {
        return;
    }
    let logger = Builder::new().writer(Hostile).build().unwrap();
    velo!(logger: &logger, info, "lost");
    assert!(logger.sync().is_err());
    // The default logger reads `VELO_LOG`, which holds a directive it
    // cannot read.
    velo!(info, "to stderr");
    velo::close();
}

#[test]
fn control_characters_from_outside_are_escaped() {
    let out = run_child_within(
        CHILD,
        &[
            ("VELO_LOG", "info,[span\x1b]2J{x}]=debug"),
            ("VELO_FORMAT", "json"),
        ],
        CHILD_TIMEOUT,
    );
    assert_child_passed(&out);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains('\x1b'), "raw ESC on stderr: {stderr:?}");
    let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("velo: ")).collect();
    assert!(
        ours.iter()
            .any(|l| l.contains(r"\u{1b}[31mEVIL\nvelo: forged line")),
        "{stderr}"
    );
    assert!(
        ours.iter().any(|l| l.contains(r"\u{1b}]2J")),
        "the directive's error: {stderr}"
    );
    // One line per message: the forged line is not a line of its own.
    assert!(
        !stderr.lines().any(|l| l.starts_with("velo: forged")),
        "{stderr}"
    );
}

const CLOSED: &str = "child_says_things_to_a_closed_stderr";

#[test]
fn child_says_things_to_a_closed_stderr() {
    if !is_child(CLOSED) {
        return;
    }
    // Wait for the parent to close the pipe's other end.
    std::thread::sleep(std::time::Duration::from_millis(200));
    velo!(info, "to nowhere");
    velo::close();
    println!("finished");
}

/// A message velo says on stderr (here: a `VELO_LOG` directive it cannot
/// read) never panics when stderr is a closed pipe, as `eprintln!` would.
#[cfg(unix)]
#[test]
fn a_closed_stderr_makes_no_panic() {
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args([CLOSED, "--exact", "--nocapture", "--test-threads=1"])
        .env("VELO_TEST_CHILD", CLOSED)
        .env("VELO_LOG", "info,[span]=x")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("finished"), "{stdout}");
}

/// A writer that fails with a new error each time, so that each is said.
struct Failing(u32);

impl io::Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        self.0 += 1;
        Err(io::Error::other(format!("failure number {}", self.0)))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const SPLICED: &str = "child_reports_failures_while_another_thread_writes_stderr";

#[test]
fn child_reports_failures_while_another_thread_writes_stderr() {
    if !is_child(SPLICED) {
        return;
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let logger = Builder::new().writer(Failing(0)).build().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            // Whole lines in one write each (`eprintln!` makes two).
            let line = format!("{}\n", "x".repeat(64));
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = io::Write::write_all(&mut io::stderr(), line.as_bytes());
            }
        });
        for i in 0..300u32 {
            velo!(logger: &logger, info, "lost", i);
            let _ = logger.sync();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

/// velo's message is one write: another thread's `eprintln!` never lands
/// inside it (before, its prefix, the error and the newline were three).
#[test]
fn velos_messages_are_whole_between_other_writes_to_stderr() {
    let out = run_child_within(SPLICED, &[], CHILD_TIMEOUT);
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut said = 0;
    for line in stderr.lines() {
        if line == "x".repeat(64) || line.starts_with("running ") || line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("velo: writing log output failed: failure number ") {
            assert!(rest.parse::<u32>().is_ok(), "spliced: {line:?}");
            said += 1;
            continue;
        }
        if line.starts_with("velo: ") {
            // The close's word of what was never written.
            assert!(!line.contains("xxxx"), "spliced: {line:?}");
            continue;
        }
        // Test harness lines only, besides.
        assert!(
            line.starts_with("test ") || line.contains("test result"),
            "spliced: {line:?}"
        );
    }
    assert!(said >= 10, "{said} messages:\n{stderr}");
}
