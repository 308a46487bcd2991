//! Syslog over TCP with nothing listening: the first `sync` returns the
//! refused connection (it waits for the attempt instead of returning `Ok`
//! while it is under way), every later `sync` returns it again, and stderr
//! carries it once however often the output retries. When a receiver comes
//! up, the next `sync` delivers everything and returns `Ok`.

#![cfg(unix)]

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use velo::{velo, Builder, ErrorKind, Syslog};
use velo_tests::{assert_child_passed, is_child, run_child_within};

fn scenario() {
    // A port nothing listens on (bound, then closed).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let logger = Builder::new()
        .syslog(Syslog::tcp(format!("127.0.0.1:{port}")))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "first");
    let start = Instant::now();
    let err = logger.sync().expect_err("nothing listens");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::Write);
    assert_eq!(
        err.io_kind(),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{err}"
    );
    // The output retries on every pass after its backoff; each sync asks
    // for an attempt of its own too.
    for _ in 0..5 {
        velo!(logger: &logger, info, "more");
        std::thread::sleep(Duration::from_millis(150));
        let err = logger.sync().expect_err("still nothing listens");
        assert_eq!(err.io_kind(), Some(std::io::ErrorKind::ConnectionRefused));
    }
    // A receiver on that port: the next sync delivers all six.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while got.windows(4).filter(|w| w == b"more").count() < 5 {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        // The stream stays open until the logger is closed: a receiver
        // that hangs up would be a failure of its own.
        (String::from_utf8_lossy(&got).into_owned(), stream)
    });
    logger.sync().expect("the receiver is up");
    let (got, stream) = reader.join().unwrap();
    assert_eq!(got.matches("\"msg\":\"first\"").count(), 1, "{got}");
    assert_eq!(got.matches("\"msg\":\"more\"").count(), 5, "{got}");
    eprintln!("stats {:?}", logger.stats());
    logger.close();
    drop(stream);
}

#[test]
fn refused_is_returned_by_sync_and_reported_once() {
    if is_child("refused_is_returned_by_sync_and_reported_once") {
        return scenario();
    }
    let out = run_child_within(
        "refused_is_returned_by_sync_and_reported_once",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports = stderr
        .lines()
        .filter(|l| l.starts_with("velo: writing log output failed:"))
        .collect::<Vec<_>>();
    assert_eq!(reports.len(), 1, "{stderr}");
    assert!(reports[0].contains("Connection refused"), "{stderr}");
}

/// Closed with nothing listening: what was never sent is counted as
/// dropped, not written, and said once on stderr.
fn closed_while_refused() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = velo_tests::TempDir::new("syslog-closed-while-away");
    for syslog in [
        Syslog::tcp(format!("127.0.0.1:{port}")),
        Syslog::unix(dir.path().join("nobody.sock")),
    ] {
        let logger = Builder::new().syslog(syslog).build().unwrap();
        for i in 0..20u32 {
            velo!(logger: &logger, info, "never sent", i);
        }
        logger.close();
        let stats = logger.stats();
        assert_eq!(
            (stats.enqueued, stats.written, stats.dropped),
            (20, 0, 20),
            "{stats:?}"
        );
    }
}

#[test]
fn closed_while_refused_counts_what_was_never_sent() {
    if is_child("closed_while_refused_counts_what_was_never_sent") {
        return closed_while_refused();
    }
    let out = run_child_within(
        "closed_while_refused_counts_what_was_never_sent",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .lines()
        .filter(|l| l.ends_with(": 20 entries were never sent"))
        .count();
    assert_eq!(said, 2, "once for each logger: {stderr}");
}
