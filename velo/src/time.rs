//! Timestamps: RFC 3339 in UTC, with the date-and-seconds prefix cached.
//!
//! Formatting a calendar date costs more than everything else in a short
//! entry, and it changes once per second. Each thread keeps the prefix
//! `YYYY-MM-DDTHH:MM:SS` of the last second it formatted, so most entries
//! only write the fraction digits.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// How entries are timestamped.
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new()
///     .timestamp(velo::Timestamp::Millis)
///     .writer(std::io::sink())
///     .build()
///     .unwrap();
/// # drop(logger);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Timestamp {
    /// No `time` field.
    Off,
    /// `2026-11-27T17:03:12.123Z`.
    Millis,
    /// `2026-11-27T17:03:12.123456Z` (the default).
    #[default]
    Micros,
    /// `2026-11-27T17:03:12.123456789Z`.
    Nanos,
    /// Nanoseconds since the Unix epoch, as a number.
    UnixNanos,
}

/// Length of `YYYY-MM-DDTHH:MM:SS`.
const PREFIX_LEN: usize = 19;

thread_local! {
    /// The second last formatted on this thread and its prefix.
    static PREFIX: Cell<(u64, [u8; PREFIX_LEN])> = const { Cell::new((u64::MAX, [0; PREFIX_LEN])) };
}

/// The wall clock, read through the CPU's time-stamp counter.
///
/// `SystemTime::now` costs a vDSO call and its retry loop, a third of the
/// formatting of a short entry. This clock reads the TSC with `quanta`
/// (falling back to the OS clock where the TSC is not invariant), and adds
/// an offset to the wall clock taken at the last anchoring. The TSC drifts
/// from the system clock by some parts per million, and the system clock
/// can be stepped, so any thread that finds the anchor older than
/// [`REANCHOR_NANOS`] takes a new one: timestamps stay within tens of
/// microseconds of `SystemTime::now`.
struct WallClock {
    clock: quanta::Clock,
    /// Raw reading all offsets are relative to.
    origin: u64,
    /// Wall-clock nanoseconds minus nanoseconds since `origin`, at the last
    /// anchoring.
    offset: AtomicU64,
    /// Nanoseconds since `origin` at the last anchoring.
    anchored_at: AtomicU64,
}

/// How long an anchor is trusted.
const REANCHOR_NANOS: u64 = 1_000_000_000;

static CLOCK: OnceLock<WallClock> = OnceLock::new();

impl WallClock {
    fn new() -> WallClock {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        let wall = WallClock {
            clock,
            origin,
            offset: AtomicU64::new(0),
            anchored_at: AtomicU64::new(0),
        };
        wall.anchor();
        wall
    }

    #[cold]
    fn anchor(&self) {
        let since = self.clock.delta_as_nanos(self.origin, self.clock.raw());
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        // Relaxed: each word is meaningful alone; a reader mixing an old
        // offset with a new `anchored_at` only re-anchors once more.
        self.offset.store(wall.wrapping_sub(since), Relaxed);
        self.anchored_at.store(since, Relaxed);
    }

    #[inline]
    fn now_nanos(&self) -> u64 {
        let since = self.clock.delta_as_nanos(self.origin, self.clock.raw());
        if since.wrapping_sub(self.anchored_at.load(Relaxed)) > REANCHOR_NANOS {
            self.anchor();
        }
        since.wrapping_add(self.offset.load(Relaxed))
    }
}

/// The current time as (seconds, nanoseconds) since the Unix epoch; a clock
/// before the epoch reads as the epoch.
#[inline]
pub fn now() -> (u64, u32) {
    let nanos = CLOCK.get_or_init(WallClock::new).now_nanos();
    (nanos / 1_000_000_000, (nanos % 1_000_000_000) as u32)
}

/// Appends the timestamp for `(secs, nanos)` in `mode`, unquoted.
/// Writes nothing for [`Timestamp::Off`].
#[inline]
pub fn write(buf: &mut Vec<u8>, mode: Timestamp, secs: u64, nanos: u32) {
    let (digits, divisor) = match mode {
        Timestamp::Off => return,
        Timestamp::UnixNanos => {
            let total = u128::from(secs) * 1_000_000_000 + u128::from(nanos);
            buf.extend_from_slice(itoa::Buffer::new().format(total).as_bytes());
            return;
        }
        Timestamp::Millis => (3, 1_000_000),
        Timestamp::Micros => (6, 1_000),
        Timestamp::Nanos => (9, 1),
    };
    let prefix = PREFIX.with(|cell| {
        let (cached_secs, prefix) = cell.get();
        if cached_secs == secs {
            prefix
        } else {
            // The logger's clock reads seconds since 1970 (see `now`).
            let prefix = format_prefix(i64::try_from(secs).unwrap_or(MAX_SECS).min(MAX_SECS));
            cell.set((secs, prefix));
            prefix
        }
    });
    buf.extend_from_slice(&prefix);
    write_fraction(buf, nanos, digits, divisor);
}

