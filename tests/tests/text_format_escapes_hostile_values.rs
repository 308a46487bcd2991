//! The text format lays an entry out as `TIME LEVEL message key=value ...
//! caller=file:line`, quotes a value only when it must (space, `=`, quote,
//! backslash, control character, `[`, `]`, `,`, or empty) with JSON escapes
//! inside the quotes, and so keeps every entry on one line with no raw
//! terminal escape, whatever the values hold.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use velo::{velo, Timestamp};
use velo_tests::{text_logger, Capture};

const FILE: &str = "tests/tests/text_format_escapes_hostile_values.rs";

/// No time and no caller: lines are `LEVEL message key=value ...`.
fn bare_logger() -> (velo::Logger, Capture) {
    text_logger(velo::Builder::new().timestamp(Timestamp::Off).caller(false))
}

fn lines(logger: &velo::Logger, out: &Capture) -> Vec<String> {
    logger.sync().unwrap();
    let text = out.text();
    assert!(!text.contains('\r'), "raw CR in {text:?}");
    let lines = out.lines();
    for line in &lines {
        assert_clean(line);
    }
    lines
}

/// Asserts the line holds no raw control character, so it cannot break the
/// line or reach a terminal as an escape sequence.
fn assert_clean(line: &str) {
    assert!(!line.as_bytes().contains(&0x1b), "raw ESC in {line:?}");
    for c in line.chars() {
        assert!(
            !matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
            "raw {c:?} in {line:?}"
        );
    }
}

/// One token of a text line: a bare word, a quoted string, or a bare word
/// with quoted strings inside (an array such as `["a b",c]`).
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Bare(String),
    Quoted(String),
}

impl Token {
    /// The text the token stands for: a quoted string unescaped.
    fn text(&self) -> &str {
        match self {
            Token::Bare(s) | Token::Quoted(s) => s,
        }
    }
}

/// Reads a quoted string at the start of `s` (which begins with `"`),
/// decoding JSON escapes; returns it and the rest of `s`.
fn read_quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    assert_eq!(chars.next(), Some((0, '"')), "{s:?}");
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => {
                let (_, e) = chars
                    .next()
                    .unwrap_or_else(|| panic!("dangling escape in {s:?}"));
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).map(|_| chars.next().unwrap().1).collect();
                        let code = u32::from_str_radix(&hex, 16).unwrap();
                        // velo never writes surrogates: every char it
                        // escapes is below U+10000.
                        out.push(
                            char::from_u32(code).unwrap_or_else(|| panic!("\\u{hex} in {s:?}")),
                        );
                    }
                    other => panic!("unknown escape \\{other} in {s:?}"),
                }
            }
            c => out.push(c),
        }
    }
    panic!("unterminated quote in {s:?}")
}

/// Reads one token from the start of `s`, ending at `stop` (outside quotes)
/// or at the end; returns it and the rest.
fn read_token(s: &str, stop: char) -> (Token, &str) {
    if s.starts_with('"') {
        let (text, rest) = read_quoted(s);
        return (Token::Quoted(text), rest);
    }
    // A bare word; an array's quoted items may hold spaces.
    let mut end = 0;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == stop {
            break;
        }
        if c == '"' {
            let (_, after) = read_quoted(rest);
            end += rest.len() - after.len();
            rest = after;
        } else {
            end += c.len_utf8();
            rest = &rest[c.len_utf8()..];
        }
    }
    (Token::Bare(s[..end].to_owned()), rest)
}

/// Parses ` key=value key=value ...` into pairs.
fn parse_pairs(mut s: &str) -> Vec<(Token, Token)> {
    let mut pairs = Vec::new();
    while !s.is_empty() {
        s = s
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("expected a space before {s:?}"));
        let (key, rest) = read_token(s, '=');
        let rest = rest
            .strip_prefix('=')
            .unwrap_or_else(|| panic!("expected `=` in {s:?}"));
        let (value, rest) = read_token(rest, ' ');
        pairs.push((key, value));
        s = rest;
    }
    pairs
}

