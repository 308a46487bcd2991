//! Timestamps: RFC 3339 in UTC, with the date-and-seconds prefix cached.
//!
//! Formatting a calendar date costs more than everything else in a short
//! entry, and it changes once per second. Each thread keeps the prefix
//! `YYYY-MM-DDTHH:MM:SS` of the last second it formatted, so most entries
//! only write the fraction digits.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// The wall clock, read through the CPU's time-stamp counter where it can be
/// trusted.
///
/// `SystemTime::now` costs a vDSO call and its retry loop, a third of the
/// formatting of a short entry; reading the TSC costs a few nanoseconds.
/// Each thread keeps an anchor, a TSC reading and the wall-clock time taken
/// with it, and extrapolates from it with the TSC's period; an anchor older
/// than a second is renewed from `SystemTime::now`, so the clock follows
/// steps and slewing of the system clock within a second, and the error
/// between renewals is the drift of the period over one second
/// (microseconds). The period is measured against the monotonic clock over
/// a baseline that grows from the first use on, so it gets more precise
/// with time; until the baseline reaches [`CALIBRATE`], and where the
/// TSC is not trusted (see `tsc::is_trusted`), every read goes to the
/// system clock.
struct Calibration {
    /// TSC reading and monotonic time at the start of the baseline.
    tsc0: u64,
    mono0: Instant,
    /// Nanoseconds per tick as a 32.32 fixed-point number; 0 while the
    /// period is unknown or the TSC is not used.
    mult: AtomicU64,
    /// The TSC is not trusted, or gave a period that makes no sense.
    disabled: AtomicBool,
}

/// Baseline needed before the TSC is used: 10 ms puts the period within
/// about ten parts per million (each clock read is paired with TSC reads a
/// few microseconds apart at most), so within ten microseconds over an
/// anchor's second; every renewal measures it again over a longer baseline.
const CALIBRATE: Duration = Duration::from_millis(10);

/// How long an anchor is trusted.
const REANCHOR_NANOS: u64 = 1_000_000_000;

static CALIBRATION: OnceLock<Calibration> = OnceLock::new();

thread_local! {
    /// This thread's anchor: its TSC reading, the wall-clock nanoseconds
    /// read with it, the period it extrapolates with (as in
    /// [`Calibration::mult`]) and how many ticks it lasts (0: no anchor).
    static ANCHOR: Cell<Anchor> = const { Cell::new(Anchor { tsc: 0, wall: 0, mult: 0, span: 0 }) };
}

#[derive(Clone, Copy)]
struct Anchor {
    tsc: u64,
    wall: u64,
    mult: u64,
    span: u64,
}

impl Anchor {
    /// The time `ticks` after the anchor.
    #[inline]
    fn at(&self, ticks: u64) -> u64 {
        self.wall + ((u128::from(ticks) * u128::from(self.mult)) >> 32) as u64
    }
}

/// Most ticks allowed between the two TSC reads around a clock read: a
/// pair further apart than that (the thread was preempted between them) is
/// read again.
const PAIR_TICKS: u64 = 20_000;

/// Reads `clock` between two TSC reads, a few times if a pair comes out
/// too far apart, and returns the TSC reading taken at the middle of the
/// tightest pair with the clock's value.
fn paired<T>(clock: impl Fn() -> T) -> (u64, T) {
    let mut best: Option<(u64, u64, T)> = None;
    for _ in 0..4 {
        let before = tsc::read();
        let value = clock();
        let gap = tsc::read().wrapping_sub(before);
        if best.as_ref().is_none_or(|(g, _, _)| gap < *g) {
            best = Some((gap, before.wrapping_add(gap / 2), value));
        }
        if gap <= PAIR_TICKS {
            break;
        }
    }
    let (_, tsc, value) = best.expect("at least one read");
    (tsc, value)
}

/// The largest gap between a thread's extrapolated time and the system
/// clock at a renewal before the TSC is given up on (the counters disagree
/// between CPUs, the period changed, or the system clock was stepped).
const MAX_DRIFT_NANOS: u64 = 1_000_000;

impl Calibration {
    fn new() -> Calibration {
        let (tsc0, mono0) = paired(Instant::now);
        Calibration {
            tsc0,
            mono0,
            mult: AtomicU64::new(0),
            disabled: AtomicBool::new(!tsc::is_trusted()),
        }
    }

    #[inline]
    fn now_nanos(&self) -> u64 {
        // Relaxed: `mult` is meaningful alone; each anchor keeps the period
        // it was made with. Zero: calibrating, or the TSC is off.
        if self.mult.load(Relaxed) == 0 {
            return self.calibrating();
        }
        let tsc = tsc::read();
        let anchor = ANCHOR.get();
        // A TSC behind the anchor (another CPU's counter) wraps to a huge
        // count and renews the anchor too.
        let ticks = tsc.wrapping_sub(anchor.tsc);
        if ticks < anchor.span {
            return anchor.at(ticks);
        }
        self.anchor()
    }

