//! `every: D` writes at most one entry per `D` from its call site; the next
//! entry written carries `"suppressed"`, the exact number of calls skipped
//! since the previous one, and has no such key when none were.

use std::time::Duration;
use velo::{velo, Builder, Timestamp};
use velo_tests::{json_logger, Capture};

fn logger() -> (velo::Logger, Capture) {
    json_logger(Builder::new().timestamp(Timestamp::Off).caller(false))
}

#[test]
fn every_hour_writes_once() {
    let (l, out) = logger();
    for i in 0..1000u32 {
        velo!(logger: &l, every: 1h, warn, "disk almost full", i);
    }
    l.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["i"], 0);
    assert!(!entries[0].contains_key("suppressed"));
}

/// One call site under `every: 200ms`.
fn limited(l: &velo::Logger, i: u32) {
    velo!(logger: l, every: 200ms, warn, "retrying", i);
}

#[test]
fn after_a_burst_and_a_pause_the_next_entry_carries_the_exact_count() {
    let (l, out) = logger();
    let burst = 500;
    for i in 0..burst {
        limited(&l, i);
    }
    std::thread::sleep(Duration::from_millis(300));
    limited(&l, burst);
    std::thread::sleep(Duration::from_millis(300));
    limited(&l, burst + 1);
    l.sync().unwrap();

    let entries = out.entries();
    let written: Vec<u64> = entries.iter().map(|e| e["i"].as_u64().unwrap()).collect();
    // Usually [0, 500, 501]; a burst stalled for longer than a period
    // (a busy machine) writes more, which the counts below must account
    // for exactly.
    assert_eq!(written.first(), Some(&0));
    assert_eq!(
        &written[written.len() - 2..],
        [u64::from(burst), u64::from(burst) + 1]
    );
    let mut previous: Option<u64> = None;
    for e in &entries {
        let i = e["i"].as_u64().unwrap();
        let skipped = previous.map_or(i, |p| i - p - 1);
        match e.get("suppressed") {
            Some(n) => {
                assert_eq!(n.as_u64(), Some(skipped), "entry {e:?}");
                assert!(skipped > 0);
                let keys: Vec<&str> = e.keys().map(String::as_str).collect();
                assert_eq!(keys.last(), Some(&"suppressed"), "after the fields");
            }
            None => assert_eq!(skipped, 0, "entry {e:?} must report {skipped} suppressed"),
        }
        previous = Some(i);
    }
    let total: u64 = entries
        .iter()
        .filter_map(|e| e.get("suppressed").and_then(serde_json::Value::as_u64))
        .sum();
    assert_eq!(
        total + entries.len() as u64,
        u64::from(burst) + 2,
        "every call is written or counted"
    );
}

#[test]
fn the_count_is_in_the_text_format_too() {
    let out = Capture::new();
    let l = Builder::new()
        .format(velo::Format::Text)
        .timestamp(Timestamp::Off)
        .caller(false)
        .writer(out.clone())
        .build()
        .unwrap();
    let site = |l: &velo::Logger| velo!(logger: l, every: 100ms, info, "tick");
    for _ in 0..4 {
        site(&l);
    }
    std::thread::sleep(Duration::from_millis(200));
    site(&l);
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines[0], "INFO  tick");
    assert!(
        lines.last().unwrap().starts_with("INFO  tick suppressed="),
        "{lines:?}"
    );
}
