//! What rotation costs per entry: N W3 entries through `.file()` and
//! through `.rolling()` with rotation never, rarely and often due, in one
//! run, timed until everything is written (`sync`).
//!
//! `cargo run --release -p velo-benches --bin rolling [-- N [DIR]]`
//!
//! Each output gets a fresh directory under DIR (default: the system's
//! temporary directory); the runs alternate between outputs, and the median
//! of five is reported, with the files each left. Besides the wall time,
//! the process's CPU time (user + system, both threads, from
//! `/proc/self/stat` on Linux) per entry: on a machine shared with other
//! work the wall time mostly measures the wait for a core, the CPU time
//! what velo did.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger, Period, Rolling};

const RUNS: usize = 5;

/// One way of writing the file.
struct Case {
    name: &'static str,
    build: fn(&Path) -> Builder,
}

const CASES: [Case; 7] = [
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
        name: "rolling(), max_bytes 1 MiB",
        build: |dir| Builder::new().rolling(Rolling::new(dir.join("app.log")).max_bytes(1 << 20)),
    },
    Case {
        name: "rolling(), max_bytes 1 MiB, keep 4",
        build: |dir| {
            Builder::new().rolling(Rolling::new(dir.join("app.log")).max_bytes(1 << 20).keep(4))
        },
    },
    Case {
        name: "rolling(), max_bytes 64 KiB",
        build: |dir| Builder::new().rolling(Rolling::new(dir.join("app.log")).max_bytes(64 << 10)),
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

/// The process's user + system CPU time so far, if the system says.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and
    // stime are the 12th and 13th, in clock ticks of 10 ms.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Logs `n` entries into a fresh `dir`; returns the wall and CPU time until
/// they are written, the bytes and the files left.
fn run(case: &Case, dir: &Path, n: u64) -> (Duration, Option<Duration>, u64, usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let logger = (case.build)(dir).format(Format::Json).build().unwrap();
    let (start, cpu_start) = (Instant::now(), cpu_time());
    for i in 0..n {
        w3(&logger, i);
    }
    logger.sync().unwrap();
    let elapsed = start.elapsed();
    let cpu = cpu_time().zip(cpu_start).map(|(end, start)| end - start);
    let stats = logger.stats();
    assert_eq!(stats.written, n, "{}: entries missing", case.name);
    assert_eq!(stats.write_errors, 0, "{}", case.name);
    drop(logger);
    let files = std::fs::read_dir(dir).unwrap().count();
    (elapsed, cpu, stats.bytes, files)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("N"));
    let base: PathBuf = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let base = base.join(format!("velo-rolling-bench-{}", std::process::id()));
    let mut times = vec![Vec::new(); CASES.len()];
    let mut cpu = vec![Vec::new(); CASES.len()];
    let mut last = vec![(0, 0); CASES.len()];
    for _ in 0..RUNS {
        for (i, case) in CASES.iter().enumerate() {
            let (elapsed, cpu_time, bytes, files) = run(case, &base.join(i.to_string()), n);
            times[i].push(elapsed);
            cpu[i].extend(cpu_time);
            last[i] = (bytes, files);
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    println!("{n} W3 entries, 1 thread, median of {RUNS} runs, until sync() returns");
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "output", "wall ns", "wall min", "cpu ns", "rotations", "files"
    );
    let base_ns = median(&mut times[0]) / n as f64;
    let base_cpu = median(&mut cpu[0]) / n as f64;
    for (i, case) in CASES.iter().enumerate() {
        let (bytes, files) = last[i];
        let ns = median(&mut times[i]) / n as f64;
        let min = times[i].iter().min().unwrap().as_nanos() as f64 / n as f64;
        let cpu_ns = median(&mut cpu[i]) / n as f64;
        let rotations = match i {
            3 | 4 => bytes / (1 << 20),
            5 | 6 => bytes / (64 << 10),
            _ => 0,
        };
        println!(
            "{:<38} {ns:>9.1} {min:>9.1} {cpu_ns:>9.1} {:>9} {files:>6}   {:+.1} wall, {:+.1} cpu ns vs file()",
            case.name,
            format!("~{rotations}"),
            ns - base_ns,
            cpu_ns - base_cpu,
        );
    }
}

/// The median in nanoseconds; NaN when there are no samples.
fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(f64::NAN, |t| t.as_nanos() as f64)
}