    /// The system clock, until the baseline is long enough to measure the
    /// period.
    #[cold]
    fn calibrating(&self) -> u64 {
        let wall = system_nanos();
        if !self.disabled.load(Relaxed) && self.mono0.elapsed() >= CALIBRATE {
            self.measure();
        }
        wall
    }

    /// Measures the period over the baseline so far; returns it (0 if the
    /// TSC was given up on).
    fn measure(&self) -> u64 {
        let (tsc, mono) = paired(|| self.mono0.elapsed());
        let ticks = tsc.wrapping_sub(self.tsc0);
        let nanos = u64::try_from(mono.as_nanos()).unwrap_or(u64::MAX);
        // Between 100 MHz and 20 GHz, else the counter is not what it
        // claims to be (or went backwards) and the system clock is used.
        let sane = ticks / 20 <= nanos && nanos / 10 <= ticks && ticks != 0;
        if !sane {
            self.disable();
            return 0;
        }
        let mult = ((u128::from(nanos) << 32) / u128::from(ticks)) as u64;
        self.mult.store(mult, Relaxed);
        // A thread that disabled the clock meanwhile wins.
        if self.disabled.load(Relaxed) {
            self.mult.store(0, Relaxed);
            return 0;
        }
        mult
    }

    /// Gives up on the TSC: every read goes to the system clock from now on.
    #[cold]
    fn disable(&self) {
        self.disabled.store(true, Relaxed);
        self.mult.store(0, Relaxed);
    }

    /// Renews this thread's anchor (and refines the period).
    #[cold]
    fn anchor(&self) -> u64 {
        let (tsc, wall) = paired(system_nanos);
        let old = ANCHOR.get();
        let ticks = tsc.wrapping_sub(old.tsc);
        // An anchor renewed on time must agree with the system clock.
        if ticks < old.span.saturating_mul(2) && old.at(ticks).abs_diff(wall) > MAX_DRIFT_NANOS {
            self.disable();
            return wall;
        }
        let mult = self.measure();
        let span = if mult == 0 {
            0
        } else {
            ((u128::from(REANCHOR_NANOS) << 32) / u128::from(mult)) as u64
        };
        ANCHOR.set(Anchor {
            tsc,
            wall,
            mult,
            span,
        });
        wall
    }
}

/// Nanoseconds since the Unix epoch by the system clock; 0 before 1970.
fn system_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The time-stamp counter.
#[cfg(target_arch = "x86_64")]
mod tsc {
    /// Reads the counter.
    #[inline]
    pub(super) fn read() -> u64 {
        // SAFETY: `rdtsc` exists on every x86-64 CPU and has no
        // preconditions.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// Whether the counter ticks at one rate on every CPU, in every power
    /// state: Linux keeps time with it, or, elsewhere, the CPU says its TSC
    /// is invariant.
    pub(super) fn is_trusted() -> bool {
        // On Linux the kernel's verdict decides: it checks that the counters
        // agree across CPUs and sockets, and stops keeping time with the TSC
        // when they do not.
        if cfg!(target_os = "linux") {
            return std::fs::read_to_string(
                "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            )
            .is_ok_and(|s| s.trim() == "tsc");
        }
        // SAFETY: `cpuid` exists on every x86-64 CPU; leaf 0x8000_0000 gives
        // the highest extended leaf, which is checked before it is read.
        // (Newer compilers no longer require `unsafe` for it.)
        #[allow(unused_unsafe)]
        unsafe {
            use core::arch::x86_64::__cpuid;
            __cpuid(0x8000_0000).eax >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0
        }
    }
}

/// Elsewhere the system clock is used.
#[cfg(not(target_arch = "x86_64"))]
mod tsc {
    pub(super) fn read() -> u64 {
        0
    }

    pub(super) fn is_trusted() -> bool {
        false
    }
}

/// The current time as (seconds, nanoseconds) since the Unix epoch; a clock
/// before the epoch reads as the epoch.
#[inline]
pub fn now() -> (u64, u32) {
    let nanos = if cfg!(target_arch = "x86_64") {
        CALIBRATION.get_or_init(Calibration::new).now_nanos()
    } else {
        system_nanos()
    };
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

    fn assert_close_to_system_clock() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let (secs, nanos) = now();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let t = Duration::new(secs, nanos);
        let slack = Duration::from_millis(1);
        assert!(
            before <= t + slack && t <= after + slack,
            "{before:?} {t:?} {after:?}"
        );
    }

    #[test]
    fn the_clock_follows_the_system_clock() {
        // While calibrating, after (on a machine with a trusted TSC, this
        // one included), and across an anchor's renewal.
        for _ in 0..1000 {
            assert_close_to_system_clock();
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(1200) {
            for _ in 0..100 {
                assert_close_to_system_clock();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let calibration = CALIBRATION.get().unwrap();
        assert!(
            calibration.disabled.load(Relaxed) || calibration.mult.load(Relaxed) != 0,
            "the period is measured after the baseline"
        );
    }

    #[test]
    fn each_thread_anchors_on_first_use() {
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(assert_close_to_system_clock))
            .collect();
        for t in threads {
            t.join().unwrap();
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
