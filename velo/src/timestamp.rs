//! Timestamps as written: RFC 3339, in UTC or with the local offset, with
//! the date-and-seconds prefix cached.
//!
//! Formatting a calendar date costs more than everything else in a short
//! entry, and it changes once per second. The worker's [`Clockface`] keeps
//! the prefix `YYYY-MM-DDTHH:MM:SS` of the last second it formatted (and,
//! for local time, that second's offset from UTC) with the fraction of the
//! last millisecond or microsecond, so an entry copies the whole stamp, or
//! writes the fraction digits when its tick is a new one.

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
    /// `2026-11-27T17:03:12Z`: whole seconds, as `env_logger` writes
    /// them by default.
    Secs,
    /// `2026-11-27T17:03:12.123Z`.
    Millis,
    /// `2026-11-27T17:03:12.123456Z` (the default).
    #[default]
    Micros,
    /// `2026-11-27T17:03:12.123456789Z`.
    Nanos,
    /// Nanoseconds since the Unix epoch, as a number.
    ///
    /// Not for [`Schema::Ecs`](crate::Schema::Ecs) or
    /// [`Schema::Gcp`](crate::Schema::Gcp), whose readers expect their time
    /// key as an RFC 3339 string: Elasticsearch reads a number in
    /// `@timestamp` as milliseconds, and Cloud Logging does not read a
    /// number in `time` at all. Use [`Timestamp::Nanos`] there:
    /// [`Builder::build`](crate::Builder::build) refuses the pair for
    /// JSON lines.
    UnixNanos,
}

/// Length of `YYYY-MM-DDTHH:MM:SS`.
const PREFIX_LEN: usize = 19;

/// A time zone: the offset from UTC, in seconds, at a second since the
/// Unix epoch.
pub(crate) type Zone = Box<dyn Fn(i64) -> i32 + Send>;

/// Makes a [`Zone`]. A logger holds this function, not a zone, so that
/// only a program that asks for local time ([`system_zone`], named by
/// `Builder::local_time`) links the time zone code.
pub(crate) type ZoneMaker = fn() -> Zone;

/// The system's time zone: `TZ`, else the system's configuration (through
/// `jiff`). One that cannot be found or read is UTC, said once on stderr.
pub(crate) fn system_zone() -> Zone {
    let zone = jiff::tz::TimeZone::try_system().unwrap_or_else(|e| {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            let tz = std::env::var("TZ").map(|tz| format!(" (TZ={tz:?})")).unwrap_or_default();
            crate::stdio::say(format_args!(
                "local_time(true): the system's time zone{tz} is unknown, so timestamps are in UTC: {e}"
            ));
        });
        jiff::tz::TimeZone::UTC
    });
    Box::new(move |secs| {
        jiff::Timestamp::from_second(secs).map_or(0, |t| zone.to_offset(t).seconds())
    })
}

/// Writes timestamps, caching the current second's prefix and offset.
pub(crate) struct Clockface {
    mode: Timestamp,
    /// The local time zone, for local time; `None` for UTC.
    zone: Option<Zone>,
    /// The second last formatted.
    second: u64,
    /// The tick of the precision (millisecond or microsecond since the
    /// epoch) whose digits `stamp` holds; `u64::MAX` for none.
    tick: u64,
    /// That second's timestamp in its frame: what goes before it (see
    /// [`Clockface::framed`]), `YYYY-MM-DDTHH:MM:SS.`, the fraction's
    /// digits (those of `tick`; room for them with nanoseconds, which each
    /// entry writes in its output), the offset (`Z` or `+hh:mm`), and what
    /// goes after it.
    stamp: [u8; STAMP_MAX],
    len: usize,
    /// Where the timestamp starts in `stamp`: the length of what goes
    /// before it.
    start: usize,
    /// What goes after the timestamp, and its length.
    after: ([u8; AFTER_MAX], usize),
}

/// The longest timestamp: prefix, `.`, nine digits, `+hh:mm`.
const TIME_MAX: usize = PREFIX_LEN + 1 + 9 + 6;
/// The most bytes a frame puts before the timestamp, and after it.
const BEFORE_MAX: usize = 16;
const AFTER_MAX: usize = 4;
/// Room for the longest framed timestamp, rounded up to a size that
/// copies in whole vector stores (see [`put_padded`]).
const STAMP_MAX: usize = 64;
const _: () = assert!(BEFORE_MAX + TIME_MAX + AFTER_MAX <= STAMP_MAX);

