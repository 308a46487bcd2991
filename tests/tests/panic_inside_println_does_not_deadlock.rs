//! A logger installed on stderr (or stdout) must not deadlock a program
//! whose `eprintln!` (or `println!`) runs a `Display` that panics, or that
//! calls `velo::sync()`: the thread holds the standard stream's lock while
//! the panic hook (or the `sync`) waits for the worker, so the worker must
//! not need that lock to write.
//!
//! Each scenario runs in a child process that must exit on its own; the
//! control scenario shows the program exits cleanly without velo.

use std::fmt;
use velo::{velo, Builder, Format};
use velo_tests::{is_child, json_lines, run_child_within, CHILD_TIMEOUT};

struct Panics;

impl fmt::Display for Panics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display failed")
    }
}

/// Logs, then waits for the entry to be written, from inside the stream's
/// lock; writes what `sync` returned and the `written` count it saw.
struct LogsAndSyncs;

impl fmt::Display for LogsAndSyncs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        velo!(info, "inside display");
        let synced = velo::sync();
        let written = velo::logger().stats().written;
        write!(f, "sync returned {synced:?}; written {written}")
    }
}

/// Which stream the child's logger and its `print` use.
fn on_stdout() -> bool {
    std::env::var("VELO_TEST_STREAM").is_ok_and(|s| s == "stdout")
}

fn install() {
    let builder = Builder::new().format(Format::Json);
    let builder = if on_stdout() {
        // End the test harness's `test name ... ` line, so the first entry
        // starts a line of its own.
        println!();
        builder.stdout()
    } else {
        builder.stderr()
    };
    builder.install().unwrap();
}

fn print(v: &dyn fmt::Display) {
    if on_stdout() {
        println!("{v}");
    } else {
        eprintln!("{v}");
    }
}

#[test]
fn child_panics_inside_print() {
    if !is_child("child_panics_inside_print") {
        return;
    }
    let with_velo = std::env::var("VELO_TEST_CONTROL").is_err();
    if with_velo {
        install();
        velo!(info, "before");
    }
    let caught = std::panic::catch_unwind(|| print(&Panics));
    assert!(caught.is_err());
    if with_velo {
        velo!(info, "after");
        velo::close();
    }
    eprintln!("child done");
}

#[test]
fn child_syncs_inside_print() {
    if !is_child("child_syncs_inside_print") {
        return;
    }
    install();
    print(&LogsAndSyncs);
    velo!(info, "after");
    velo::close();
    eprintln!("child done");
}

fn stream(out: &std::process::Output, stdout: bool) -> &[u8] {
    if stdout {
        &out.stdout
    } else {
        &out.stderr
    }
}

#[test]
fn without_velo_the_panic_is_caught_and_the_program_exits() {
    let out = run_child_within(
        "child_panics_inside_print",
        &[("VELO_TEST_CONTROL", "1")],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("child done"));
}

#[test]
fn a_panic_inside_eprintln_or_println_is_logged_and_does_not_hang() {
    for name in ["stderr", "stdout"] {
        let out = run_child_within(
            "child_panics_inside_print",
            &[("VELO_TEST_STREAM", name)],
            CHILD_TIMEOUT,
        );
        assert!(out.status.success(), "{name}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("child done"));
        let entries = json_lines(stream(&out, name == "stdout"));
        let msgs: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(msgs, ["before", "panic", "after"], "{name}");
        assert_eq!(entries[1]["panic"], "Display failed", "{name}");
    }
}

#[test]
fn sync_inside_eprintln_or_println_waits_for_the_entry_and_returns() {
    for name in ["stderr", "stdout"] {
        let out = run_child_within(
            "child_syncs_inside_print",
            &[("VELO_TEST_STREAM", name)],
            CHILD_TIMEOUT,
        );
        assert!(out.status.success(), "{name}: {out:?}");
        let text = String::from_utf8_lossy(stream(&out, name == "stdout")).into_owned();
        // The entry logged inside was written before `sync` returned Ok.
        assert!(
            text.contains("sync returned Ok(()); written 1"),
            "{name}: {text}"
        );
        let entries = json_lines(text.as_bytes());
        let msgs: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(msgs, ["inside display", "after"], "{name}");
    }
}
