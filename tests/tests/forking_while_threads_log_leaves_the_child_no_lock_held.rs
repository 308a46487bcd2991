//! A fork can land at any instant of other threads' logging: the worker
//! polling the ring list, a thread pushing or registering its ring, a pass
//! under the output lock. Whatever lock velo held then, the child finds it
//! free: it logs to every logger, `sync` returns `Ok` and exit flushes,
//! fork after fork.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger};

/// Forks tried: a lock left held in the child hung about one in twelve
/// children at ef976f7 (the ring list), and about one in a few thousand at
/// 8d1a9ca (the worker's waiter list); a run takes a few seconds.
const FORKS: usize = 2000;

/// Waits for the forked process `pid` at most `timeout`; kills it if it is
/// still running then. Its exit status, or `None` if it hung or died.
fn wait_for(pid: libc::pid_t, timeout: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid(2) writes the status into the local it is given.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            return libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        }
        assert_eq!(got, 0, "waitpid failed");
        if start.elapsed() >= timeout {
            // SAFETY: kill(2) on the process this one forked.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = wait_for(pid, Duration::from_secs(5));
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn logger() -> Logger {
    Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .build()
        .unwrap()
}

#[test]
fn every_forked_child_logs_syncs_and_exits() {
    let loggers = [logger(), logger()];
    let stop = Arc::new(AtomicBool::new(false));
    // A thread per logger, logging all along: its worker is always busy or
    // polling.
    let threads: Vec<_> = loggers
        .iter()
        .map(|logger| {
            let (logger, stop) = (logger.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    velo!(logger: &logger, info, "background", seq);
                    seq += 1;
                    if seq.is_multiple_of(16) {
                        std::thread::sleep(Duration::from_micros(20));
                    }
                }
            })
        })
        .collect();
    let mut failed = None;
    for fork in 0..FORKS {
        // SAFETY: fork(2); the child runs only the code below and ends
        // with `exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            for logger in &loggers {
                velo!(logger: logger, info, "in child");
            }
            let code = match velo::sync() {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("sync in the child: {e}");
                    3
                }
            };
            // `close` runs at exit.
            std::process::exit(code);
        }
        // Generous: a child that waits on velo gives up after 5 s at most,
        // twice (sync, then close at exit).
        let status = wait_for(pid, Duration::from_secs(20));
        if status != Some(0) {
            failed = Some((fork, status));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        failed, None,
        "a forked child (fork number, exit status; None: hung) did not log, sync and exit"
    );
}
