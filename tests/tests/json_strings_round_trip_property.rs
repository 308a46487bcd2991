//! Any string logged as a value, through `Value`, `%` or `?`, reads back from
//! the JSON line unchanged, and the line carries no raw control character.
//! Keys and messages are compile-time text, so a fixed table of hostile
//! string literals stands in for them.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value as Json};
use std::cell::Cell;
use velo::{velo, Timestamp};
use velo_tests::{json_logger, keys, parse_line, Capture};

/// Cases per property: enough to find escaping slips, fast in debug builds.
const CASES: u32 = 256;

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        // Failures are reported in the panic message; no files in the tree.
        failure_persistence: None,
        ..Config::default()
    })
}

fn logger() -> (velo::Logger, Capture) {
    json_logger(velo::Builder::new().timestamp(Timestamp::Off).caller(false))
}

/// The entry written since the previous call; `seen` is the byte offset of
/// the output already read.
fn next_entry(
    logger: &velo::Logger,
    out: &Capture,
    seen: &Cell<usize>,
) -> Result<Map<String, Json>, TestCaseError> {
    logger.sync().unwrap();
    let text = out.text();
    let new = &text[seen.replace(text.len())..];
    prop_assert_eq!(new.matches('\n').count(), 1, "one line: {:?}", new);
    prop_assert!(new.ends_with('\n'));
    let line = &new[..new.len() - 1];
    prop_assert!(
        !line.chars().any(|c| matches!(
            c,
            '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}'
        )),
        "raw control character in {:?}",
        line
    );
    Ok(parse_line(line))
}

/// Strings rich in what escapers get wrong: C0 controls, quotes,
/// backslashes, DEL and C1 controls, the other two-byte sequences sharing
/// their lead byte, U+2000..U+2FFF (the line separators and their
/// neighbours), emoji, plus any character at all.
fn hostile_string() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => prop::char::range('\0', '\x1f'),
        2 => Just('"'),
        2 => Just('\\'),
        2 => prop::char::range('\x7f', '\u{9f}'),
        1 => prop::char::range('\u{a0}', '\u{bf}'),
        2 => prop::sample::select(vec!['\u{2028}', '\u{2029}', '\u{2027}', '\u{202a}']),
        1 => prop::char::range('\u{2000}', '\u{2fff}'),
        1 => prop::sample::select(vec!['🎉', '😀', '日', 'é', '\u{feff}', '\u{fffd}', '\u{10ffff}']),
        3 => prop::char::range(' ', '~'),
        1 => any::<char>(),
    ];
    prop::collection::vec(c, 0..48).prop_map(|chars| chars.into_iter().collect())
}

