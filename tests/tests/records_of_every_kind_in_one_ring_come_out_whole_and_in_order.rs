//! The worker writes a run of plain JSON records (a site's values and
//! nothing else) and of lines its callers formatted straight into the
//! output's buffer, and every other record through the general path. One
//! thread's ring holding records of every kind, mixed, across many fills
//! of the 64 KiB buffer, comes out whole, in order, every value in place.

use std::time::Duration;
use velo::{velo, Builder, Format, Logger};
use velo_tests::{json_logger, parse_line, text_logger, Capture, Slow};

const N: u64 = 30_000;
const PATHS: [&str; 3] = ["/a", "/bb\"q", "/ccc\n"];

/// Logs `N` entries cycling through six kinds of record, each with field
/// `t` set to `t`.
fn log_every_kind(logger: &Logger, t: u64) {
    let child = logger.with(velo::fields!(req = "r-1"));
    for n in 0..N {
        let path = PATHS[n as usize % 3];
        let f = n as f64 / 4.0;
        match n % 6 {
            // Plain: values only.
            0 => velo!(logger: logger, info, "plain", t, n, path, f),
            // A child logger's: its context fields.
            1 => velo!(logger: &child, info, "child", t, n),
            // Display and Debug values, encoded by the caller.
            2 => velo!(logger: logger, info, "shown", t, n, s = %path, d = ?n),
            // A message template.
            3 => velo!(logger: logger, info, "templ {n} at {path}", t, n, path),
            // A target.
            4 => velo!(logger: logger, target: "audit", info, "targeted", t, n),
            // Plain, with a large float.
            _ => velo!(logger: logger, warn, "big", t, n, big = 1e300 * f),
        }
    }
}

/// Checks every line: `N` of them, in order, each with its kind's fields.
fn check(lines: &[String], text: bool) {
    assert_eq!(lines.len() as u64, N, "every entry is written once");
    for (n, line) in lines.iter().enumerate() {
        let n = n as u64;
        let path = PATHS[n as usize % 3];
        if text {
            // A line of the text format: `n=` shows the order.
            assert!(line.contains(&format!(" n={n}")), "line {n}: {line}");
            continue;
        }
        let e = parse_line(line);
        assert_eq!(e["n"], n, "line {n}: {line}");
        let msg = e["msg"].as_str().unwrap();
        match n % 6 {
            0 => {
                assert_eq!(msg, "plain");
                assert_eq!(e["path"], path);
                assert_eq!(e["f"].as_f64().unwrap(), n as f64 / 4.0);
            }
            1 => {
                assert_eq!(msg, "child");
                assert_eq!(e["req"], "r-1");
            }
            2 => {
                assert_eq!(msg, "shown");
                assert_eq!(e["s"], path);
                assert_eq!(e["d"], n.to_string());
            }
            3 => assert_eq!(msg, format!("templ {n} at {path}")),
            4 => {
                assert_eq!(msg, "targeted");
                assert_eq!(e["target"], "audit");
            }
            _ => {
                assert_eq!(msg, "big");
                assert_eq!(e["level"], "warn");
                if n == 5 {
                    continue;
                }
                // Read from the line: serde_json's own float parsing is not
                // exact in the last digit.
                let big = line.split("\"big\":").nth(1).unwrap();
                let big: f64 = big.trim_end_matches('}').parse().unwrap();
                assert_eq!(big, 1e300 * (n as f64 / 4.0), "line {n}: {line}");
            }
        }
    }
}

#[test]
fn json_records_of_every_kind_come_out_in_order() {
    let (logger, out) = json_logger(Builder::new());
    log_every_kind(&logger, 0);
    logger.sync().unwrap();
    check(&out.lines(), false);
}

#[test]
fn json_records_and_lines_callers_formatted_come_out_in_order() {
    // A slow writer keeps the worker behind, so callers format many of the
    // lines themselves, among records the worker formats.
    let out = Capture::new();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Slow::new(Duration::from_micros(300), out.clone()))
        .build()
        .unwrap();
    log_every_kind(&logger, 0);
    logger.sync().unwrap();
    assert_eq!(logger.stats().dropped, 0);
    check(&out.lines(), false);
}

#[test]
fn text_records_of_every_kind_come_out_in_order() {
    let (logger, out) = text_logger(Builder::new());
    log_every_kind(&logger, 0);
    logger.sync().unwrap();
    check(&out.lines(), true);
}

#[test]
fn json_records_of_every_kind_from_three_threads_keep_each_threads_order() {
    // Several threads' records of one pass are merged by time and written
    // in runs of one thread's records.
    let (logger, out) = json_logger(Builder::new());
    std::thread::scope(|s| {
        for t in 0..3 {
            let logger = &logger;
            s.spawn(move || log_every_kind(logger, t));
        }
    });
    logger.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len() as u64, 3 * N);
    let mut threads = vec![Vec::new(); 3];
    for line in lines {
        let t = parse_line(&line)["t"].as_u64().unwrap();
        threads[t as usize].push(line);
    }
    for own in &threads {
        check(own, false);
    }
}
