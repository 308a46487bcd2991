//! The threads velo starts: its workers and helpers, named, with the
//! process's asynchronous signals blocked; and [`SignalsBlocked`], which
//! blocks them on the calling thread for a while.
//!
//! A signal sent to the process is handled on any thread that does not
//! block it. Left to chance, the kernel may pick a worker of velo's while
//! it is inside `malloc` or `free`, and a handler that allocates, or logs,
//! then deadlocks on the allocator's lock its own thread holds. So velo's
//! threads block every signal a handler may be waiting for, and such
//! signals go to the application's own threads. The signals a fault raises
//! on the thread that caused it (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`,
//! `SIGTRAP`, `SIGSYS`) and `SIGABRT` stay open: blocked, they would kill
//! the process without running std's stack-overflow handler or the
//! application's crash reporter.
//!
//! The mask is set on the spawning thread around the spawn, so the new
//! thread inherits it before it runs a single instruction, and the
//! spawning thread gets its own mask back at once.

use std::io;
use std::thread::{Builder, JoinHandle};

/// Starts a thread named `name` that runs `f` with asynchronous signals
/// blocked (see the module docs).
pub(crate) fn spawn<F, T>(name: &str, f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let builder = Builder::new().name(name.into());
    let _mask = SignalsBlocked::new();
    builder.spawn(f)
}

/// Every asynchronous signal blocked on the calling thread while it lives
/// (on Unix; nothing elsewhere): around a spawn (see the module docs), or
/// while a thread makes something a signal handler on it must not find
/// half made. The thread's mask before is restored on drop.
pub(crate) struct SignalsBlocked {
    #[cfg(unix)]
    old: Option<libc::sigset_t>,
}

/// The signals a thread of velo's leaves unblocked: those a fault raises
/// on the faulting thread, and `abort`'s.
#[cfg(unix)]
const SYNCHRONOUS: [libc::c_int; 7] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
    libc::SIGABRT,
];

impl SignalsBlocked {
    /// Blocks every asynchronous signal on the calling thread.
    #[cfg(unix)]
    pub(crate) fn new() -> SignalsBlocked {
        // SAFETY: `sigset_t` is plain data that `sigfillset` initialises
        // whole; `sigdelset` and `pthread_sigmask` take pointers to sets
        // that live on this stack for the length of each call.
        let old = unsafe {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            let mut old = std::mem::zeroed::<libc::sigset_t>();
            libc::sigfillset(&mut set);
            for signal in SYNCHRONOUS {
                libc::sigdelset(&mut set, signal);
            }
            // Best effort: if the mask cannot be set, the thread starts
            // with the caller's, as any thread would.
            (libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) == 0).then_some(old)
        };
        SignalsBlocked { old }
    }

    #[cfg(not(unix))]
    pub(crate) fn new() -> SignalsBlocked {
        SignalsBlocked {}
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(old) = &self.old {
            // SAFETY: `old` is the mask `pthread_sigmask` filled in above.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Whether `signal` is blocked on the calling thread.
    fn blocked(signal: libc::c_int) -> bool {
        // SAFETY: as in `SignalsBlocked::new`; a null new set only reads the mask.
        unsafe {
            let mut mask = std::mem::zeroed::<libc::sigset_t>();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask);
            libc::sigismember(&mask, signal) == 1
        }
    }

    #[test]
    fn the_thread_blocks_asynchronous_signals_and_the_spawner_keeps_its_mask() {
        let before: Vec<bool> = [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGALRM]
            .iter()
            .map(|&s| blocked(s))
            .collect();
        let inside = spawn("velo-test", || {
            (
                [
                    libc::SIGINT,
                    libc::SIGTERM,
                    libc::SIGUSR1,
                    libc::SIGALRM,
                    libc::SIGCHLD,
                ]
                .iter()
                .all(|&s| blocked(s)),
                SYNCHRONOUS.iter().any(|&s| blocked(s)),
                std::thread::current().name().map(str::to_owned),
            )
        })
        .unwrap()
        .join()
        .unwrap();
        assert_eq!(inside, (true, false, Some("velo-test".to_owned())));
        let after: Vec<bool> = [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGALRM]
            .iter()
            .map(|&s| blocked(s))
            .collect();
        assert_eq!(before, after);
    }
}
