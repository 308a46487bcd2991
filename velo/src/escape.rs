//! String escaping for both formats, at run time.
//!
//! JSON strings take a fast path: eight bytes at a time, then a table
//! lookup per byte where a word may hold one, find the first byte that
//! needs attention, and clean runs are copied whole. Besides what
//! JSON requires (quote, backslash, C0 controls), DEL, the C1 controls,
//! the Unicode line and paragraph separators and the bidirectional
//! controls (U+061C, U+200E, U+200F, U+202A..=U+202E, U+2066..=U+2069) are
//! escaped too, so no string can carry a terminal escape sequence or a line
//! break of any kind, or make the text around it read in another order.
//!
//! The text format writes a value bare when that is unambiguous and quoted
//! otherwise: an empty value, or one holding white space of any kind (or a
//! character that shows as nothing: zero-width ones, the byte order mark,
//! the soft hyphen), `=`, a quote, a backslash, array or map punctuation
//! (`[`, `]`, `{`, `}`, `,`) or any control character, is quoted with the
//! same escapes as JSON (so the string `"{}"` never reads as an empty map). A text message is never quoted
//! but escaped the same way, its quotes included. So every entry is one line,
//! no value can break out of its quotes, and nothing sends a terminal escape
//! sequence. (The message itself is free text: a template's values are in it
//! unquoted, so a reader that needs the fields must take them from the
//! `key=value` pairs, or from the JSON format.)
//!
//! The macro escapes keys and messages at compile time with its own copy
//! of these rules (`velo-macros/src/escape.rs`); the test
//! `tests/tests/static_and_dynamic_escapes_agree.rs` fails when the two
//! drift apart.

/// Per byte: 0 = copy, `b'u'` = `\u00XX`, another ASCII byte = the escape
/// letter, [`MULTI`] = lead byte of a sequence that may need escaping.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[0x7f] = b'u';
    table[0xc2] = MULTI; // U+0080..=U+00BF, of which U+0080..=U+009F are C1 controls
    table[0xd8] = MULTI; // U+0600..=U+063F: the Arabic letter mark U+061C, a bidirectional control
    table[0xe2] = MULTI; // U+2000..=U+2FFF: line breaks and bidirectional controls
    table
};

const MULTI: u8 = 1;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the JSON escape of `s`, without quotes.
#[inline(always)]
pub(crate) fn json_body(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    match first_escape(bytes) {
        None => buf.extend_from_slice(bytes),
        Some(first) => write_escaped(buf, bytes, first),
    }
}

/// The index of the first byte of `bytes` that [`ESCAPE`] marks.
///
/// Eight bytes at a time: a word holds no such byte unless it holds one
/// below 0x20, DEL, a byte of 0x80 or more (non-ASCII, looked up byte by
/// byte), a quote or a backslash. Each test below is exact in telling
/// whether the word has such a byte (a borrow or carry runs on only from a
/// byte that has already matched), and the table has the last word.
#[inline]
fn first_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let marked = |chunk: &[u8]| chunk.iter().position(|&b| ESCAPE[b as usize] != 0);
    let suspect = |chunk: &[u8]| {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let has_zero = |v: u64| v.wrapping_sub(ONES) & !v;
        (x.wrapping_sub(ONES * 0x20) // below 0x20
            | x // 0x80 and above
            | x.wrapping_add(ONES) // DEL
            | has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\'))))
            & HIGH
            != 0
    };
    let Some(last) = bytes.len().checked_sub(8) else {
        return marked(bytes);
    };
    let mut at = 0;
    // Whole words, then the last eight bytes (overlapping what was checked
    // clean, so the first byte marked there is the first of all).
    loop {
        let word = at.min(last);
        let chunk = &bytes[word..word + 8];
        if suspect(chunk) {
            if let Some(i) = marked(chunk) {
                return Some(word + i);
            }
        }
        if word == last {
            return None;
        }
        at += 8;
    }
}

/// Appends `s` as a quoted JSON string.
#[inline]
pub(crate) fn json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    json_body(buf, s);
    buf.push(b'"');
}

/// Appends `s` escaped as a JSON string body: the text format's message,
/// which is never quoted, but whose quotes are escaped (as every string's
/// are), so that it cannot forge a `key="value"` of its own.
#[inline]
pub(crate) fn text_message(buf: &mut Vec<u8>, s: &str) {
    json_body(buf, s);
}

