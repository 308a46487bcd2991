//! The macro escapes messages and keys at compile time; the worker escapes
//! values, context keys and rendered templates at run time. The two are
//! separate implementations of the same rules (`velo-macros/src/escape.rs`
//! and `velo/src/escape.rs`): this test fails when they drift apart, in
//! both formats, for hostile strings.

use velo::{velo, Builder, Format, Logger, Timestamp};
use velo_tests::Capture;

fn logger(format: Format) -> (Logger, Capture) {
    let out = Capture::new();
    let logger = Builder::new()
        .format(format)
        .timestamp(Timestamp::Off)
        .caller(false)
        .writer(out.clone())
        .build()
        .unwrap();
    (logger, out)
}

/// For each literal, three lines:
/// - A: the literal as the message and as a key (both escaped by the macro);
/// - B: the literal rendered into the message by a template and as a
///   context key (both escaped by the worker), plus the template's field;
/// - C: the literal as a value (escaped by the worker), to know that field.
macro_rules! lines {
    ($format:expr, $($lit:literal),* $(,)?) => {{
        let (l, out) = logger($format);
        let mut cases = Vec::new();
        $(
            velo!(logger: &l, info, $lit, $lit = 1);
            let child = l.with(velo::fields!($lit = 1));
            velo!(logger: &child, info, "{m}", m = $lit);
            velo!(logger: &l, info, "x", m = $lit);
            cases.push($lit);
        )*
        l.sync().unwrap();
        (cases, out.lines())
    }};
}

fn check(format: Format, value_sep: &str) {
    let (cases, lines) = lines!(
        format,
        "plain",
        "quote \" and backslash \\",
        "line\nbreak\r\ttab",
        "nul \0 bell \x07 esc \x1b[31mred\x1b[0m",
        "del \x7f c1 \u{80}\u{9b}\u{9f}",
        "separators \u{2028} and \u{2029}",
        "bidi \u{202e}rtl\u{202c} \u{2066}iso\u{2069} \u{200e}\u{200f} kept \u{2027}\u{202f}\u{2065}\u{206a}",
        "unicode é 日本 🎉 \u{a0}",
        "blanks\u{a0}\u{3000}\u{200b}\u{feff}\u{1680}\u{ad}without_an_ascii_space",
        "ignorables\u{34f}\u{61c}\u{3164}\u{2800}\u{fe0f}\u{e0001}\u{1d173}",
        "k=v, [a, b] spaces",
        "\\u0000 literal backslash-u",
        // Keys that would read as other types as values: a key stays bare.
        "null",
        "42",
        "nan",
        "-1.5e3",
        "true",
    );
    assert_eq!(lines.len(), cases.len() * 3);
    for (i, lit) in cases.iter().enumerate() {
        let (a, b, c) = (&lines[i * 3], &lines[i * 3 + 1], &lines[i * 3 + 2]);
        // C ends with the field `m`: everything after the separator.
        let m_at = c.rfind(value_sep).expect("the field m") + value_sep.len();
        let value = match format {
            Format::Json => &c[m_at..c.len() - 1],
            _ => &c[m_at..],
        };
        let expected = match format {
            Format::Json => format!("{}{value_sep}{value}}}", &a[..a.len() - 1]),
            _ => format!("{a}{value_sep}{value}"),
        };
        assert_eq!(b, &expected, "literal {lit:?}");
    }
}

#[test]
fn json_escapes_agree() {
    check(Format::Json, ",\"m\":");
}

#[test]
fn text_escapes_agree() {
    check(Format::Text, " m=");
}