/// Splits `LEVEL message pairs` given the message as written.
fn parse_line(line: &str, level: &str, message: &str) -> Vec<(Token, Token)> {
    let rest = line
        .strip_prefix(level)
        .unwrap_or_else(|| panic!("level {level:?} in {line:?}"));
    let rest = rest
        .strip_prefix(message)
        .unwrap_or_else(|| panic!("message {message:?} in {line:?}"));
    parse_pairs(rest)
}

fn texts(pairs: &[(Token, Token)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.text(), v.text())).collect()
}

#[test]
fn layout_is_time_level_message_pairs_caller() {
    let (root, out) = text_logger(velo::Builder::new().fields(velo::fields!(service = "api")));
    let child = root.with(velo::fields!(request_id = 7));
    let line = line!() + 1;
    velo!(logger: &child, info, "request done", status = 200, took_ms = 1.5, ok = true);
    velo!(logger: &root, warn, "warned");
    let lines = lines(&root, &out);
    assert_eq!(lines.len(), 2);

    let (time, rest) = lines[0].split_once(' ').unwrap();
    assert_eq!(time.len(), "2026-11-27T17:03:12.123456Z".len(), "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    assert_eq!(
        rest,
        format!("INFO  request done service=api request_id=7 status=200 took_ms=1.5 ok=true caller={FILE}:{line}")
    );
    let (_, rest) = lines[1].split_once(' ').unwrap();
    assert_eq!(
        rest,
        format!("WARN  warned service=api caller={FILE}:{}", line + 1)
    );
}

#[test]
fn level_labels_are_padded_to_one_width() {
    let (l, out) = text_logger(
        velo::Builder::new()
            .level(velo::LevelFilter::Trace)
            .timestamp(Timestamp::Off)
            .caller(false),
    );
    velo!(logger: &l, trace, "m");
    velo!(logger: &l, debug, "m");
    velo!(logger: &l, info, "m");
    velo!(logger: &l, warn, "m");
    velo!(logger: &l, error, "m");
    assert_eq!(
        lines(&l, &out),
        ["TRACE m", "DEBUG m", "INFO  m", "WARN  m", "ERROR m"]
    );
}

