//! Filter directives match call sites by module path, the most specific
//! directive wins, each logger has its own filter, and a change at run time
//! takes effect at call sites that already ran.

use velo::{velo, Builder, Format, LevelFilter, Logger};
use velo_tests::Capture;

mod app {
    pub mod db {
        pub fn log(l: &velo::Logger) {
            velo::velo!(logger: l, trace, "db trace");
            velo::velo!(logger: l, debug, "db debug");
            velo::velo!(logger: l, info, "db info");
        }
    }
    pub mod http {
        pub fn log(l: &velo::Logger) {
            velo::velo!(logger: l, debug, "http debug");
            velo::velo!(logger: l, warn, "http warn");
        }
    }
}

const CRATE: &str = "filters_match_module_paths_and_change_at_run_time";

fn logger(filter: &str) -> (Logger, Capture) {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .filter(filter)
        .writer(out.clone())
        .asynchronous(false)
        .build()
        .unwrap();
    (logger, out)
}

fn run_all(l: &Logger) {
    app::db::log(l);
    app::http::log(l);
    velo!(logger: l, info, "root info");
}

#[test]
fn directive_forms_and_precedence() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("info".into(), vec!["db info", "http warn", "root info"]),
        ("warn".into(), vec!["http warn"]),
        (
            format!("warn,{CRATE}::app=debug"),
            vec!["db debug", "db info", "http debug", "http warn"],
        ),
        (
            format!("warn,{CRATE}::app=debug,{CRATE}::app::db=trace"),
            vec!["db trace", "db debug", "db info", "http debug", "http warn"],
        ),
        // Bare path: everything from that module; others off.
        (
            format!("{CRATE}::app::http"),
            vec!["http debug", "http warn"],
        ),
        (format!("trace,{CRATE}::app=off"), vec!["root info"]),
        ("off".into(), vec![]),
    ];
    for (spec, expected) in cases {
        let (l, out) = logger(&spec);
        run_all(&l);
        assert_eq!(out.msgs(), expected, "filter {spec}");
    }
}

#[test]
fn each_logger_has_its_own_filter_at_shared_call_sites() {
    let (quiet, quiet_out) = logger("error");
    let (loud, loud_out) = logger("trace");
    for _ in 0..3 {
        run_all(&quiet);
        run_all(&loud);
    }
    assert!(quiet_out.msgs().is_empty());
    assert_eq!(loud_out.msgs().len(), 18);
}

#[test]
fn set_filter_takes_effect_at_existing_call_sites() {
    let (l, out) = logger("warn");
    let site = |l: &Logger, i: u32| velo!(logger: l, debug, "the same site", i);
    for i in 0..3 {
        site(&l, i);
    }
    assert!(out.msgs().is_empty());
    l.set_filter("debug").unwrap();
    for i in 3..6 {
        site(&l, i);
    }
    l.set_level(LevelFilter::Info);
    for i in 6..9 {
        site(&l, i);
    }
    let seen: Vec<u64> = out
        .entries()
        .iter()
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, [3, 4, 5]);
}

#[test]
fn more_loggers_than_filter_slots_still_filter_exactly() {
    // Beyond the slots of the interest word, loggers share an overflow bit
    // and are checked exactly.
    let loggers: Vec<_> = (0..80)
        .map(|i| logger(if i % 2 == 0 { "info" } else { "error" }))
        .collect();
    for (l, _) in &loggers {
        velo!(logger: l, info, "many");
    }
    for (i, (_, out)) in loggers.iter().enumerate() {
        assert_eq!(out.msgs().len(), usize::from(i % 2 == 0), "logger {i}");
    }
}

#[test]
fn text_after_a_slash_keeps_only_messages_that_hold_it() {
    let (l, out) = logger(&format!("warn,{CRATE}::app::db=debug/db"));
    run_all(&l);
    assert_eq!(out.msgs(), ["db debug", "db info"], "levels still apply");
    // `enabled!` has no message: it answers by level and module path.
    assert!(velo::enabled!(logger: &l, warn));
    assert!(!velo::enabled!(logger: &l, info));
    // A template is matched as written; a fatal entry's message is not
    // matched at all (`fatal` is not called here: it exits).
    let order = 7;
    l.set_filter("info/order {order}").unwrap();
    velo!(logger: l, info, "order {order} shipped");
    velo!(logger: l, info, "order 7 shipped");
    // An empty message holds no text: filtered out.
    velo!(logger: l, info, "");
    // Changed at run time: sites that ran are decided again.
    l.set_filter(&format!("trace,{CRATE}::app::http=off/ info"))
        .unwrap();
    run_all(&l);
    assert_eq!(
        out.msgs()[2..],
        ["order 7 shipped", "db info", "root info"],
        "{:?}",
        out.msgs()
    );
    assert_eq!(
        l.filter().to_string(),
        format!("trace,{CRATE}::app::http=off/ info")
    );
}
