//! Under `Overflow::Block`, a writer that never returns holds up one
//! caller for the stall bound (5 s without progress) and then no one: the
//! callers after it find the worker still stuck and drop their entries at
//! once, counted, instead of each waiting 5 s more. Once the writer
//! returns, logging waits for room again and loses nothing.

use std::io::{self, Write};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{assert_child_passed, is_child, run_child_within, Capture};

/// Holds each write until told to go on, once `hold` is set.
struct Held {
    inner: Capture,
    hold: Arc<Mutex<Option<Receiver<()>>>>,
}

impl Write for Held {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(go) = self.hold.lock().unwrap().take() {
            let _ = go.recv();
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn scenario() {
    let out = Capture::new();
    let hold = Arc::new(Mutex::new(None));
    let logger = Builder::new()
        .format(Format::Json)
        .timestamp(velo::Timestamp::Off)
        .buffer_size(16)
        .overflow(Overflow::Block)
        .writer(Held {
            inner: out.clone(),
            hold: Arc::clone(&hold),
        })
        .build()
        .unwrap();
    let (go, wait) = channel();
    *hold.lock().unwrap() = Some(wait);
    // The next write holds the worker: the ring fills up behind it.
    let start = Instant::now();
    for seq in 0..200u64 {
        velo!(logger: &logger, info, "while stuck", seq);
    }
    let took = start.elapsed();
    let dropped = logger.stats().dropped;
    // One wait of 5 s, not one per entry that found the queue full.
    assert!(took < Duration::from_secs(12), "{took:?}");
    assert!(dropped > 100, "{:?}", logger.stats());
    go.send(()).unwrap();
    logger.sync().unwrap();
    // The worker moves again: Block waits for room, nothing more dropped.
    for seq in 0..2000u64 {
        velo!(logger: &logger, info, "after", seq);
    }
    logger.sync().unwrap();
    let stats = logger.stats();
    assert!(stats.dropped <= dropped + 1, "{stats:?}");
    let after: Vec<u64> = out
        .entries()
        .iter()
        .filter(|e| e["msg"] == "after")
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(after, (0..2000).collect::<Vec<_>>());
    eprintln!("200 entries in {took:?} with the writer stuck; {stats:?}");
}

#[test]
fn block_gives_up_on_a_stuck_writer_once() {
    if is_child("block_gives_up_on_a_stuck_writer_once") {
        return scenario();
    }
    let out = run_child_within(
        "block_gives_up_on_a_stuck_writer_once",
        &[],
        Duration::from_secs(60),
    );
    assert_child_passed(&out);
}