#[cold]
fn write_escaped(buf: &mut Vec<u8>, bytes: &[u8], first: usize) {
    buf.reserve(bytes.len() + 8);
    buf.extend_from_slice(&bytes[..first]);
    let mut start = first;
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            i += 1;
            continue;
        }
        let (code, len) = if esc == MULTI {
            // `bytes` is valid UTF-8, so a lead byte has its continuation bytes.
            match (b, bytes[i + 1]) {
                (0xc2, c) if c <= 0x9f => (u32::from(c), 2),
                (0xd8, 0x9c) => (0x061c, 2),
                // U+2028 and U+2029 (line breaks), and the bidirectional
                // controls U+200E, U+200F, U+202A..=U+202E, which can make
                // a value read as other text.
                (0xe2, 0x80) if matches!(bytes[i + 2], 0x8e | 0x8f | 0xa8..=0xae) => {
                    (0x2000 | u32::from(bytes[i + 2] - 0x80), 3)
                }
                // The bidirectional isolates U+2066..=U+2069.
                (0xe2, 0x81) if matches!(bytes[i + 2], 0xa6..=0xa9) => {
                    (0x2040 | u32::from(bytes[i + 2] - 0x80), 3)
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
        } else {
            (u32::from(b), 1)
        };
        buf.extend_from_slice(&bytes[start..i]);
        match esc {
            b'u' | MULTI => {
                buf.extend_from_slice(b"\\u");
                for shift in [12, 8, 4, 0] {
                    buf.push(HEX[(code >> shift) as usize & 0xf]);
                }
            }
            letter => buf.extend_from_slice(&[b'\\', letter]),
        }
        i += len;
        start = i;
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// Per byte: whether its presence forces quoting in the text format. Lead
/// bytes of sequences that may encode a control character or a blank force
/// the exact check.
static QUOTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    let specials = b" =\"\\[],{}";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table[0x7f] = true;
    table[0xc2] = true; // U+0080..=U+00BF: C1 controls, no-break space, soft hyphen
    table[0xcd] = true; // U+0340..=U+037F: combining grapheme joiner
    table[0xd8] = true; // U+0600..=U+063F: Arabic letter mark
    table[0xe1] = true; // U+1000..=U+1FFF: Hangul and Khmer fillers, Ogham space, Mongolian
    table[0xe2] = true; // U+2000..=U+2FFF: spaces, zero-width characters, separators
    table[0xe3] = true; // U+3000..=U+3FFF: ideographic space, Hangul filler
    table[0xef] = true; // U+F000..=U+FFFF: variation selectors, byte order mark, fillers
    table[0xf0] = true; // U+10000..=U+3FFFF: shorthand format controls, musical formatting
    table[0xf3] = true; // U+C0000..=U+FFFFF: tags, variation selectors supplement
    table
};

/// Whether `s` must be quoted as a text-format value.
#[inline]
pub(crate) fn text_needs_quotes(s: &str) -> bool {
    s.is_empty()
        || (s.bytes().any(|b| QUOTE[b as usize]) && text_needs_quotes_exact(s))
        || reads_as_other_type(s)
}

/// `n` entries, in velo's messages: `1 entry`, `2 entries`.
pub(crate) fn entries(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 entry".to_owned(),
        n => format!("{n} entries"),
    }
}

/// `n` entries and the verb after them: `1 entry was`, `2 entries were`.
pub(crate) fn entries_were(n: impl Into<u64>) -> String {
    let n = n.into();
    format!("{} {}", entries(n), if n == 1 { "was" } else { "were" })
}

