//! A call below the logger's level evaluates none of its arguments, and its
//! logger expression at most once; an enabled call evaluates each argument
//! exactly once, borrowed, never moved. A filter changed at run time takes
//! effect at call sites that already ran.

use std::cell::Cell;
use std::fmt;
use velo::{velo, LevelFilter, Timestamp};
use velo_tests::{json_logger, Capture};

/// Counts how often each kind of argument is evaluated or formatted.
#[derive(Default)]
struct Counts {
    logger: Cell<u32>,
    value: Cell<u32>,
    display_expr: Cell<u32>,
    debug_expr: Cell<u32>,
    display_fmt: Cell<u32>,
    debug_fmt: Cell<u32>,
}

impl Counts {
    fn get(&self) -> [u32; 6] {
        [
            self.logger.get(),
            self.value.get(),
            self.display_expr.get(),
            self.debug_expr.get(),
            self.display_fmt.get(),
            self.debug_fmt.get(),
        ]
    }
}

fn bump(c: &Cell<u32>) {
    c.set(c.get() + 1);
}

/// A value whose `Display` and `Debug` count their calls.
struct Counted<'a>(&'a Counts);

impl fmt::Display for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bump(&self.0.display_fmt);
        f.write_str("shown")
    }
}

impl fmt::Debug for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bump(&self.0.debug_fmt);
        f.write_str("debugged")
    }
}

fn value(c: &Counts) -> u32 {
    bump(&c.value);
    7
}

fn display(c: &Counts) -> Counted<'_> {
    bump(&c.display_expr);
    Counted(c)
}

fn debug(c: &Counts) -> Counted<'_> {
    bump(&c.debug_expr);
    Counted(c)
}

fn logger_at(level: LevelFilter) -> (velo::Logger, Capture) {
    json_logger(
        velo::Builder::new()
            .level(level)
            .timestamp(Timestamp::Off)
            .caller(false),
    )
}

/// One call site at `debug`, its logger and every argument counted.
fn debug_site(l: &velo::Logger, c: &Counts) {
    velo!(logger: { bump(&c.logger); l }, debug, "x", a = value(c), b = %display(c), d = ?debug(c));
}

#[test]
fn disabled_call_evaluates_nothing() {
    let (l, out) = logger_at(LevelFilter::Warn);
    let c = Counts::default();
    for _ in 0..3 {
        debug_site(&l, &c);
        velo!(logger: &l, trace, "y", a = value(&c), b = %display(&c), d = ?debug(&c));
        velo!(logger: &l, info, "z", a = value(&c), b = %display(&c), d = ?debug(&c));
    }
    l.sync().unwrap();
    assert_eq!(out.text(), "");
    let [logger, rest @ ..] = c.get();
    assert_eq!(rest, [0; 5], "no argument evaluated or formatted");
    // The logger expression runs only when some logger wants the site; then
    // once per call.
    assert!(
        logger <= 3,
        "logger expression evaluated {logger} times for 3 calls"
    );
}

#[test]
fn enabled_call_evaluates_each_argument_once() {
    let (l, out) = logger_at(LevelFilter::Debug);
    let c = Counts::default();
    debug_site(&l, &c);
    assert_eq!(c.get(), [1; 6]);
    debug_site(&l, &c);
    assert_eq!(c.get(), [2; 6]);
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        [r#"{"level":"debug","msg":"x","a":7,"b":"shown","d":"debugged"}"#; 2]
    );
}

#[test]
fn text_format_also_evaluates_each_argument_once() {
    let out = Capture::new();
    let l = velo::Builder::new()
        .format(velo::Format::Text)
        .writer(out.clone())
        .level(LevelFilter::Debug)
        .timestamp(Timestamp::Off)
        .caller(false)
        .build()
        .unwrap();
    let c = Counts::default();
    debug_site(&l, &c);
    assert_eq!(c.get(), [1; 6]);
    l.sync().unwrap();
    assert_eq!(out.lines(), ["DEBUG x a=7 b=shown d=debugged"]);
}

#[test]
fn context_fields_are_formatted_once() {
    let (l, out) = logger_at(LevelFilter::Debug);
    let c = Counts::default();
    let child = l.with(velo::fields!(a = value(&c), b = %display(&c), d = ?debug(&c)));
    assert_eq!(c.get()[1..], [1; 5]);
    velo!(logger: &child, info, "one");
    velo!(logger: &child, info, "two");
    assert_eq!(
        c.get()[1..],
        [1; 5],
        "context is encoded once, not per entry"
    );
    l.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["b"], "shown");
}

