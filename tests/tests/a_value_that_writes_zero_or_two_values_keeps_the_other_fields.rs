//! A user `Value` whose `encode` breaks the contract (writes nothing, or
//! calls the encoder twice) costs its own field only: it is `null`, or its
//! first value, and every other field of the entry, the message template,
//! context and nested containers keep their values.

use serde_json::{json, Value as Json};
use velo::{velo, Encoder, Value};
use velo_tests::json_logger;

/// Writes nothing.
struct Nothing;

impl Value for Nothing {
    fn encode(&self, _: &mut Encoder<'_>) {}
}

/// Writes two values.
struct Twice;

impl Value for Twice {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str("first");
        e.u64(2);
    }
}

/// A map whose values break the contract both ways, then a good one.
struct Nested;

impl Value for Nested {
    fn encode(&self, e: &mut Encoder<'_>) {
        struct Entry(u8);
        impl Value for Entry {
            fn encode(&self, e: &mut Encoder<'_>) {
                match self.0 {
                    0 => Nothing.encode(e),
                    _ => e.u64(u64::from(self.0)),
                }
            }
        }
        e.map([("none", Entry(0)), ("seven", Entry(7))]);
        // A second top-level value after the map: ignored.
        e.str("ignored");
    }
}

/// A map whose values write twice: each key keeps its first value.
struct Pairs;

impl Value for Pairs {
    fn encode(&self, e: &mut Encoder<'_>) {
        struct Item(bool);
        impl Value for Item {
            fn encode(&self, e: &mut Encoder<'_>) {
                if self.0 {
                    Twice.encode(e);
                } else {
                    e.u64(3);
                }
            }
        }
        e.map([("a", Item(true)), ("b", Item(true)), ("c", Item(false))]);
    }
}

#[test]
fn broken_values_cost_their_own_field_only() {
    let (logger, capture) = json_logger(
        velo::Builder::new()
            .timestamp(velo::Timestamp::Off)
            .caller(false)
            .fields(velo::fields!(ctx = Nothing, ctx2 = 5)),
    );
    let before = 1;
    velo!(logger: &logger, info, "zero {z} then {after}", before, z = Nothing, after = 3);
    velo!(logger: &logger, info, "two", t = Twice, after = 4);
    velo!(logger: &logger, info, "last", after = 5, t = Twice, z = Nothing);
    velo!(logger: &logger, info, "nested", n = Nested, list = [Nothing, Nothing], after = 6);
    velo!(logger: &logger, info, "in containers", list = [Twice, Twice], pairs = Pairs, after = 7);
    logger.sync().unwrap();
    let entries = capture.entries();
    let fields: Vec<Json> = entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.remove("level");
            Json::Object(e)
        })
        .collect();
    assert_eq!(
        fields,
        [
            json!({"msg": "zero null then 3", "ctx": null, "ctx2": 5, "before": 1, "z": null, "after": 3}),
            json!({"msg": "two", "ctx": null, "ctx2": 5, "t": "first", "after": 4}),
            json!({"msg": "last", "ctx": null, "ctx2": 5, "after": 5, "t": "first", "z": null}),
            json!({"msg": "nested", "ctx": null, "ctx2": 5, "n": {"none": null, "seven": 7}, "list": [null, null], "after": 6}),
            json!({"msg": "in containers", "ctx": null, "ctx2": 5, "list": ["first", "first"], "pairs": {"a": "first", "b": "first", "c": 3}, "after": 7}),
        ]
    );
}
