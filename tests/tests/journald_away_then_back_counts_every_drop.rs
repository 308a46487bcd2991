//! While journald is away, every send fails: those entries are write
//! errors, and under `Overflow::Drop` the queue drops more. The warnings
//! that count the drops wait until journald is back (a send works again),
//! then arrive and add up to every entry dropped. The worker never loops on
//! a warning it cannot send: two threads logging flat out at a socket that
//! is not there, in a child with a small stack, end normally.
#![cfg(target_os = "linux")]

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Overflow};
use velo_tests::{assert_child_passed, is_child, run_child_within, TempDir, CHILD_TIMEOUT};

const NAME: &str = "child_logs_while_journald_is_away";

#[test]
fn child_logs_while_journald_is_away() {
    if !is_child(NAME) {
        return;
    }
    let dir = std::env::var("VELO_TEST_DIR").unwrap();
    let socket = std::path::Path::new(&dir).join("journal.sock");
    let logger = Builder::new()
        .journald_at(&socket)
        .overflow(Overflow::Drop)
        .buffer_size(16)
        .build()
        .unwrap();
    let until = Instant::now() + Duration::from_millis(500);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let logger = logger.clone();
            std::thread::spawn(move || {
                let mut i = 0u64;
                while Instant::now() < until {
                    velo!(logger: &logger, info, "away", t, i);
                    i += 1;
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let err = logger.sync().expect_err("the failed sends are reported");
    let named = format!("journald {}", socket.display());
    assert!(err.to_string().contains(&named), "{err}");
    let away = logger.stats();
    assert!(away.dropped > 0, "the queue dropped some: {away:?}");
    assert!(away.write_errors > 0, "{away:?}");

    // journald is back.
    let journal = UnixDatagram::bind(&socket).unwrap();
    journal
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    velo!(logger: &logger, info, "back");
    logger.sync().unwrap();
    velo!(logger: &logger, info, "still back");
    logger.sync().unwrap();
    let stats = logger.stats();
    assert_eq!(
        stats.dropped, away.dropped,
        "nothing dropped since: {stats:?}"
    );
    journal.set_nonblocking(true).unwrap();
    let mut announced = 0;
    let mut messages = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n) = journal.recv(&mut buf) {
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
        };
        let message = field("MESSAGE").expect("a message");
        if message.starts_with("velo dropped entries") {
            announced += field("DROPPED").unwrap().parse::<u64>().unwrap();
            // velo's own entry has no place in the source: no empty file.
            assert_eq!(field("CODE_FILE"), None, "{text}");
            assert_eq!(field("CODE_LINE"), None, "{text}");
        } else {
            assert!(
                field("CODE_FILE").is_some_and(|f| f.ends_with(".rs")),
                "{text}"
            );
        }
        messages.push(message);
    }
    assert!(messages.iter().any(|m| m == "back"), "{messages:?}");
    assert_eq!(
        announced, stats.dropped,
        "the warnings count every drop: {messages:?}"
    );
}

#[test]
fn drops_while_journald_is_away_are_announced_once_it_is_back() {
    let dir = TempDir::new("journald_away_then_back");
    let out = run_child_within(
        NAME,
        &[
            ("VELO_TEST_DIR", dir.path().to_str().unwrap()),
            // A worker stack small enough that a loop of nested flushes
            // would overflow it.
            ("RUST_MIN_STACK", "262144"),
        ],
        CHILD_TIMEOUT,
    );
    assert_child_passed(&out);
}

/// A journald that is there but reads nothing (stopped, hung): its socket's
/// queue fills, and a logger without a queue, which sends on the caller's
/// thread, still returns from every call: a send waits at most a second,
/// and the sends after it fail at once for a second. Once journald reads
/// again, entries arrive.
#[test]
fn a_journald_reading_nothing_holds_up_no_caller() {
    velo_tests::in_child("a_journald_reading_nothing_holds_up_no_caller", || {
        let dir = TempDir::new("journald-stalled");
        let socket = dir.path().join("journal.sock");
        let journal = UnixDatagram::bind(&socket).unwrap();
        let logger = Builder::new()
            .journald_at(&socket)
            .asynchronous(false)
            .build()
            .unwrap();
        let start = Instant::now();
        for i in 0..3_000u32 {
            velo!(logger: &logger, info, "stalled", i);
        }
        let took = start.elapsed();
        assert!(took < Duration::from_secs(10), "{took:?}");
        // Entries too large for a datagram, sent as memory files, wait no
        // more than small ones (they waited a second each).
        let big_socket = dir.path().join("big.sock");
        let _big_journal = UnixDatagram::bind(&big_socket).unwrap();
        let big_logger = Builder::new()
            .journald_at(&big_socket)
            .asynchronous(false)
            .build()
            .unwrap();
        let big = "x".repeat(300_000);
        let start = Instant::now();
        for i in 0..20u32 {
            velo!(logger: &big_logger, info, "big", i, big = big.as_str());
        }
        let took = start.elapsed();
        assert!(took < Duration::from_secs(4), "{took:?}");
        let stats = logger.stats();
        assert!(stats.write_errors > 0, "the queue filled: {stats:?}");
        // Two stalled journald outputs of one logger wait in turn: each
        // vain wait lengthens the spell after it, so they soon both fail
        // at once (each waited out the other's spell, and every entry
        // waited two seconds).
        let (a, b) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
        let (_a, _b) = (
            UnixDatagram::bind(&a).unwrap(),
            UnixDatagram::bind(&b).unwrap(),
        );
        let both = Builder::new()
            .journald_at(&a)
            .also(Builder::new().journald_at(&b))
            .asynchronous(false)
            .build()
            .unwrap();
        let start = Instant::now();
        for i in 0..2_000u32 {
            velo!(logger: &both, info, "both stalled", i);
        }
        let took = start.elapsed();
        assert!(took < Duration::from_secs(15), "{took:?}");
        // journald reads again: what it had, then what comes next.
        journal.set_nonblocking(true).unwrap();
        let mut buf = vec![0; 1 << 16];
        while journal.recv(&mut buf).is_ok() {}
        journal.set_nonblocking(false).unwrap();
        journal
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        std::thread::sleep(Duration::from_millis(1_100));
        velo!(logger: &logger, info, "read again");
        let n = journal.recv(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.contains("MESSAGE=read again"), "{text}");
    });
}
