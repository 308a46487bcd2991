//! `Builder::test_writer()` writes through the test harness's capture, as
//! `print!` does: the lines of a passing test are not shown, those of a
//! failing test are, under its own name. Checked by running this binary's
//! own scenario tests with the harness capturing, as `cargo test` does.

use std::process::Command;
use velo::{velo, Builder, Format};

const CHILD: &str = "VELO_TEST_WRITER_CHILD";

fn scenario(fail: bool) {
    let log = Builder::new()
        .test_writer()
        .format(Format::Json)
        .build()
        .unwrap();
    velo!(logger: &log, info, "captured entry", fail);
    // Another thread of the test shares its capture.
    std::thread::scope(|s| {
        s.spawn(|| velo!(logger: &log, info, "from a spawned thread"));
    });
    assert!(!fail, "this scenario fails on purpose");
}

#[test]
fn scenario_passing() {
    if std::env::var(CHILD).is_ok() {
        scenario(false);
    }
}

#[test]
fn scenario_failing() {
    if std::env::var(CHILD).is_ok() {
        scenario(true);
    }
}

/// Runs one scenario with the harness capturing output (no `--nocapture`).
fn run(name: &str) -> (bool, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_passing_test_shows_nothing() {
    let (ok, output) = run("scenario_passing");
    assert!(ok, "{output}");
    assert!(!output.contains("captured entry"), "{output}");
    assert!(!output.contains("from a spawned thread"), "{output}");
}

#[test]
fn a_failing_test_shows_its_entries() {
    let (ok, output) = run("scenario_failing");
    assert!(!ok, "{output}");
    let section = output
        .split("---- scenario_failing stdout ----")
        .nth(1)
        .unwrap_or_else(|| panic!("no stdout section: {output}"));
    let line = section
        .lines()
        .find(|l| l.contains("\"msg\":\"captured entry\""))
        .unwrap_or_else(|| panic!("{output}"));
    assert!(line.contains("\"fail\":true"), "{line}");
    assert!(section.contains("from a spawned thread"), "{output}");
}
