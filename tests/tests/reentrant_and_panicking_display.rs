//! Logging from inside a value's `Display`, and a panic inside one, neither
//! deadlock nor lose later entries; the entry a panic unwinds through is
//! counted as dropped, and its warning says why.

use std::fmt;
use velo::{velo, Builder, Format, Logger, Overflow};
use velo_tests::Capture;

struct LogsWhileFormatted<'a>(&'a Logger);

impl fmt::Display for LogsWhileFormatted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        velo!(logger: self.0, info, "inner");
        f.write_str("outer value")
    }
}

struct Panics;

impl fmt::Display for Panics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display failed")
    }
}

fn logger(overflow: Overflow, asynchronous: bool) -> (Logger, Capture) {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(out.clone())
        .buffer_size(1)
        .overflow(overflow)
        .asynchronous(asynchronous)
        .build()
        .unwrap();
    (logger, out)
}

#[test]
fn reentrant_logging_writes_both_entries() {
    for (overflow, asynchronous) in [
        (Overflow::Sync, true),
        (Overflow::Block, true),
        (Overflow::Drop, true),
        (Overflow::Sync, false),
    ] {
        let (logger, out) = logger(overflow, asynchronous);
        for _ in 0..50 {
            velo!(logger: &logger, info, "outer", v = %LogsWhileFormatted(&logger));
        }
        logger.sync().unwrap();
        let entries = out.entries();
        let dropped = logger.stats().dropped as usize;
        let outer = entries.iter().filter(|e| e["msg"] == "outer").count();
        let inner = entries.iter().filter(|e| e["msg"] == "inner").count();
        assert_eq!(outer + inner + dropped, 100, "{overflow:?}");
        if overflow != Overflow::Drop {
            assert_eq!((outer, inner), (50, 50), "{overflow:?}");
            assert!(entries
                .iter()
                .filter(|e| e["msg"] == "outer")
                .all(|e| e["v"] == "outer value"));
        }
    }
}

/// A `Value` whose encoding panics, after a value written in place.
struct PanicsAsValue;

impl velo::Value for PanicsAsValue {
    fn encode(&self, _: &mut velo::Encoder<'_>) {
        panic!("Value failed")
    }
}

#[test]
fn panic_in_display_loses_nothing_after_it_and_counts_its_entry() {
    for asynchronous in [true, false] {
        let (logger, out) = logger(Overflow::Sync, asynchronous);
        velo!(logger: &logger, info, "before");
        let panicking: [&(dyn Fn() + std::panic::RefUnwindSafe); 3] = [
            &|| velo!(logger: &logger, info, "panics", v = %Panics),
            &|| velo!(logger: &logger, info, "panics", n = 1, v = PanicsAsValue),
            &|| velo!(logger: &logger, every: 1ms, info, "panics", v = ?PanicsDebug),
        ];
        // The `every:` site wrote its entry in the last round; its next
        // is due a period and up to two ticks of the coarse clock later
        // (see `limit.rs`): 9 ms at 250 Hz, 21 ms at 100 Hz.
        std::thread::sleep(std::time::Duration::from_millis(25));
        for call in panicking {
            assert!(std::panic::catch_unwind(call).is_err());
        }
        for seq in 0..10u32 {
            velo!(logger: &logger, info, "after", seq);
        }
        logger.sync().unwrap();
        let entries = out.entries();
        let (warnings, entries): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| {
            e["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("velo dropped"))
        });
        let msgs: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(
            msgs.len(),
            11,
            "the panicking entries are not written: {msgs:?}"
        );
        assert_eq!(msgs[0], "before");
        assert!(msgs[1..].iter().all(|m| *m == "after"));
        // Each lost entry is counted, and said so once.
        assert_eq!(logger.stats().dropped, 3, "asynchronous: {asynchronous}");
        let announced: u64 = warnings
            .iter()
            .map(|w| w["dropped"].as_u64().unwrap())
            .sum();
        assert_eq!(announced, 3, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .all(|w| w["msg"].as_str().unwrap().contains("panicked")),
            "{warnings:?}"
        );
    }
}

struct PanicsDebug;

impl fmt::Debug for PanicsDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug failed")
    }
}

