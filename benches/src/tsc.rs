//! The CPU's time-stamp counter, for the hand-written baselines' timestamps
//! and for timing single calls in `compare`.
//!
//! [`Calibration`] relates the counter to the system clock once, over
//! [`CALIBRATE`]: enough for runs of seconds (the period's error, tens of
//! parts per million, is microseconds per minute). Off x86-64 the counter
//! is the monotonic clock in nanoseconds.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the counter is measured against the system clock.
pub const CALIBRATE: Duration = Duration::from_millis(20);

/// Reads the counter, unordered with the code around it: what a logger's
/// caller does for a timestamp.
#[inline(always)]
pub fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` exists on every x86-64 CPU and has no preconditions.
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    mono_nanos()
}

/// Reads the counter before the code to be timed: earlier instructions
/// finish first (`lfence`), and later ones wait for the read.
#[inline(always)]
pub fn start() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `lfence` and `rdtsc` exist on every x86-64 CPU and have no
    // preconditions.
    unsafe {
        use core::arch::x86_64::{_mm_lfence, _rdtsc};
        _mm_lfence();
        let t = _rdtsc();
        _mm_lfence();
        t
    }
    #[cfg(not(target_arch = "x86_64"))]
    mono_nanos()
}

/// Reads the counter after the code being timed: `rdtscp` waits for every
/// earlier instruction, and the `lfence` keeps later ones from starting
/// before the read.
#[inline(always)]
pub fn stop() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtscp` (every x86-64 CPU of the last fifteen years; Linux
    // reports it as `rdtscp` in /proc/cpuinfo) and `lfence` have no
    // preconditions.
    unsafe {
        use core::arch::x86_64::{__rdtscp, _mm_lfence};
        let mut aux = 0u32;
        let t = __rdtscp(&mut aux);
        _mm_lfence();
        t
    }
    #[cfg(not(target_arch = "x86_64"))]
    mono_nanos()
}

#[cfg(not(target_arch = "x86_64"))]
fn mono_nanos() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The counter related to the system clock.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    /// A counter reading and the system clock (nanoseconds since the Unix
    /// epoch) at the same moment.
    tsc: u64,
    wall: u64,
    /// Nanoseconds per tick, 32.32 fixed point.
    period: u64,
}

impl Calibration {
    /// The process's calibration, measured on first use (which takes
    /// [`CALIBRATE`]).
    pub fn get() -> &'static Calibration {
        static CALIBRATION: OnceLock<Calibration> = OnceLock::new();
        CALIBRATION.get_or_init(Calibration::measure)
    }

    fn measure() -> Calibration {
        let (tsc0, mono0) = paired(Instant::now);
        let (_, wall) = paired(system_nanos);
        std::thread::sleep(CALIBRATE);
        let (tsc1, mono1) = paired(Instant::now);
        let nanos = mono1.duration_since(mono0).as_nanos() as u64;
        let ticks = tsc1.wrapping_sub(tsc0).max(1);
        Calibration {
            tsc: tsc0,
            wall,
            period: ((u128::from(nanos) << 32) / u128::from(ticks)) as u64,
        }
    }

    /// Nanoseconds since the Unix epoch at counter reading `tsc`.
    #[inline(always)]
    pub fn wall(&self, tsc: u64) -> u64 {
        if tsc >= self.tsc {
            self.wall + self.nanos(tsc - self.tsc)
        } else {
            self.wall.saturating_sub(self.nanos(self.tsc - tsc))
        }
    }

    /// Nanoseconds in `ticks`.
    #[inline(always)]
    pub fn nanos(&self, ticks: u64) -> u64 {
        ((u128::from(ticks) * u128::from(self.period)) >> 32) as u64
    }
}

/// A clock read between two counter reads, from the tightest of a few
/// tries: (the counter at the middle, the clock).
fn paired<T>(clock: impl Fn() -> T) -> (u64, T) {
    let mut best: Option<(u64, u64, T)> = None;
    for _ in 0..16 {
        let before = now();
        let value = clock();
        let gap = now().wrapping_sub(before);
        if best.as_ref().is_none_or(|(g, _, _)| gap < *g) {
            best = Some((gap, before.wrapping_add(gap / 2), value));
        }
    }
    let (_, tsc, value) = best.expect("at least one try");
    (tsc, value)
}

fn system_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