/// `s` made safe for velo's own messages on stderr: every control
/// character (see [`is_control`]) written as its Rust escape (`\n`,
/// `\u{1b}`), so that an error's text from a writer or the environment can
/// neither break the message's line nor send a terminal an escape sequence.
pub(crate) fn for_stderr(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a sequence's or map's compact JSON, `json`, must be quoted as a
/// text-format value: it holds a blank or `=`, so that, bare, a reader
/// would take a part of it for another field.
pub(crate) fn compound_needs_quotes(json: &[u8]) -> bool {
    json.contains(&b'=')
        || json.contains(&b' ')
        || std::str::from_utf8(json).map_or(true, |s| s.chars().any(is_blank))
}

/// Whether a string would read, bare, as a value of another type: `null`,
/// `true`, `false` or a number (`"42"` must not look like `42`).
#[inline]
fn reads_as_other_type(s: &str) -> bool {
    match s.as_bytes()[0] {
        b'0'..=b'9' | b'-' | b'+' | b'.' => s.parse::<f64>().is_ok(),
        b'n' | b't' | b'f' | b'N' | b'T' | b'F' | b'i' | b'I' => {
            // Any case, as `f64`'s own words (`NaN`, `inf`): `TRUE` reads
            // as a boolean to a reader that folds case.
            ["null", "true", "false"]
                .iter()
                .any(|word| s.eq_ignore_ascii_case(word))
                || s.parse::<f64>().is_ok()
        }
        _ => false,
    }
}

/// The exact check behind the table's conservative lead-byte entries.
fn text_needs_quotes_exact(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '=' | '"' | '\\' | '[' | ']' | ',' | '{' | '}') || is_control(c) || is_blank(c)
    })
}

/// Whether `c` is white space or shows as nothing: a bare value holding
/// one would not show where it ends (`a\u{a0}b=1` reads as a word and `b=1`).
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

/// Whether `c` is escaped in every string: C0 and C1 controls, DEL, the
/// line and paragraph separators, and the bidirectional controls.
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

