//! `{name}` in a message is replaced by that field's value as written in
//! the line (strings without quotes); a name that is no field of the call
//! is a variable in scope, captured as a field; `{{` and `}}` are braces.
//! Values in the message are escaped like any string, in both formats.

use velo::{velo, Builder, Timestamp};
use velo_tests::{json_logger, raw_keys, Capture};

fn logger() -> (velo::Logger, Capture) {
    json_logger(Builder::new().timestamp(Timestamp::Off).caller(false))
}

#[test]
fn placeholders_take_the_values_of_fields() {
    let (l, out) = logger();
    let addr = std::net::Ipv4Addr::new(10, 0, 0, 7);
    velo!(logger: &l, info, "user {user_id} logged in from {peer}", user_id = 42, peer = %addr);
    velo!(logger: &l, info, "{http.status} after {ms} ms", http.status = 503, ms = 12.5);
    velo!(logger: &l, info, "{a} and {a} again; {none}, {yes}, {list}", a = "x", none = None::<u8>, yes = true, list = [1, 2]);
    velo!(logger: &l, info, "debug {d}", d = ?("tuple", 1));
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        [
            r#"{"level":"info","msg":"user 42 logged in from 10.0.0.7","user_id":42,"peer":"10.0.0.7"}"#,
            r#"{"level":"info","msg":"503 after 12.5 ms","http.status":503,"ms":12.5}"#,
            r#"{"level":"info","msg":"x and x again; null, true, [1,2]","a":"x","none":null,"yes":true,"list":[1,2]}"#,
            r#"{"level":"info","msg":"debug (\"tuple\", 1)","d":"(\"tuple\", 1)"}"#,
        ]
    );
}

#[test]
fn a_name_that_is_no_field_captures_the_variable_as_a_field() {
    let (l, out) = logger();
    let attempt = 3;
    let host = String::from("db-1");
    velo!(logger: &l, warn, "retrying {attempt} of {max} on {host}", max = 5);
    // Still ours: captured by reference.
    let host: String = host;
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(
        lines,
        [r#"{"level":"warn","msg":"retrying 3 of 5 on db-1","max":5,"attempt":3,"host":"db-1"}"#]
    );
    assert_eq!(
        raw_keys(&lines[0]),
        ["level", "msg", "max", "attempt", "host"]
    );
    drop(host);
}

#[test]
fn doubled_braces_are_braces() {
    let (l, out) = logger();
    let x = 1;
    velo!(logger: &l, info, "{{literal}} {x} {{{x}}}");
    velo!(logger: &l, info, "only {{braces}}");
    l.sync().unwrap();
    assert_eq!(out.msgs(), ["{literal} 1 {1}", "only {braces}"]);
}

#[test]
fn hostile_values_are_escaped_in_the_message() {
    let (l, out) = logger();
    let v = "q\"uote\\ new\nline \u{1b}[31mred\u{1b}[0m \u{2028}";
    velo!(logger: &l, info, "got {v} end");
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "one line: {lines:?}");
    assert_eq!(
        lines[0],
        r#"{"level":"info","msg":"got q\"uote\\ new\nline \u001b[31mred\u001b[0m \u2028 end","v":"q\"uote\\ new\nline \u001b[31mred\u001b[0m \u2028"}"#
    );
    assert_eq!(out.msgs()[0], format!("got {v} end"), "round-trips");

    let (t, text) = velo_tests::text_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    velo!(logger: &t, info, "got {v} end");
    velo!(logger: &t, info, "user {name} in", name = "Ada Lovelace");
    t.sync().unwrap();
    let lines = text.lines();
    assert_eq!(
        lines,
        [
            r#"INFO  got q\"uote\\ new\nline \u001b[31mred\u001b[0m \u2028 end v="q\"uote\\ new\nline \u001b[31mred\u001b[0m \u2028""#,
            r#"INFO  user Ada Lovelace in name="Ada Lovelace""#,
        ]
    );
    assert!(
        !text.text().contains('\u{1b}'),
        "no terminal escape reaches the output"
    );
}

#[test]
fn every_kind_of_value_in_the_message_and_its_field() {
    let (l, out) = logger();
    let (t, text) = velo_tests::text_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    for l in [&l, &t] {
        velo!(logger: l, info, "{nan} {inf} {f} {big} {neg} {t} {s}", nan = f64::NAN, inf = f64::NEG_INFINITY, f = 1.5f32, big = u128::MAX, neg = -3i64, t = std::time::UNIX_EPOCH, s = "a b");
        // A value named twice, and a template whose fields come in another
        // order than its placeholders.
        velo!(logger: l, info, "{b}{a}{b}", a = 1.25, b = "x\ty");
    }
    l.sync().unwrap();
    t.sync().unwrap();
    assert_eq!(
        out.lines(),
        [
            r#"{"level":"info","msg":"NaN -inf 1.5 340282366920938463463374607431768211455 -3 1970-01-01T00:00:00.000000000Z a b","nan":"NaN","inf":"-inf","f":1.5,"big":340282366920938463463374607431768211455,"neg":-3,"t":"1970-01-01T00:00:00.000000000Z","s":"a b"}"#,
            r#"{"level":"info","msg":"x\ty1.25x\ty","a":1.25,"b":"x\ty"}"#,
        ]
    );
    assert_eq!(
        text.lines(),
        [
            r#"INFO  NaN -inf 1.5 340282366920938463463374607431768211455 -3 1970-01-01T00:00:00.000000000Z a b nan=NaN inf=-inf f=1.5 big=340282366920938463463374607431768211455 neg=-3 t=1970-01-01T00:00:00.000000000Z s="a b""#,
            r#"INFO  x\ty1.25x\ty a=1.25 b="x\ty""#,
        ]
    );
}
