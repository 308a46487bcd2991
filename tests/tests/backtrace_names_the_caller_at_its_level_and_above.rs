//! `Builder::backtrace(level)`: entries at `level` and above carry
//! `"backtrace"`, the caller's stack with a frame per line, starting at the
//! function that logged (velo's own frames trimmed); entries below carry
//! none.

use velo::{velo, Builder, Level, Timestamp};
use velo_tests::json_logger;

#[inline(never)]
fn reconcile_ledger_zqx(l: &velo::Logger, level: Level) {
    match level {
        Level::Warn => velo!(logger: l, warn, "ledger drift", cents = 3),
        Level::Error => velo!(logger: l, error, "ledger broken", cents = 3),
        _ => velo!(logger: l, fatal, "never logged"),
    }
}

#[inline(never)]
fn nightly_job_zqx(l: &velo::Logger, level: Level) {
    reconcile_ledger_zqx(l, level);
}

const CRATE: &str = "backtrace_names_the_caller_at_its_level_and_above";

#[test]
fn error_carries_the_callers_stack_and_warn_none() {
    let (l, out) = json_logger(
        Builder::new()
            .backtrace(Level::Error)
            .timestamp(Timestamp::Off)
            .caller(false),
    );
    nightly_job_zqx(&l, Level::Warn);
    nightly_job_zqx(&l, Level::Error);
    l.sync().unwrap();
    let e = out.entries();
    assert_eq!(e.len(), 2);
    assert!(
        !e[0].contains_key("backtrace"),
        "below the level: {:?}",
        e[0]
    );

    let keys: Vec<&str> = e[1].keys().map(String::as_str).collect();
    assert_eq!(keys, ["level", "msg", "cents", "backtrace"]);
    let bt = e[1]["backtrace"].as_str().unwrap();
    let frames: Vec<&str> = bt.lines().collect();
    // With line tables only (as CI builds), a frame that had a call
    // inlined into it is named without its path.
    assert!(
        frames[0].starts_with(&format!("{CRATE}::reconcile_ledger_zqx"))
            || frames[0].starts_with("reconcile_ledger_zqx ("),
        "the first frame is the caller's: {bt}"
    );
    // An optimised build without debug info has no locations, and may
    // have turned the calls below into jumps.
    if cfg!(debug_assertions) {
        assert!(
            frames[0].contains(&format!("{CRATE}.rs:")),
            "with its location: {bt}"
        );
        assert!(
            frames[1].starts_with(&format!("{CRATE}::nightly_job_zqx")),
            "then its caller: {bt}"
        );
        assert!(
            frames
                .iter()
                .any(|f| f.contains("error_carries_the_callers_stack_and_warn_none")),
            "{bt}"
        );
    }
    assert!(
        !bt.contains("velo::entry"),
        "velo's frames are trimmed: {bt}"
    );
    assert!(!bt.contains("std::backtrace"), "{bt}");
    assert!(
        !bt.contains("__rust_begin_short_backtrace"),
        "the runtime's start-up frames are trimmed: {bt}"
    );
}

#[test]
fn no_backtrace_without_the_setting_and_text_format_escapes_it() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    nightly_job_zqx(&l, Level::Error);
    l.sync().unwrap();
    assert!(!out.entries()[0].contains_key("backtrace"));

    let (t, text) = velo_tests::text_logger(
        Builder::new()
            .backtrace(Level::Warn)
            .timestamp(Timestamp::Off)
            .caller(false),
    );
    nightly_job_zqx(&t, Level::Warn);
    t.sync().unwrap();
    let lines = text.lines();
    assert_eq!(lines.len(), 1, "the stack stays on one line: {lines:?}");
    let start = "WARN  ledger drift cents=3 backtrace=\"";
    assert!(
        lines[0].starts_with(&format!("{start}{CRATE}::reconcile_ledger_zqx"))
            || lines[0].starts_with(&format!("{start}reconcile_ledger_zqx (")),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("\\n"),
        "frames separated by escaped newlines"
    );
}
