//! Every form of the `velo!` grammar compiles where an expression of type
//! `()` may stand and writes the entry it describes: match arms, closure
//! bodies, trailing commas, shorthand fields with and without sigils, dotted
//! and string-literal keys, and every way of naming the logger.

use serde_json::{json, Map, Value as Json};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use velo::{velo, Timestamp};
use velo_tests::{json_logger, keys, Capture};

fn logger() -> (velo::Logger, Capture) {
    json_logger(velo::Builder::new().timestamp(Timestamp::Off).caller(false))
}

fn entries(logger: &velo::Logger, out: &Capture) -> Vec<Map<String, Json>> {
    logger.sync().unwrap();
    out.entries()
}

/// The fields of an entry after `level` and `msg`, as one JSON object.
fn fields(entry: &Map<String, Json>) -> Json {
    Json::Object(
        entry
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "level" | "msg"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

#[test]
fn velo_is_a_match_arm_expression() {
    let (l, out) = logger();
    for n in 0..3u8 {
        match n {
            0 => velo!(logger: &l, info, "zero"),
            1 => velo!(logger: &l, warn, "one", n),
            other => velo!(logger: &l, error, "other", n = other,),
        }
    }
    let entries = entries(&l, &out);
    let summary: Vec<(Json, Json, Json)> = entries
        .iter()
        .map(|e| (e["level"].clone(), e["msg"].clone(), fields(e)))
        .collect();
    assert_eq!(
        summary,
        [
            (json!("info"), json!("zero"), json!({})),
            (json!("warn"), json!("one"), json!({ "n": 1 })),
            (json!("error"), json!("other"), json!({ "n": 2 })),
        ]
    );
}

#[test]
fn velo_is_a_closure_body_and_a_unit_value() {
    let (l, out) = logger();
    let log = |n: u32| velo!(logger: &l, info, "closure", n);
    log(1);
    log(2);
    let unit: () = velo!(logger: &l, info, "unit");
    let () = unit;
    let flag = true;
    // As the tail of an `if` whose value is `()`.
    if flag {
        velo!(logger: &l, info, "then")
    } else {
        velo!(logger: &l, info, "else")
    }
    let results: Vec<()> = (0..2)
        .map(|i| velo!(logger: &l, debug, "not enabled", i))
        .collect();
    assert_eq!(results.len(), 2);
    let msgs: Vec<Json> = entries(&l, &out).iter().map(|e| e["msg"].clone()).collect();
    assert_eq!(msgs, ["closure", "closure", "unit", "then"]);
}

#[test]
fn trailing_commas() {
    let (l, out) = logger();
    velo!(logger: &l, info, "no fields",);
    velo!(logger: &l, info, "one field", a = 1,);
    let flag = true;
    velo!(logger: &l, info, "shorthand", a = 2, flag,);
    velo!(logger: &l, info, "shorthand", flag,);
    let entries = entries(&l, &out);
    assert_eq!(fields(&entries[0]), json!({}));
    assert_eq!(fields(&entries[1]), json!({ "a": 1 }));
    assert_eq!(fields(&entries[2]), json!({ "a": 2, "flag": true }));
    assert_eq!(fields(&entries[3]), json!({ "flag": true }));
}

/// A type with distinct `Display` and `Debug`.
struct User {
    name: &'static str,
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user {}", self.name)
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "User({:?})", self.name)
    }
}

#[test]
fn shorthand_fields_with_and_without_sigils() {
    let (l, out) = logger();
    let port = 8080u16;
    let user = User { name: "ada" };
    let hdrs = vec![("accept", "*/*")];
    velo!(logger: &l, info, "m", port, %user, ?hdrs);
    velo!(logger: &l, info, "m", ?user, user_shown = %user, port = ?port);
    let entries = entries(&l, &out);
    assert_eq!(
        fields(&entries[0]),
        json!({ "port": 8080, "user": "user ada", "hdrs": "[(\"accept\", \"*/*\")]" })
    );
    assert_eq!(
        fields(&entries[1]),
        json!({ "user": "User(\"ada\")", "user_shown": "user ada", "port": "8080" })
    );
}

