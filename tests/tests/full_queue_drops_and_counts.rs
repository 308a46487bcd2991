//! Under `Overflow::Drop` a full queue discards entries and counts them; the
//! worker then writes one warning entry carrying the count, in the logger's
//! own format.

use std::time::Duration;
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{Capture, Held, Slow};

#[test]
fn written_plus_dropped_equals_logged() {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Slow::new(Duration::from_micros(200), out.clone()))
        .buffer_size(8)
        .overflow(Overflow::Drop)
        .build()
        .unwrap();
    const LOGGED: u64 = 2_000;
    for seq in 0..LOGGED {
        velo!(logger: &logger, info, "burst", seq);
    }
    logger.sync().unwrap();

    let entries = out.entries();
    let (warnings, regular): (Vec<_>, Vec<_>) = entries
        .iter()
        .partition(|e| e["msg"] == "velo dropped entries: the queue was full");
    let stats = logger.stats();
    assert!(
        stats.dropped > 0,
        "a slow writer and a queue of 8 must drop"
    );
    assert_eq!(regular.len() as u64 + stats.dropped, LOGGED);
    assert!(!warnings.is_empty(), "the drop warning is written");
    let announced: u64 = warnings
        .iter()
        .map(|w| w["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(announced, stats.dropped, "warnings announce every drop");
    for w in &warnings {
        assert_eq!(w["level"], "warn");
    }
    // Entries that were kept are in order.
    let seqs: Vec<u64> = regular.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn drop_warning_uses_the_text_format_of_a_text_logger() {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Text)
        .writer(Slow::new(Duration::from_micros(500), out.clone()))
        .buffer_size(2)
        .overflow(Overflow::Drop)
        .build()
        .unwrap();
    for seq in 0..500u32 {
        velo!(logger: &logger, info, "burst", seq);
    }
    logger.sync().unwrap();
    assert!(logger.stats().dropped > 0);
    let warning = out
        .lines()
        .into_iter()
        .find(|l| l.contains("velo dropped entries"))
        .expect("a warning line");
    assert!(
        warning.contains(" WARN  velo dropped entries: the queue was full dropped="),
        "{warning}"
    );
}

/// A logger of `buffer_size(size)` under `Overflow::Drop` whose worker is
/// inside its writer, held there until the returned [`Held`] opens.
fn logger_blocked_in_its_writer(size: usize) -> (velo::Logger, Held) {
    let held = Held::default();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(held.clone())
        .buffer_size(size)
        .overflow(Overflow::Drop)
        .build()
        .unwrap();
    // The worker takes this one and blocks in the writer.
    velo!(logger: &logger, info, "first");
    held.wait_entered();
    (logger, held)
}

#[test]
fn a_thread_queues_buffer_size_entries_at_most() {
    for size in [64usize, 1024, 8192] {
        let (logger, held) = logger_blocked_in_its_writer(size);
        // Entries large enough that the thread's ring fills in bytes
        // before it does in entries, and grows (before, each larger ring
        // took `size` more entries).
        let pad = "x".repeat(200);
        const LOGGED: u64 = 50_000;
        for seq in 0..LOGGED {
            velo!(logger: &logger, info, "burst", seq, pad = pad.as_str());
        }
        let stats = logger.stats();
        let queued = stats.enqueued - 1;
        assert!(
            queued <= size as u64,
            "buffer_size({size}): {queued} entries queued"
        );
        assert_eq!(queued + stats.dropped, LOGGED, "{stats:?}");
        held.open();
        logger.sync().unwrap();
    }
}

#[test]
fn the_drop_warning_carries_the_loggers_fields() {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .fields(velo::fields!(service = "api", dropped = "shadowed"))
        .writer(Slow::new(Duration::from_micros(200), out.clone()))
        .buffer_size(2)
        .overflow(Overflow::Drop)
        .build()
        .unwrap();
    for seq in 0..500u32 {
        velo!(logger: &logger, info, "burst", seq);
    }
    logger.sync().unwrap();
    let entries = out.entries();
    let warnings: Vec<_> = entries
        .iter()
        .filter(|e| e["msg"] == "velo dropped entries: the queue was full")
        .collect();
    assert!(
        !warnings.is_empty(),
        "a queue of 2 behind a slow writer drops"
    );
    for w in warnings {
        assert_eq!(w["service"], "api", "{w:?}");
        assert!(w["dropped"].is_u64(), "the warning's own count: {w:?}");
        assert_eq!(w["fields.dropped"], "shadowed", "and the logger's: {w:?}");
    }
}

#[test]
fn an_entry_larger_than_a_full_ring_is_dropped_not_written_by_the_caller() {
    let (logger, held) = logger_blocked_in_its_writer(256);
    // The thread's ring fills with entries, then one entry larger than
    // the ring (not than the largest ring) comes: the thread moves to a
    // larger ring, which is as full (its predecessor's entries count), so
    // the entry is dropped like any other, not written by this thread
    // into the blocked writer.
    for i in 0..300u32 {
        velo!(logger: &logger, info, "small", i);
    }
    let big = "y".repeat(20_000);
    velo!(logger: &logger, info, "big", big = big.as_str());
    let stats = logger.stats();
    assert_eq!(stats.sync_fallbacks, 0, "{stats:?}");
    assert_eq!(stats.enqueued - 1 + stats.dropped, 301, "{stats:?}");
    held.open();
    logger.sync().unwrap();
}

/// While a queue stays full, the warnings come a second apart at most
/// (or when the worker idles), each with the count since the last, not
/// one per worker pass (which under a flood was thousands a second); when
/// the flood ends, the last count is written without waiting, and every
/// drop is announced.
#[test]
fn a_flood_of_drops_is_announced_once_a_second() {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Slow::new(Duration::from_micros(20), out.clone()))
        .buffer_size(2)
        .overflow(Overflow::Drop)
        .build()
        .unwrap();
    let flood = Duration::from_millis(2_500);
    let start = std::time::Instant::now();
    let mut logged = 0u64;
    while start.elapsed() < flood {
        velo!(logger: &logger, info, "flood", logged);
        logged += 1;
    }
    let elapsed = start.elapsed();
    // The flood is over: the last warning comes without a `sync`.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let stats = loop {
        let stats = logger.stats();
        let announced: u64 = out
            .entries()
            .iter()
            .filter(|e| e["msg"] == "velo dropped entries: the queue was full")
            .map(|w| w["dropped"].as_u64().unwrap())
            .sum();
        if announced == stats.dropped {
            break stats;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{announced} of {} drops announced",
            stats.dropped
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let entries = out.entries();
    let warnings = entries
        .iter()
        .filter(|e| e["msg"] == "velo dropped entries: the queue was full")
        .count() as u64;
    assert!(stats.dropped > 1_000, "a flood: {stats:?}");
    // One at the start, one a second, the last one, and one each time
    // the worker idled (10 ms without an entry: the logging thread
    // waited that long for a CPU on a busy machine): a few, where one a
    // pass made thousands.
    assert!(
        warnings <= 50,
        "{warnings} warnings over {elapsed:?} ({stats:?})"
    );
    assert_eq!(
        entries.len() as u64 - warnings + stats.dropped,
        logged,
        "{stats:?}"
    );
}
