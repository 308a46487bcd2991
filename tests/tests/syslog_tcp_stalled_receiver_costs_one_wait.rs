//! Syslog over TCP to a receiver that accepts and never reads: `sync`
//! waits its bound (3 s) once and returns the failure; after that, until
//! the receiver takes something, `sync`, `close` and the exit of a process
//! with two such loggers return at once instead of waiting the bound again
//! at every step.

#![cfg(unix)]

use std::net::TcpListener;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Syslog};
use velo_tests::{assert_child_passed, is_child, run_child_within};

fn stalled_logger(held: &mut Vec<std::net::TcpStream>) -> velo::Logger {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let logger = Builder::new()
        .syslog(Syslog::tcp(addr.to_string()))
        .build()
        .unwrap();
    let pad = "p".repeat(1000);
    for seq in 0..20_000u32 {
        velo!(logger: &logger, info, "stalled", seq, pad = pad.as_str());
    }
    // Accepted, never read: the kernel's buffers fill and stay full.
    let (stream, _) = listener.accept().unwrap();
    held.push(stream);
    logger
}

/// Reads what the receiver was sent, until nothing more comes.
fn drain(stream: &mut std::net::TcpStream) -> u64 {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = vec![0; 1 << 16];
    let mut total = 0;
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        total += n as u64;
    }
    total
}

fn scenario() {
    let mut held = Vec::new();
    let first = stalled_logger(&mut held);
    let second = stalled_logger(&mut held);
    let start = Instant::now();
    let err = first.sync().expect_err("the receiver reads nothing");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(2500) && waited < Duration::from_secs(5),
        "{waited:?}: {err}"
    );
    assert!(err.to_string().contains("not sent within 3 s"), "{err}");
    let start = Instant::now();
    assert!(first.sync().is_err());
    first.close();
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "a second sync and close waited again: {:?}",
        start.elapsed()
    );
    // What `close` gave up on is taken back from `bytes` as from
    // `written`: `bytes` is what reached the receiver (but the rest of a
    // message cut mid-way, which counts as written).
    let received = drain(&mut held[0]);
    let stats = first.stats();
    let message = stats.bytes / stats.written;
    assert!(
        received <= stats.bytes && stats.bytes - received < message + 100,
        "received {received}, {stats:?}"
    );
    // The second logger waits once, at exit, not once per step of it.
    assert!(second.sync().is_err());
    eprintln!("exiting with {:?}", second.stats());
}

#[test]
fn stalled_receiver_costs_one_wait() {
    if is_child("stalled_receiver_costs_one_wait") {
        return scenario();
    }
    let start = Instant::now();
    let out = run_child_within(
        "stalled_receiver_costs_one_wait",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
    // Two waits of 3 s (each logger's first sync), plus logging and exit.
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// One logger, two stalled receivers (`also`): the two outputs' waits
/// share one bound, so `sync` returns within it naming both, rather than
/// keeping the worker past the bound after which it counts as stuck; and
/// `close` gives up on what neither sent, counted and named on stderr.
fn two_outputs_scenario() {
    let listeners: Vec<TcpListener> = (0..2)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let addr = |i: usize| listeners[i].local_addr().unwrap().to_string();
    let logger = Builder::new()
        .syslog(Syslog::tcp(addr(0)))
        .also(Builder::new().syslog(Syslog::tcp(addr(1))))
        .build()
        .unwrap();
    let pad = "p".repeat(1000);
    for seq in 0..20_000u32 {
        velo!(logger: &logger, info, "stalled", seq, pad = pad.as_str());
    }
    let _held: Vec<_> = listeners.iter().map(|l| l.accept().unwrap()).collect();
    let start = Instant::now();
    let err = logger.sync().expect_err("the receivers read nothing");
    let waited = start.elapsed();
    assert!(waited < Duration::from_millis(4500), "{waited:?}: {err}");
    let said = err.to_string();
    assert!(said.contains(&addr(0)) && said.contains(&addr(1)), "{said}");
    assert_eq!(said.matches("not sent within").count(), 2, "{said}");
    logger.close();
    assert!(logger.stats().dropped > 0, "{:?}", logger.stats());
}

#[test]
fn two_stalled_outputs_share_one_wait() {
    if is_child("two_stalled_outputs_share_one_wait") {
        return two_outputs_scenario();
    }
    let out = run_child_within(
        "two_stalled_outputs_share_one_wait",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each output names what it gave up on.
    let mut named: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("entries were never sent"))
        .filter_map(|l| l.strip_prefix("velo: syslog tcp ")?.split(':').nth(1))
        .collect();
    named.sort_unstable();
    named.dedup();
    assert_eq!(named.len(), 2, "{stderr}");
}
