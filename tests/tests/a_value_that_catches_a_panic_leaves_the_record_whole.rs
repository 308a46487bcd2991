//! A user `Value` may catch a panic raised while the encoder writes part of
//! it (a `Display` that panics half way through its text, an item of a
//! sequence or map whose `Value` panics) and go on writing. What the
//! panicking call had begun is taken back whole, so the record stays
//! readable: the value is what the `Value` wrote after catching (or `null`),
//! and every later field of the entry, and every later entry, keeps its
//! own value. Before, the half-written string or container kept no length,
//! and the worker read every later byte of the record in the wrong place
//! (shifted fields, invented keys, invalid UTF-8).

use serde_json::json;
use std::panic::{catch_unwind, AssertUnwindSafe};
use velo::{velo, Builder, Encoder, Format, Value};
use velo_tests::{json_logger, Capture};

/// Writes part of its text, then panics (a `RefCell` already borrowed,
/// say).
struct HalfWritten;

impl std::fmt::Display for HalfWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ad")?;
        panic!("already borrowed")
    }
}

/// Tries `HalfWritten`, and writes a placeholder when it panics.
struct Fallback;

impl Value for Fallback {
    fn encode(&self, e: &mut Encoder<'_>) {
        if catch_unwind(AssertUnwindSafe(|| e.display(&HalfWritten))).is_err() {
            e.str("<unavailable>");
        }
    }
}

/// A value whose `encode` panics.
struct Panics;

impl Value for Panics {
    fn encode(&self, _: &mut Encoder<'_>) {
        panic!("sensor offline")
    }
}

/// One item of a container: a number, a string, or one that panics.
enum Item {
    Number(f64),
    Text(&'static str),
    Panic,
    Inner(Box<dyn Value>),
}

impl Value for Item {
    fn encode(&self, e: &mut Encoder<'_>) {
        match self {
            Item::Number(x) => e.f64(*x),
            Item::Text(s) => e.str(s),
            Item::Panic => Panics.encode(e),
            Item::Inner(v) => v.encode(e),
        }
    }
}

/// `[x, "x", <panics>]`, the panic caught and nothing written after it.
struct CaughtSeq(f64);

impl Value for CaughtSeq {
    fn encode(&self, e: &mut Encoder<'_>) {
        let items = [Item::Number(self.0), Item::Text("x"), Item::Panic];
        let _ = catch_unwind(AssertUnwindSafe(|| e.seq(items)));
    }
}

/// `[CaughtSeq, <panics>]`, the panic caught, then a string instead.
struct CaughtOuter(f64);

impl Value for CaughtOuter {
    fn encode(&self, e: &mut Encoder<'_>) {
        let items = [Item::Inner(Box::new(CaughtSeq(self.0))), Item::Panic];
        if catch_unwind(AssertUnwindSafe(|| e.seq(items))).is_err() {
            e.str("gave up");
        }
    }
}

/// A map whose first value is a `CaughtOuter`, then a plain entry.
struct Top(f64);

impl Value for Top {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.map([
            ("k0", Item::Inner(Box::new(CaughtOuter(self.0)))),
            ("k1", Item::Number(1.0)),
            ("k2", Item::Inner(Box::new(CaughtSeq(2.0)))),
        ]);
    }
}

/// A map an entry of which panics, the panic caught.
struct CaughtMap;

impl Value for CaughtMap {
    fn encode(&self, e: &mut Encoder<'_>) {
        let entries = [("a", Item::Number(1.0)), ("b", Item::Panic)];
        if catch_unwind(AssertUnwindSafe(|| e.map(entries))).is_err() {
            e.u64(0);
        }
    }
}

/// An error whose message panics after a part of it.
#[derive(Debug)]
struct BadError;

impl std::fmt::Display for BadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        HalfWritten.fmt(f)
    }
}

impl std::error::Error for BadError {}

/// Writes `BadError` with its chain, catching the panic.
struct CaughtError;

impl Value for CaughtError {
    fn encode(&self, e: &mut Encoder<'_>) {
        let _ = catch_unwind(AssertUnwindSafe(|| e.error(&BadError)));
    }
}

/// Logs every case to `logger`, with fields after each that must keep
/// their values.
fn log_every_case(logger: &velo::Logger) {
    // A float whose bytes, read as a key or string, are not UTF-8.
    let odd = -1.839_252_593_082_292_6e137;
    velo!(logger: logger, info, "display", name = Fallback, id = 42, role = "admin");
    velo!(logger: logger, info, "seq", v = CaughtSeq(1.5), after = "ok", n = 7);
    velo!(logger: logger, info, "nested", v = Top(odd), after = "ok");
    velo!(logger: logger, info, "map", v = CaughtMap, after = "ok");
    velo!(logger: logger, info, "error", e = CaughtError, after = "ok");
    velo!(logger: logger, info, "next", k = 1);
}

#[test]
fn every_later_field_and_entry_keeps_its_value() {
    // Each caught panic prints through the default hook; keep the test's
    // output readable.
    std::panic::set_hook(Box::new(|_| {}));
    let (logger, out) = json_logger(Builder::new().timestamp(velo::Timestamp::Off).caller(false));
    log_every_case(&logger);
    logger.sync().unwrap();
    let _ = std::panic::take_hook();

    let fields: Vec<serde_json::Value> = out
        .entries()
        .into_iter()
        .map(|mut e| {
            e.remove("level");
            serde_json::Value::Object(e)
        })
        .collect();
    assert_eq!(
        fields,
        [
            json!({"msg": "display", "name": "<unavailable>", "id": 42, "role": "admin"}),
            json!({"msg": "seq", "v": null, "after": "ok", "n": 7}),
            json!({"msg": "nested", "v": {"k0": "gave up", "k1": 1.0, "k2": null}, "after": "ok"}),
            json!({"msg": "map", "v": 0, "after": "ok"}),
            json!({"msg": "error", "e": null, "after": "ok"}),
            json!({"msg": "next", "k": 1}),
        ]
    );
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.write_errors),
        (6, 0, 0)
    );
}

#[test]
fn the_text_format_reads_them_alike() {
    std::panic::set_hook(Box::new(|_| {}));
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Text)
        .timestamp(velo::Timestamp::Off)
        .caller(false)
        .writer(out.clone())
        .build()
        .unwrap();
    log_every_case(&logger);
    logger.sync().unwrap();
    let _ = std::panic::take_hook();

    // `text` checks the bytes are UTF-8.
    let lines = out.lines();
    assert_eq!(
        lines,
        [
            "INFO  display name=<unavailable> id=42 role=admin",
            "INFO  seq v=null after=ok n=7",
            "INFO  nested v=\"{\\\"k0\\\":\\\"gave up\\\",\\\"k1\\\":1.0,\\\"k2\\\":null}\" after=ok",
            "INFO  map v=0 after=ok",
            "INFO  error e=null after=ok",
            "INFO  next k=1",
        ]
    );
}
