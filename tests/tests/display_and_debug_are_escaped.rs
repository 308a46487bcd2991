//! `key = %value` and `key = ?value` are escaped while they are written: any
//! quote, backslash or control character a `Display` or `Debug` impl writes
//! (C0, DEL, C1, U+2028/U+2029) comes back unchanged from the JSON line, and
//! the line stays one line with no raw control byte.

use serde_json::Value as Json;
use std::fmt;
use velo::{velo, Timestamp};
use velo_tests::{json_logger, Capture};

/// Every kind of character a string escaper must handle.
const HOSTILE: &str = "q\"uote back\\slash nl\n cr\r tab\t nul\0 esc\u{1b}[31m del\u{7f} \
                       c1\u{80}\u{9b}\u{9f} nbsp\u{a0} ls\u{2028} ps\u{2029} \u{2027}\u{202a} \
                       日本 🎉 {\"forged\":1}";

fn logger() -> (velo::Logger, Capture) {
    json_logger(velo::Builder::new().timestamp(Timestamp::Off).caller(false))
}

/// The one line written, checked to hold no raw control character.
fn only_line(logger: &velo::Logger, out: &Capture) -> String {
    logger.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = lines.into_iter().next().unwrap();
    assert_no_raw_controls(&line);
    line
}

fn assert_no_raw_controls(line: &str) {
    for c in line.chars() {
        assert!(
            !matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
            "raw {c:?} in {line:?}"
        );
    }
}

/// A `Display` that writes its text unchanged in one piece.
struct Whole<'a>(&'a str);

impl fmt::Display for Whole<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A `Debug` that writes its text raw, without `str`'s own escaping.
struct RawDebug<'a>(&'a str);

impl fmt::Debug for RawDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A `Display` that writes one character per call, so escapes and quoting
/// decisions are made piece by piece.
struct Pieces<'a>(&'a str);

impl fmt::Display for Pieces<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug")]
struct Request<'a> {
    path: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<String>,
}

#[test]
fn display_values_round_trip() {
    let (l, out) = logger();
    let whole = Whole(HOSTILE);
    let pieces = Pieces(HOSTILE);
    let string = HOSTILE.to_owned();
    velo!(logger: &l, info, "m",
        whole = %whole, pieces = %pieces, string = %string, str = %HOSTILE,
        padded = %format_args!("[{:>8}|{:<6}]", "\n\"", '\u{9b}'),
        empty = %Whole(""),
    );
    let entry = velo_tests::parse_line(&only_line(&l, &out));
    assert_eq!(entry["whole"], HOSTILE);
    assert_eq!(entry["pieces"], HOSTILE);
    assert_eq!(entry["string"], HOSTILE);
    assert_eq!(entry["str"], HOSTILE);
    assert_eq!(entry["padded"], format!("[{:>8}|{:<6}]", "\n\"", '\u{9b}'));
    assert_eq!(entry["empty"], "");
}

#[test]
fn debug_values_round_trip() {
    let (l, out) = logger();
    let request = Request {
        path: HOSTILE,
        headers: vec![("x-evil", "\u{1b}]0;title\u{7}"), ("k\"", "v\\")],
        body: Some("line one\nline two\u{2028}".to_owned()),
    };
    let string = HOSTILE.to_owned();
    let raw = RawDebug(HOSTILE);
    velo!(logger: &l, info, "m",
        request = ?request, pretty = ?format_args!("{request:#?}"),
        string = ?string, raw = ?raw, char = ?'\u{9b}', tuple = ?("a\"", 1, [None, Some('\n')]),
    );
    let entry = velo_tests::parse_line(&only_line(&l, &out));
    assert_eq!(entry["request"], format!("{request:?}"));
    assert_eq!(entry["pretty"], format!("{request:#?}"));
    assert!(entry["pretty"].as_str().unwrap().contains('\n'));
    assert_eq!(entry["string"], format!("{string:?}"));
    assert_eq!(entry["raw"], HOSTILE);
    assert_eq!(entry["char"], format!("{:?}", '\u{9b}'));
    assert_eq!(
        entry["tuple"],
        format!("{:?}", ("a\"", 1, [None, Some('\n')]))
    );
}

