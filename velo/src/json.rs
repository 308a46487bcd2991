//! JSON string escaping and number writing.
//!
//! Strings take a fast path: a table lookup per byte finds the first byte
//! that needs attention, and clean runs are copied whole. Besides what JSON
//! requires (quote, backslash, C0 controls), DEL, the C1 controls and the
//! Unicode line and paragraph separators are escaped too, so no string can
//! carry a terminal escape sequence or a line break of any kind.

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
    table[0xe2] = MULTI; // U+2000..=U+2FFF, of which U+2028 and U+2029 are line breaks
    table
};

const MULTI: u8 = 1;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the JSON escape of `s`, without quotes.
#[inline]
pub fn write_str_body(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    match bytes.iter().position(|&b| ESCAPE[b as usize] != 0) {
        None => buf.extend_from_slice(bytes),
        Some(first) => write_escaped(buf, bytes, first, true),
    }
}

/// Appends `s` escaped as for a JSON string body, except that `"` is kept:
/// the text format's message, which is never quoted.
#[cfg_attr(
    not(feature = "log"),
    allow(dead_code, reason = "used by the log bridge")
)]
pub fn write_message_body(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    match bytes.iter().position(|&b| ESCAPE[b as usize] != 0) {
        None => buf.extend_from_slice(bytes),
        Some(first) => write_escaped(buf, bytes, first, false),
    }
}

#[cold]
fn write_escaped(buf: &mut Vec<u8>, bytes: &[u8], first: usize, escape_quote: bool) {
    buf.reserve(bytes.len() + 8);
    buf.extend_from_slice(&bytes[..first]);
    let mut start = first;
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        let esc = ESCAPE[b as usize];
        if esc == 0 || (b == b'"' && !escape_quote) {
            i += 1;
            continue;
        }
        let (code, len) = if esc == MULTI {
            // `bytes` is valid UTF-8, so a lead byte has its continuation bytes.
            match (b, bytes[i + 1]) {
                (0xc2, c) if c <= 0x9f => (u32::from(c), 2),
                (0xe2, 0x80) if matches!(bytes[i + 2], 0xa8 | 0xa9) => {
                    (0x2000 | u32::from(bytes[i + 2] - 0x80), 3)
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

/// Appends `s` as a quoted JSON string.
#[inline]
pub fn write_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    write_str_body(buf, s);
    buf.push(b'"');
}

/// A `fmt::Write` that escapes everything written to it as a JSON string
/// body, so `Display` and `Debug` output needs no intermediate `String`.
pub struct Escaper<'a>(pub &'a mut Vec<u8>);

impl std::fmt::Write for Escaper<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        write_str_body(self.0, s);
        Ok(())
    }
}

/// A `fmt::Write` escaping as [`write_message_body`]: a text-format message
/// formatted at run time.
#[cfg_attr(
    not(feature = "log"),
    allow(dead_code, reason = "used by the log bridge")
)]
pub struct MessageEscaper<'a>(pub &'a mut Vec<u8>);

impl std::fmt::Write for MessageEscaper<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        write_message_body(self.0, s);
        Ok(())
    }
}

/// Appends a float; NaN and the infinities become the strings `"NaN"`,
/// `"inf"` and `"-inf"` so the line stays valid JSON.
#[inline]
pub fn write_f64(buf: &mut Vec<u8>, v: f64) {
    if write_short_decimal(buf, v) {
        return;
    }
    if v.is_finite() {
        buf.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        buf.extend_from_slice(non_finite(v.is_nan(), v > 0.0, true));
    }
}

