//! Per-call-site limits: `every: 10s` and `sample: 100`.
//!
//! Each limited call site has a static of its own beside its
//! [`CallSite`](crate::CallSite): a counter for `sample:`, a deadline and a count of
//! skipped calls for `every:`. Checking costs an atomic or two and, for
//! `every:`, a read of the kernel's coarse monotonic clock (a few
//! nanoseconds, no system call); no hashing, no allocation, no lock. The
//! check runs after the level and filter checks and before any argument is
//! evaluated, so a skipped call evaluates nothing.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// `sample: N`: lets the 1st, (N+1)th, (2N+1)th... call through.
#[doc(hidden)]
#[derive(Debug)]
pub struct Sample {
    calls: AtomicU64,
    n: u64,
}

impl Sample {
    /// A limit letting one call in `n` through (`n` is at least 1: the
    /// macro rejects 0).
    #[must_use]
    pub const fn new(n: u64) -> Sample {
        Sample {
            calls: AtomicU64::new(0),
            n: if n == 0 { 1 } else { n },
        }
    }

    /// Whether this call is written.
    #[inline]
    pub fn take(&self) -> bool {
        // Relaxed: a count; each call gets a distinct number.
        self.calls.fetch_add(1, Relaxed).is_multiple_of(self.n)
    }
}

/// `every: D`: at most one entry per `D` from the site; the calls skipped
/// are counted and reported by the next entry written.
#[doc(hidden)]
#[derive(Debug)]
pub struct Every {
    period: u64,
    /// The coarse monotonic time (nanoseconds) before which calls are
    /// skipped; 0 before the first call.
    next: AtomicU64,
    skipped: AtomicU64,
}

impl Every {
    /// A limit of one entry per `period_nanos`.
    #[must_use]
    pub const fn new(period_nanos: u64) -> Every {
        Every {
            period: period_nanos,
            next: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }

    /// `Some(skipped)` when this call is written, with the number of calls
    /// skipped since the last one written; `None` when it is skipped.
    #[inline]
    pub fn take(&self) -> Option<u64> {
        let now = coarse_nanos();
        // Relaxed throughout: the words publish nothing but themselves.
        let next = self.next.load(Relaxed);
        if now < next || !self.claim(next, now) {
            self.skipped.fetch_add(1, Relaxed);
            return None;
        }
        Some(self.skipped.swap(0, Relaxed))
    }

    /// Moves the deadline from `next` to a period after `now`, unless
    /// another call did first. `now` is up to one tick of the coarse
    /// clock behind the real time, so the deadline is one tick later
    /// still: the next call written comes a whole period after this one,
    /// never less.
    #[cold]
    fn claim(&self, next: u64, now: u64) -> bool {
        let deadline = now
            .saturating_add(self.period)
            .saturating_add(coarse_resolution());
        self.next
            .compare_exchange(next, deadline, Relaxed, Relaxed)
            .is_ok()
    }
}

/// Monotonic nanoseconds, from the kernel's coarse clock where there is
/// one (its resolution is a few milliseconds, so a reading lags the real
/// time by up to that much; see [`coarse_resolution`]).
#[inline]
fn coarse_nanos() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the coarse monotonic
        // clock exists on every Linux since 2.6.32 and is read in the vDSO.
        if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } == 0 {
            // Plus one second, so that no time reads as "before the first
            // call" (0).
            return (ts.tv_sec as u64 + 1) * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = *crate::fork::once(&START, std::time::Instant::now);
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX) + 1_000_000_000
}

/// How far a [`coarse_nanos`] reading may lag the real time: the coarse
/// clock's resolution (one tick of the kernel's timer), asked once.
fn coarse_resolution() -> u64 {
    // 0 until asked; a clock that cannot say is taken as 10 ms (the
    // coarsest tick Linux has, at 100 Hz).
    static RESOLUTION: AtomicU64 = AtomicU64::new(0);
    let known = RESOLUTION.load(Relaxed);
    if known != 0 {
        return known;
    }
    #[cfg(target_os = "linux")]
    let resolution = {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        if unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } == 0 {
            (ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64).max(1)
        } else {
            10_000_000
        }
    };
    // The fallback clock is `Instant`'s, which does not lag.
    #[cfg(not(target_os = "linux"))]
    let resolution = 1;
    RESOLUTION.store(resolution, Relaxed);
    resolution
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_lets_every_nth_call_through() {
        let s = Sample::new(3);
        let taken: Vec<bool> = (0..7).map(|_| s.take()).collect();
        assert_eq!(taken, [true, false, false, true, false, false, true]);
    }

    #[test]
    fn every_counts_what_it_skips() {
        let e = Every::new(50_000_000);
        assert_eq!(e.take(), Some(0));
        for _ in 0..5 {
            assert_eq!(e.take(), None);
        }
        std::thread::sleep(std::time::Duration::from_millis(70));
        assert_eq!(e.take(), Some(5));
    }

    /// Two calls written are a whole period apart, though the coarse
    /// clock lags the real time by up to a tick (4 ms at 250 Hz). The
    /// period is a whole number of ticks at 1000 and 250 Hz, so that,
    /// without the tick added, a deadline set from a lagging reading comes
    /// early on nearly every pair.
    #[test]
    fn every_writes_a_whole_period_apart() {
        use std::time::{Duration, Instant};
        let period = Duration::from_millis(12);
        let e = Every::new(period.as_nanos() as u64);
        // For each call written, when the call began and ended: the check
        // happened between the two.
        let mut written: Vec<(Instant, Instant)> = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(400) {
            let before = Instant::now();
            if e.take().is_some() {
                written.push((before, Instant::now()));
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        assert!(written.len() >= 10, "{} written", written.len());
        for pair in written.windows(2) {
            let (began, _) = pair[0];
            let (_, ended) = pair[1];
            assert!(
                ended - began >= period,
                "two entries {:?} apart",
                ended - began
            );
        }
    }
}
