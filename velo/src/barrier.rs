//! The fences of the handshakes between logging threads and the worker.
//!
//! Each handshake (see `worker.rs`) is a store, a fence and a load on both
//! sides: a logging thread publishes an entry and then reads the worker's
//! state; the worker sets `PARKED` or `STOPPED` and then looks at the rings.
//! A logging thread runs its side on every entry; the worker runs its side
//! only when it parks (after an idle spell) or closes.
//!
//! A full fence on every entry costs a logging thread more than anything
//! else on its path after encoding (the CPU must drain its store buffer,
//! whose stores miss in cache because the worker reads those lines). Where
//! Linux offers `membarrier(2)`, the worker's [`heavy`] barrier makes every
//! thread of the process execute a full fence (or a context switch, which
//! is one) before it returns, so a logging thread's [`light`] barrier only
//! has to keep the compiler from moving its load above its store: either
//! that thread's fence point comes after its store, and the worker then
//! sees the entry, or before its load, which then sees the worker's flag.
//! Elsewhere both sides use `SeqCst` fences, which `tests/loom_close.rs`
//! models.

use std::sync::atomic::{compiler_fence, fence, AtomicBool, Ordering};
use std::sync::Once;

/// Set once, before any worker starts, when the heavy barrier is available;
/// never cleared while a worker could rely on it.
static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

/// Sets up the heavy barrier if the system offers it. Called before a worker
/// starts (a thread spawned after this sees its outcome).
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| ASYMMETRIC.store(sys::register(), Ordering::Relaxed));
}

/// A logging thread's side: between publishing an entry and reading the
/// worker's state.
#[inline]
pub(crate) fn light() {
    // Relaxed: the flag is set before any worker exists and never changes
    // while one could depend on it; a thread that reads `false` (and fences
    // fully) is correct either way.
    if ASYMMETRIC.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The worker's side: between setting its flag and looking at the rings.
///
/// Returns `false` if the process-wide barrier failed (the kernel promises
/// it cannot after registration; a sandbox could still forbid it later).
/// Callers then fence fully from now on, but one that skipped its fence
/// just before may have been missed: the worker must look again soon
/// rather than park for long.
pub(crate) fn heavy() -> bool {
    fence(Ordering::SeqCst);
    if ASYMMETRIC.load(Ordering::Relaxed) && !sys::barrier() {
        ASYMMETRIC.store(false, Ordering::Relaxed);
        return false;
    }
    true
}

#[cfg(target_os = "linux")]
mod sys {
    use std::ffi::{c_int, c_long};

    const QUERY: c_int = 0;
    const PRIVATE_EXPEDITED: c_int = 1 << 3;
    const REGISTER_PRIVATE_EXPEDITED: c_int = 1 << 4;

    fn membarrier(cmd: c_int) -> c_long {
        // SAFETY: membarrier(2) takes a command, flags and a CPU number, and
        // reads or writes no memory of this process.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as c_int, 0 as c_int) }
    }

    /// Registers the process for expedited barriers; `false` where the
    /// kernel (or a sandbox, or valgrind) does not offer them.
    pub(super) fn register() -> bool {
        let commands = membarrier(QUERY);
        commands > 0
            && commands & c_long::from(PRIVATE_EXPEDITED) != 0
            && membarrier(REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn barrier() -> bool {
        membarrier(PRIVATE_EXPEDITED) == 0
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn barrier() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_sides_run() {
        super::init();
        super::light();
        assert!(super::heavy());
    }
}
