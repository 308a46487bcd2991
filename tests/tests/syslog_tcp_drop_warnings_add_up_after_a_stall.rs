//! Syslog over TCP to a receiver that accepts, reads nothing for a while
//! (the backlog fills and entries are dropped), then reads everything: the
//! drop warnings that arrive add up to every entry dropped. A warning is
//! not written into a full backlog, where it would be dropped with its
//! count; it waits until the backlog has room again. The next `sync`
//! returns why entries were dropped.

#![cfg(unix)]

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Syslog};
use velo_tests::in_child;
use velo_tests::syslog::{octet_frames, Message};

fn scenario() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let logger = Builder::new()
        .format(Format::Json)
        .syslog(Syslog::tcp(addr.to_string()).backlog(100_000))
        .build()
        .unwrap();
    // Accepted (velo connects at the first entry), not read: the
    // kernel's buffers fill, then the backlog.
    let closed = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&closed);
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        conn.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut bytes = Vec::new();
        let mut buf = vec![0; 1 << 16];
        let deadline = Instant::now() + Duration::from_secs(30);
        // Until the end of the stream, or nothing more comes after the
        // logger was closed.
        while Instant::now() < deadline {
            let was_closed = done.load(Ordering::Acquire);
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(_) if was_closed => break,
                Err(_) => {}
            }
        }
        bytes
    });
    let pad = "p".repeat(1000);
    for i in 0..20_000u32 {
        velo!(logger: &logger, info, "seq", i, pad = pad.as_str());
    }
    std::thread::sleep(Duration::from_millis(2500));
    for i in 20_000..20_010u32 {
        velo!(logger: &logger, info, "seq", i);
    }
    // What the backlog dropped is the answer of the next `sync` (and said
    // once on stderr), not counted only.
    let synced = logger.sync();
    let stats = logger.stats();
    logger.close();
    closed.store(true, Ordering::Release);
    let bytes = reader.join().unwrap();

    let (frames, rest) = octet_frames(&bytes);
    assert!(rest.is_empty());
    let lines: Vec<_> = frames.iter().map(|f| Message::parse(f).json()).collect();
    let seqs = lines.iter().filter(|l| l["msg"] == "seq").count() as u64;
    let warned: u64 = lines
        .iter()
        .filter(|l| l["level"] == "warn")
        .map(|l| l["dropped"].as_u64().unwrap())
        .sum();
    assert!(stats.dropped > 0, "the backlog overflowed: {stats:?}");
    let err = synced.expect_err("the drops are reported");
    assert!(err.to_string().contains("the backlog was full"), "{err}");
    assert_eq!(seqs + stats.dropped, 20_010, "{stats:?}");
    assert_eq!(warned, stats.dropped, "every drop announced: {stats:?}");
    assert_eq!(frames.len() as u64, stats.written, "{stats:?}");
}

#[test]
fn drop_warnings_add_up_after_a_stall() {
    in_child("drop_warnings_add_up_after_a_stall", scenario);
}
