//! The short waits inside velo's bounded waits.
//!
//! Every wait in velo is a loop that looks at the clock and at what it
//! waits for after each pause, and gives up after a bound. That bound holds
//! only if each pause ends. `std::thread::sleep` resumes after a signal
//! with the time left, and a thread that a frequent signal keeps
//! interrupting (a sampling profiler's timer every 50 us) may never come
//! back from a sleep that long: a caller waiting for room under
//! `Overflow::Block` was seen to hang there for good. [`pause`] sleeps
//! once and returns early at a signal; the loop around it then looks again.
//!
//! `std::thread::park_timeout` would end too (it waits until a deadline),
//! but it may take the user's own unpark, and looks up the thread's handle,
//! which may allocate: not what a wait that a signal handler can reach may
//! do. `nanosleep(2)` is async-signal-safe.

use std::time::Duration;

/// Sleeps for `d`, or less if a signal interrupts the thread.
pub(crate) fn pause(d: Duration) {
    #[cfg(unix)]
    {
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
            // Below 10^9: fits every `c_long`.
            tv_nsec: d.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `ts` is a valid timespec that outlives the call, and a
        // null remainder is allowed (nothing is written back). An early
        // return (EINTR) is what is wanted here; no other error can come
        // from a valid request.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    }
    #[cfg(not(unix))]
    std::thread::sleep(d);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_pause_sleeps_about_as_long_as_asked() {
        let start = Instant::now();
        pause(Duration::from_millis(20));
        let took = start.elapsed();
        // No signal here: the whole pause (a lower bound only; the machine
        // may be slow to wake the thread).
        assert!(took >= Duration::from_millis(20), "{took:?}");
    }
}
