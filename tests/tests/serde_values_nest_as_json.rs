//! `velo::Serde` (feature `serde`): a nested struct, enum, map and Option
//! value is written as nested JSON equal to serde_json's own rendering of
//! it, hostile strings in keys and values included; the text format writes
//! it as compact JSON on one clean line; keys that are not strings are
//! written as their text; a failing `Serialize` leaves a whole entry.

use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use velo::{velo, Builder, Serde, Timestamp};
use velo_tests::json_logger;

/// Strings that break lines, forge entries or reach a terminal unless
/// escaped.
const HOSTILE: [&str; 8] = [
    "quote\" and back\\slash",
    "new\nline, cr\r, tab\t",
    "\0nul \u{1f} unit-sep \u{7f} del \u{85} nel",
    "line\u{2028}separator\u{2029}paragraph",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J",
    "{\"forged\":1}\n{\"level\":\"error\",\"msg\":\"pwned\"}",
    "héllo wörld ✓ 🦀",
    "",
];

#[derive(Serialize)]
struct Order {
    id: u64,
    customer: Customer,
    lines: Vec<Line>,
    status: Status,
    history: Vec<Status>,
    labels: BTreeMap<String, String>,
    counts: BTreeMap<u32, Option<i64>>,
    flags: BTreeMap<char, bool>,
    note: Option<String>,
    missing: Option<Customer>,
    pair: (i8, f64, char),
    unit: (),
    wrapper: Wrapper,
    bytes: Vec<u8>,
}

#[derive(Serialize)]
struct Customer {
    name: String,
    #[serde(rename = "e-mail \"primary\"")]
    email: String,
    vip: bool,
}

#[derive(Serialize)]
struct Line {
    sku: &'static str,
    qty: u32,
    price: f64,
}

#[derive(Serialize)]
enum Status {
    Pending,
    Held(String),
    Split(u8, i16),
    Shipped { carrier: String, days: u8 },
}

#[derive(Serialize)]
struct Wrapper(Vec<Option<bool>>);

fn order(hostile: &str) -> Order {
    Order {
        id: u64::MAX,
        customer: Customer {
            name: hostile.to_owned(),
            email: format!("{hostile}@example.com"),
            vip: true,
        },
        lines: vec![
            Line {
                sku: "A-1",
                qty: 2,
                price: 9.99,
            },
            Line {
                sku: "B\"2",
                qty: 0,
                price: -0.5,
            },
        ],
        status: Status::Shipped {
            carrier: hostile.to_owned(),
            days: 3,
        },
        history: vec![
            Status::Pending,
            Status::Held(hostile.to_owned()),
            Status::Split(1, -2),
        ],
        labels: HOSTILE
            .iter()
            .map(|h| (h.to_string(), hostile.to_owned()))
            .collect(),
        counts: [(1, Some(-7)), (20, None), (300, Some(i64::MIN))].into(),
        flags: [('x', true), ('"', false), ('\n', true)].into(),
        note: Some(hostile.to_owned()),
        missing: None,
        pair: (-128, 1.5e300, '\u{1b}'),
        unit: (),
        wrapper: Wrapper(vec![Some(true), None]),
        bytes: vec![0, 255, 10],
    }
}

#[test]
fn nested_values_round_trip_through_json() {
    let (logger, out) = json_logger(Builder::new());
    for h in HOSTILE {
        velo!(logger: &logger, info, "saved", order = Serde(&order(h)), after = 1);
    }
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), HOSTILE.len());
    for (entry, h) in entries.iter().zip(HOSTILE) {
        let expected = serde_json::to_value(order(h)).unwrap();
        assert_eq!(entry["order"], expected, "for {h:?}");
        // The fields after it are intact.
        assert_eq!(entry["after"], 1);
    }
    // Spot checks of the shapes, independent of serde_json's rendering.
    let o = &entries[0]["order"];
    assert_eq!(
        o["status"],
        json!({"Shipped": {"carrier": HOSTILE[0], "days": 3}})
    );
    assert_eq!(
        o["history"],
        json!(["Pending", {"Held": HOSTILE[0]}, {"Split": [1, -2]}])
    );
    assert_eq!(o["counts"], json!({"1": -7, "20": null, "300": i64::MIN}));
    assert_eq!(o["flags"], json!({"x": true, "\"": false, "\n": true}));
    assert_eq!(o["missing"], Value::Null);
    assert_eq!(o["pair"], json!([-128, 1.5e300, "\u{1b}"]));
    assert_eq!(o["wrapper"], json!([true, null]));
    assert_eq!(o["labels"].as_object().unwrap().len(), HOSTILE.len());
}

