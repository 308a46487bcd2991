//! While the worker is behind (its ring three quarters full when a drain
//! starts), a caller formats its entries' lines itself and the worker
//! copies them out (`caller_format`). Those lines must be the ones the
//! worker would have written: same bytes, same order, same counts. Text
//! lines, and entries with context or scope fields, are left to the
//! worker; the text test checks that they come out the same under the
//! same load. A slow
//! writer keeps this logger's worker behind for most of the run; a logger
//! writing synchronously on the calling thread, which never hands anything
//! over, formats the reference lines.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::{velo, Builder, Format, Logger, Overflow, Timestamp};
use velo_tests::Capture;

/// Takes 300 us per write call: the worker's passes are slow, and the
/// caller fills its ring while each one runs.
struct Slow(Capture);

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_micros(300));
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const N: u64 = 4_000;

/// Logs the same `N` entries, with values that vary per entry and need
/// escaping, through `logger` (and a child with context fields, and in a
/// scope).
fn log_all(logger: &Logger) {
    let child = logger.with(velo::fields!(request = "r\"1", shard = 3u8));
    for i in 0..N {
        let name = format!("user \"{i}\"\n\t\u{e9}\u{1F600}");
        let ratio = i as f64 / 7.0;
        let negative = -(i as i64) * 1_000_003;
        match i % 5 {
            0 => velo!(logger: logger, info, "plain", i, name = name.as_str(), ratio),
            1 => velo!(logger: &child, warn, "with context", i, negative, ok = i.is_multiple_of(2)),
            2 => velo::scope(
                velo::fields!(step = i),
                || velo!(logger: logger, debug, "in a scope", i, small = ratio as f32),
            ),
            3 => velo!(logger: logger, error, "display", i, shown = %name),
            _ => velo!(logger: logger, info, "no values"),
        }
    }
}

fn lines(format: Format, timestamp: Timestamp, asynchronous: bool) -> Vec<String> {
    let out = Capture::new();
    let builder = Builder::new()
        .format(format)
        .level(velo::Level::Debug)
        .timestamp(timestamp);
    let builder = if asynchronous {
        builder
            .buffer_size(64)
            .overflow(Overflow::Block)
            .writer(Slow(out.clone()))
    } else {
        builder.asynchronous(false).writer(out.clone())
    };
    let logger = builder.build().unwrap();
    log_all(&logger);
    logger.close();
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    let lines = out.lines();
    assert_eq!(stats.written, lines.len() as u64, "{stats:?}");
    lines
}

#[test]
fn json_lines_are_the_workers() {
    let reference = lines(Format::Json, Timestamp::Off, false);
    assert_eq!(reference.len() as u64, N);
    assert_eq!(lines(Format::Json, Timestamp::Off, true), reference);
}

#[test]
fn text_lines_are_the_workers() {
    let reference = lines(Format::Text, Timestamp::Off, false);
    assert_eq!(reference.len() as u64, N);
    assert_eq!(lines(Format::Text, Timestamp::Off, true), reference);
}

#[test]
fn times_are_the_moment_each_entry_was_logged() {
    let nanos = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    };
    // The counter's calibration takes the first 10 ms of logging; start
    // after it.
    let before = nanos();
    let lines = lines(Format::Json, Timestamp::UnixNanos, true);
    let after = nanos();
    let times: Vec<u64> = lines
        .iter()
        .map(|l| velo_tests::parse_line(l)["time"].as_u64().unwrap())
        .collect();
    assert_eq!(times.len() as u64, N);
    for (i, t) in times.iter().enumerate() {
        assert!(
            (before..=after).contains(t),
            "entry {i} dated {t}, outside the run {before}..{after}"
        );
    }
    // Within one thread, in the order logged, give or take the error of
    // two conversions of the counter (well under 50 us).
    for pair in times.windows(2) {
        assert!(
            pair[1] + 50_000 >= pair[0],
            "time went back {} ns: {pair:?}",
            pair[0] - pair[1]
        );
    }
}
