//! An error's source chain is written whole, up to what one string holds
//! (16 MiB): a longer chain is cut there, and a chain that loops (an
//! error that is its own source) ends. Neither panics nor hangs the
//! thread that logs it.

use std::error::Error;
use std::fmt;
use velo::{velo, Builder};
use velo_tests::{is_child, json_lines, json_logger, run_child_within, CHILD_TIMEOUT};

#[derive(Debug)]
struct Outer(String, std::io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.1)
    }
}

#[test]
fn a_chain_past_16_mib_is_cut_and_later_entries_follow() {
    let (logger, out) = json_logger(Builder::new());
    let e = Outer("x".repeat(17_000_000), std::io::Error::other("disk full"));
    velo!(logger: &logger, error, "big", err = velo::Chain(&e));
    velo!(logger: &logger, info, "after");
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 2);
    let err = entries[0]["err"].as_str().unwrap();
    assert!(err.len() <= 16 << 20, "{}", err.len());
    assert!(err.len() > 16_000_000, "{}", err.len());
    assert!(err.bytes().all(|b| b == b'x'));
    assert_eq!(entries[1]["msg"], "after");
}

#[derive(Debug)]
struct Looping;

static LOOPING: Looping = Looping;

impl fmt::Display for Looping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("looping")
    }
}

impl Error for Looping {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&LOOPING)
    }
}

#[test]
fn child_looping_chain() {
    if !is_child("child_looping_chain") {
        return;
    }
    let logger = Builder::new().stderr().build().unwrap();
    velo!(logger: &logger, error, "loop", err = velo::Chain(&LOOPING));
    velo!(logger: &logger, info, "after");
    logger.sync().unwrap();
}

#[test]
fn a_chain_that_loops_ends() {
    // In a child: a hang is a failure, not a stuck test run.
    let out = run_child_within(
        "child_looping_chain",
        &[("VELO_FORMAT", "json")],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    assert_eq!(entries.len(), 2, "{out:?}");
    // Each repeat of the same message is left out.
    assert_eq!(entries[0]["err"], "looping");
    assert_eq!(entries[1]["msg"], "after");
}

/// Two errors, each the other's source, with messages of their own (so no
/// message repeats the one before it).
#[derive(Debug)]
struct Ping;
#[derive(Debug)]
struct Pong;

static PING: Ping = Ping;
static PONG: Pong = Pong;

impl fmt::Display for Ping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("alpha failed")
    }
}

impl fmt::Display for Pong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("beta failed")
    }
}

impl Error for Ping {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&PONG)
    }
}

impl Error for Pong {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&PING)
    }
}

#[test]
fn a_loop_of_two_errors_ends_when_one_comes_round_again() {
    let (logger, out) = json_logger(Builder::new());
    velo!(logger: &logger, error, "ping-pong", err = velo::Chain(&PING));
    velo!(logger: &logger, error, "dyn", err = &PING as &(dyn Error + 'static));
    logger.sync().unwrap();
    let entries = out.entries();
    for entry in &entries {
        let err = entry["err"].as_str().unwrap();
        // The loop is written about once more at most, not 65,536 times.
        assert!(err.len() < 100, "{} bytes: {err}", err.len());
        assert!(err.starts_with("alpha failed: beta failed"), "{err}");
    }
}

/// An error with an empty message, and a source.
#[derive(Debug)]
struct Silent(std::io::Error);

impl fmt::Display for Silent {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Error for Silent {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn an_empty_message_takes_no_separator() {
    let (logger, out) = json_logger(Builder::new());
    let e = Silent(std::io::Error::other("only root"));
    velo!(logger: &logger, error, "silent", err = velo::Chain(&e));
    logger.sync().unwrap();
    assert_eq!(out.entries()[0]["err"], "only root");
}
