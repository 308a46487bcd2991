//! Two threads changing the default logger's filter at once: when both
//! are done, `tracing`'s global level hint is the filter's, not the one
//! the other change computed. A stale, lower hint would make `tracing`
//! drop events the filter passes, silently, until the next change.
#![cfg(feature = "tracing")]

use std::sync::{Arc, Barrier};
use tracing::level_filters::LevelFilter;
use velo::{Builder, Format};
use velo_tests::{is_child, run_child_within, CHILD_TIMEOUT};

const PAIRS: usize = 100_000;

/// Call sites for `tracing` to go through on each rebuild of its
/// decisions, which widens the window between reading the filter and
/// storing the hint.
fn call_sites() {
    macro_rules! sites {
        ($($n:literal)*) => {$(
            tracing::trace!(n = $n, "a site");
        )*};
    }
    sites!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19);
    sites!(20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39);
}

#[test]
fn child_racing_filter_changes() {
    if !is_child("child_racing_filter_changes") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .filter("info")
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    call_sites();
    let turn = Arc::new(Barrier::new(3));
    let changer = |filter: &'static str| {
        let turn = Arc::clone(&turn);
        std::thread::spawn(move || {
            for _ in 0..PAIRS {
                turn.wait();
                velo::logger().set_filter(filter).unwrap();
                turn.wait();
            }
        })
    };
    let (warn, debug) = (changer("warn"), changer("debug"));
    let mut stale = 0;
    for _ in 0..PAIRS {
        turn.wait();
        turn.wait();
        let filter = velo::logger().filter().to_string();
        let hint = LevelFilter::current();
        let expected = if filter == "debug" {
            LevelFilter::DEBUG
        } else {
            LevelFilter::WARN
        };
        if hint != expected {
            stale += 1;
        }
    }
    warn.join().unwrap();
    debug.join().unwrap();
    println!("STALE {stale} of {PAIRS}");
}

#[test]
fn racing_filter_changes_leave_the_later_ones_level_hint() {
    let out = run_child_within("child_racing_filter_changes", &[], CHILD_TIMEOUT);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("STALE 0 of {PAIRS}")), "{stdout}");
}