/// A writer that logs to its own logger on every write, so entries arrive
/// while the logger drains (and while a logging thread's queue grows).
struct LogsWhileWriting {
    logger: std::sync::Arc<std::sync::OnceLock<Logger>>,
    out: Capture,
}

impl std::io::Write for LogsWhileWriting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(logger) = self.logger.get() {
            velo!(logger: logger, debug, "from the writer", bytes = buf.len());
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[test]
fn a_writer_that_logs_to_its_own_logger_under_a_burst() {
    for overflow in [Overflow::Sync, Overflow::Block, Overflow::Drop] {
        let cell = std::sync::Arc::new(std::sync::OnceLock::new());
        let out = Capture::new();
        let logger = velo::Builder::new()
            .format(velo::Format::Json)
            .level(velo::LevelFilter::Debug)
            .overflow(overflow)
            .writer(LogsWhileWriting {
                logger: cell.clone(),
                out: out.clone(),
            })
            .build()
            .unwrap();
        cell.set(logger.clone()).ok().unwrap();
        // Far more than a queue holds at first (16 KiB), so it fills, and
        // normally grows, while the writer logs into it; growth itself is
        // checked by `a_ring_that_fills_grows_and_keeps_order` in worker.rs.
        const N: u64 = 20_000;
        for seq in 0..N {
            velo!(logger: &logger, info, "burst", seq, pad = "0123456789012345678901234567890123456789");
        }
        logger.sync().unwrap();
        let entries = out.entries();
        let seqs: Vec<u64> = entries
            .iter()
            .filter(|e| e["msg"] == "burst")
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
        if overflow == Overflow::Drop {
            // Entries may be dropped (the writer's among them); those kept
            // are in order.
            assert!(!seqs.is_empty());
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{overflow:?}");
        } else {
            assert_eq!(seqs, (0..N).collect::<Vec<_>>(), "{overflow:?}");
        }
        assert!(entries.iter().any(|e| e["msg"] == "from the writer"));
        // The cell holds a handle: close explicitly.
        cell.get().unwrap().close();
    }
}

#[test]
fn a_panic_in_a_bridged_log_message_is_counted() {
    velo_tests::in_child("a_panic_in_a_bridged_log_message_is_counted", || {
        let out = Capture::new();
        Builder::new()
            .format(Format::Json)
            .writer(out.clone())
            .install()
            .unwrap();
        velo::bridge_log().unwrap();
        std::panic::set_hook(Box::new(|_| {}));
        assert!(std::panic::catch_unwind(|| log::info!("message {}", Panics)).is_err());
        log::info!("after");
        velo::sync().unwrap();
        assert_eq!(velo::logger().stats().dropped, 1);
        let entries = out.entries();
        let msgs: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs.contains(&"after"), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("panicked")), "{msgs:?}");
    });
}

/// The warning for an entry whose value panicked, written by the next
/// entry's caller before that entry, shows that entry's time, not a later
/// one (the output stays in time order).
#[test]
fn the_warning_before_an_entry_is_not_dated_after_it() {
    for asynchronous in [false, true] {
        let out = Capture::new();
        let logger = Builder::new()
            .format(Format::Json)
            .timestamp(velo::Timestamp::UnixNanos)
            .writer(out.clone())
            .asynchronous(asynchronous)
            .build()
            .unwrap();
        // After `close`, every entry is written by its caller.
        logger.close();
        for _ in 0..50 {
            let call = || velo!(logger: &logger, info, "panics", v = %Panics);
            assert!(std::panic::catch_unwind(call).is_err());
            velo!(logger: &logger, info, "next");
        }
        let entries = out.entries();
        assert_eq!(entries.len(), 100, "a warning before each entry");
        for pair in entries.chunks(2) {
            let (warning, next) = (&pair[0], &pair[1]);
            assert!(warning["msg"].as_str().unwrap().contains("panicked"));
            let (w, n) = (
                warning["time"].as_u64().unwrap(),
                next["time"].as_u64().unwrap(),
            );
            // Converted alike: no conversion's jitter between them.
            assert!(
                w <= n,
                "asynchronous {asynchronous}: the warning is dated {} ns after the entry it precedes: {:?}",
                w - n, pair
            );
        }
    }
}
