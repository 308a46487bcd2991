//! A non-blocking stdout (a pipe or socket a parent set `O_NONBLOCK` on)
//! answers a write it cannot take at once with `EAGAIN`. That is not a
//! failure: the output waits for the reader and writes every line.

#![cfg(unix)]

use std::io::Read;
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format};
use velo_tests::{is_child, run_child_within};

#[test]
fn child_logs_to_a_non_blocking_pipe() {
    if !is_child("child_logs_to_a_non_blocking_pipe") {
        return;
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: plain calls on descriptors this process owns.
    unsafe {
        let flags = libc::fcntl(fds[1], libc::F_GETFL);
        assert_eq!(
            libc::fcntl(fds[1], libc::F_SETFL, flags | libc::O_NONBLOCK),
            0
        );
        assert_eq!(libc::dup2(fds[1], 1), 1);
        libc::close(fds[1]);
    }
    // A slow reader: 4 KiB a millisecond.
    // SAFETY: the read end is this process's and is owned by the file now.
    let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let read = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
            }
            const LAST: &[u8] = b"\"msg\":\"last\"";
            let tail = &all[all.len().saturating_sub(chunk.len() + LAST.len())..];
            if tail.windows(LAST.len()).any(|w| w == LAST) || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        all
    });
    let logger = Builder::new()
        .format(Format::Json)
        .stdout()
        .build()
        .unwrap();
    for i in 0..20_000u32 {
        velo!(logger: &logger, info, "entry", i);
    }
    velo!(logger: &logger, info, "last");
    let synced = logger.sync();
    let all = read.join().unwrap();
    let text = String::from_utf8(all).unwrap();
    let entries = text
        .lines()
        .filter(|l| l.contains("\"msg\":\"entry\""))
        .count();
    let stats = logger.stats();
    eprintln!(
        "entries={entries} synced={} dropped={} write_errors={}",
        synced.is_ok(),
        stats.dropped,
        stats.write_errors
    );
    // The test harness would report to the pipe nobody reads now.
    std::process::exit(0);
}

#[test]
fn every_line_reaches_a_slow_non_blocking_pipe() {
    let out = run_child_within(
        "child_logs_to_a_non_blocking_pipe",
        &[],
        velo_tests::CHILD_TIMEOUT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("entries=20000 synced=true dropped=0 write_errors=0"),
        "{stderr}"
    );
}
