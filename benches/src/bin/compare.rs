//! velo side by side with its peers and the hand-written baselines on
//! workload W3, printed as markdown tables.
//!
//! `cargo run --release -p velo-benches --bin compare [-- [N] [--quick] [--runs R] [--only a,b] [--tmpdir DIR]]`
//!
//! - `N`: events per run (default 1,000,000; `--quick`: 100,000).
//! - `--runs R`: run every cell R times (interleaved: every logger once, then
//!   again) and report the median (default 3: the 2-core machines this runs
//!   on are shared, and single runs show outliers of 2-4x).
//! - `--only velo,slog`: a subset of loggers (keys: see `peers::all`).
//! - `--tmpdir DIR`: where the file scenario writes (default: the system
//!   temporary directory).
//!
//! Every (logger, scenario) runs in a child process of its own (this
//! program re-executed with `--child`): global loggers can be installed
//! once per process, and no run inherits another's threads or heap.
//!
//! Scenarios, each after a warm-up of 10,000 events that is drained first:
//!
//! - `e2e1`: one producer thread logs N events; the time from the first call
//!   until the logger is flushed (its `finish`) and every line has been
//!   counted by the discarding writer, divided by N. Allocations on all
//!   threads during that time (a counting global allocator), divided by N.
//! - `e2e2`: the same with two producer threads, N/2 events each.
//! - `lat`: the cost of each call seen by the caller (an `Instant` around
//!   each call), over bursts of 256 calls; after each burst the logger is
//!   drained (its flush where it has one, then until every line is counted)
//!   and the program sleeps 1 ms. About 100,000 samples.
//! - `file`: `e2e1` writing to a real file in a temporary directory, timed
//!   until the logger's flush returns; lines counted in the file afterwards.
//!
//! A run whose line count differs from what was logged is flagged in the
//! `lines` column, so a lossy logger cannot look fast by dropping.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use velo_benches::peers::{self, Peer, Subject};
use velo_benches::sink::{CountingSink, Target};

// ---- allocation counting ---------------------------------------------------

/// Allocations counted in 64 cache-line-sized shards, chosen by the 2 MiB
/// region of the allocating thread's stack, so threads do not contend on
/// one counter (which would slow allocation-heavy loggers down further).
#[repr(align(128))]
struct Shard(AtomicU64);

const SHARDS: usize = 64;
static ALLOCATIONS: [Shard; SHARDS] = [const { Shard(AtomicU64::new(0)) }; SHARDS];

struct CountingAllocator;

#[inline]
fn count_allocation() {
    let probe = 0u8;
    let at = std::ptr::addr_of!(probe) as usize;
    ALLOCATIONS[(at >> 21) % SHARDS]
        .0
        .fetch_add(1, Ordering::Relaxed);
}

fn allocations() -> u64 {
    ALLOCATIONS
        .iter()
        .map(|s| s.0.load(Ordering::Relaxed))
        .sum()
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

// ---- the child: one scenario for one logger --------------------------------

const SCENARIOS: [&str; 4] = ["e2e1", "e2e2", "lat", "file"];
const WARMUP: u64 = 10_000;
const BURST: usize = 256;
const LATENCY_SAMPLES: usize = 100_000;

/// Waits until `sink` has counted at least `expected` lines or `timeout`
/// passed; true if it counted exactly `expected`.
fn wait_lines(sink: &CountingSink, expected: u64, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while sink.lines() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(20));
    }
    sink.lines() == expected
}

fn print_sample(sink: &CountingSink) {
    if let Some(line) = sink.first_line() {
        println!("SAMPLE {line}");
    }
}

fn warm_up(subject: &dyn Subject, sink: &CountingSink, n: u64) -> u64 {
    let warm = WARMUP.min(n);
    for i in 0..warm {
        subject.log(i);
    }
    subject.drain();
    wait_lines(sink, warm, Duration::from_secs(10));
    warm
}

fn end_to_end(peer: &Peer, threads: u64, n: u64) {
    let sink = CountingSink::new();
    let subject = (peer.build)(Target::Count(sink.clone()));
    let warm = warm_up(&*subject, &sink, n);
    let per_thread = n / threads;
    let n = per_thread * threads;

    let allocations_before = allocations();
    let start = Instant::now();
    if threads == 1 {
        for i in 0..n {
            subject.log(i);
        }
    } else {
        let shared: &dyn Subject = &*subject;
        std::thread::scope(|scope| {
            for t in 0..threads {
                scope.spawn(move || {
                    for i in t * per_thread..(t + 1) * per_thread {
                        shared.log(i);
                    }
                });
            }
        });
    }
    subject.finish();
    wait_lines(&sink, warm + n, Duration::from_secs(30));
    let elapsed = start.elapsed();
    let allocated = allocations() - allocations_before;

    print_sample(&sink);
    println!(
        "RESULT ns={:.2} allocs={:.4} lines={} expected={}",
        elapsed.as_nanos() as f64 / n as f64,
        allocated as f64 / n as f64,
        sink.lines(),
        warm + n,
    );
}

