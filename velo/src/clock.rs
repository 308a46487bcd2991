//! When an entry happened: a raw reading on the caller, the wall-clock time
//! on the worker.
//!
//! `SystemTime::now` costs a vDSO call and its retry loop; reading the
//! CPU's time-stamp counter costs a few nanoseconds. So where the TSC can be
//! trusted, a caller stores the raw counter in its record ([`read`]) and the
//! worker turns it into wall-clock time ([`Converter`]): before each pass
//! over the queues it reads the system clock once, between two TSC reads,
//! and dates every entry of the pass backwards from that pair by the
//! entry's age in ticks. An entry waits microseconds to milliseconds in its
//! queue, so the error is the period's error over that wait (parts per
//! million of a millisecond: nanoseconds), and the wall clock is followed
//! at every pass: a stepped or slewed system clock, or a suspend that the
//! TSC counted or did not, is picked up by the next pass, and never turns
//! the TSC off. Only an entry that waited across a suspend can be dated
//! wrong, by at most the suspend (its age is clamped, see
//! [`Converter::wall`]).
//!
//! The period (nanoseconds per tick) is measured against the monotonic
//! clock over a baseline from the first use. Each measurement reads the
//! monotonic clock between two TSC reads, keeping the tightest of several
//! tries (a few hundred nanoseconds apart at most, unless the thread keeps
//! being preempted), so the first measurement, after [`CALIBRATE`], is
//! within about 50 parts per million, and the worker refines it as the
//! baseline grows (within a part per million after a few seconds). A
//! measurement that disagrees with the last by more than [`MAX_DEVIATION`]
//! (a preemption that escaped the pair check, or a suspend that one clock
//! counted and the other did not) starts a new baseline instead of being
//! used. Until the first measurement, and where the TSC is not trusted
//! (see `tsc::is_trusted`), callers read the system clock.

use crate::fork;
use crate::record;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Baseline needed before the TSC is used.
pub(crate) const CALIBRATE: Duration = Duration::from_millis(10);

/// How far (in parts per million) a new measurement of the period may be
/// from the last before it is taken for a broken baseline.
const MAX_DEVIATION: u64 = 500;

/// Nanoseconds per tick as a 32.32 fixed-point number; 0 while unknown or
/// when the TSC is not used. Relaxed everywhere: the value is meaningful
/// on its own, and a stale one is only a slightly older measurement.
static PERIOD: AtomicU64 = AtomicU64::new(0);

/// The baseline of the period's measurements.
struct Baseline {
    tsc: u64,
    mono: u64,
    /// The last accepted period, to judge the next one by.
    last: u64,
}

static BASELINE: OnceLock<Mutex<Baseline>> = OnceLock::new();

/// A reading for a record: its `flags` bit and its time (a raw TSC value,
/// or with [`record::WALL_TIME`], nanoseconds since the Unix epoch).
#[inline]
pub(crate) fn read() -> (u16, u64) {
    if PERIOD.load(Ordering::Relaxed) != 0 {
        return (0, tsc::read());
    }
    read_uncalibrated()
}

/// Dates the record in `buf` now (also one that shows no time:
/// [`record::NO_TIME`]).
///
/// A record is dated as it goes into its thread's ring (or is written by
/// its caller), not when its call began: the clock and the publication are
/// then a copy apart, so the worker, which writes the threads' records in
/// the order of their times, writes them in the order they entered the
/// queue too. Dated at the start of the call, a record whose values took
/// long to encode, or that waited for room or for a new ring, would be
/// published after other threads' later records and written a pass late.
#[inline]
pub(crate) fn stamp(buf: &mut [u8]) {
    record::set_time(buf, read);
}