#[test]
fn compound_keys_are_written_as_their_json_text() {
    let (logger, out) = json_logger(Builder::new());
    let by_pair: BTreeMap<(u8, &str), u8> = [((1, "a\"b"), 1), ((2, "c"), 2)].into();
    let by_unit: HashMap<Option<()>, u8> = [(None, 3)].into();
    let by_status: BTreeMap<u8, Status> = [(7, Status::Pending)].into();
    let by_float: Vec<(f64, u8)> = vec![(2.5, 1)];
    let by_float: BTreeMap<String, BTreeMap<u64, f64>> = by_float
        .into_iter()
        .map(|(f, _)| (f.to_string(), [(1u64, f)].into()))
        .collect();
    velo!(
        logger: &logger,
        info,
        "keys",
        pair = Serde(&by_pair),
        unit = Serde(&by_unit),
        status = Serde(&by_status),
        float = Serde(&by_float)
    );
    logger.sync().unwrap();
    let e = &out.entries()[0];
    assert_eq!(e["pair"], json!({"[1,\"a\\\"b\"]": 1, "[2,\"c\"]": 2}));
    assert_eq!(e["unit"], json!({"null": 3}));
    assert_eq!(e["status"], json!({"7": "Pending"}));
    assert_eq!(e["float"], json!({"2.5": {"1": 2.5}}));
}

#[test]
fn the_text_format_writes_compact_json_on_one_clean_line() {
    let (logger, out) =
        velo_tests::text_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    for h in HOSTILE {
        velo!(logger: &logger, info, "saved", order = Serde(&order(h)), after = 1);
    }
    logger.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), HOSTILE.len());
    for (line, h) in lines.iter().zip(HOSTILE) {
        for c in line.chars() {
            assert!(
                !matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
                "raw {c:?} in {line:?}"
            );
        }
        let rest = line.strip_prefix("INFO  saved order=").expect("the layout");
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        // Compact JSON, quoted as a whole: the order holds blanks, which
        // bare would end the value for a logfmt reader.
        let Value::String(json) = values.next().unwrap().expect("a quoted value") else {
            panic!("not quoted: {rest}");
        };
        assert_eq!(&rest[values.byte_offset()..], " after=1");
        let value: Value = serde_json::from_str(&json).expect("compact JSON");
        assert_eq!(value, serde_json::to_value(order(h)).unwrap(), "for {h:?}");
        assert!(
            !json.contains(": ") && !json.contains(", \""),
            "not compact: {json}"
        );
    }
}

/// A value whose `Serialize` fails half way, inside nested data.
struct Failing;

impl Serialize for Failing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("fine", &[1, 2])?;
        map.serialize_key("broken")?;
        Err(S::Error::custom("the lock is poisoned"))
    }
}

#[test]
fn a_failing_serialize_leaves_a_whole_entry() {
    let (logger, out) = json_logger(Builder::new());
    let nested = json!({"a": [1, {"b": "c"}]});
    velo!(
        logger: &logger,
        info,
        "partial",
        before = Serde(&nested),
        bad = Serde(&vec![Some(Failing)]),
        after = Serde(&nested)
    );
    logger.sync().unwrap();
    let e = &out.entries()[0];
    assert_eq!(e["before"], nested);
    assert_eq!(e["bad"], "<serialize error: the lock is poisoned>");
    assert_eq!(e["after"], nested);
}

/// A value that writes a number, then (against the contract) a `Serde`.
struct ThenSerde<T>(T);

impl<T: Serialize> velo::Value for ThenSerde<T> {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.u64(1);
        Serde(&self.0).encode(e);
    }
}

/// A value that writes a `Serde`, then a string.
struct SerdeThen;

impl velo::Value for SerdeThen {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        Serde(&json!({"id": 9})).encode(e);
        e.str("x");
    }
}

#[test]
fn a_serde_value_after_another_value_is_ignored_not_shifted() {
    let (logger, out) =
        json_logger(Builder::new().fields(velo::fields!(w1 = ThenSerde(2), w2 = 2)));
    velo!(
        logger: &logger,
        info,
        "twice",
        a = ThenSerde(json!({"id": 9})),
        b = SerdeThen,
        c = [ThenSerde(vec![1, 2])],
        after = 1
    );
    logger.sync().unwrap();
    let e = &out.entries()[0];
    assert_eq!(e["w1"], 1);
    assert_eq!(e["w2"], 2);
    assert_eq!(e["a"], 1);
    assert_eq!(e["b"], json!({"id": 9}));
    assert_eq!(e["c"], json!([1]));
    assert_eq!(e["after"], 1);
}

/// A list nested `self.0` levels deep: `[[[...[0, "after"]..., "after"], "after"]`.
struct Deep(usize);

impl Serialize for Deep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        if self.0 == 0 {
            return s.serialize_u64(0);
        }
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&Deep(self.0 - 1))?;
        seq.serialize_element(&"after")?;
        seq.end()
    }
}