#[test]
fn values_are_quoted_only_when_needed() {
    let (l, out) = bare_logger();
    let cases = [
        ("bare", "bare"),
        ("", r#""""#),
        ("two words", r#""two words""#),
        ("k=v", r#""k=v""#),
        ("q\"", r#""q\"""#),
        ("back\\slash", r#""back\\slash""#),
        ("[open", r#""[open""#),
        ("close]", r#""close]""#),
        ("a,b", r#""a,b""#),
        ("tab\t", r#""tab\t""#),
        ("del\x7f", r#""del\u007f""#),
        ("c1\u{9b}", r#""c1\u009b""#),
        ("ls\u{2028}", r#""ls\u2028""#),
        ("é日本🎉", "é日本🎉"),
        ("/path/to/file.rs:10", "/path/to/file.rs:10"),
        // A string that would read as a number, a bool or null, bare.
        ("-1.5e3", r#""-1.5e3""#),
        ("42", r#""42""#),
        ("true", r#""true""#),
        ("null", r#""null""#),
        ("NaN", r#""NaN""#),
        ("1.2.3", "1.2.3"),
        ("nullable", "nullable"),
        // Braces are a map's punctuation: `{}` alone is an empty map.
        ("{}", r#""{}""#),
        ("a:b;c{d}", r#""a:b;c{d}""#),
        ("a:b;c", "a:b;c"),
        ("it's", "it's"),
    ];
    for (value, _) in cases {
        velo!(logger: &l, info, "m", v = value);
    }
    let lines = lines(&l, &out);
    for ((value, written), line) in cases.iter().zip(&lines) {
        assert_eq!(line, &format!("INFO  m v={written}"), "value {value:?}");
        let pairs = parse_line(line, "INFO  ", "m");
        assert_eq!(texts(&pairs), [("v", *value)]);
    }
}

/// Non-strings are bare; an array holding a blank is quoted as a whole
/// (see `an_array_or_map_holding_a_blank_or_eq_is_one_quoted_value`).
#[test]
fn non_strings_are_bare() {
    let (l, out) = bare_logger();
    velo!(logger: &l, info, "m",
        int = -3, big = u128::MAX, float = 2.5, nan = f64::NAN, inf = f64::NEG_INFINITY,
        yes = true, none = None::<u8>, list = [1, 2], words = ["a b", "c"], empty = [0u8; 0],
        looks_typed = ["123", "true", "null"],
        dur = std::time::Duration::from_millis(1500), ip = std::net::Ipv4Addr::LOCALHOST,
        at = std::time::UNIX_EPOCH,
    );
    assert_eq!(
        lines(&l, &out),
        [format!(
            "INFO  m int=-3 big={} float=2.5 nan=NaN inf=-inf yes=true none=null list=[1,2] \
             words=\"[\\\"a b\\\",\\\"c\\\"]\" empty=[] looks_typed=[\"123\",\"true\",\"null\"] dur=1.5s ip=127.0.0.1 at=1970-01-01T00:00:00.000000000Z",
            u128::MAX
        )]
    );
}

/// Values an attacker might send to break a line, forge a field or an
/// entry, or reach the terminal.
const HOSTILE: &[&str] = &[
    "line\nbreak",
    "carriage\rreturn",
    "crlf\r\n",
    "\u{1b}[31mred\u{1b}[0m",
    "\u{1b}]0;title\u{7}",
    "\u{9b}2J",
    "say \"hi\"",
    "a=b",
    "x y",
    " level=error",
    "\" level=error msg=\"forged",
    "ok\nINFO  forged entry caller=src/main.rs:1",
    "back\\",
    "\\\"",
    "\u{2028}\u{2029}",
    "nul\0",
    "",
    "=",
    " ",
];

#[test]
fn hostile_values_stay_on_one_line_and_parse_back() {
    let (l, out) = text_logger(velo::Builder::new().timestamp(Timestamp::Off));
    let line_no = line!() + 2;
    for v in HOSTILE {
        velo!(logger: &l, error, "hostile", v, shown = %v, dbg = ?v, after = 1);
    }
    let lines = lines(&l, &out);
    assert_eq!(lines.len(), HOSTILE.len(), "one line per entry: {lines:#?}");
    let caller = format!("{FILE}:{line_no}");
    for (v, line) in HOSTILE.iter().zip(&lines) {
        let pairs = parse_line(line, "ERROR ", "hostile");
        let debug = format!("{v:?}");
        assert_eq!(
            texts(&pairs),
            [
                ("v", *v),
                ("shown", *v),
                ("dbg", &*debug),
                ("after", "1"),
                ("caller", &*caller)
            ],
            "{line:?}"
        );
        // Nothing but the real fields: a forged `level=` stays inside a value.
        assert!(
            pairs.iter().all(|(k, _)| matches!(k, Token::Bare(_))),
            "{line:?}"
        );
    }
}

#[test]
fn hostile_context_fields_are_escaped_too() {
    let (root, out) = bare_logger();
    let l = root.with(velo::fields!(a = "x\ny", b = %"\u{1b}[2J", c = ?"q\"", d = " level=error"));
    velo!(logger: &l, info, "m");
    let lines = lines(&root, &out);
    assert_eq!(lines.len(), 1);
    let pairs = parse_line(&lines[0], "INFO  ", "m");
    assert_eq!(
        texts(&pairs),
        [
            ("a", "x\ny"),
            ("b", "\u{1b}[2J"),
            ("c", "\"q\\\"\""),
            ("d", " level=error")
        ]
    );
}

#[test]
fn hostile_keys_are_quoted_and_escaped() {
    let (l, out) = bare_logger();
    velo!(logger: &l, info, "m",
        "two words" = 1, "k=v" = 2, "nl\nkey" = 3, "\u{1b}[31m" = 4, "q\"" = 5,
        http.status = 7, "日本" = 8,
    );
    let lines = lines(&l, &out);
    assert_eq!(lines.len(), 1);
    let pairs = parse_line(&lines[0], "INFO  ", "m");
    assert_eq!(
        texts(&pairs),
        [
            ("two words", "1"),
            ("k=v", "2"),
            ("nl\nkey", "3"),
            ("\u{1b}[31m", "4"),
            ("q\"", "5"),
            ("http.status", "7"),
            ("日本", "8"),
        ]
    );
    assert!(lines[0].contains(" http.status=7 "), "{:?}", lines[0]);
}

#[test]
fn hostile_messages_are_escaped_quotes_included_but_not_quoted() {
    let (l, out) = bare_logger();
    velo!(logger: &l, info, "two\nlines \u{1b}[31mred\r \"quoted\" back\\slash\u{9b}", k = 1);
    let lines = lines(&l, &out);
    assert_eq!(lines.len(), 1);
    let pairs = parse_line(
        &lines[0],
        "INFO  ",
        r#"two\nlines \u001b[31mred\r \"quoted\" back\\slash\u009b"#,
    );
    assert_eq!(texts(&pairs), [("k", "1")]);
}

#[test]
fn no_colour_when_not_a_terminal() {
    let (l, out) = text_logger(velo::Builder::new());
    velo!(logger: &l, error, "m", k = "v");
    let lines = lines(&l, &out);
    assert!(!lines[0].contains('\u{1b}'), "{:?}", lines[0]);
}

#[test]
fn arbitrary_strings_parse_back() {
    let (l, out) = bare_logger();
    let seen = Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let chars = prop_oneof![
        prop::char::range('\0', '\x1f'),
        prop::sample::select(vec![
            ' ', '=', '"', '\\', '[', ']', ',', '\u{2028}', '\u{9b}', '\x7f'
        ]),
        prop::char::range(' ', '~'),
        any::<char>(),
    ];
    let strings = prop_oneof![
        any::<String>(),
        prop::collection::vec(chars, 0..32).prop_map(|v| v.into_iter().collect::<String>()),
    ];
    let result = runner.run(&strings, |s| {
        velo!(logger: &l, info, "m", v = s.as_str(), d = %s);
        l.sync().unwrap();
        let text = out.text();
        let new = &text[seen.replace(text.len())..];
        prop_assert_eq!(new.matches('\n').count(), 1, "{:?}", new);
        let line = new.strip_suffix('\n').unwrap();
        assert_clean(line);
        let pairs = parse_line(line, "INFO  ", "m");
        prop_assert_eq!(texts(&pairs), [("v", s.as_str()), ("d", s.as_str())]);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Parses ` key=value ...` as logfmt readers do: a value is a quoted string
/// or runs to the next space, whatever it holds.
fn logfmt_pairs(mut s: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    while let Some(rest) = s.strip_prefix(' ') {
        let (key, rest) = rest
            .split_once('=')
            .unwrap_or_else(|| panic!("no `=` in {rest:?}"));
        let (value, rest) = if rest.starts_with('"') {
            read_quoted(rest)
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        };
        pairs.push((key.to_owned(), value));
        s = rest;
    }
    assert!(s.is_empty(), "left over: {s:?}");
    pairs
}

#[test]
fn an_array_or_map_holding_a_blank_or_eq_is_one_quoted_value() {
    let (l, out) = bare_logger();
    let forged = ["x caller=forged.rs:1 level=error", "ok"];
    velo!(logger: &l, info, "m", tags = forged, ids = [1, 2], names = ["a", "b"], eq = ["a=b"]);
    let lines = lines(&l, &out);
    let pairs = logfmt_pairs(lines[0].strip_prefix("INFO  m").unwrap());
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("tags", r#"["x caller=forged.rs:1 level=error","ok"]"#),
            ("ids", "[1,2]"),
            ("names", r#"["a","b"]"#),
            ("eq", r#"["a=b"]"#),
        ],
        "{}",
        lines[0]
    );
    // Arrays with neither stay bare.
    assert!(
        lines[0].contains(" ids=[1,2] names=[\"a\",\"b\"] "),
        "{}",
        lines[0]
    );
}