#[cold]
fn read_uncalibrated() -> (u16, u64) {
    let wall = system_nanos();
    if tsc::is_trusted() {
        let baseline = fork::once(&BASELINE, new_baseline);
        // Never waits: a thread that finds another measuring reads the
        // system clock, and so does a signal handler that interrupted a
        // measurement on its own thread, or a forked child whose parent was
        // measuring on another thread at the fork.
        let b = match baseline.try_lock() {
            Ok(b) => Some(b),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        if let Some(mut b) = b.filter(|b| b.last == 0) {
            let _ = measure(&mut b);
        }
    }
    (record::WALL_TIME, wall)
}

fn new_baseline() -> Mutex<Baseline> {
    let (tsc, mono) = paired(mono_nanos);
    Mutex::new(Baseline { tsc, mono, last: 0 })
}

/// Measures the period over the baseline if it is long enough, and
/// publishes it; returns whether it did.
fn measure(b: &mut Baseline) -> bool {
    let (tsc, mono) = paired(mono_nanos);
    let nanos = mono.saturating_sub(b.mono);
    if nanos < CALIBRATE.as_nanos() as u64 {
        return false;
    }
    let ticks = tsc.wrapping_sub(b.tsc);
    // Between 100 MHz and 20 GHz, else the counter is not what it claims to
    // be (or went backwards): start again.
    if !(ticks / 20 <= nanos && nanos / 10 <= ticks && ticks != 0) {
        *b = Baseline {
            tsc,
            mono,
            last: b.last,
        };
        return false;
    }
    let period = ((u128::from(nanos) << 32) / u128::from(ticks)) as u64;
    if b.last != 0 && period.abs_diff(b.last) > b.last / 1_000_000 * MAX_DEVIATION {
        // A suspend or a preemption broke this baseline; the last period
        // stays in use while a new baseline grows.
        *b = Baseline {
            tsc,
            mono,
            last: b.last,
        };
        return false;
    }
    b.last = period;
    PERIOD.store(period, Ordering::Relaxed);
    true
}

/// Refines the period over the longer baseline; for the worker, at most
/// once a second.
pub(crate) fn refine() {
    if let Some(baseline) = BASELINE.get() {
        if let Ok(mut b) = baseline.try_lock() {
            let _ = measure(&mut b);
        }
    }
}

/// Converts records' times to nanoseconds since the Unix epoch, from a pair
/// of readings taken after the records were written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Converter {
    tsc: u64,
    wall: u64,
    period: u64,
}

/// The oldest a record's TSC reading may be, relative to the converter's
/// pair, before it is taken for a reading from before a suspend or from a
/// counter that jumped: an hour.
const MAX_AGE_NANOS: u64 = 3_600_000_000_000;

/// How long a converter made by a caller serves its records: the drift
/// of the counter against the system clock over it is well under a
/// microsecond.
const FRESH_NANOS: u128 = 1_000_000;

impl Converter {
    /// A converter for records written before now.
    pub(crate) fn now() -> Converter {
        let period = PERIOD.load(Ordering::Relaxed);
        if period == 0 {
            return Converter {
                tsc: 0,
                wall: system_nanos(),
                period: 0,
            };
        }
        let (tsc, wall) = paired(system_nanos);
        Converter { tsc, wall, period }
    }

    /// Whether this converter converts every record written from now on:
    /// one made before the counter's period was first measured dates a
    /// reading of the counter only by making another (see
    /// [`Converter::wall`]), so it is not kept past that.
    #[inline]
    pub(crate) fn is_current(&self) -> bool {
        self.period != 0 || PERIOD.load(Ordering::Relaxed) == 0
    }

    /// [`Converter::wall`] of a reading of the counter by a converter made
    /// before the period was known: the record was dated after the first
    /// measurement, which this converter missed, so the pair is read now.
    /// Its time is never the converter's own, which may be older than the
    /// record (a kept converter, see `Sink::clock`).
    #[cold]
    fn wall_without_period(&self, time: u64) -> u64 {
        let now = Converter::now();
        if now.period == 0 {
            // No period was ever measured (the record was not a reading
            // of the counter after all): the best is when it is read.
            return now.wall;
        }
        now.wall(0, time)
    }

    /// Whether this converter was made at most [`FRESH_NANOS`] before the
    /// TSC reading `time`, with the counter's period as it is now: a
    /// caller that converts its own records keeps one that long (see
    /// `caller_format`).
    #[inline]
    pub(crate) fn is_fresh_for(&self, time: u64) -> bool {
        self.period != 0
            && self.period == PERIOD.load(Ordering::Relaxed)
            && time >= self.tsc
            && ((u128::from(time - self.tsc) * u128::from(self.period)) >> 32) < FRESH_NANOS
    }

    /// The time a record's line shows: [`Converter::wall`], or `None` for
    /// a record marked `NO_TIME`.
    #[inline]
    pub(crate) fn shown(&self, flags: u16, time: u64) -> Option<u64> {
        (flags & record::NO_TIME == 0).then(|| self.wall(flags, time))
    }

    /// Nanoseconds since the Unix epoch of a record's `time` with `flags`.
    #[inline]
    pub(crate) fn wall(&self, flags: u16, time: u64) -> u64 {
        if flags & record::WALL_TIME != 0 || self.period == 0 {
            return if flags & record::WALL_TIME != 0 {
                time
            } else {
                self.wall_without_period(time)
            };
        }
        let scale = |ticks: u64| ((u128::from(ticks) * u128::from(self.period)) >> 32) as u64;
        if time <= self.tsc {
            let age = scale(self.tsc - time);
            if age > MAX_AGE_NANOS {
                return self.wall;
            }
            self.wall.saturating_sub(age)
        } else {
            // Read on a CPU whose counter is a little ahead of this one's.
            let ahead = scale(time - self.tsc);
            if ahead > MAX_AGE_NANOS {
                return self.wall;
            }
            self.wall + ahead
        }
    }
}

