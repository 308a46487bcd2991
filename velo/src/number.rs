//! Numbers as JSON and text write them: integers through `itoa`, floats in
//! their shortest round-trip form through `zmij` (about twice as fast as
//! `ryu` on varying values, with the same digits; measured in issue 11's
//! note).
//!
//! NaN and the infinities are not JSON numbers; they are written as the
//! strings `"NaN"`, `"inf"` and `"-inf"` (bare in the text format).

/// Appends an integer.
#[inline]
pub(crate) fn int<I: itoa::Integer>(buf: &mut Vec<u8>, v: I) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float in its shortest round-trip form; NaN and the
/// infinities become the strings `"NaN"`, `"inf"` and `"-inf"` so the line
/// stays valid JSON.
#[inline(always)]
pub(crate) fn write_f64(buf: &mut Vec<u8>, v: f64) {
    // zmij writes an exponent past 10^15 only (and a negative one below
    // 10^-5): below 10^15 there is no `+` to take out. False for NaN and
    // the infinities.
    if v.abs() < 1e15 {
        buf.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        write_f64_large(buf, v);
    }
}

/// [`write_f64`] of a float that is not below 10^15, or not finite.
#[cold]
fn write_f64_large(buf: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        shortest(buf, zmij::Buffer::new().format_finite(v));
    } else {
        buf.extend_from_slice(non_finite(v.is_nan(), v > 0.0, true));
    }
}

/// Like [`write_f64`] for `f32`, with `f32`'s shortest representation.
#[inline]
pub(crate) fn write_f32(buf: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        shortest(buf, zmij::Buffer::new().format_finite(v));
    } else {
        buf.extend_from_slice(non_finite(v.is_nan(), v > 0.0, true));
    }
}

/// Appends zmij's digits, without the `+` it writes in a positive
/// exponent (`1e+300` -> `1e300`), as JSON writers commonly do.
#[inline]
fn shortest(buf: &mut Vec<u8>, digits: &str) {
    let bytes = digits.as_bytes();
    let n = bytes.len();
    // A positive exponent is `e+D`, `e+DD` or `e+DDD` at the end.
    let plus = (2..=4)
        .map(|k| n.wrapping_sub(k))
        .find(|&i| bytes.get(i) == Some(&b'+'));
    match plus {
        None => buf.extend_from_slice(bytes),
        Some(i) => {
            buf.extend_from_slice(&bytes[..i]);
            buf.extend_from_slice(&bytes[i + 1..]);
        }
    }
}

/// The spelling of a non-finite float, quoted for JSON or bare for text.
pub(crate) fn non_finite(nan: bool, positive: bool, quoted: bool) -> &'static [u8] {
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

    #[test]
    fn floats_match_ryu_digit_for_digit() {
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
            // Where the exponent begins.
            999_999_999_999_999.9,
            1e15,
            -1e15,
            1.5e15,
            9_999_999_999_999_998.0,
            1e16,
            1.25e17,
            -1e22,
            1e-5,
            9.5e-6,
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
