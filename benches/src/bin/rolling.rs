//! What rotation costs per entry: N W3 entries through `.file()` and
//! through `.rolling()` with rotation never, rarely and often due, in one
//! run, timed until everything is written (`sync`).
//!
//! `cargo run --release -p velo-benches --bin rolling [-- N [DIR]]`
//!
//! Each output gets a fresh directory under DIR (default: the system's
//! temporary directory); the runs alternate between outputs, and the median
//! of five is reported, with the files each left.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger, Period, Rolling};

const RUNS: usize = 5;

/// One way of writing the file.
struct Case {
    name: &'static str,
    build: fn(&Path) -> Builder,
}

const CASES: [Case; 5] = [
    Case {
        name: "file()",
        build: |dir| Builder::new().file(dir.join("app.log")),
    },
    Case {
        name: "rolling(), no rotation due",
        build: |dir| Builder::new().rolling(Rolling::new(dir.join("app.log"))),
    },
    Case {
        name: "rolling(), every(Hourly)",
        build: |dir| {
            Builder::new().rolling(Rolling::new(dir.join("app.log")).every(Period::Hourly))
        },
    },
    Case {
        name: "rolling(), max_bytes 1 MiB, keep 4",
        build: |dir| {
            Builder::new().rolling(Rolling::new(dir.join("app.log")).max_bytes(1 << 20).keep(4))
        },
    },
    Case {
        name: "rolling(), max_bytes 64 KiB, keep 4",
        build: |dir| {
            Builder::new().rolling(
                Rolling::new(dir.join("app.log"))
                    .max_bytes(64 << 10)
                    .keep(4),
            )
        },
    },
];

fn w3(l: &Logger, i: u64) {
    velo!(logger: l, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5);
}

/// Logs `n` entries into a fresh `dir`; returns the time until they are
/// written, the bytes and the files left.
fn run(case: &Case, dir: &Path, n: u64) -> (Duration, u64, usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let logger = (case.build)(dir).format(Format::Json).build().unwrap();
    let start = Instant::now();
    for i in 0..n {
        w3(&logger, i);
    }
    logger.sync().unwrap();
    let elapsed = start.elapsed();
    let stats = logger.stats();
    assert_eq!(stats.written, n, "{}: entries missing", case.name);
    assert_eq!(stats.write_errors, 0, "{}", case.name);
    drop(logger);
    let files = std::fs::read_dir(dir).unwrap().count();
    (elapsed, stats.bytes, files)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("N"));
    let base: PathBuf = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let base = base.join(format!("velo-rolling-bench-{}", std::process::id()));
    let mut times = vec![Vec::new(); CASES.len()];
    let mut last = vec![(0, 0); CASES.len()];
    for _ in 0..RUNS {
        for (i, case) in CASES.iter().enumerate() {
            let (elapsed, bytes, files) = run(case, &base.join(i.to_string()), n);
            times[i].push(elapsed);
            last[i] = (bytes, files);
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    println!("{n} W3 entries, 1 thread, median of {RUNS} runs, until sync() returns");
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>6}",
        "output", "ns/entry", "min", "rotations", "files"
    );
    let base_ns = median(&mut times[0]) / n as f64;
    for (i, case) in CASES.iter().enumerate() {
        let (bytes, files) = last[i];
        let ns = median(&mut times[i]) / n as f64;
        let min = times[i].iter().min().unwrap().as_nanos() as f64 / n as f64;
        let rotations = match i {
            3 => bytes / (1 << 20),
            4 => bytes / (64 << 10),
            _ => 0,
        };
        println!(
            "{:<38} {ns:>9.1} {min:>9.1} {:>9} {files:>6}   {:+.1} ns vs file()",
            case.name,
            format!("~{rotations}"),
            ns - base_ns
        );
    }
}

fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_nanos() as f64
}
