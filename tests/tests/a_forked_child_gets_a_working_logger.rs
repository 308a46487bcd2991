//! `fork()` without `exec`: the child process gets a working logger (a new
//! worker writes its entries, `sync` returns, exit flushes), nothing the
//! parent logged is written twice, and exit in the child neither hangs nor
//! panics, even while another thread of the parent logs all along.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format};
use velo_tests::{is_child, parse_line, run_child_within, CHILD_TIMEOUT};

/// Waits for the forked process `pid` at most `timeout`; kills it if it is
/// still running then. Describes how it ended.
fn wait_for(pid: libc::pid_t, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid(2) writes the status into the local it is given.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            return if libc::WIFEXITED(status) {
                format!("exited {}", libc::WEXITSTATUS(status))
            } else {
                format!("killed by signal {}", libc::WTERMSIG(status))
            };
        }
        assert_eq!(got, 0, "waitpid failed");
        if start.elapsed() >= timeout {
            // SAFETY: kill(2) on the process this one forked.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = wait_for(pid, Duration::from_secs(5));
            return "hung".to_owned();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn child_forks_while_logging() {
    if !is_child("child_forks_while_logging") {
        return;
    }
    let file = std::env::var("VELO_TEST_FILE").unwrap();
    Builder::new()
        .format(Format::Json)
        .file(file)
        .install()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let background = std::thread::spawn({
        let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
        move || {
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                velo!(info, "background", seq);
                started.store(true, Ordering::Relaxed);
                seq += 1;
                if seq.is_multiple_of(64) {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            seq
        }
    });
    // The other thread logs all along, the fork included (on a loaded
    // machine it could otherwise start only once the child is gone).
    while !started.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
    // Many entries just before the fork: some are still queued or buffered
    // when it happens, and are the parent's to write.
    for seq in 0..2000u64 {
        velo!(info, "before fork", seq);
    }
    // SAFETY: fork(2); the child runs only this thread's code below and
    // ends with `exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        for seq in 0..100u64 {
            velo!(info, "in child", seq);
        }
        let synced = velo::sync();
        velo!(info, "child synced", ok = synced.is_ok());
        for seq in 0..100u64 {
            velo!(info, "in child, written at exit", seq);
        }
        // Runs `close` at exit: the entries above reach the file.
        std::process::exit(0);
    }
    for seq in 0..100u64 {
        velo!(info, "after fork", seq);
    }
    let child = wait_for(pid, Duration::from_secs(30));
    stop.store(true, Ordering::Relaxed);
    let background = background.join().unwrap();
    velo!(info, "background count", n = background);
    velo::close();
    eprintln!("forked child: {child}");
}

#[test]
fn a_forked_child_logs_syncs_and_exits_and_nothing_is_written_twice() {
    let dir = std::env::temp_dir().join(format!("velo-fork-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("both.log");
    let out = run_child_within(
        "child_forks_while_logging",
        &[("VELO_TEST_FILE", file.to_str().unwrap())],
        CHILD_TIMEOUT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert!(stderr.contains("forked child: exited 0"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // Sequence numbers by message, in the order written.
    let mut seqs: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut background = None;
    let mut synced = None;
    for line in text.lines() {
        let e = parse_line(line);
        let msg = e["msg"].as_str().unwrap().to_owned();
        match msg.as_str() {
            "background count" => background = e["n"].as_u64(),
            "child synced" => synced = e["ok"].as_bool(),
            _ => seqs
                .entry(msg)
                .or_default()
                .push(e["seq"].as_u64().unwrap()),
        }
    }
    let upto = |n: u64| (0..n).collect::<Vec<u64>>();
    let background = background.expect("the parent's last entry");
    // Each exactly once and in order: none lost, none written twice (by the
    // child, from what the parent had queued or buffered at the fork).
    assert_eq!(seqs["before fork"], upto(2000));
    assert_eq!(seqs["after fork"], upto(100));
    assert_eq!(seqs["background"], upto(background));
    assert_eq!(seqs["in child"], upto(100));
    assert_eq!(synced, Some(true), "sync in the child returned Ok");
    assert_eq!(seqs["in child, written at exit"], upto(100));
    assert_eq!(seqs.len(), 5, "{:?}", seqs.keys());
}

#[test]
fn child_forks_while_backtraces_are_captured() {
    if !is_child("child_forks_while_backtraces_are_captured") {
        return;
    }
    let dir = velo_tests::TempDir::new("fork-backtraces");
    let logger = Builder::new()
        .format(Format::Json)
        .backtrace(velo::Level::Error)
        .file(dir.path().join("app.log"))
        .build()
        .unwrap();
    // Starts the worker, which loads the debug information (std's lock
    // held for tens of milliseconds) while the forks below begin.
    velo!(logger: &logger, info, "start");
    let stop = Arc::new(AtomicBool::new(false));
    let background = std::thread::spawn({
        let (stop, logger) = (Arc::clone(&stop), logger.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                velo!(logger: &logger, error, "captured in the parent");
            }
        }
    });
    let mut outcomes = Vec::new();
    for round in 0..30u64 {
        std::thread::sleep(Duration::from_millis(round % 4));
        // SAFETY: fork(2); the child runs only this thread's code below and
        // ends with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            velo!(logger: &logger, error, "captured in the child", round);
            let code = i32::from(logger.sync().is_err());
            // SAFETY: ends the forked child without running the parent's
            // destructors or exit handlers.
            unsafe { libc::_exit(code) };
        }
        outcomes.push(wait_for(pid, Duration::from_secs(10)));
        if outcomes.last().is_some_and(|o| o != "exited 0") {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    background.join().unwrap();
    logger.close();
    assert!(
        outcomes.iter().all(|o| o == "exited 0"),
        "children: {outcomes:?}"
    );
}

/// std captures and symbolises a backtrace under a process-wide lock: a
/// child forked while a thread of velo's held it (the worker loading the
/// debug information at start, or a caller capturing one) could never
/// capture one itself, and hung at its first entry with a backtrace.
#[test]
fn a_fork_while_backtraces_are_captured_leaves_the_child_working() {
    let out = run_child_within(
        "child_forks_while_backtraces_are_captured",
        &[],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
}