#[test]
fn each_character_alone_round_trips() {
    let (l, out) = logger();
    let mut all: Vec<char> = ('\0'..='\u{a0}').collect();
    all.extend([
        '\u{2027}',
        '\u{2028}',
        '\u{2029}',
        '\u{202a}',
        '\u{feff}',
        '\u{fffd}',
        '\u{10ffff}',
    ]);
    for c in &all {
        let s = c.to_string();
        velo!(logger: &l, info, "m", display = %Whole(&s), pieces = %Pieces(&s), debug = ?RawDebug(&s));
    }
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), all.len());
    for (c, line) in all.iter().zip(&lines) {
        assert_no_raw_controls(line);
        let entry = velo_tests::parse_line(line);
        for key in ["display", "pieces", "debug"] {
            assert_eq!(
                entry[key],
                Json::from(c.to_string()),
                "{key} of {c:?}: {line}"
            );
        }
    }
}

#[test]
fn long_display_in_many_small_pieces() {
    let (l, out) = logger();
    let text: String = HOSTILE.chars().cycle().take(20_000).collect();
    velo!(logger: &l, info, "m", long = %Pieces(&text), after = 1);
    let entry = velo_tests::parse_line(&only_line(&l, &out));
    assert_eq!(entry["long"], text);
    assert_eq!(entry["after"], 1);
}

/// A `Display` that fails after writing part of its text, as a buggy impl
/// may.
struct Failing;

impl fmt::Display for Failing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial \"")?;
        Err(fmt::Error)
    }
}

#[test]
fn failing_display_keeps_the_line_valid() {
    let (l, out) = logger();
    velo!(logger: &l, info, "m", v = %Failing, after = 1);
    let entry = velo_tests::parse_line(&only_line(&l, &out));
    assert_eq!(entry["v"], "partial \"");
    assert_eq!(entry["after"], 1);
}

/// The text format's value for `v` in a line `INFO  m v=VALUE`: bare, or
/// quoted with JSON escapes.
fn text_value(line: &str) -> String {
    let value = line
        .strip_prefix("INFO  m v=")
        .unwrap_or_else(|| panic!("{line:?}"));
    if value.starts_with('"') {
        serde_json::from_str(value).unwrap_or_else(|e| panic!("{e}: {value:?}"))
    } else {
        assert!(!value.contains([' ', '=', '"', '\\']), "{value:?}");
        value.to_owned()
    }
}

#[test]
fn text_format_escapes_display_and_debug_too() {
    let out = Capture::new();
    let l = velo::Builder::new()
        .format(velo::Format::Text)
        .writer(out.clone())
        .timestamp(Timestamp::Off)
        .caller(false)
        .build()
        .unwrap();
    // Piecewise: clean pieces first, then one that forces quotes.
    let cases = [
        HOSTILE,
        "clean",
        "",
        "late space",
        "late\nbreak",
        "x=",
        "\u{9b}",
        "é",
    ];
    for s in cases {
        velo!(logger: &l, info, "m", v = %Pieces(s));
        velo!(logger: &l, info, "m", v = %Whole(s));
        velo!(logger: &l, info, "m", v = ?RawDebug(s));
    }
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), cases.len() * 3);
    for (line, s) in lines.iter().zip(cases.iter().flat_map(|s| [s, s, s])) {
        assert_no_raw_controls(line);
        assert_eq!(text_value(line), *s, "{line:?}");
    }
    assert_eq!(lines[3], "INFO  m v=clean");
}

#[test]
fn context_fields_escape_display_and_debug() {
    let (root, out) = logger();
    let l = root.with(velo::fields!(d = %Pieces(HOSTILE), g = ?RawDebug(HOSTILE), s = ?HOSTILE));
    velo!(logger: &l, info, "m");
    let entry = velo_tests::parse_line(&only_line(&root, &out));
    assert_eq!(entry["d"], HOSTILE);
    assert_eq!(entry["g"], HOSTILE);
    assert_eq!(entry["s"], format!("{HOSTILE:?}"));
}

#[test]
fn failing_display_in_context_fields_does_not_panic() {
    let (root, out) = logger();
    let l = root.with(velo::fields!(v = %Failing));
    velo!(logger: &l, info, "m", after = 1);
    let entry = velo_tests::parse_line(&only_line(&root, &out));
    assert_eq!(entry["v"], "partial \"");
    assert_eq!(entry["after"], 1);
}