/// Appends `.` and the first `digits` digits of `nanos` (`nanos / divisor`),
/// then `Z`.
#[inline]
fn write_fraction(buf: &mut Vec<u8>, nanos: u32, digits: usize, divisor: u32) {
    buf.push(b'.');
    let mut frac = nanos / divisor;
    let mut out = [b'0'; 9];
    for slot in out[..digits].iter_mut().rev() {
        *slot = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    buf.extend_from_slice(&out[..digits]);
    buf.push(b'Z');
}

/// Seconds since the epoch of `0000-01-01T00:00:00Z`, the first instant
/// RFC 3339 can write.
const MIN_SECS: i64 = -62_167_219_200;
/// Seconds since the epoch of `9999-12-31T23:59:59Z`, the last second RFC 3339
/// can write.
const MAX_SECS: i64 = 253_402_300_799;

/// Appends a full RFC 3339 timestamp with nanoseconds for a `SystemTime`.
///
/// Instants before the epoch are written as they are (a `SystemTime` is not
/// the logger's clock, which never goes back before 1970). Instants outside
/// the four-digit years RFC 3339 allows are clamped to `0000-01-01` and
/// `9999-12-31T23:59:59.999999999Z`, so the value stays a valid timestamp.
pub fn write_system_time(buf: &mut Vec<u8>, t: SystemTime) {
    // (seconds, nanoseconds) with the nanoseconds counted forward from the
    // second, so 0.5 s before the epoch is (-1, 500_000_000).
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).map_or(i64::MIN, |s| -s);
            match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs.saturating_sub(1), 1_000_000_000 - n),
            }
        }
    };
    let (secs, nanos) = if secs < MIN_SECS {
        (MIN_SECS, 0)
    } else if secs > MAX_SECS {
        (MAX_SECS, 999_999_999)
    } else {
        (secs, nanos)
    };
    match u64::try_from(secs) {
        // Since 1970: the cached path the logger's own timestamps take.
        Ok(secs) => write(buf, Timestamp::Nanos, secs, nanos),
        Err(_) => {
            buf.extend_from_slice(&format_prefix(secs));
            write_fraction(buf, nanos, 9, 1);
        }
    }
}

/// Formats `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch, which must lie
/// within [`MIN_SECS`]`..=`[`MAX_SECS`] for the year to have four digits.
#[cold]
fn format_prefix(secs: i64) -> [u8; PREFIX_LEN] {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"0000-00-00T00:00:00";
    let put = |out: &mut [u8; PREFIX_LEN], at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut out, 0, 4, year.rem_euclid(10_000));
    put(&mut out, 5, 2, month);
    put(&mut out, 8, 2, day);
    put(&mut out, 11, 2, rem / 3600);
    put(&mut out, 14, 2, rem / 60 % 60);
    put(&mut out, 17, 2, rem % 60);
    out
}

/// The proleptic Gregorian (year, month, day) of a day count since
/// 1970-01-01, by shifting to a calendar whose years start in March so that
/// the leap day falls at the end of a 400-year era.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fmt(mode: Timestamp, secs: u64, nanos: u32) -> String {
        let mut buf = Vec::new();
        write(&mut buf, mode, secs, nanos);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn the_clock_follows_the_system_clock() {
        for _ in 0..1000 {
            let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let (secs, nanos) = now();
            let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let t = std::time::Duration::new(secs, nanos);
            let slack = std::time::Duration::from_millis(1);
            assert!(
                before <= t + slack && t <= after + slack,
                "{before:?} {t:?} {after:?}"
            );
        }
    }

    #[test]
    fn known_instants() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 5_000, "2000-02-29T00:00:00.000005Z"),
            (1_795_798_992, 123_456_789, "2026-11-27T17:03:12.123456Z"),
            (4_102_444_799, 999_999_999, "2099-12-31T23:59:59.999999Z"),
            (253_402_300_799, 0, "9999-12-31T23:59:59.000000Z"),
        ];
        for (secs, nanos, expected) in cases {
            assert_eq!(fmt(Timestamp::Micros, secs, nanos), expected, "secs {secs}");
        }
        assert_eq!(
            fmt(Timestamp::Millis, 0, 123_456_789),
            "1970-01-01T00:00:00.123Z"
        );
        assert_eq!(
            fmt(Timestamp::Nanos, 0, 7),
            "1970-01-01T00:00:00.000000007Z"
        );
        assert_eq!(fmt(Timestamp::UnixNanos, 2, 5), "2000000005");
        assert_eq!(fmt(Timestamp::Off, 2, 5), "");
    }

    #[test]
    fn system_times_before_1970_and_out_of_range() {
        let epoch = UNIX_EPOCH;
        let s = |t: Option<SystemTime>| {
            let mut buf = Vec::new();
            write_system_time(&mut buf, t.expect("representable"));
            String::from_utf8(buf).unwrap()
        };
        let cases = [
            (
                epoch.checked_add(Duration::new(1, 500_000_000)),
                "1970-01-01T00:00:01.500000000Z",
            ),
            (
                epoch.checked_sub(Duration::new(0, 1)),
                "1969-12-31T23:59:59.999999999Z",
            ),
            (
                epoch.checked_sub(Duration::from_secs(86_400)),
                "1969-12-31T00:00:00.000000000Z",
            ),
            (
                epoch.checked_sub(Duration::from_secs(2_208_988_800)),
                "1900-01-01T00:00:00.000000000Z",
            ),
            (
                epoch.checked_sub(Duration::from_secs(62_167_219_200)),
                "0000-01-01T00:00:00.000000000Z",
            ),
            (
                epoch.checked_sub(Duration::from_secs(62_167_219_201)),
                "0000-01-01T00:00:00.000000000Z",
            ),
            (
                epoch.checked_add(Duration::from_secs(253_402_300_799)),
                "9999-12-31T23:59:59.000000000Z",
            ),
            (
                epoch.checked_add(Duration::from_secs(253_402_300_800)),
                "9999-12-31T23:59:59.999999999Z",
            ),
        ];
        for (t, expected) in cases {
            assert_eq!(s(t), expected);
        }
    }

    #[test]
    fn every_day_round_trips() {
        // Walk 1600..2400 a day at a time, checking month/day sequencing.
        let (mut y, mut m, mut d) = (1600, 1, 1);
        for days in -135_140..(430 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][m as usize - 1];
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
