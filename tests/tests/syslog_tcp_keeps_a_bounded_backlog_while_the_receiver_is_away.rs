//! Over TCP, entries logged while the receiver is away wait in the output's
//! backlog; those that find it full are counted as dropped, and the rest
//! arrive, in order, once the receiver listens again: nothing counted as
//! written is lost. Callers never wait for any of it.

#![cfg(unix)]

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use velo::{velo, Builder, ErrorKind, Format, Syslog};
use velo_tests::syslog::{octet_frames, Message};

#[test]
fn backlog_overflow_is_counted_and_the_rest_arrives_after_reconnecting() {
    const N: u64 = 2000;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let logger = Builder::new()
        .format(Format::Json)
        .app_name("backlog")
        .syslog(Syslog::tcp(format!("127.0.0.1:{port}")).backlog(64 * 1024))
        .build()
        .unwrap();
    let pad = "x".repeat(100);
    let start = Instant::now();
    for i in 0..N {
        velo!(logger: &logger, info, "waiting", i, pad);
    }
    let calls = start.elapsed();
    // The refused connection is a write error, which a `sync` returns
    // once the attempt (on a helper thread) has failed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let err = loop {
        match logger.sync() {
            Err(e) => break e,
            Ok(()) => assert!(Instant::now() < deadline, "no error reported"),
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(err.kind(), ErrorKind::Write);
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::ConnectionRefused));
    let before = logger.stats();
    assert!(before.dropped > 0 && before.write_errors > 0, "{before:?}");
    assert!(before.written + before.dropped >= N, "{before:?}");

    // The receiver comes up on the same port; the output reconnects on a
    // later pass, after its backoff.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        match listener.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no reconnection");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    };
    conn.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0; 65536];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(_) => {
                // Idle: done once everything counted as written is here.
                let _ = logger.sync();
                let written = logger.stats().written;
                if octet_frames(&bytes).0.len() as u64 >= written {
                    break;
                }
                assert!(Instant::now() < deadline, "entries missing");
            }
        }
    }
    let (frames, rest) = octet_frames(&bytes);
    assert!(rest.is_empty());
    let messages: Vec<Message> = frames.iter().map(|f| Message::parse(f)).collect();
    let ours: Vec<u64> = messages
        .iter()
        .map(|m| m.json())
        .filter(|l| l["msg"] == "waiting")
        .map(|l| l["i"].as_u64().unwrap())
        .collect();
    let stats = logger.stats();
    // Everything counted as written arrived, once.
    assert_eq!(frames.len() as u64, stats.written, "{stats:?}");
    // The backlog kept the oldest entries, in order; each entry logged
    // after it filled is counted as dropped.
    let kept = ours.len() as u64;
    assert!(kept > 0, "{stats:?}");
    assert_eq!(ours, (0..kept).collect::<Vec<_>>());
    assert!(N - kept <= stats.dropped, "{stats:?}");
    // The drop warnings say how many were dropped: every one.
    let warned: u64 = messages
        .iter()
        .map(|m| m.json())
        .filter(|l| l["level"] == "warn")
        .map(|l| l["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(warned, stats.dropped, "{stats:?}");
    eprintln!("{N} entries in {calls:?} with the receiver away: {kept} kept, {stats:?}",);
}
