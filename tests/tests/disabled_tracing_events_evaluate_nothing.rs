//! Through `velo::bridge_tracing()`, a `tracing` event or span the default
//! logger's filter rejects evaluates none of its fields, and `tracing`'s
//! global level hint follows the filter. Changing the filter at run time
//! (`Logger::set_filter`) reaches call sites that already ran.
#![cfg(feature = "tracing")]

use std::sync::atomic::{AtomicU32, Ordering};
use tracing::level_filters::LevelFilter;
use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

static EVALUATED: AtomicU32 = AtomicU32::new(0);

fn counted() -> u32 {
    EVALUATED.fetch_add(1, Ordering::SeqCst) + 1
}

fn call_sites(round: u32) {
    tracing::debug!(n = counted(), round, "debug event");
    let span = tracing::debug_span!("debug span", s = counted());
    span.in_scope(|| tracing::warn!(round, "warn event"));
}

#[test]
fn child_disabled() {
    if !is_child("child_disabled") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .filter("info")
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    assert_eq!(LevelFilter::current(), LevelFilter::INFO);

    call_sites(1);
    assert_eq!(
        EVALUATED.load(Ordering::SeqCst),
        0,
        "disabled: nothing evaluated"
    );

    velo::logger().set_filter("debug").unwrap();
    assert_eq!(LevelFilter::current(), LevelFilter::DEBUG);
    call_sites(2);
    assert_eq!(
        EVALUATED.load(Ordering::SeqCst),
        2,
        "enabled: each field once"
    );

    velo::logger().set_filter("info").unwrap();
    assert_eq!(LevelFilter::current(), LevelFilter::INFO);
    call_sites(3);
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 2, "disabled again");

    // Only the module's debug call sites, through a directive.
    velo::logger()
        .set_filter("info,disabled_tracing_events_evaluate_nothing=debug")
        .unwrap();
    call_sites(4);
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 4);

    // `fatal` passes no `tracing` event: tracing has no fatal level.
    velo::logger().set_filter("fatal").unwrap();
    assert_eq!(LevelFilter::current(), LevelFilter::OFF);
    call_sites(5);
    velo::close();
}

#[test]
fn disabled_events_evaluate_nothing() {
    let out = run_child("child_disabled", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let seen: Vec<_> = entries
        .iter()
        .map(|e| (e["msg"].as_str().unwrap(), e["round"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("warn event", 1),
            ("debug event", 2),
            ("warn event", 2),
            ("warn event", 3),
            ("debug event", 4),
            ("warn event", 4),
        ]
    );
    assert_eq!(entries[1]["n"], 1);
    assert_eq!(entries[2]["s"], 2, "the span's field, evaluated once");
    assert!(!entries[0].contains_key("s"));
}