impl std::fmt::Debug for Clockface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clockface")
            .field("mode", &self.mode)
            .field("local", &self.zone.is_some())
            .finish_non_exhaustive()
    }
}

impl Clockface {
    /// A clockface for `mode`, in UTC or, with `zone`, in the zone it
    /// makes.
    pub(crate) fn new(mode: Timestamp, zone: Option<ZoneMaker>) -> Clockface {
        Clockface::framed(mode, zone, &[], &[])
    }

    /// [`Clockface::new`], whose timestamps are written between `before`
    /// and `after` (at most 16 and 4 bytes), in the same copy: a JSON
    /// line's opening and time key, and the quote and comma after it.
    pub(crate) fn framed(
        mode: Timestamp,
        zone: Option<ZoneMaker>,
        before: &[u8],
        after: &[u8],
    ) -> Clockface {
        assert!(before.len() <= BEFORE_MAX && after.len() <= AFTER_MAX);
        let mut stamp = [0; STAMP_MAX];
        stamp[..before.len()].copy_from_slice(before);
        let mut frame_after = [0; AFTER_MAX];
        frame_after[..after.len()].copy_from_slice(after);
        Clockface {
            mode,
            zone: zone.map(|make| make()),
            second: u64::MAX,
            tick: u64::MAX,
            stamp,
            len: 0,
            start: before.len(),
            after: (frame_after, after.len()),
        }
    }

    /// The timestamp mode.
    pub(crate) fn mode(&self) -> Timestamp {
        self.mode
    }

    /// Appends the timestamp for `nanos` since the Unix epoch, unquoted,
    /// in its frame (see [`Clockface::framed`]). Writes nothing for
    /// [`Timestamp::Off`].
    #[inline(always)]
    pub(crate) fn write(&mut self, buf: &mut Vec<u8>, nanos: u64) {
        let digits = match self.mode {
            Timestamp::Off => return,
            Timestamp::UnixNanos => {
                // A number, between the frame's bytes: no stamp cached.
                let (after, after_len) = &self.after;
                put_padded(buf, &self.stamp, self.start);
                crate::number::int(buf, nanos);
                buf.extend_from_slice(&after[..*after_len]);
                return;
            }
            Timestamp::Secs => 0,
            Timestamp::Millis => 3,
            Timestamp::Micros => 6,
            Timestamp::Nanos => 9,
        };
        if digits == 9 {
            return self.write_nanos(buf, nanos);
        }
        // Entries logged within one tick of the precision (a millisecond, a
        // microsecond: dozens of entries when a thread logs flat out) have
        // the same timestamp: the cached one, copied whole.
        let tick = match digits {
            0 => nanos / 1_000_000_000,
            3 => nanos / 1_000_000,
            _ => nanos / 1_000,
        };
        if tick != self.tick {
            self.new_tick(nanos, tick, digits);
        }
        put_padded(buf, &self.stamp, self.len);
    }

    /// Fills in the cached stamp for a new tick of the precision.
    #[inline]
    fn new_tick(&mut self, nanos: u64, tick: u64, digits: usize) {
        let secs = nanos / 1_000_000_000;
        if secs != self.second {
            self.new_second(secs, digits);
        }
        self.tick = tick;
        if digits == 0 {
            return;
        }
        let frac = (nanos % 1_000_000_000) as u32;
        let at = self.start + PREFIX_LEN + 1;
        let fraction: &mut [u8; 9] = (&mut self.stamp[at..at + 9])
            .try_into()
            .expect("nine bytes");
        if digits == 3 {
            put_digits::<3>(fraction, frac / 1_000_000);
        } else {
            put_digits::<6>(fraction, frac / 1_000);
        }
    }

    /// [`Clockface::write`] with nanoseconds, which change with every
    /// entry: the cached stamp is copied whole (a copy of constant size),
    /// then the fraction written over its place in the output. Writing the
    /// digits into the cache and copying it after would load bytes just
    /// stored in pieces: a stalled store forward on every entry.
    #[inline(always)]
    fn write_nanos(&mut self, buf: &mut Vec<u8>, nanos: u64) {
        let secs = nanos / 1_000_000_000;
        if secs != self.second {
            self.new_second(secs, 9);
        }
        let frac = (nanos % 1_000_000_000) as u32;
        let at = buf.len();
        buf.extend_from_slice(&self.stamp);
        let digits = at + self.start + PREFIX_LEN + 1;
        let fraction: &mut [u8; 9] = (&mut buf[digits..digits + 9])
            .try_into()
            .expect("nine bytes");
        put_digits::<9>(fraction, frac);
        buf.truncate(at + self.len);
    }

