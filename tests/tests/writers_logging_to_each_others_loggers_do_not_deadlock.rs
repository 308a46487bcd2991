//! Two loggers whose writers log to each other: A's writer logs to B and
//! B's writer logs to A. With small queues, a thread inside A's output
//! that must write B's queue itself (a full queue under `Overflow::Sync`)
//! can meet B's worker inside B's output doing the same for A: each holds
//! one output lock and asks for the other's. That must not hang: the
//! program ends, within a bound, with every entry written or counted. The
//! thread inside the later logger's output (B's) is the one that gives up,
//! and under `Overflow::Sync` no entry logged outside the outputs is lost.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use velo::{velo, Builder, Format, Logger, Overflow};
use velo_tests::{is_child, run_child_within};

/// A writer that logs one "echo" to `other` for every user entry it
/// writes (not for echoes, so the two loggers do not bounce forever).
struct Echo {
    other: Arc<OnceLock<Logger>>,
    /// User entries written, and echoes.
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    users: AtomicU64,
    echoes: AtomicU64,
}

/// How many of the lines in `buf` have the message `msg`.
fn lines_with(buf: &[u8], msg: &[u8]) -> u64 {
    buf.split(|&b| b == b'\n')
        .filter(|line| line.windows(msg.len()).any(|w| w == msg))
        .count() as u64
}

impl Write for Echo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let users = lines_with(buf, b"\"msg\":\"user\"");
        self.counts.users.fetch_add(users, Ordering::Relaxed);
        let echoes = lines_with(buf, b"\"msg\":\"echo\"");
        self.counts.echoes.fetch_add(echoes, Ordering::Relaxed);
        if let Some(other) = self.other.get() {
            for _ in 0..users {
                velo!(logger: other, info, "echo");
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn logger(other: &Arc<OnceLock<Logger>>, counts: &Arc<Counts>, overflow: Overflow) -> Logger {
    Builder::new()
        .format(Format::Json)
        .writer(Echo {
            other: Arc::clone(other),
            counts: Arc::clone(counts),
        })
        .buffer_size(2)
        .overflow(overflow)
        .build()
        .unwrap()
}

#[test]
fn child_mutual_writers() {
    if !is_child("child_mutual_writers") {
        return;
    }
    let overflow = match std::env::var("VELO_TEST_OVERFLOW").unwrap().as_str() {
        "sync" => Overflow::Sync,
        "block" => Overflow::Block,
        _ => Overflow::Drop,
    };
    let (to_a, to_b): (Arc<OnceLock<Logger>>, Arc<OnceLock<Logger>>) = Default::default();
    let (counts_a, counts_b): (Arc<Counts>, Arc<Counts>) = Default::default();
    let a = logger(&to_b, &counts_a, overflow);
    let b = logger(&to_a, &counts_b, overflow);
    to_a.set(a.clone()).unwrap();
    to_b.set(b.clone()).unwrap();
    let threads: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .map(|l| {
            std::thread::spawn(move || {
                for i in 0..3000u32 {
                    velo!(logger: &l, info, "user", i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Each sync writes echoes into the other logger: twice round, so that
    // the last echoes are written too (echoes beget none).
    for _ in 0..2 {
        let _ = a.sync();
        let _ = b.sync();
    }
    for (name, l, counts) in [("a", &a, &counts_a), ("b", &b, &counts_b)] {
        let s = l.stats();
        println!(
            "{name} users={} echoes={} written={} dropped={}",
            counts.users.load(Ordering::Relaxed),
            counts.echoes.load(Ordering::Relaxed),
            s.written,
            s.dropped
        );
    }
    velo::close();
}

#[test]
fn mutual_writers_neither_hang_nor_lose_entries_silently() {
    for overflow in ["sync", "block", "drop"] {
        let out = run_child_within(
            "child_mutual_writers",
            &[("VELO_TEST_OVERFLOW", overflow)],
            velo_tests::CHILD_TIMEOUT,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{overflow}: {out:?}");
        let stats = |name: &str| -> (&str, [u64; 3]) {
            let line = stdout
                .lines()
                .find_map(|l| l.find(&format!("{name} users=")).map(|i| &l[i..]))
                .unwrap_or_else(|| panic!("{overflow}: no stats for {name}: {stdout}"));
            let count = |key: &str| -> u64 {
                line.split(' ')
                    .find_map(|kv| kv.strip_prefix(key))
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (line, [count("users="), count("echoes="), count("dropped=")])
        };
        for (name, other) in [("a", "b"), ("b", "a")] {
            let (line, [users, echoes, dropped]) = stats(name);
            // Every entry, the user's and the echoes the other writer sent
            // (one per user entry it wrote), is written or counted as
            // dropped.
            let sent = 6000 + stats(other).1[0];
            assert_eq!(users + echoes + dropped, sent, "{overflow} {name}: {line}");
            if overflow == "sync" {
                // Entries logged by threads outside any output are never
                // lost under `Sync`. (An echo can be: logged into B from A's
                // writer running on a thread inside B's own output, it is
                // re-entrant for B, queued if there is room, else dropped
                // and counted; with `buffer_size(2)` that happens about
                // once in 25 runs.)
                assert_eq!(users, 6000, "{name}: every user entry is written: {line}");
            }
            if overflow != "drop" {
                assert!(users > 0, "{overflow} {name}: {line}");
            }
        }
    }
}

/// Logs to `other` on every write, echoes included: the two loggers
/// bounce entries for as long as both write.
struct Bounces(Arc<OnceLock<Logger>>);

impl Write for Bounces {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(other) = self.0.get() {
            velo!(logger: other, info, "bounced");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Closing two loggers that bounce entries between their writers: each
/// close writes for up to eight rounds, then drops (counted) what the
/// other's writer logs into it from inside its last round, and leaves no
/// entry queued that no one will write. (The nested write of the other
/// logger once cleared the closing logger's last-round mark, so one entry
/// stayed in its queue, neither written nor counted, until the exit.)
#[test]
fn closing_loggers_that_bounce_entries_leaves_none_queued() {
    let (to_a, to_b) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
    let a = Builder::new()
        .writer(Bounces(Arc::clone(&to_b)))
        .build()
        .unwrap();
    let b = Builder::new()
        .writer(Bounces(Arc::clone(&to_a)))
        .build()
        .unwrap();
    to_a.set(a.clone()).ok();
    to_b.set(b.clone()).ok();
    velo!(logger: &a, info, "to a");
    velo!(logger: &b, info, "to b");
    a.close();
    b.close();
    // Nothing left queued: a later sync writes nothing (it wrote eight
    // more rounds, and left one entry again).
    let written = [a.stats().written, b.stats().written];
    let _ = b.sync();
    let _ = a.sync();
    assert_eq!([a.stats().written, b.stats().written], written);
    assert!(b.stats().dropped >= 1, "{:?}", b.stats());
}