fn check_values(strategy: impl Strategy<Value = String>) {
    let (l, out) = logger();
    let seen = Cell::new(0);
    let result = runner().run(&strategy, |s| {
        velo!(logger: &l, info, "m", v = s.as_str(), owned = s, d = %s, g = ?s, some = Some(&s), list = [&s, &s]);
        let entry = next_entry(&l, &out, &seen)?;
        prop_assert_eq!(keys(&entry), ["level", "msg", "v", "owned", "d", "g", "some", "list"]);
        prop_assert_eq!(entry["v"].as_str(), Some(s.as_str()));
        prop_assert_eq!(entry["owned"].as_str(), Some(s.as_str()));
        prop_assert_eq!(entry["d"].as_str(), Some(s.as_str()));
        let debug = format!("{s:?}");
        prop_assert_eq!(entry["g"].as_str(), Some(debug.as_str()));
        prop_assert_eq!(entry["some"].as_str(), Some(s.as_str()));
        prop_assert_eq!(&entry["list"], &Json::from(vec![s.clone(), s.clone()]));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn arbitrary_strings_round_trip() {
    check_values(any::<String>());
}

#[test]
fn hostile_strings_round_trip() {
    check_values(hostile_string());
}

#[test]
fn arbitrary_chars_round_trip() {
    let (l, out) = logger();
    let seen = Cell::new(0);
    let result = runner().run(&any::<char>(), |c| {
        velo!(logger: &l, info, "m", c, d = %c, g = ?c);
        let entry = next_entry(&l, &out, &seen)?;
        prop_assert_eq!(&entry["c"], &Json::from(c.to_string()));
        prop_assert_eq!(&entry["d"], &Json::from(c.to_string()));
        prop_assert_eq!(&entry["g"], &Json::from(format!("{c:?}")));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Logs one entry per literal with it as key, another with it as message,
/// and returns the literals in order.
macro_rules! log_each {
    ($logger:expr, $($lit:tt),* $(,)?) => {{
        $(
            velo!(logger: $logger, info, $lit, $lit = $lit);
        )*
        [$($lit),*]
    }};
}

#[test]
fn hostile_keys_and_messages_round_trip() {
    let (l, out) = logger();
    let table = log_each!(
        &l,
        "a\"b",
        "tab\there",
        "nl\nkey",
        "cr\rkey",
        "\u{1b}[31m",
        "\x1b]0;title\x07",
        "nul\0",
        "del\x7f",
        "c1\u{80}\u{9b}\u{9f}",
        "ls\u{2028}ps\u{2029}",
        "back\\slash",
        "\\u0000",
        "\\",
        "\"",
        "日本",
        "🎉 emoji",
        "\u{feff}bom",
        "key with spaces",
        "k=v",
        " ",
        "=",
        "[a,b]",
        "\",\"level\":\"error",
        r#"raw "quoted" \n"#,
        "Level",
        "time ",
        "http.status",
    );
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), table.len(), "{lines:#?}");
    for (literal, line) in table.iter().zip(&lines) {
        let entry = parse_line(line);
        assert_eq!(keys(&entry), ["level", "msg", literal], "{line}");
        assert_eq!(entry["msg"], *literal, "{line}");
        assert_eq!(entry[*literal], *literal, "{line}");
    }
}

/// Braces in a message are written `{{` and `}}` (a single one opens a
/// placeholder); in a key they are plain text.
#[test]
fn braces_round_trip_in_messages_and_keys() {
    let (l, out) = logger();
    velo!(logger: &l, info, "{{\"level\":\"error\"}}", "{\"level\":\"error\"}" = 1);
    velo!(logger: &l, info, "}}\n{{\"forged\":true}}", "}\n{\"forged\":true}" = 2);
    l.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["msg"], "{\"level\":\"error\"}");
    assert_eq!(entries[0]["{\"level\":\"error\"}"], 1);
    assert_eq!(entries[1]["msg"], "}\n{\"forged\":true}");
    assert_eq!(entries[1]["}\n{\"forged\":true}"], 2);
}

#[test]
fn empty_message_round_trips() {
    let (l, out) = logger();
    velo!(logger: &l, info, "", v = "");
    l.sync().unwrap();
    assert_eq!(out.lines(), [r#"{"level":"info","msg":"","v":""}"#]);
}

/// A string and a float named in a message template read back the same
/// from the message and from their fields (which copy the message's bytes).
#[test]
fn hostile_strings_round_trip_through_templates() {
    let (l, out) = logger();
    let seen = Cell::new(0);
    let strategy = (hostile_string(), any::<f64>(), any::<i64>());
    let result = runner().run(&strategy, |(s, x, n)| {
        velo!(logger: &l, info, "<{s}|{x}|{n}|{d}>", d = %s);
        let entry = next_entry(&l, &out, &seen)?;
        prop_assert_eq!(keys(&entry), ["level", "msg", "d", "s", "x", "n"]);
        prop_assert_eq!(entry["s"].as_str(), Some(s.as_str()));
        prop_assert_eq!(entry["d"].as_str(), Some(s.as_str()));
        prop_assert_eq!(entry["n"].as_i64(), Some(n));
        let x_text = if x.is_finite() {
            // The number as written (serde_json's parser may round).
            let line = out.lines().pop().unwrap();
            let raw = line.split(",\"x\":").nth(1).unwrap();
            let raw = &raw[..raw.find(',').unwrap()];
            prop_assert_eq!(raw.parse::<f64>().ok(), Some(x), "{}", raw);
            raw.to_owned()
        } else {
            entry["x"].as_str().unwrap().to_owned()
        };
        let msg = format!("<{s}|{x_text}|{n}|{s}>");
        prop_assert_eq!(entry["msg"].as_str(), Some(msg.as_str()));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
