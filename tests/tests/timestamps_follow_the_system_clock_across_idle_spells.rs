//! The worker dates each entry from a fresh reading of the system clock
//! per pass, by the entry's age in TSC ticks. Across many passes, idle
//! spells that park the worker and bursts that keep it polling, through
//! the clock's calibration and its refinements, every entry's time lies
//! within a fraction of a millisecond of the system-clock readings taken
//! around its call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::{velo, Builder, Format, Timestamp};
use velo_tests::Capture;

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn every_entry_is_dated_between_the_readings_around_its_call() {
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .timestamp(Timestamp::UnixNanos)
        .writer(out.clone())
        .build()
        .unwrap();
    let mut brackets = Vec::new();
    let mut waits = 1u64;
    for seq in 0..300u64 {
        let before = now_nanos();
        velo!(logger: &logger, info, "dated", seq);
        let after = now_nanos();
        brackets.push((before, after));
        // From nothing (the same pass) to 16 ms (the worker parks after
        // 10 ms idle); the clock is refined once a second meanwhile.
        waits = waits
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pause = waits >> 60;
        if pause > 0 {
            std::thread::sleep(Duration::from_millis(pause));
        }
    }
    logger.sync().unwrap();
    // The pair a pass dates by costs well under this, even preempted.
    let slack = 200_000;
    let entries = out.entries();
    assert_eq!(entries.len(), brackets.len());
    for (e, (before, after)) in entries.iter().zip(brackets) {
        let t = e["time"].as_u64().expect("UnixNanos is a number");
        assert!(
            before <= t + slack && t <= after + slack,
            "entry {}: {before} <= {t} <= {after}",
            e["seq"]
        );
    }
}