/// A value that is neither `Copy` nor `Clone`.
struct Token(String);

impl velo::Value for Token {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.str(&self.0);
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug")]
struct NoClone(Vec<u8>);

#[test]
fn values_are_borrowed_not_moved() {
    let (l, out) = logger_at(LevelFilter::Info);
    let s = String::from("owned");
    let token = Token("tok".to_owned());
    let list = vec![1, 2];
    let no_clone = NoClone(vec![3]);
    velo!(logger: &l, info, "m", s, again = s, shown = %s, dbg = ?s, token, t = %token, list, no_clone = ?no_clone);
    let l2 = l.with(velo::fields!(s, token, dbg = ?no_clone));
    velo!(logger: l2, info, "moved the logger, not the values");
    // Every value is still ours.
    let s: String = s;
    let token: Token = token;
    let list: Vec<i32> = list;
    let no_clone: NoClone = no_clone;
    drop((s, token, list, no_clone));
    l.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries[0]["again"], "owned");
    assert_eq!(entries[0]["t"], "tok");
    assert_eq!(entries[0]["no_clone"], "NoClone([3])");
    assert_eq!(entries[1]["dbg"], "NoClone([3])");
}

/// One call site, used before and after the filter changes.
fn site(l: &velo::Logger, i: u32, c: &Counts) {
    velo!(logger: l, debug, "site", i, a = value(c));
}

#[test]
fn set_filter_enables_an_existing_call_site() {
    let (l, out) = logger_at(LevelFilter::Info);
    let c = Counts::default();
    for i in 0..3 {
        site(&l, i, &c);
    }
    l.sync().unwrap();
    assert_eq!(out.lines().len(), 0);
    assert_eq!(c.value.get(), 0);

    l.set_filter("debug").unwrap();
    for i in 3..6 {
        site(&l, i, &c);
    }
    l.sync().unwrap();
    assert_eq!(c.value.get(), 3);

    l.set_filter("info").unwrap();
    for i in 6..9 {
        site(&l, i, &c);
    }
    l.set_level(LevelFilter::Trace);
    site(&l, 9, &c);
    l.set_filter("warn,disabled_level_evaluates_no_arguments=debug")
        .unwrap();
    site(&l, 10, &c);
    l.set_filter("debug,disabled_level_evaluates_no_arguments=info")
        .unwrap();
    site(&l, 11, &c);
    l.sync().unwrap();
    assert_eq!(c.value.get(), 5);
    let logged: Vec<u64> = out
        .entries()
        .iter()
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert_eq!(logged, [3, 4, 5, 9, 10]);
}

#[test]
fn bad_filter_is_an_error_and_changes_nothing() {
    let (l, out) = logger_at(LevelFilter::Info);
    let c = Counts::default();
    let before = l.filter();
    assert!(l.set_filter("debug,my_app=loud").is_err());
    assert!(l.set_filter("debug,not a path").is_err());
    assert_eq!(l.filter(), before);
    site(&l, 0, &c);
    l.sync().unwrap();
    assert_eq!(out.text(), "");
    assert_eq!(c.value.get(), 0);
}

#[test]
fn a_site_enabled_for_another_logger_evaluates_nothing_for_this_one() {
    let (quiet, quiet_out) = logger_at(LevelFilter::Warn);
    let (loud, loud_out) = logger_at(LevelFilter::Trace);
    let c = Counts::default();
    for i in 0..4 {
        let l = if i % 2 == 0 { &quiet } else { &loud };
        site(l, i, &c);
    }
    quiet.sync().unwrap();
    loud.sync().unwrap();
    assert_eq!(c.value.get(), 2);
    assert_eq!(quiet_out.text(), "");
    let logged: Vec<u64> = loud_out
        .entries()
        .iter()
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert_eq!(logged, [1, 3]);
}

#[test]
fn logger_expression_is_evaluated_once_when_enabled() {
    let (l, out) = logger_at(LevelFilter::Info);
    let evals = Cell::new(0);
    let pick = || {
        bump(&evals);
        &l
    };
    velo!(logger: pick(), info, "m", a = 1);
    velo!(logger: pick(), warn, "m");
    assert_eq!(evals.get(), 2);
    velo!(logger: pick(), debug, "m", a = 1);
    assert!(evals.get() <= 3);
    l.sync().unwrap();
    assert_eq!(out.lines().len(), 2);
}
