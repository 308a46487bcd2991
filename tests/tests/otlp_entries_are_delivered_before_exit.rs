//! Entries sent over OTLP reach the collector before the process ends:
//! after a `fatal` entry (which closes every logger) and when `main`
//! returns (the `close` that runs at exit).

use std::time::Duration;
use velo::{velo, Builder};
use velo_tests::otlp::{body, Collector};
use velo_tests::{is_child, run_child_within};

const URL: &str = "VELO_TEST_OTLP_URL";

fn logger() -> velo::Logger {
    Builder::new()
        .otlp(std::env::var(URL).unwrap())
        .build()
        .unwrap()
}

#[test]
fn fatal_entry_is_delivered() {
    if is_child("fatal_entry_is_delivered") {
        let logger = logger();
        velo!(logger: &logger, info, "before");
        // Exits with status 1.
        velo!(logger: &logger, fatal, "about to die", code = 7);
    }
    let collector = Collector::start();
    let out = run_child_within(
        "fatal_entry_is_delivered",
        &[(URL, &collector.url())],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let records = collector.accepted();
    let got: Vec<(&str, i32)> = records
        .iter()
        .map(|r| (body(r), r.severity_number))
        .collect();
    assert_eq!(got, [("before", 9), ("about to die", 21)]);
    assert_eq!(records[1].severity_text, "FATAL");
}

#[test]
fn entries_are_delivered_when_main_returns() {
    if is_child("entries_are_delivered_when_main_returns") {
        // Kept alive until the process exits, never synced.
        let logger = logger();
        for i in 0..700u32 {
            velo!(logger: &logger, info, "exiting soon", i);
        }
        std::mem::forget(logger);
        return;
    }
    let collector = Collector::start();
    let out = run_child_within(
        "entries_are_delivered_when_main_returns",
        &[(URL, &collector.url())],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(collector.accepted().len(), 700);
}
