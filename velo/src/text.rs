//! The human-readable text format: `TIME LEVEL message key=value ...`.
//!
//! A value is written bare when that is unambiguous and quoted otherwise:
//! an empty value, or one holding a space, `=`, a quote, a backslash, array
//! punctuation (`[`, `]`, `,`) or any control character, is quoted with the
//! same escapes as JSON. So every entry is one line and no value can forge a
//! key or send a terminal escape sequence.

use crate::json;

/// Per byte: whether its presence forces quoting. Lead bytes of sequences
/// that may encode a control character (`0xc2`, `0xe2`) force it too, which
/// errs on the side of quoting some harmless non-ASCII text.
static QUOTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    let specials = b" =\"\\[],";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table[0x7f] = true;
    table[0xc2] = true;
    table[0xe2] = true;
    table
};

/// Whether `s` must be quoted in the text format.
#[inline]
pub fn needs_quotes(s: &str) -> bool {
    s.is_empty() || (s.bytes().any(|b| QUOTE[b as usize]) && needs_quotes_exact(s))
}

/// The exact check behind the table's conservative lead-byte entries.
fn needs_quotes_exact(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, ' ' | '=' | '"' | '\\' | '[' | ']' | ',')
            || matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}')
    })
}

/// Appends `s` as a text-format value.
#[inline]
pub fn write_value(buf: &mut Vec<u8>, s: &str) {
    if needs_quotes(s) {
        json::write_str(buf, s);
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

/// A `fmt::Write` that writes a text-format value piece by piece: escaped as
/// it goes, and wrapped in quotes at the end if any piece required them.
pub struct Escaper<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
    quote: bool,
}

impl<'a> Escaper<'a> {
    /// Starts a value at the end of `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Escaper<'a> {
        let start = buf.len();
        Escaper {
            buf,
            start,
            quote: false,
        }
    }

    /// Adds the quotes if the value needs them.
    pub fn finish(self) {
        if self.quote || self.buf.len() == self.start {
            self.buf.insert(self.start, b'"');
            self.buf.push(b'"');
        }
    }
}

impl std::fmt::Write for Escaper<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if !self.quote && !s.is_empty() && needs_quotes(s) {
            self.quote = true;
        }
        json::write_str_body(self.buf, s);
        Ok(())
    }
}

/// ANSI colours used on terminals.
pub mod color {
    /// Resets every attribute.
    pub const RESET: &[u8] = b"\x1b[0m";
    /// Dim, for the time and keys.
    pub const DIM: &[u8] = b"\x1b[2m";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn value(s: &str) -> String {
        let mut buf = Vec::new();
        write_value(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn quoting_table() {
        let cases = [
            ("bare", "bare"),
            ("", "\"\""),
            ("two words", "\"two words\""),
            ("k=v", "\"k=v\""),
            ("q\"", "\"q\\\"\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("\x1b[2J", "\"\\u001b[2J\""),
            ("c1\u{9b}", "\"c1\\u009b\""),
            ("é", "é"),
            ("\u{a0}", "\u{a0}"),
            ("a,b", "\"a,b\""),
            ("/path/to:1", "/path/to:1"),
        ];
        for (input, expected) in cases {
            assert_eq!(value(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn streaming_matches_whole() {
        for pieces in [&["ab", "cd"][..], &["a", " b"], &[], &["x=", ""], &["\n"]] {
            let mut buf = Vec::new();
            let mut e = Escaper::new(&mut buf);
            for p in pieces {
                e.write_str(p).unwrap();
            }
            e.finish();
            assert_eq!(String::from_utf8(buf).unwrap(), value(&pieces.concat()));
        }
    }
}
