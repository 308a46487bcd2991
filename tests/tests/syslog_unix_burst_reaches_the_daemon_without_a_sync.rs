//! A burst over a unix datagram socket fills the daemon's queue (ten
//! datagrams by default on Linux: `net.unix.max_dgram_qlen`); the rest
//! waits in the output's backlog and must follow as fast as the daemon
//! reads, with no `sync` and no further entry to prompt the worker, and a
//! `sync` after a burst must see it all out.

#![cfg(unix)]

use std::collections::BTreeSet;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Syslog};
use velo_tests::syslog::Message;
use velo_tests::TempDir;

/// A daemon reading as fast as it can: the `seq` of every entry received.
struct Daemon {
    seqs: Arc<Mutex<Vec<u64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Daemon {
    fn start(path: &std::path::Path) -> Daemon {
        let socket = UnixDatagram::bind(path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let seqs = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let (seqs, stop) = (Arc::clone(&seqs), Arc::clone(&stop));
            move || {
                let mut buf = vec![0; 70_000];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(n) = socket.recv(&mut buf) {
                        let line = Message::parse(&buf[..n]).json();
                        let seq = line["seq"].as_u64().expect("an entry of the test");
                        seqs.lock().unwrap().push(seq);
                    }
                }
            }
        });
        Daemon {
            seqs,
            stop,
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<u64> {
        self.seqs.lock().unwrap().clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A JSON logger to the unix socket at `path`.
fn logger_to(path: &std::path::Path) -> velo::Logger {
    Builder::new()
        .format(Format::Json)
        .syslog(Syslog::unix(path))
        .build()
        .unwrap()
}

/// Every `seq` below `n` exactly once.
fn assert_each_once(seqs: &[u64], n: u64) {
    let distinct: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(seqs.len(), distinct.len(), "an entry arrived twice");
    let missing = (0..n).filter(|s| !distinct.contains(s)).count();
    assert_eq!(missing, 0, "{missing} of {n} entries did not arrive");
    assert_eq!(distinct.len() as u64, n, "entries the test did not log");
}

#[test]
fn a_burst_follows_the_daemon_without_a_sync() {
    let dir = TempDir::new("syslog-unix-burst");
    let path = dir.path().join("log.sock");
    let daemon = Daemon::start(&path);
    let logger = logger_to(&path);
    const N: u64 = 3_000;
    for seq in 0..N {
        velo!(logger: &logger, info, "burst", seq);
    }
    // No sync: the worker alone must bring the backlog out. (Before, it
    // tried again only at its next pass, twice a second when idle: some
    // twenty entries a second.)
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.received().len() < N as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_each_once(&daemon.received(), N);
    let stats = logger.stats();
    assert_eq!((stats.written, stats.dropped), (N, 0), "{stats:?}");
}

#[test]
fn a_sync_after_a_burst_sees_it_all_out() {
    let dir = TempDir::new("syslog-unix-burst-sync");
    let path = dir.path().join("log.sock");
    let daemon = Daemon::start(&path);
    let logger = logger_to(&path);
    const N: u64 = 20_000;
    for seq in 0..N {
        velo!(logger: &logger, info, "burst", seq);
    }
    // Within its bounded wait (3 s): the output waits for the socket to
    // take more rather than pausing up to 10 ms between tries.
    logger.sync().expect("the whole burst is sent");
    let deadline = Instant::now() + Duration::from_secs(10);
    while daemon.received().len() < N as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_each_once(&daemon.received(), N);
}

#[test]
fn a_daemon_that_reads_nothing_costs_close_one_wait_and_counts_each_loss_once() {
    let dir = TempDir::new("syslog-unix-stuck");
    let path = dir.path().join("log.sock");
    // Bound, never read: its queue fills and stays full.
    let _daemon = UnixDatagram::bind(&path).unwrap();
    let logger = logger_to(&path);
    const N: u64 = 30;
    for seq in 0..N {
        velo!(logger: &logger, info, "stuck", seq);
    }
    logger.close();
    let first = logger.stats();
    assert!(first.dropped > 0, "the queue holds ten at most: {first:?}");
    assert_eq!(first.written + first.dropped, N, "{first:?}");
    // Nothing moved since: the second close (as the one at exit) does not
    // wait again, and gives up no warning of its own.
    let start = Instant::now();
    logger.close();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let second = logger.stats();
    assert_eq!(
        (second.written, second.dropped),
        (first.written, first.dropped),
        "{second:?}"
    );
}

/// The context switches of this process's threads named `name`.
#[cfg(target_os = "linux")]
fn switches_of(name: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        let comm = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

#[test]
#[cfg(target_os = "linux")]
fn a_worker_waiting_on_a_stuck_daemon_sleeps_between_tries() {
    // In a process of its own: the only worker there is this logger's.
    const NAME: &str = "a_worker_waiting_on_a_stuck_daemon_sleeps_between_tries";
    if !velo_tests::is_child(NAME) {
        let out = velo_tests::run_child_within(NAME, &[], Duration::from_secs(60));
        return velo_tests::assert_child_passed(&out);
    }
    let dir = TempDir::new("syslog-unix-stuck-idle");
    let path = dir.path().join("log.sock");
    let _daemon = UnixDatagram::bind(&path).unwrap();
    let logger = logger_to(&path);
    for seq in 0..30u64 {
        velo!(logger: &logger, info, "stuck", seq);
    }
    // The backlog waits on a daemon that reads nothing; the tries back off
    // to one each 100 ms.
    std::thread::sleep(Duration::from_secs(1));
    let before = switches_of("velo-worker");
    std::thread::sleep(Duration::from_secs(2));
    let woken = switches_of("velo-worker").saturating_sub(before);
    // About twenty tries in two seconds; polling between them (fifty
    // microseconds at a time) would be thousands.
    assert!(woken < 200, "{woken} context switches in 2 s");
    drop(logger);
}
