//! Under `panic = "abort"` nothing of velo's runs after the panic hook:
//! neither the close at exit nor a worker's next pass. The hook must flush
//! every logger, not only the installed one, and a program that installs
//! nothing (the default logger made from the environment, or loggers it
//! only builds) must have a hook that flushes too. Builds and runs the
//! fixture crate in `tests/fixtures/panic_abort`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use velo_tests::{json_lines, run_paced, TempDir, CHILD_TIMEOUT};

/// The fixture's entries per logger, and the installed logger's where it
/// has a second logger.
const ENTRIES: u64 = 20_000;
const FEW: u64 = 100;

fn fixture() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("fixtures/panic_abort/Cargo.toml");
    let target = root.join("../target/fixtures");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        built.status.success(),
        "the fixture does not build: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    target.join("debug/velo-fixture-panic-abort")
}

/// Runs `scenario`; returns the JSON entries of its stdout, of its stderr
/// and of the file it was given.
fn run(scenario: &str) -> [Vec<serde_json::Map<String, serde_json::Value>>; 3] {
    let exe = fixture();
    let dir = TempDir::new("panic-abort");
    let file = dir.path().join("audit.log");
    let mut cmd = Command::new(exe);
    cmd.arg(scenario).arg(&file);
    for var in ["VELO_LOG", "RUST_LOG", "VELO_FORMAT"] {
        cmd.env_remove(var);
    }
    // Printing a backtrace after the hook would give the workers time to
    // finish on their own.
    cmd.env("RUST_BACKTRACE", "0");
    // Slowly (about 1.6 MB a second, under what the fixture writes), so
    // that the loggers on stdout and stderr have entries queued when the
    // panic comes (the file's logger writes slowly itself).
    let out = run_paced(cmd, CHILD_TIMEOUT, Duration::from_millis(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // (The program's own hook in `own-hook` says nothing on stderr.)
    assert!(
        !out.status.success() && (stderr.contains("boom") || scenario == "own-hook"),
        "the fixture must abort on its panic: {:?}\n{stderr}",
        out.status
    );
    // Not a second panic inside the hook (std refuses to change the hook
    // from a panicking thread).
    assert!(
        !stderr.contains("panicked while processing panic"),
        "{stderr}"
    );
    let written = std::fs::read(&file).unwrap_or_default();
    [
        json_lines(&out.stdout),
        json_lines(&out.stderr),
        json_lines(&written),
    ]
}

/// Asserts that `entries` hold `count` entries `msg`, `i` from 0 in order.
fn assert_every_entry(
    entries: &[serde_json::Map<String, serde_json::Value>],
    msg: &str,
    count: u64,
) {
    let seen: Vec<u64> = entries
        .iter()
        .filter(|e| e["msg"] == msg)
        .map(|e| e["i"].as_u64().expect("an index"))
        .collect();
    assert_eq!(
        seen.len() as u64,
        count,
        "`{msg}`: {} of {count} entries written before the abort",
        seen.len()
    );
    assert!(seen.iter().copied().eq(0..count), "`{msg}`: out of order");
}

#[test]
fn the_installed_hook_flushes_the_other_loggers_too() {
    let [stdout, _, file] = run("installed");
    assert_every_entry(&stdout, "main", FEW);
    assert_every_entry(&file, "audit", ENTRIES);
    assert!(
        stdout
            .iter()
            .any(|e| e["msg"] == "panic" && e["panic"] == "boom"),
        "the panic is logged"
    );
}

#[test]
fn a_panic_on_another_thread_flushes_every_logger() {
    let [stdout, _, file] = run("thread");
    assert_every_entry(&stdout, "main", FEW);
    assert_every_entry(&file, "audit", ENTRIES);
}

#[test]
fn the_default_logger_is_flushed_without_install() {
    let [_, stderr, _] = run("default");
    assert_every_entry(&stderr, "main", ENTRIES);
}

#[test]
fn a_logger_only_built_is_flushed() {
    let [_, _, file] = run("built");
    assert_every_entry(&file, "audit", ENTRIES);
}

#[test]
fn what_the_programs_own_hook_logs_is_flushed() {
    let [_, _, file] = run("own-hook");
    let msgs: Vec<&str> = file.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    assert_eq!(msgs, ["before", "seen by my hook"]);
}

#[test]
fn a_hook_that_logs_first_keeps_working() {
    let [_, stderr, _] = run("hook-logs-first");
    assert!(
        stderr.iter().any(|e| e["msg"] == "from my hook"),
        "{stderr:?}"
    );
}

#[test]
fn a_hook_waiting_for_a_thread_that_builds_a_logger_does_not_hang() {
    let [_, stderr, _] = run("hook-thread");
    assert!(stderr.iter().any(|e| e["msg"] == "reported"), "{stderr:?}");
}