fn latency(peer: &Peer, n: u64) {
    let sink = CountingSink::new();
    let subject = (peer.build)(Target::Count(sink.clone()));
    let mut next = warm_up(&*subject, &sink, n);
    let bursts = LATENCY_SAMPLES.div_ceil(BURST);
    let mut samples: Vec<u64> = Vec::with_capacity(bursts * BURST);
    for _ in 0..bursts {
        for _ in 0..BURST {
            let start = Instant::now();
            subject.log(next);
            let took = start.elapsed();
            samples.push(took.as_nanos() as u64);
            next += 1;
        }
        subject.drain();
        wait_lines(&sink, next, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(1));
    }
    subject.finish();
    wait_lines(&sink, next, Duration::from_secs(30));
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "RESULT p50={} p99={} p999={} max={} samples={} lines={} expected={}",
        at(0.50),
        at(0.99),
        at(0.999),
        samples[samples.len() - 1],
        samples.len(),
        sink.lines(),
        next,
    );
}

/// Lines in every file under `dir`.
fn file_lines(dir: &Path) -> u64 {
    let mut lines = 0;
    let mut chunk = vec![0u8; 1 << 20];
    for entry in std::fs::read_dir(dir).expect("read temp dir").flatten() {
        let Ok(mut file) = std::fs::File::open(entry.path()) else {
            continue;
        };
        while let Ok(read @ 1..) = file.read(&mut chunk) {
            lines += chunk[..read].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
    lines
}

fn wait_file_lines(dir: &Path, expected: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let lines = file_lines(dir);
        if lines >= expected || Instant::now() >= deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn to_file(peer: &Peer, n: u64, tmp: &Path) {
    let dir = tempfile::Builder::new()
        .prefix("velo-compare-")
        .tempdir_in(tmp)
        .expect("temporary directory");
    let path = dir.path().join(format!("{}.log", peer.key));
    let subject = (peer.build)(Target::File(path));
    let warm = WARMUP.min(n);
    for i in 0..warm {
        subject.log(i);
    }
    subject.drain();
    wait_file_lines(dir.path(), warm, Duration::from_secs(10));

    let start = Instant::now();
    for i in 0..n {
        subject.log(i);
    }
    subject.finish();
    let elapsed = start.elapsed();
    // Lines still missing when the flush returned are waited for (and
    // flagged as late), then counted.
    let at_flush = file_lines(dir.path());
    let lines = if at_flush == warm + n {
        at_flush
    } else {
        wait_file_lines(dir.path(), warm + n, Duration::from_secs(10))
    };
    println!(
        "RESULT ns={:.2} lines={} expected={} at_flush={}",
        elapsed.as_nanos() as f64 / n as f64,
        lines,
        warm + n,
        at_flush,
    );
}

fn child(args: &[String]) {
    let [key, scenario, n, tmp] = args else {
        panic!("usage: compare --child PEER SCENARIO N TMPDIR");
    };
    let peer = peers::all()
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("unknown logger {key}"));
    let n: u64 = n.parse().expect("N");
    match scenario.as_str() {
        "e2e1" => end_to_end(peer, 1, n),
        "e2e2" => end_to_end(peer, 2, n),
        "lat" => latency(peer, n),
        "file" => to_file(peer, n, Path::new(tmp)),
        other => panic!("unknown scenario {other}"),
    }
}

// ---- the parent: run every child, print the tables -------------------------

#[derive(Debug, Default)]
struct Outcome {
    values: BTreeMap<String, f64>,
    sample: Option<String>,
    failure: Option<String>,
}

impl Outcome {
    fn get(&self, key: &str) -> Option<f64> {
        self.values.get(key).copied()
    }

    /// A description of what is wrong with the line count, if anything.
    fn line_problem(&self, scenario: &str) -> Option<String> {
        if let Some(failure) = &self.failure {
            return Some(format!("{scenario}: {failure}"));
        }
        let lines = self.get("lines")?;
        let expected = self.get("expected")?;
        if lines != expected {
            return Some(format!("{scenario}: {lines}/{expected} lines"));
        }
        if let Some(at_flush) = self.get("at_flush") {
            if at_flush != expected {
                return Some(format!(
                    "{scenario}: {at_flush}/{expected} lines when the flush returned"
                ));
            }
        }
        None
    }
}

/// How long one child may run before it is killed and its cell reported as
/// failed (a logger that deadlocks must not hang the comparison).
const CHILD_TIMEOUT: Duration = Duration::from_secs(600);

fn run_child(exe: &Path, peer: &Peer, scenario: &str, n: u64, tmp: &Path) -> Outcome {
    let mut outcome = Outcome::default();
    let spawned = Command::new(exe)
        .arg("--child")
        .arg(peer.key)
        .arg(scenario)
        .arg(n.to_string())
        .arg(tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            outcome.failure = Some(format!("could not start: {e}"));
            return outcome;
        }
    };
    let mut pipe = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = pipe.read_to_end(&mut text);
        text
    });
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = reader.join().unwrap_or_default();
    let Some(status) = status else {
        outcome.failure = Some(format!("killed after {} s", CHILD_TIMEOUT.as_secs()));
        return outcome;
    };
    let stdout = String::from_utf8_lossy(&stdout);
    let mut found = false;
    for line in stdout.lines() {
        if let Some(sample) = line.strip_prefix("SAMPLE ") {
            outcome.sample = Some(sample.to_owned());
        } else if let Some(result) = line.strip_prefix("RESULT ") {
            found = true;
            for pair in result.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    if let Ok(v) = v.parse() {
                        outcome.values.insert(k.to_owned(), v);
                    }
                }
            }
        }
    }
    if !status.success() || !found {
        outcome.failure = Some(format!("child failed ({status})"));
    }
    outcome
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// Median of `key` over the runs of one cell.
fn cell(outcomes: Option<&Vec<Outcome>>, key: &str) -> Option<f64> {
    median(outcomes?.iter().filter_map(|o| o.get(key)).collect())
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ns(value: Option<f64>) -> String {
    value.map_or_else(|| "error".to_owned(), thousands)
}

fn ratio(value: Option<f64>, reference: Option<f64>) -> String {
    match (value, reference) {
        (Some(v), Some(r)) if r > 0.0 => {
            let x = v / r;
            if x < 10.0 {
                format!("{x:.2}x")
            } else {
                format!("{x:.1}x")
            }
        }
        _ => "-".to_owned(),
    }
}

fn allocs(per_event: f64) -> String {
    if per_event == 0.0 {
        "0".to_owned()
    } else if per_event < 0.1 {
        format!("{per_event:.4}")
    } else {
        format!("{per_event:.2}")
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn first_line_of(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.lines().next().unwrap_or("").trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The p50 of timing an empty body with `Instant`, included in every latency
/// sample.
fn timer_overhead() -> u64 {
    let mut samples: Vec<u64> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            black_box(());
            start.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[derive(Debug)]
struct Options {
    n: u64,
    runs: usize,
    only: Option<Vec<String>>,
    tmp: PathBuf,
}

fn parse_options(args: &[String]) -> Options {
    let mut options = Options {
        n: 1_000_000,
        runs: 3,
        only: None,
        tmp: std::env::temp_dir(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.n = 100_000,
            "--runs" => {
                options.runs = args
                    .next()
                    .and_then(|r| r.parse().ok())
                    .filter(|&r| r > 0)
                    .expect("--runs R (R > 0)");
            }
            "--only" => {
                let list = args.next().expect("--only a,b,c");
                options.only = Some(list.split(',').map(str::to_owned).collect());
            }
            "--tmpdir" => options.tmp = PathBuf::from(args.next().expect("--tmpdir DIR")),
            n => {
                options.n = n
                    .replace(['_', ','], "")
                    .parse()
                    .unwrap_or_else(|_| panic!("unknown argument {n}"));
            }
        }
    }
    options
}

fn parent(args: &[String]) {
    let options = parse_options(args);
    let exe = std::env::current_exe().expect("own executable");
    let selected: Vec<&Peer> = peers::all()
        .iter()
        .filter(|p| {
            options
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|k| k == p.key))
        })
        .collect();
    for key in options.only.iter().flatten() {
        assert!(
            peers::all().iter().any(|p| p.key == key),
            "unknown logger {key}; known: {}",
            peers::all()
                .iter()
                .map(|p| p.key)
                .collect::<Vec<_>>()
                .join(",")
        );
    }

    let mut out = String::new();
    let command = if args.is_empty() {
        "cargo run --release -p velo-benches --bin compare".to_owned()
    } else {
        format!(
            "cargo run --release -p velo-benches --bin compare -- {}",
            args.join(" ")
        )
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let overhead = timer_overhead();
    let _ = writeln!(out, "# velo and its peers, workload W3\n");
    let _ = writeln!(out, "- command: `{command}`");
    let _ = writeln!(
        out,
        "- machine: {cores} cores (nproc), {}, Linux {}, load average at start: {}",
        cpu_model(),
        first_line_of("/proc/sys/kernel/osrelease"),
        first_line_of("/proc/loadavg")
    );
    let _ = writeln!(
        out,
        "- W3: time, level, msg \"request handled\", user_id (u64, loop index), path (&str \"/api/orders\"), latency_ms (f64 12.5); \
         N = {} events per run, each logger writing to a discarding writer that counts lines; every cell from its own child process, \
         median of {} run(s)",
        thousands(options.n as f64),
        options.runs
    );
    let _ = writeln!(
        out,
        "- end-to-end: from the first call until the logger is flushed and every line counted, / N (2 threads: N/2 each); \
         caller latency: each call timed with `Instant` ({overhead} ns timer overhead included) over bursts of {BURST}, \
         the logger drained between bursts, {} samples; allocations: all threads, during the 1-thread run, / N\n",
        thousands((LATENCY_SAMPLES.div_ceil(BURST) * BURST) as f64)
    );
    eprint!("{out}");

    let mut results: BTreeMap<(&str, &str), Vec<Outcome>> = BTreeMap::new();
    let total = options.runs * SCENARIOS.len() * selected.len();
    let mut done = 0;
    for _ in 0..options.runs {
        for scenario in SCENARIOS {
            for peer in &selected {
                done += 1;
                eprintln!("[{done}/{total}] {} {scenario}", peer.key);
                let outcome = run_child(&exe, peer, scenario, options.n, &options.tmp);
                results
                    .entry((peer.key, scenario))
                    .or_default()
                    .push(outcome);
            }
        }
    }

    let velo_e2e = cell(results.get(&("velo", "e2e1")), "ns");
    let velo_file = cell(results.get(&("velo", "file")), "ns");
    let _ = writeln!(
        out,
        "| logger | output | ns/event, 1 thread | ns/event, 2 threads | caller p50 ns | caller p99 ns | caller p99.9 ns | allocs/event | ratio to velo (1 thread) | lines |"
    );
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|");
    for peer in &selected {
        let get = |scenario: &str, key: &str| cell(results.get(&(peer.key, scenario)), key);
        let e2e1 = get("e2e1", "ns");
        let problems: Vec<String> = ["e2e1", "e2e2", "lat"]
            .iter()
            .flat_map(|s| {
                results
                    .get(&(peer.key, *s))
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.line_problem(s))
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            peer.name,
            peer.format,
            ns(e2e1),
            ns(get("e2e2", "ns")),
            ns(get("lat", "p50")),
            ns(get("lat", "p99")),
            ns(get("lat", "p999")),
            get("e2e1", "allocs").map_or_else(|| "error".to_owned(), allocs),
            ratio(e2e1, velo_e2e),
            if problems.is_empty() {
                "ok".to_owned()
            } else {
                format!("WARNING {}", problems.join("; "))
            },
        );
    }

    let _ = writeln!(
        out,
        "\nTo a real file in {} (1 thread, N = {}; timed until the logger's flush returns, lines counted in the file afterwards):\n",
        options.tmp.display(),
        thousands(options.n as f64)
    );
    let _ = writeln!(out, "| logger | ns/event | ratio to velo | lines |");
    let _ = writeln!(out, "|---|--:|--:|---|");
    for peer in &selected {
        let outcomes = results.get(&(peer.key, "file"));
        let value = cell(outcomes, "ns");
        let problems: Vec<String> = outcomes
            .into_iter()
            .flatten()
            .filter_map(|o| o.line_problem("file"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            peer.name,
            ns(value),
            ratio(value, velo_file),
            if problems.is_empty() {
                "ok".to_owned()
            } else {
                format!("WARNING {}", problems.join("; "))
            },
        );
    }

    let _ = writeln!(out, "\nFirst line written by each logger:\n");
    let _ = writeln!(out, "```");
    for peer in &selected {
        let sample = results
            .get(&(peer.key, "e2e1"))
            .and_then(|o| o.iter().find_map(|o| o.sample.clone()))
            .unwrap_or_default();
        let _ = writeln!(out, "{:<14} {sample}", peer.key);
    }
    let _ = writeln!(out, "```");
    print!("{out}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child") => child(&args[1..]),
        _ => parent(&args),
    }
}