#[test]
fn dotted_raw_and_string_literal_keys() {
    let (l, out) = logger();
    let r#type = "kind";
    velo!(logger: &l, info, "m",
        http.status = 200, http.request.method = "GET", a.b = %"display", c.d = ?"debug",
        r#type, r#match = 1, "error code" = 40001, "with.dots and spaces" = true, "日本" = 2,
    );
    let e = &entries(&l, &out)[0];
    assert_eq!(
        keys(e),
        [
            "level",
            "msg",
            "http.status",
            "http.request.method",
            "a.b",
            "c.d",
            "type",
            "match",
            "error code",
            "with.dots and spaces",
            "日本"
        ]
    );
    assert_eq!(
        fields(e),
        json!({
            "http.status": 200, "http.request.method": "GET", "a.b": "display", "c.d": "\"debug\"",
            "type": "kind", "match": 1, "error code": 40001, "with.dots and spaces": true, "日本": 2,
        })
    );
}

#[test]
fn value_expressions_of_every_shape() {
    let (l, out) = logger();
    let v: Vec<i32> = (1..3).map(|i| i * 10).collect();
    let add = |x: i32| x + 1;
    let pair = (1u8, "two");
    let user = User { name: "bo" };
    let n = 3i32;
    velo!(logger: &l, info, "m",
        call = v.len(), index = v[1], tuple = pair.1, field = user.name, neg = -n,
        cast = n as u8, block = { let x = 2; x * n }, cond = if n > 2 { "big" } else { "small" },
        closure = add(n), macro_call = ?vec![1, 2], reference = &n, shown = %user.name,
        math = n * 2 + 1, range = ?(0..n), string = format!("{n}!"), chained = "a-b".replace('-', "+"),
    );
    assert_eq!(
        fields(&entries(&l, &out)[0]),
        json!({
            "call": 2, "index": 20, "tuple": "two", "field": "bo", "neg": -3, "cast": 3, "block": 6,
            "cond": "big", "closure": 4, "macro_call": "[1, 2]", "reference": 3, "shown": "bo",
            "math": 7, "range": "0..3", "string": "3!", "chained": "a+b",
        })
    );
}

struct App {
    log: velo::Logger,
}

impl App {
    fn handle(&self, id: u32) {
        velo!(logger: self.log, info, "from a method", id);
        velo!(logger: &self.log, info, "by reference", id);
    }

    fn log(&self) -> &velo::Logger {
        &self.log
    }
}