/// Writes `v` if it is a decimal with at most three fraction digits and a
/// magnitude below 2^32, the common case of a measured quantity (`12.5`,
/// `0.25`, `1500.0`), with integer arithmetic; returns `false` otherwise.
///
/// The output is exactly what a shortest round-trip formatter (ryu) writes:
/// `m / 10^k == v` with `m` and `10^k` exact in an `f64` means parsing the
/// decimal rounds to `v`; below 2^32 the spacing of doubles is far under
/// 0.001, so no other decimal with at most three fraction digits rounds to
/// `v`, and the one with trailing zeros removed is the shortest.
#[inline]
fn write_short_decimal(buf: &mut Vec<u8>, v: f64) -> bool {
    const SCALES: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
    let a = v.abs();
    if a.is_nan() || a >= 4_294_967_296.0 {
        return false;
    }
    for (k, &scale) in SCALES.iter().enumerate() {
        let m = a * scale;
        if m.fract() == 0.0 && m / scale == a {
            let m = m as u64;
            let pow = [1, 10, 100, 1000][k];
            if v.is_sign_negative() {
                buf.push(b'-');
            }
            buf.extend_from_slice(itoa::Buffer::new().format(m / pow).as_bytes());
            buf.push(b'.');
            let mut frac = m % pow;
            let mut digits = k;
            while digits > 1 && frac.is_multiple_of(10) {
                frac /= 10;
                digits -= 1;
            }
            let mut out = [b'0'; 3];
            for slot in out[..digits.max(1)].iter_mut().rev() {
                *slot = b'0' + (frac % 10) as u8;
                frac /= 10;
            }
            buf.extend_from_slice(&out[..digits.max(1)]);
            return true;
        }
    }
    false
}

/// Like [`write_f64`] for `f32`, with `f32`'s shortest representation.
#[inline]
pub fn write_f32(buf: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        buf.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        buf.extend_from_slice(non_finite(v.is_nan(), v > 0.0, true));
    }
}

/// The spelling of a non-finite float, quoted for JSON or bare for text.
pub fn non_finite(nan: bool, positive: bool, quoted: bool) -> &'static [u8] {
    match (nan, positive, quoted) {
        (true, _, true) => b"\"NaN\"",
        (true, _, false) => b"NaN",
        (false, true, true) => b"\"inf\"",
        (false, true, false) => b"inf",
        (false, false, true) => b"\"-inf\"",
        (false, false, false) => b"-inf",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut buf = Vec::new();
        write_str_body(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn escape_table() {
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
                "\u{2028}\u{2029}\u{2027}\u{202a}",
                "\\u2028\\u2029\u{2027}\u{202a}",
            ),
            ("日本語 ✓ 🎉", "日本語 ✓ 🎉"),
        ];
        for (input, expected) in cases {
            assert_eq!(esc(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn message_keeps_quotes() {
        let mut buf = Vec::new();
        write_message_body(&mut buf, "say \"hi\"\n");
        assert_eq!(buf, b"say \"hi\"\\n");
    }

    #[test]
    fn short_decimals_match_ryu() {
        let fixed = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            12.5,
            0.25,
            0.1,
            0.2,
            0.3,
            0.001,
            0.125,
            1500.0,
            99.999,
            -3.75,
            4_294_967_295.5,
            123_456.789,
            0.0001,
            1e-7,
            5e9,
            0.30000000000000004,
        ];
        // A small xorshift generator: decimals n / 10^k, and arbitrary bits.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut values = fixed.to_vec();
        for _ in 0..200_000 {
            let r = next();
            let k = (r % 5) as i32;
            values.push((next() % 10_000_000_000) as f64 / 10f64.powi(k));
            values.push(f64::from_bits(next()));
            values.push(f64::from(next() as u32) / 1024.0);
        }
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let mut ours = Vec::new();
            write_f64(&mut ours, v);
            let expected = ryu::Buffer::new().format_finite(v).to_owned();
            assert_eq!(String::from_utf8(ours).unwrap(), expected, "value {v:e}");
        }
    }

    #[test]
    fn floats() {
        let cases = [
            (2.5, "2.5"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (1e300, "1e300"),
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"inf\""),
            (f64::NEG_INFINITY, "\"-inf\""),
        ];
        for (v, expected) in cases {
            let mut buf = Vec::new();
            write_f64(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap(), expected);
        }
    }
}