/// Appends `s` as a text-format key: quoted only when it is empty or holds
/// what would end it or hide where it ends. Unlike a value, a key that
/// reads as a number or `null` stays bare (`null=1`): what comes before
/// `=` is always a key. The same rule as the keys `velo!` pre-escapes.
#[inline]
pub(crate) fn text_key(buf: &mut Vec<u8>, s: &str) {
    if s.is_empty() || (s.bytes().any(|b| QUOTE[b as usize]) && text_needs_quotes_exact(s)) {
        json_str(buf, s);
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

/// Appends `s` as a text-format value.
#[inline]
pub(crate) fn text_value(buf: &mut Vec<u8>, s: &str) {
    if text_needs_quotes(s) {
        json_str(buf, s);
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut buf = Vec::new();
        json_body(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    fn text(s: &str) -> String {
        let mut buf = Vec::new();
        text_value(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn the_word_scan_finds_the_first_byte_the_table_marks() {
        // Every byte value, at every offset of strings long enough for two
        // words and a remainder, over a clean background of each kind
        // (ASCII, and non-ASCII bytes the table does not mark).
        for background in [b'a', b'~', 0x20, 0xc3, 0xff, 0x80] {
            for len in 0..=19 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut bytes = vec![background; len];
                        bytes[at] = b;
                        let naive = bytes.iter().position(|&b| ESCAPE[b as usize] != 0);
                        assert_eq!(first_escape(&bytes), naive, "{bytes:?}");
                    }
                }
                let clean = vec![background; len];
                assert_eq!(first_escape(&clean), None);
            }
        }
        // Two marked bytes: the first is found, whatever follows it.
        let mut bytes = *b"abcdefgh\\ijkl\"mn";
        assert_eq!(first_escape(&bytes), Some(8));
        bytes[3] = 0x1f;
        assert_eq!(first_escape(&bytes), Some(3));
    }

    #[test]
    fn json_table() {
        let cases = [
            ("plain ascii", "plain ascii"),
            ("", ""),
            ("\"", "\\\""),
            ("a\\b", "a\\\\b"),
            ("\n\r\t", "\\n\\r\\t"),
            ("\x00\x01\x1b[31m", "\\u0000\\u0001\\u001b[31m"),
            ("\x7f", "\\u007f"),
            (
                "c1 \u{80}\u{9b}\u{9f} \u{a0}é",
                "c1 \\u0080\\u009b\\u009f \u{a0}é",
            ),
            (
                "\u{2028}\u{2029}\u{2027}\u{202a}\u{202f}",
                "\\u2028\\u2029\u{2027}\\u202a\u{202f}",
            ),
            (
                "bidi \u{200d}\u{200e}\u{200f}\u{202e}\u{2065}\u{2066}\u{2069}\u{206a}",
                "bidi \u{200d}\\u200e\\u200f\\u202e\u{2065}\\u2066\\u2069\u{206a}",
            ),
            ("日本語 ✓ 🎉", "日本語 ✓ 🎉"),
        ];
        for (input, expected) in cases {
            assert_eq!(esc(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn message_escapes_quotes() {
        let mut buf = Vec::new();
        text_message(&mut buf, "say \"hi\"\n");
        assert_eq!(buf, br#"say \"hi\"\n"#);
    }

    /// The byte tables send every character the rules name to the exact
    /// check, and only the rules decide: checked for every `char`, inside a
    /// string, in both formats.
    #[test]
    fn the_tables_agree_with_the_rules_for_every_char() {
        for c in (0..=0x10_ffffu32).filter_map(char::from_u32) {
            let s = format!("ab{c}cd");
            let quote = matches!(c, '=' | '"' | '\\' | '[' | ']' | ',' | '{' | '}')
                || is_control(c)
                || is_blank(c);
            assert_eq!(text_needs_quotes(&s), quote, "text {c:?}");
            let mut json = Vec::new();
            json_body(&mut json, &s);
            let escape = c == '"' || c == '\\' || is_control(c);
            assert_eq!(json != s.as_bytes(), escape, "json {c:?}");
        }
    }

    #[test]
    fn text_quoting_table() {
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
            // White space of any kind, and what shows as nothing, is quoted:
            // a bare value would not show where it ends.
            ("a\u{a0}b", "\"a\u{a0}b\""),
            ("ideo\u{3000}x", "\"ideo\u{3000}x\""),
            ("zw\u{200b}x", "\"zw\u{200b}x\""),
            ("bom\u{feff}x", "\"bom\u{feff}x\""),
            ("ogham\u{1680}x", "\"ogham\u{1680}x\""),
            ("soft\u{ad}x", "\"soft\u{ad}x\""),
            ("cgj\u{34f}x", "\"cgj\u{34f}x\""),
            ("hangul\u{3164}x", "\"hangul\u{3164}x\""),
            ("braille\u{2800}x", "\"braille\u{2800}x\""),
            ("vs\u{fe0f}x", "\"vs\u{fe0f}x\""),
            ("tag\u{e0001}x", "\"tag\u{e0001}x\""),
            ("alm\u{61c}x", "\"alm\\u061cx\""),
            // Other characters behind the same lead bytes stay bare.
            ("日本\u{3042}", "日本\u{3042}"),
            (
                "\u{2192}\u{20ac}\u{ff21}\u{1e9e}",
                "\u{2192}\u{20ac}\u{ff21}\u{1e9e}",
            ),
            ("a,b", "\"a,b\""),
            ("/path/to:1", "/path/to:1"),
            // Strings that would read as another type, bare.
            ("42", "\"42\""),
            ("-1.5e3", "\"-1.5e3\""),
            ("null", "\"null\""),
            ("true", "\"true\""),
            ("false", "\"false\""),
            ("TRUE", "\"TRUE\""),
            ("False", "\"False\""),
            ("Null", "\"Null\""),
            ("NaN", "\"NaN\""),
            ("inf", "\"inf\""),
            // Words and versions that start the same way stay bare.
            ("nullable", "nullable"),
            ("truth", "truth"),
            ("Truthy", "Truthy"),
            ("1.2.3", "1.2.3"),
            ("2026-12-01", "2026-12-01"),
            ("info", "info"),
        ];
        for (input, expected) in cases {
            assert_eq!(text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn messages_on_stderr_carry_no_control_character() {
        assert_eq!(for_stderr("disk full: /var/log"), "disk full: /var/log");
        assert_eq!(
            for_stderr("\x1b[31mEVIL\nforged line\u{85}"),
            "\\u{1b}[31mEVIL\\nforged line\\u{85}"
        );
    }

    #[test]
    fn compound_values_are_quoted_only_with_a_blank_or_eq() {
        let cases: [(&[u8], bool); 6] = [
            (b"[1,2,3]", false),
            (b"[\"a\",\"b\"]", false),
            (b"{\"k\":\"v\"}", false),
            (b"[\"x caller=forged.rs:1\"]", true),
            (b"{\"a=b\":1}", true),
            ("[\"a\u{a0}b\"]".as_bytes(), true),
        ];
        for (json, quoted) in cases {
            assert_eq!(
                compound_needs_quotes(json),
                quoted,
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }
}
