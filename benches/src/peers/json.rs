//! JSON pieces the hand-written baselines share: string escaping, numbers
//! (itoa, and zmij for floats as velo uses), the RFC 3339 timestamp with a
//! cached date-and-seconds prefix, over any byte sink ([`Out`]): a `Vec`,
//! or a bounded slice of a ring ([`Slot`]).

/// Where bytes are appended.
pub(crate) trait Out {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Appends one byte.
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.put(&[b]);
    }
}

impl Out for Vec<u8> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// A bounded cursor over a reserved part of a ring. What does not fit is
/// cut (and `truncated` set): a record never grows past its reservation.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    buf: &'a mut [u8],
    pos: usize,
    /// Something did not fit.
    pub(crate) truncated: bool,
}

impl<'a> Slot<'a> {
    #[inline(always)]
    pub(crate) fn new(buf: &'a mut [u8]) -> Slot<'a> {
        Slot {
            buf,
            pos: 0,
            truncated: false,
        }
    }

    /// Bytes written so far.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    /// Bytes still free.
    #[inline(always)]
    pub(crate) fn room(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Overwrites `bytes` at `at`, inside what was written.
    #[inline(always)]
    pub(crate) fn patch(&mut self, at: usize, bytes: &[u8]) {
        self.buf[at..at + bytes.len()].copy_from_slice(bytes);
    }
}

impl Slot<'_> {
    /// What fits of `bytes`.
    #[cold]
    fn put_cut(&mut self, bytes: &[u8]) {
        let n = self.room();
        self.buf[self.pos..].copy_from_slice(&bytes[..n]);
        self.pos += n;
        self.truncated = true;
    }
}

impl Out for Slot<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        // The length is the piece's own, so a constant piece is copied by
        // a few inline moves.
        match self.buf.get_mut(self.pos..self.pos + bytes.len()) {
            Some(to) => {
                to.copy_from_slice(bytes);
                self.pos += bytes.len();
            }
            None => self.put_cut(bytes),
        }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.pos) {
            *slot = b;
            self.pos += 1;
        } else {
            self.truncated = true;
        }
    }
}

impl std::fmt::Write for Slot<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.put(s.as_bytes());
        if self.truncated {
            Err(std::fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Per byte: 0 = copy, `b'u'` = `\u00XX`, another byte = the escape
/// letter.
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
    table
};

/// Appends the JSON escape of `s`, without quotes: quote, backslash, the
/// C0 controls and DEL.
#[inline]
pub(crate) fn escape(out: &mut impl Out, s: &str) {
    escape_bytes(out, s.as_bytes());
}

/// [`escape`] of UTF-8 bytes (unchecked: bytes that are not UTF-8 are
/// copied as they are).
#[inline]
pub(crate) fn escape_bytes(out: &mut impl Out, bytes: &[u8]) {
    match bytes.iter().position(|&b| ESCAPE[usize::from(b)] != 0) {
        None => out.put(bytes),
        Some(first) => escape_from(out, bytes, first),
    }
}

#[cold]
fn escape_from(out: &mut impl Out, bytes: &[u8], first: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put(&bytes[..first]);
    for &b in &bytes[first..] {
        match ESCAPE[usize::from(b)] {
            0 => out.byte(b),
            b'u' => out.put(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
            letter => out.put(&[b'\\', letter]),
        }
    }
}

/// Appends an integer.
#[inline]
pub(crate) fn int<I: itoa::Integer>(out: &mut impl Out, v: I) {
    out.put(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float in its shortest round-trip form, as velo does (zmij;
/// `1e300`, not `1e+300`); NaN and the infinities as velo's strings.
#[inline]
pub(crate) fn float(out: &mut impl Out, v: f64) {
    if !v.is_finite() {
        return out.put(match (v.is_nan(), v > 0.0) {
            (true, _) => b"\"NaN\"",
            (false, true) => b"\"inf\"",
            (false, false) => b"\"-inf\"",
        });
    }
    let mut buffer = zmij::Buffer::new();
    let digits = buffer.format_finite(v).as_bytes();
    match digits.iter().position(|&b| b == b'e') {
        Some(e) if digits.get(e + 1) == Some(&b'+') => {
            out.put(&digits[..=e]);
            out.put(&digits[e + 2..]);
        }
        _ => out.put(digits),
    }
}

/// Appends `true` or `false`.
#[inline(always)]
pub(crate) fn boolean(out: &mut impl Out, v: bool) {
    out.put(if v { b"true" } else { b"false" });
}

/// The "YYYY-MM-DDTHH:MM:SS." prefix of the last second formatted.
#[derive(Debug)]
pub(crate) struct SecondCache {
    second: u64,
    prefix: [u8; 20],
}

impl SecondCache {
    pub(crate) const fn new() -> SecondCache {
        SecondCache {
            second: u64::MAX,
            prefix: [0; 20],
        }
    }

    /// Appends the RFC 3339 time of `nanos` since the Unix epoch in UTC,
    /// to the microsecond, unquoted and without the `Z`:
    /// `2026-11-27T17:03:12.123456`.
    #[inline]
    pub(crate) fn micros(&mut self, out: &mut impl Out, nanos: u64) {
        let second = nanos / 1_000_000_000;
        if second != self.second {
            self.refresh(second);
        }
        out.put(&self.prefix);
        let mut rest = (nanos % 1_000_000_000) as u32 / 1000;
        let mut digits = [0u8; 6];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.put(&digits);
    }

    #[cold]
    fn refresh(&mut self, second: u64) {
        self.second = second;
        let (year, month, day) = civil_from_days((second / 86_400) as i64);
        let rem = second % 86_400;
        let text = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        self.prefix.copy_from_slice(text.as_bytes());
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_numbers() {
        let mut out = Vec::new();
        escape(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, b"a\\\"b\\\\c\\nd\\u0001");
        let mut out = Vec::new();
        float(&mut out, 1e300);
        out.push(b' ');
        float(&mut out, 12.5);
        out.push(b' ');
        float(&mut out, f64::NAN);
        assert_eq!(out, b"1e300 12.5 \"NaN\"");
    }

    #[test]
    fn a_slot_cuts_what_does_not_fit() {
        let mut buf = [0u8; 5];
        let mut slot = Slot::new(&mut buf);
        slot.put(b"abc");
        slot.put(b"def");
        assert!(slot.truncated);
        assert_eq!(slot.len(), 5);
        assert_eq!(&buf, b"abcde");
    }

    #[test]
    fn timestamps() {
        let mut out = Vec::new();
        // 2026-11-27T17:03:12.123456789Z
        SecondCache::new().micros(&mut out, 1_795_798_992_123_456_789);
        assert_eq!(out, b"2026-11-27T17:03:12.123456");
    }
}