/// Reads `clock` between two TSC reads, a few times, and returns the TSC
/// reading at the middle of the tightest pair with the clock's value.
fn paired(clock: impl Fn() -> u64) -> (u64, u64) {
    /// A pair this tight (about 300 ns) ends the search.
    const TIGHT_TICKS: u64 = 1_000;
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..8 {
        let before = tsc::read();
        let value = clock();
        let gap = tsc::read().wrapping_sub(before);
        if gap < best.0 {
            best = (gap, before.wrapping_add(gap / 2), value);
        }
        if gap <= TIGHT_TICKS {
            break;
        }
    }
    (best.1, best.2)
}

/// Nanoseconds since the Unix epoch by the system clock; 0 before 1970.
pub(crate) fn system_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Nanoseconds of the monotonic clock since the process first read it.
fn mono_nanos() -> u64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let start = *fork::once(&START, std::time::Instant::now);
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The time-stamp counter.
#[cfg(target_arch = "x86_64")]
mod tsc {
    use std::sync::OnceLock;

    /// Reads the counter.
    #[inline]
    pub(super) fn read() -> u64 {
        // SAFETY: `rdtsc` exists on every x86-64 CPU and has no
        // preconditions.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// Whether the counter ticks at one rate on every CPU, in every power
    /// state: Linux keeps time with it, or, elsewhere, the CPU says its TSC
    /// is invariant. Asked once.
    pub(super) fn is_trusted() -> bool {
        static TRUSTED: OnceLock<bool> = OnceLock::new();
        *crate::fork::once(&TRUSTED, || {
            // On Linux the kernel's verdict decides: it checks that the
            // counters agree across CPUs and sockets, and stops keeping time
            // with the TSC when they do not.
            if cfg!(target_os = "linux") {
                return std::fs::read_to_string(
                    "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                )
                .is_ok_and(|s| s.trim() == "tsc");
            }
            // SAFETY: `cpuid` exists on every x86-64 CPU; leaf 0x8000_0000
            // gives the highest extended leaf, which is checked before it is
            // read. (Newer compilers no longer require `unsafe` for it.)
            #[allow(unused_unsafe)]
            unsafe {
                use core::arch::x86_64::__cpuid;
                __cpuid(0x8000_0000).eax >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0
            }
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_convert_close_to_the_system_clock() {
        // Through calibration (on a machine with a trusted TSC, this one
        // included) and after.
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < deadline {
            let before = system_nanos();
            let (flags, time) = read();
            let after = system_nanos();
            let t = Converter::now().wall(flags, time);
            let slack = 200_000; // 0.2 ms: the pair's own cost, on a loaded VM
            assert!(
                before <= t + slack && t <= after + slack,
                "{before} {t} {after}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        if tsc::is_trusted() {
            assert_ne!(PERIOD.load(Ordering::Relaxed), 0, "calibrated");
        }
    }

    #[test]
    fn ages_are_clamped() {
        // One tick per nanosecond.
        let c = Converter {
            tsc: 10_000_000_000_000,
            wall: 1_000_000_000_000_000_000,
            period: 1 << 32,
        };
        assert_eq!(c.wall(0, c.tsc - 5), c.wall - 5);
        assert_eq!(c.wall(0, c.tsc + 7), c.wall + 7);
        // A reading from before a suspend that reset the counter, or from
        // far ahead: dated at the pair.
        assert_eq!(c.wall(0, 3), c.wall);
        assert_eq!(c.wall(0, u64::MAX), c.wall);
        assert_eq!(c.wall(record::WALL_TIME, 42), 42);
    }

    /// A converter made before the period was measured (a worker's,
    /// kept for a millisecond) dates a later reading of the counter when
    /// it was read, not when the converter was made.
    #[test]
    fn a_converter_from_before_calibration_dates_later_readings_right() {
        if !calibrated() {
            return;
        }
        let old = Converter {
            tsc: 0,
            wall: system_nanos() - 900_000,
            period: 0,
        };
        assert!(!old.is_current(), "kept past the first measurement");
        let before = system_nanos();
        let (flags, time) = read();
        let after = system_nanos();
        assert_eq!(flags, 0, "a reading of the counter");
        let t = old.wall(flags, time);
        let slack = 200_000; // as in `readings_convert_close_to_the_system_clock`
        assert!(
            before <= t + slack && t <= after + slack,
            "{before} {t} {after}: dated as the converter was made, {}",
            old.wall
        );
        assert!(Converter::now().is_current());
    }

    /// Reads through calibration until the period is known; `false` where
    /// the TSC is not used.
    fn calibrated() -> bool {
        if !tsc::is_trusted() {
            return false;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while PERIOD.load(Ordering::Relaxed) == 0 && std::time::Instant::now() < deadline {
            let _ = read();
            std::thread::sleep(Duration::from_millis(1));
        }
        PERIOD.load(Ordering::Relaxed) != 0
    }

    #[test]
    fn an_hour_long_jump_starts_a_new_baseline_and_keeps_the_tsc_in_use() {
        if !calibrated() {
            return;
        }
        let hour = 3_600_000_000_000u64;
        let mut b = Baseline {
            tsc: tsc::read(),
            mono: mono_nanos(),
            last: 0,
        };
        std::thread::sleep(CALIBRATE * 2);
        assert!(measure(&mut b));
        let mut good = b.last;
        // A suspend the monotonic clock counted and the TSC did not, then
        // one the TSC counted and the monotonic clock did not (the counter
        // an hour ahead of its baseline).
        for jump in [Jump::Mono(hour), Jump::Tsc(hour)] {
            match jump {
                Jump::Mono(n) => b.mono = b.mono.saturating_sub(n),
                Jump::Tsc(n) => b.tsc = b.tsc.wrapping_sub(n),
            }
            assert!(!measure(&mut b), "{jump:?}: not a measurement");
            assert_eq!(b.last, good, "{jump:?}: the period in use stays");
            assert_ne!(PERIOD.load(Ordering::Relaxed), 0, "{jump:?}: TSC still on");
            assert_eq!(
                read().0 & record::WALL_TIME,
                0,
                "{jump:?}: callers read the TSC"
            );
            // The new baseline measures again once it is long enough.
            // (A try preempted badly enough starts yet another baseline.)
            let measured = (0..10).any(|_| {
                std::thread::sleep(CALIBRATE * 2);
                measure(&mut b)
            });
            assert!(measured, "{jump:?}: measures again");
            good = b.last;
        }
    }

    #[derive(Debug, Clone, Copy)]
    enum Jump {
        Mono(u64),
        Tsc(u64),
    }

    #[test]
    fn a_stepped_system_clock_is_followed_from_the_next_pass() {
        if !calibrated() {
            return;
        }
        let (flags, time) = read();
        let pass = Converter::now();
        let at = pass.wall(flags, time);
        // The next pass reads the system clock an hour later (stepped, or
        // after a suspend): an entry waiting since before is dated by it,
        // less its age in ticks, never by the old clock.
        let hour = 3_600_000_000_000u64;
        let stepped = Converter {
            wall: pass.wall + hour,
            ..pass
        };
        assert_eq!(stepped.wall(flags, time), at + hour);
    }

    #[test]
    fn timestamps_stay_close_to_the_system_clock_across_many_passes() {
        // Entries wait in the queue from nothing to a few milliseconds, and
        // the period is refined as the worker does; each is dated within
        // the slack of the system-clock readings around its call.
        let slack = 200_000; // 0.2 ms, as above
        let mut waits = 0u64;
        for pass in 0..300u64 {
            let mut entries = Vec::new();
            for _ in 0..4 {
                let before = system_nanos();
                let (flags, time) = read();
                let after = system_nanos();
                entries.push((before, flags, time, after));
                waits = waits
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(pass + 1);
                std::thread::sleep(Duration::from_micros(waits >> 54));
            }
            if pass % 100 == 99 {
                refine();
            }
            let converter = Converter::now();
            for (before, flags, time, after) in entries {
                let t = converter.wall(flags, time);
                assert!(
                    before <= t + slack && t <= after + slack,
                    "pass {pass}: {before} <= {t} <= {after}"
                );
            }
        }
        if tsc::is_trusted() {
            assert_ne!(PERIOD.load(Ordering::Relaxed), 0, "the TSC is still in use");
        }
    }

    #[test]
    fn a_broken_baseline_starts_again_and_keeps_the_period() {
        let mut b = Baseline {
            tsc: tsc::read(),
            mono: mono_nanos(),
            last: 0,
        };
        std::thread::sleep(CALIBRATE * 3);
        if !tsc::is_trusted() {
            return;
        }
        assert!(measure(&mut b));
        let good = b.last;
        // A baseline whose monotonic clock "lost" 5 ms, as across a
        // suspend the TSC counted and the monotonic clock did not.
        b.mono += 5_000_000;
        let broken_tsc = b.tsc;
        assert!(!measure(&mut b));
        assert_eq!(b.last, good, "the period in use stays");
        assert_ne!(b.tsc, broken_tsc, "a new baseline starts");
    }
}
