//! A signal sent to the process runs its handler on any thread that does
//! not block it. velo's worker spends its time in `malloc`, `free` and
//! `write`: a handler that ran there and allocated, or logged, would
//! deadlock on the allocator lock its own thread holds. So velo's threads
//! block the asynchronous signals, and leave open the ones a fault raises
//! on the faulting thread (std's stack-overflow report needs `SIGSEGV`).
#![cfg(target_os = "linux")]

use velo::{velo, Builder, Level};
use velo_tests::json_logger;

/// The blocked-signal mask of every thread of this process whose name
/// starts with `velo-`, read from `/proc`.
fn velo_threads_masks() -> Vec<(String, u64)> {
    let mut masks = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        let Ok(name) = std::fs::read_to_string(task.join("comm")) else {
            continue; // The thread ended meanwhile.
        };
        let name = name.trim_end().to_owned();
        if !name.starts_with("velo-") {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(task.join("status")) else {
            continue;
        };
        let blocked = status
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .expect("status has SigBlk");
        masks.push((name, u64::from_str_radix(blocked.trim(), 16).unwrap()));
    }
    masks
}

fn bit(signal: libc::c_int) -> u64 {
    1 << (signal - 1)
}

#[test]
fn the_worker_and_the_backtrace_thread_block_asynchronous_signals_only() {
    let (logger, out) = json_logger(Builder::new().backtrace(Level::Error));
    velo!(logger: &logger, info, "worker started", n = 1u8);
    assert!(logger.sync().is_ok());
    let masks = velo_threads_masks();
    assert!(
        masks.iter().any(|(name, _)| name == "velo-worker"),
        "no worker thread among {masks:?}"
    );
    for (name, mask) in &masks {
        for signal in [
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGALRM,
            libc::SIGCHLD,
            libc::SIGPIPE,
            libc::SIGPROF,
        ] {
            assert_ne!(
                mask & bit(signal),
                0,
                "{name} leaves signal {signal} open: {mask:#x}"
            );
        }
        for signal in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGABRT,
        ] {
            assert_eq!(
                mask & bit(signal),
                0,
                "{name} blocks signal {signal}: {mask:#x}"
            );
        }
    }
    logger.close();
    assert_eq!(out.msgs(), ["worker started"]);
}
