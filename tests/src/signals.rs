//! Signal handlers and masks for the scenarios that log from a handler or
//! under a stream of signals.

/// Installs `handler` for `signal`, with an empty mask and `SA_RESTART`.
///
/// # Panics
///
/// When `sigaction` fails.
pub fn install(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: the sigaction struct is zeroed, then given the handler, the
    // flags and an empty mask, all the call reads.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
}

/// Blocks (`libc::SIG_BLOCK`) or unblocks (`libc::SIG_UNBLOCK`) `signal` on
/// this thread; threads started while it is blocked inherit that.
pub fn mask(signal: libc::c_int, how: libc::c_int) {
    // SAFETY: a signal set on the stack, initialised by sigemptyset before
    // use; pthread_sigmask only reads it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}
