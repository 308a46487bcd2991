//! Compile-time escaping of keys, messages and caller paths.
//!
//! These functions produce the exact bytes the runtime would produce for the
//! same string (`velo::__private::json` and `text`), so a constant baked into
//! a call site is indistinguishable from a value encoded at run time. They are
//! free of `proc_macro` so that plain unit tests cover them.

use std::fmt::Write as _;

/// Whether `c` must be written as an escape in both formats: C0 and C1
/// controls, DEL, the Unicode line and paragraph separators, and the
/// bidirectional controls (which can make a value read as other text).
fn is_control(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Escapes `s` as the inside of a JSON string (without the quotes).
pub fn json_str(s: &str) -> String {
    escaped(s, true)
}

/// Every control character, backslash and (with `quote`) quote escaped as
/// in a JSON string.
fn escaped(s: &str, quote: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' if quote => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_control(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a text-format value must be quoted: empty, or containing white
/// space or a character that shows as nothing, `=`, a quote, a backslash, a
/// control character, or array or map punctuation.
pub fn text_needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(|c| {
            matches!(c, '=' | '"' | '\\' | '[' | ']' | ',' | '{' | '}')
                || is_control(c)
                || is_blank(c)
        })
}

/// White space, and the characters that show as nothing (soft hyphen,
/// zero-width ones, the byte order mark).
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            // Unicode's default-ignorable characters (but the bidirectional
            // controls, escaped as controls), and the fillers and blanks
            // that render as empty space.
            '\u{ad}'
                | '\u{34f}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200d}'
                | '\u{2060}'..='\u{2065}'
                | '\u{206a}'..='\u{206f}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff0}'..='\u{fff8}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// Escapes `s` as a text-format value: bare when that is unambiguous, else
/// quoted with the same escapes as JSON.
pub fn text_value(s: &str) -> String {
    if text_needs_quotes(s) {
        format!("\"{}\"", json_str(s))
    } else {
        s.to_owned()
    }
}

/// Escapes a message for the text format: never quoted, but every control
/// character, quote and backslash escaped, so it can neither break the line
/// nor forge a `key="value"` of its own.
pub fn text_message(s: &str) -> String {
    escaped(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_table() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("a\"b", "a\\\"b"),
            ("back\\slash", "back\\\\slash"),
            ("nl\ncr\rtab\t", "nl\\ncr\\rtab\\t"),
            ("\x00\x1b[31m", "\\u0000\\u001b[31m"),
            ("del\x7f c1\u{9b}", "del\\u007f c1\\u009b"),
            ("ls\u{2028}ps\u{2029}", "ls\\u2028ps\\u2029"),
            ("rtl\u{202e}x\u{2066}\u{200f}", "rtl\\u202ex\\u2066\\u200f"),
            ("héllo ✓ 日本", "héllo ✓ 日本"),
        ];
        for (input, expected) in cases {
            assert_eq!(json_str(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn text_table() {
        let cases = [
            ("bare", "bare"),
            ("", "\"\""),
            ("has space", "\"has space\""),
            ("k=v", "\"k=v\""),
            ("a\"b", "\"a\\\"b\""),
            ("esc\x1b[2J", "\"esc\\u001b[2J\""),
            ("src/main.rs:10", "src/main.rs:10"),
            ("a,b", "\"a,b\""),
            ("a\u{a0}b", "\"a\u{a0}b\""),
            ("ideo\u{3000}x", "\"ideo\u{3000}x\""),
            ("zw\u{200b}x", "\"zw\u{200b}x\""),
            ("bom\u{feff}x", "\"bom\u{feff}x\""),
            ("日本", "日本"),
            ("tag\u{e0001}x", "\"tag\u{e0001}x\""),
            ("alm\u{61c}x", "\"alm\\u061cx\""),
        ];
        for (input, expected) in cases {
            assert_eq!(text_value(input), expected, "input {input:?}");
        }
        assert_eq!(text_message("two\nlines \"q\""), r#"two\nlines \"q\""#);
    }
}
