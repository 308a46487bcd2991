//! A call site with `every:` or `sample:` that the filter disables
//! evaluates none of its arguments and advances none of its counters: the
//! limit runs only once the filter lets the call through.

use std::cell::Cell;
use velo::{velo, Builder, LevelFilter, Timestamp};
use velo_tests::json_logger;

fn value(evaluated: &Cell<u32>, v: u32) -> u32 {
    evaluated.set(evaluated.get() + 1);
    v
}

fn sampled(l: &velo::Logger, evaluated: &Cell<u32>, i: u32) {
    velo!(logger: l, sample: 3, debug, "sampled", i = value(evaluated, i));
}

fn limited(l: &velo::Logger, evaluated: &Cell<u32>, i: u32) {
    velo!(logger: l, every: 1h, debug, "limited", i = value(evaluated, i));
}

#[test]
fn nothing_is_evaluated_or_counted_until_the_filter_allows_the_site() {
    let (l, out) = json_logger(
        Builder::new()
            .level(LevelFilter::Info)
            .timestamp(Timestamp::Off)
            .caller(false),
    );
    let evaluated = Cell::new(0);
    for i in 0..5 {
        sampled(&l, &evaluated, i);
        limited(&l, &evaluated, i);
    }
    l.sync().unwrap();
    assert_eq!(evaluated.get(), 0, "no argument evaluated");
    assert_eq!(out.text(), "");

    l.set_level(LevelFilter::Debug);
    for i in 5..9 {
        sampled(&l, &evaluated, i);
        limited(&l, &evaluated, i);
    }
    l.sync().unwrap();
    // Had the disabled calls advanced the sample counter, call 5 would be
    // its 6th and skipped; had they been counted by `every:`, the first
    // entry would carry "suppressed".
    let lines: Vec<(String, u64, bool)> = out
        .entries()
        .iter()
        .map(|e| {
            (
                e["msg"].as_str().unwrap().to_owned(),
                e["i"].as_u64().unwrap(),
                e.contains_key("suppressed"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("sampled".to_owned(), 5, false),
            ("limited".to_owned(), 5, false),
            ("sampled".to_owned(), 8, false),
        ]
    );
    assert_eq!(evaluated.get(), 3, "only the written calls evaluate");
}