#[test]
fn every_way_to_name_the_logger() {
    let (l, out) = logger();
    velo!(logger: &l, info, "reference");
    velo!(logger: l, info, "by value, borrowed");
    let arc = Arc::new(l.clone());
    velo!(logger: arc, info, "arc");
    velo!(logger: &arc, info, "arc reference");
    velo!(logger: &*arc, info, "arc reborrowed");
    velo!(logger: Arc::clone(&arc), info, "arc temporary");
    let rc = Rc::new(l.clone());
    velo!(logger: rc, info, "rc");
    let boxed = Box::new(l.clone());
    velo!(logger: boxed, info, "box");
    let app = App { log: l.clone() };
    app.handle(1);
    velo!(logger: app.log(), info, "method call");
    velo!(logger: l.clone(), info, "clone temporary");
    let child = l.with(velo::fields!(request_id = 7));
    velo!(logger: &child, info, "child", status = 200);
    velo!(logger: child, info, "child by value");
    let grandchild = child.with(velo::fields!(user = "ada"));
    velo!(logger: Arc::new(grandchild), info, "grandchild in an arc");
    let mut owned = l.clone();
    let by_mut: &mut velo::Logger = &mut owned;
    velo!(logger: by_mut, info, "mutable reference");
    static LAZY: std::sync::LazyLock<velo::Logger> = std::sync::LazyLock::new(|| {
        velo::Builder::new()
            .writer(std::io::sink())
            .build()
            .unwrap()
    });
    velo!(logger: &LAZY, info, "a lazy static's, elsewhere");
    let locked = std::sync::Mutex::new(l.clone());
    velo!(logger: locked.lock().unwrap(), info, "a lock guard's");
    let shared = std::sync::RwLock::new(l.clone());
    velo!(logger: shared.read().unwrap(), info, "a read guard's");
    // Every handle is still usable: `logger:` never moves what it names.
    drop((l.clone(), arc, rc, boxed, app, child, owned, locked, shared));

    let entries = entries(&l, &out);
    let msgs: Vec<&Json> = entries.iter().map(|e| &e["msg"]).collect();
    assert_eq!(
        msgs,
        [
            "reference",
            "by value, borrowed",
            "arc",
            "arc reference",
            "arc reborrowed",
            "arc temporary",
            "rc",
            "box",
            "from a method",
            "by reference",
            "method call",
            "clone temporary",
            "child",
            "child by value",
            "grandchild in an arc",
            "mutable reference",
            "a lock guard's",
            "a read guard's",
        ]
    );
    assert_eq!(fields(&entries[8]), json!({ "id": 1 }));
    assert_eq!(
        fields(&entries[12]),
        json!({ "request_id": 7, "status": 200 })
    );
    assert_eq!(fields(&entries[13]), json!({ "request_id": 7 }));
    assert_eq!(
        fields(&entries[14]),
        json!({ "request_id": 7, "user": "ada" })
    );
}

fn log_generic<T: velo::Value, D: fmt::Display + ?Sized>(l: &velo::Logger, value: T, shown: &D) {
    velo!(logger: l, info, "generic", value, %shown);
}

macro_rules! log_twice {
    ($logger:expr, $value:expr) => {{
        velo!(logger: $logger, info, "from a macro", v = $value);
        velo!(logger: $logger, info, "from a macro", v = ?$value);
    }};
}

#[test]
fn inside_generic_functions_and_other_macros() {
    let (l, out) = logger();
    log_generic(&l, 5u8, "five");
    log_generic(&l, [1.5], &User { name: "cy" });
    log_twice!(&l, 3 + 4);
    let entries = entries(&l, &out);
    assert_eq!(fields(&entries[0]), json!({ "value": 5, "shown": "five" }));
    assert_eq!(
        fields(&entries[1]),
        json!({ "value": [1.5], "shown": "user cy" })
    );
    assert_eq!(fields(&entries[2]), json!({ "v": 7 }));
    assert_eq!(fields(&entries[3]), json!({ "v": "7" }));
}

#[test]
fn user_locals_named_like_generated_ones() {
    let (l, out) = logger();
    let __velo_entry = 1;
    let __velo_logger = 2;
    let __velo_v0 = 3;
    let __velo = 4;
    let entry = 5;
    velo!(logger: &l, info, "m", __velo_v0, __velo_entry, __velo_logger, __velo, entry);
    assert_eq!(
        fields(&entries(&l, &out)[0]),
        json!({ "__velo_v0": 3, "__velo_entry": 1, "__velo_logger": 2, "__velo": 4, "entry": 5 })
    );
}

#[test]
fn every_level_keyword() {
    let (l, out) = json_logger(
        velo::Builder::new()
            .level(velo::LevelFilter::Trace)
            .timestamp(Timestamp::Off)
            .caller(false),
    );
    velo!(logger: &l, trace, "t");
    velo!(logger: &l, debug, "d");
    velo!(logger: &l, info, "i");
    velo!(logger: &l, warn, "w");
    velo!(logger: &l, error, "e");
    let levels: Vec<Json> = entries(&l, &out)
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
}
