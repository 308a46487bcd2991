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

/// Sends `signal` to this thread alone every `every` from now on (a timer
/// that signals the process could pick any thread that does not block it,
/// such as the test harness's own). Linux only.
///
/// # Panics
///
/// When the timer cannot be made or armed.
#[cfg(target_os = "linux")]
pub fn every_on_this_thread(signal: libc::c_int, every: std::time::Duration) {
    // SAFETY: creates and arms a timer whose expiries signal this thread;
    // the structs are zeroed, then given every field the calls read.
    unsafe {
        let mut event: libc::sigevent = std::mem::zeroed();
        event.sigev_notify = libc::SIGEV_THREAD_ID;
        event.sigev_signo = signal;
        event.sigev_notify_thread_id = libc::gettid();
        let mut timer: libc::timer_t = std::mem::zeroed();
        assert_eq!(
            libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer),
            0
        );
        let every = libc::timespec {
            tv_sec: every.as_secs() as libc::time_t,
            tv_nsec: every.subsec_nanos() as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: every,
            it_value: every,
        };
        assert_eq!(
            libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()),
            0
        );
    }
}

/// Runs `f` on this thread while another thread sends it `signal` every
/// `every` (the signal unblocked here for the while, blocked again after).
pub fn while_sending(signal: libc::c_int, every: std::time::Duration, f: impl FnOnce()) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    mask(signal, libc::SIG_UNBLOCK);
    // SAFETY: pthread_self has no preconditions.
    let this = unsafe { libc::pthread_self() };
    let stop = Arc::new(AtomicBool::new(false));
    let sender = std::thread::spawn({
        let stop = Arc::clone(&stop);
        move || {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: `this` is the thread running `f`, alive until
                // `stop` is set and this thread joined.
                unsafe { libc::pthread_kill(this, signal) };
                std::thread::sleep(every);
            }
        }
    });
    f();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    mask(signal, libc::SIG_BLOCK);
}