    #[cold]
    fn new_second(&mut self, secs: u64, digits: usize) {
        let secs_i = i64::try_from(secs).unwrap_or(MAX_SECS).min(MAX_SECS);
        // In whole minutes, as RFC 3339 writes it: a zone whose offset has
        // seconds (a POSIX `TZ` string, a historical mean time) is shown
        // at the minute, and the time with it, so that the two still name
        // the entry's instant.
        let offset = self.zone.as_ref().map_or(0, |zone| zone(secs_i)) / 60 * 60;
        self.second = secs;
        let prefix = format_prefix((secs_i + i64::from(offset)).clamp(MIN_SECS, MAX_SECS));
        let start = self.start;
        self.stamp[start..start + PREFIX_LEN].copy_from_slice(&prefix);
        let mut len = start + PREFIX_LEN;
        if digits > 0 {
            self.stamp[len] = b'.';
            len += 1 + digits;
        }
        if self.zone.is_none() {
            self.stamp[len] = b'Z';
            len += 1;
        } else {
            let sign = if offset < 0 { b'-' } else { b'+' };
            let minutes = offset.unsigned_abs() / 60;
            let (h, m) = (minutes / 60 % 100, minutes % 60);
            self.stamp[len..len + 6].copy_from_slice(&[
                sign,
                b'0' + (h / 10) as u8,
                b'0' + (h % 10) as u8,
                b':',
                b'0' + (m / 10) as u8,
                b'0' + (m % 10) as u8,
            ]);
            len += 6;
        }
        let (after, after_len) = &self.after;
        self.stamp[len..len + after_len].copy_from_slice(&after[..*after_len]);
        self.len = len + after_len;
    }
}

/// Appends the first `len` bytes of `padded`: all of it, a copy of constant
/// size, then cut back, which is cheaper than a copy of run-time length
/// (a `memcpy` call). For the timestamp and what opens a line before it.
#[inline(always)]
pub(crate) fn put_padded<const N: usize>(out: &mut Vec<u8>, padded: &[u8; N], len: usize) {
    let at = out.len();
    out.extend_from_slice(padded);
    out.truncate(at + len);
}

/// Writes `v`, below `10^N`, as `N` digits (zero-padded) at the start of
/// `out`, two at a time from a table.
#[inline(always)]
fn put_digits<const N: usize>(out: &mut [u8; 9], mut v: u32) {
    let mut at = N;
    while at >= 2 {
        let pair = (v % 100) as usize * 2;
        out[at - 2] = PAIRS[pair];
        out[at - 1] = PAIRS[pair + 1];
        v /= 100;
        at -= 2;
    }
    if at == 1 {
        out[0] = b'0' + (v % 10) as u8;
    }
}