#[test]
fn a_value_nested_too_deep_is_cut_and_the_worker_survives() {
    let (logger, out) = json_logger(Builder::new().timestamp(Timestamp::Off));
    // On a thread with a large stack: the `Serialize` impl itself recurses
    // 20,000 levels on the caller. What is checked is the worker, which
    // formats the value on its own thread and stack.
    let l = logger.clone();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || velo!(logger: &l, info, "deep", v = Serde(&Deep(20_000)), next = 1))
        .unwrap()
        .join()
        .unwrap();
    velo!(logger: &logger, info, "still logging");
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 2, "the worker wrote both");
    let mut v = &entries[0]["v"];
    let mut levels = 0;
    while let Value::Array(items) = v {
        assert_eq!(items[1], "after", "each level whole");
        v = &items[0];
        levels += 1;
    }
    assert_eq!(levels, 64);
    assert_eq!(v, "(nested too deep)");
    assert_eq!(entries[0]["next"], 1, "the fields after it are intact");
    assert_eq!(entries[1]["msg"], "still logging");
}

/// `[x, "x"` then an error, the sequence never ended.
struct Partial(f64);

impl Serialize for Partial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        seq.serialize_element(&self.0)?;
        seq.serialize_element("x")?;
        Err(S::Error::custom("partial"))
    }
}

/// A sequence that ignores its `Partial` element's error, then fails.
struct Outer(f64);

impl Serialize for Outer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        let _ = seq.serialize_element(&Partial(self.0));
        Err(S::Error::custom("outer"))
    }
}

/// A map that goes on past its entries' errors: an entry whose value
/// fails, a compound key that fails, a value whose `Serialize` panics
/// (caught), a struct field that fails, then good entries.
struct Lenient(f64);

impl Serialize for Lenient {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        let _ = map.serialize_entry("k0", &Outer(self.0));
        let _ = map.serialize_entry(&[Partial(self.0)], &1);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = map.serialize_entry("k2", &Panics);
        }));
        assert!(panicked.is_err());
        let _ = map.serialize_entry(
            "k3",
            &Record {
                ok: 1,
                bad: Partial(self.0),
            },
        );
        map.serialize_entry("k4", &vec![Some(1)])?;
        map.end()
    }
}

/// A struct with a field whose value fails.
#[derive(Serialize)]
struct Record {
    ok: u8,
    bad: Partial,
}

/// A value whose `Serialize` panics.
struct Panics;

impl Serialize for Panics {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("a bug in a Serialize impl")
    }
}

#[test]
fn errors_a_serialize_ignores_leave_no_half_value() {
    std::panic::set_hook(Box::new(|_| {}));
    let (logger, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    // A float whose bytes, read as a key or string, are not UTF-8.
    let odd = -1.839_252_593_082_292_6e137;
    velo!(logger: &logger, info, "lenient", v = Serde(&Lenient(odd)), after = "ok");
    velo!(logger: &logger, info, "next", k = 1);
    logger.sync().unwrap();
    let _ = std::panic::take_hook();

    let entries = out.entries();
    // Each entry that failed is left out whole (`k3`'s struct passes its
    // field's error on); `k2`'s value panicked after its key was written:
    // the key stays, with `null`.
    assert_eq!(
        entries[0]["v"],
        json!({"k2": null, "k4": [1]}),
        "{entries:?}"
    );
    assert_eq!(entries[0]["after"], "ok");
    assert_eq!(entries[1]["msg"], "next");
    assert_eq!(entries[1]["k"], 1);
}

#[test]
fn child_bridges_serde_key_values() {
    if !velo_tests::is_child("child_bridges_serde_key_values") {
        return;
    }
    Builder::new()
        .format(velo::Format::Json)
        .stderr()
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    let o = order(HOSTILE[1]);
    let tags = vec!["a", "b"];
    log::info!(order:serde = o, tags:serde = tags, shown:% = 1.5, debugged:? = tags, n = 3; "bridged");
    velo::close();
}

/// With the `log` feature too, a `log` record's key-values captured with
/// `:serde` nest as `velo::Serde` writes them; `:%` and `:?` stay text.
#[test]
fn log_key_values_captured_with_serde_nest() {
    let out = velo_tests::run_child("child_bridges_serde_key_values", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = velo_tests::json_lines(&out.stderr);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["msg"], "bridged");
    assert_eq!(e["order"], serde_json::to_value(order(HOSTILE[1])).unwrap());
    assert_eq!(e["tags"], json!(["a", "b"]));
    assert_eq!(e["shown"], "1.5");
    assert_eq!(e["debugged"], "[\"a\", \"b\"]");
    assert_eq!(e["n"], 3);
}