/// `00`, `01`, ..., `99`.
static PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[i * 2] = b'0' + (i / 10) as u8;
        t[i * 2 + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Seconds since the epoch of `0000-01-01T00:00:00Z`, the first instant
/// RFC 3339 can write.
const MIN_SECS: i64 = -62_167_219_200;
/// Seconds since the epoch of `9999-12-31T23:59:59Z`, the last second RFC 3339
/// can write.
const MAX_SECS: i64 = 253_402_300_799;

/// A `SystemTime` as seconds since the Unix epoch and nanoseconds counted
/// forward from that second, so 0.5 s before the epoch is
/// `(-1, 500_000_000)`: the form records hold it in.
pub(crate) fn epoch_parts(t: std::time::SystemTime) -> (i64, u32) {
    match t.duration_since(std::time::UNIX_EPOCH) {
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
    }
}

/// [`epoch_parts`]' inverse; the epoch itself for an instant the
/// platform's `SystemTime` cannot hold.
pub(crate) fn from_epoch_parts(secs: i64, nanos: u32) -> std::time::SystemTime {
    let whole = std::time::Duration::from_secs(secs.unsigned_abs());
    let epoch = std::time::UNIX_EPOCH;
    let time = if secs >= 0 {
        epoch.checked_add(whole)
    } else {
        epoch.checked_sub(whole)
    };
    time.and_then(|t| t.checked_add(std::time::Duration::from_nanos(u64::from(nanos))))
        .unwrap_or(epoch)
}

/// Appends a full RFC 3339 UTC timestamp with nanoseconds for a
/// `SystemTime` given as seconds since the epoch (negative before it) and
/// nanoseconds counted forward from that second.
///
/// Instants outside the four-digit years RFC 3339 allows are clamped to
/// `0000-01-01` and `9999-12-31T23:59:59.999999999Z`, so the value stays a
/// valid timestamp.
pub(crate) fn write_system_time(buf: &mut Vec<u8>, secs: i64, nanos: u32) {
    let (secs, nanos) = if secs < MIN_SECS {
        (MIN_SECS, 0)
    } else if secs > MAX_SECS {
        (MAX_SECS, 999_999_999)
    } else {
        (secs, nanos.min(999_999_999))
    };
    buf.extend_from_slice(&format_prefix(secs));
    let mut digits = [0; 9];
    put_digits::<9>(&mut digits, nanos);
    buf.push(b'.');
    buf.extend_from_slice(&digits);
    buf.push(b'Z');
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
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
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

    fn fmt(mode: Timestamp, secs: u64, nanos: u32) -> String {
        let mut buf = Vec::new();
        Clockface::new(mode, None).write(&mut buf, secs * 1_000_000_000 + u64::from(nanos));
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn known_instants() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 5_000, "2000-02-29T00:00:00.000005Z"),
            (1_795_798_992, 123_456_789, "2026-11-27T17:03:12.123456Z"),
            (4_102_444_799, 999_999_999, "2099-12-31T23:59:59.999999Z"),
        ];
        for (secs, nanos, expected) in cases {
            assert_eq!(fmt(Timestamp::Micros, secs, nanos), expected, "secs {secs}");
        }
        assert_eq!(
            fmt(Timestamp::Millis, 0, 123_456_789),
            "1970-01-01T00:00:00.123Z"
        );
        assert_eq!(
            fmt(Timestamp::Secs, 1_795_798_992, 999_999_999),
            "2026-11-27T17:03:12Z"
        );
        assert_eq!(
            fmt(Timestamp::Nanos, 0, 7),
            "1970-01-01T00:00:00.000000007Z"
        );
        assert_eq!(fmt(Timestamp::UnixNanos, 2, 5), "2000000005");
        assert_eq!(fmt(Timestamp::Off, 2, 5), "");
    }

    /// The cached stamp follows the clock: within a tick, to the next
    /// tick, to the next second, and back (a record older than the last).
    #[test]
    fn consecutive_entries_within_and_across_ticks() {
        let base = 1_795_798_992_000_000_000u64;
        let cases: [(Timestamp, &[(u64, &str)]); 4] = [
            (
                Timestamp::Micros,
                &[
                    (123_456_789, "2026-11-27T17:03:12.123456Z"),
                    (123_456_999, "2026-11-27T17:03:12.123456Z"),
                    (123_457_000, "2026-11-27T17:03:12.123457Z"),
                    (1_000_000_001, "2026-11-27T17:03:13.000000Z"),
                    (999_999_999, "2026-11-27T17:03:12.999999Z"),
                ],
            ),
            (
                Timestamp::Millis,
                &[
                    (5_000_000, "2026-11-27T17:03:12.005Z"),
                    (5_999_999, "2026-11-27T17:03:12.005Z"),
                    (6_000_000, "2026-11-27T17:03:12.006Z"),
                    (1_006_000_000, "2026-11-27T17:03:13.006Z"),
                ],
            ),
            (
                Timestamp::Secs,
                &[
                    (5_000_000, "2026-11-27T17:03:12Z"),
                    (999_999_999, "2026-11-27T17:03:12Z"),
                    (1_000_000_000, "2026-11-27T17:03:13Z"),
                    (999_999_999, "2026-11-27T17:03:12Z"),
                ],
            ),
            (
                Timestamp::Nanos,
                &[
                    (1, "2026-11-27T17:03:12.000000001Z"),
                    (2, "2026-11-27T17:03:12.000000002Z"),
                    (1_000_000_002, "2026-11-27T17:03:13.000000002Z"),
                ],
            ),
        ];
        // Unframed, and framed as a JSON line's time (the longest opening,
        // ECS's): the same stamps, between the frame's bytes.
        let frames: [(&[u8], &[u8]); 2] = [(b"", b""), (b"{\"@timestamp\":\"", b"\",")];
        for (mode, steps) in cases {
            for (before, after) in frames {
                let mut face = Clockface::framed(mode, None, before, after);
                for &(nanos, expected) in steps {
                    let mut buf = b"[".to_vec();
                    face.write(&mut buf, base + nanos);
                    let framed = [b"[", before, expected.as_bytes(), after].concat();
                    assert_eq!(
                        String::from_utf8_lossy(&buf),
                        String::from_utf8_lossy(&framed),
                        "{mode:?}"
                    );
                }
            }
        }
    }

    /// A framed stamp with an offset: the frame's closing after the
    /// offset, as the zone changes.
    #[test]
    fn a_framed_stamp_ends_after_its_offset() {
        let mut face = Clockface::framed(Timestamp::Nanos, None, b"{\"time\":\"", b"\",");
        face.zone = Some(Box::new(|_| 5 * 3600 + 1800));
        let mut buf = Vec::new();
        face.write(&mut buf, 1_795_798_992_123_456_789);
        assert_eq!(buf, b"{\"time\":\"2026-11-27T22:33:12.123456789+05:30\",");
        face.zone = None;
        face.second = u64::MAX;
        buf.clear();
        face.write(&mut buf, 1_795_798_992_000_000_001);
        assert_eq!(buf, b"{\"time\":\"2026-11-27T17:03:12.000000001Z\",");
        // A number, framed the same way.
        let mut face = Clockface::framed(Timestamp::UnixNanos, None, b"{\"time\":", b",");
        buf.clear();
        face.write(&mut buf, 1_795_798_992_000_000_001);
        assert_eq!(buf, b"{\"time\":1795798992000000001,");
    }

    #[test]
    fn a_fixed_offset_is_written_and_applied() {
        let mut face = Clockface::new(Timestamp::Micros, None);
        face.zone = Some(Box::new(|_| 5 * 3600 + 1800));
        let mut buf = Vec::new();
        face.write(&mut buf, 1_795_798_992_123_456_789);
        assert_eq!(buf, b"2026-11-27T22:33:12.123456+05:30");
        face.zone = Some(Box::new(|_| -3600));
        (face.second, face.tick) = (u64::MAX, u64::MAX);
        buf.clear();
        face.write(&mut buf, 1_795_798_992_000_000_000);
        assert_eq!(buf, b"2026-11-27T16:03:12.000000-01:00");
        // An offset with seconds: the time moves by the minutes written.
        face.zone = Some(Box::new(|_| 3600 + 1800 + 15));
        (face.second, face.tick) = (u64::MAX, u64::MAX);
        buf.clear();
        face.write(&mut buf, 1_795_798_992_000_000_000);
        assert_eq!(buf, b"2026-11-27T18:33:12.000000+01:30");
        face.zone = Some(Box::new(|_| -(3600 + 1800 + 15)));
        (face.second, face.tick) = (u64::MAX, u64::MAX);
        buf.clear();
        face.write(&mut buf, 1_795_798_992_000_000_000);
        assert_eq!(buf, b"2026-11-27T15:33:12.000000-01:30");
    }

    #[test]
    fn system_times_before_1970_and_out_of_range() {
        let s = |secs: i64, nanos: u32| {
            let mut buf = Vec::new();
            write_system_time(&mut buf, secs, nanos);
            String::from_utf8(buf).unwrap()
        };
        let cases = [
            ((1, 500_000_000), "1970-01-01T00:00:01.500000000Z"),
            ((-1, 999_999_999), "1969-12-31T23:59:59.999999999Z"),
            ((-86_400, 0), "1969-12-31T00:00:00.000000000Z"),
            ((-2_208_988_800, 0), "1900-01-01T00:00:00.000000000Z"),
            ((-62_167_219_200, 0), "0000-01-01T00:00:00.000000000Z"),
            ((-62_167_219_201, 0), "0000-01-01T00:00:00.000000000Z"),
            ((253_402_300_799, 0), "9999-12-31T23:59:59.000000000Z"),
            ((253_402_300_800, 0), "9999-12-31T23:59:59.999999999Z"),
        ];
        for ((secs, nanos), expected) in cases {
            assert_eq!(s(secs, nanos), expected);
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
