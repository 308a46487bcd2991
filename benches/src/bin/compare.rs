//! velo side by side with the two hand-written ring baselines (in-place
//! ring, deferred encoding) on workloads W0, W3 and W10, and with its peers
//! on W3, printed as markdown tables.
//!
//! `cargo run --release -p velo-benches --bin compare [-- [N] [--quick] [--runs R] [--only a,b] [--workloads W0,W3] [--tmpdir DIR]]`
//!
//! - `N`: events per run (default 1,000,000; `--quick`: 100,000).
//! - `--runs R`: run every cell R times (interleaved: every logger once, then
//!   again) and report the median (default 3: the 2-core machines this runs
//!   on are shared, and single runs show outliers of 2-4x).
//! - `--only velo,inplace`: a subset of loggers (keys: see `peers::all`).
//! - `--workloads W0,W10`: a subset of workloads (default all three).
//! - `--tmpdir DIR`: where the file scenario writes (default: the system
//!   temporary directory).
//!
//! Every (logger, workload, scenario) runs in a child process of its own
//! (this program re-executed with `--child`): global loggers can be
//! installed once per process, and no run inherits another's threads or
//! heap.
//!
//! Scenarios, each after a warm-up of 10,000 events that is drained first:
//!
//! - `e2e1`: one producer thread logs N events; the time from the first call
//!   until the logger is flushed (its `finish`) and every line has been
//!   counted by the discarding writer, divided by N. Allocations on all
//!   threads during that time (a counting global allocator), divided by N.
//!   The time until the last call returned is reported too (`caller
//!   loop`): what the calls cost the producer, timer-free, waits for a full
//!   queue included.
//! - `e2e2`: the same with two producer threads, N/2 events each.
//! - `lat`: the cost of each call seen by the caller, over bursts of 256
//!   calls; after each burst the logger is drained (its flush where it has
//!   one, then until every line is counted) and the program sleeps 1 ms.
//!   About 100,000 samples. Each call is timed with the TSC: `lfence;
//!   rdtsc; lfence` before, `rdtscp; lfence` after, so the call neither
//!   starts before the first read nor ends after the second; the timer's
//!   own cost (the median of timing an empty body the same way) is in every
//!   sample, and reported. Then as many bursts again, each call timed with
//!   a bare `rdtsc` on each side, as NanoLog's own benchmarks do (a
//!   cheaper timer whose reads may overlap the call's ends): their median
//!   and that timer's cost are reported beside.
//! - `file` (W3 only): `e2e1` writing to a real file in a temporary
//!   directory, timed until the logger's flush returns; lines counted in
//!   the file afterwards.
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
use std::sync::Barrier;
use std::time::{Duration, Instant};
use velo_benches::peers::{self, workload, Peer, Subject};
use velo_benches::sink::{CountingSink, Target};
use velo_benches::tsc::{self, Calibration};

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

/// The scenarios of workload `w`.
fn scenarios(w: u8) -> &'static [&'static str] {
    if w == workload::W3 {
        &["e2e1", "e2e2", "lat", "file"]
    } else {
        &["e2e1", "e2e2", "lat"]
    }
}

const WARMUP: u64 = 10_000;

/// Idle time after the warm-up, for every logger alike: the ring baselines
/// calibrate their TSC conversion for 20 ms when they are built, velo in
/// its first 10 ms of logging (its callers read the system clock until
/// then). Without it, velo's runs of a few tens of milliseconds would
/// mostly time that start-up, and the baselines' would not.
const SETTLE: Duration = Duration::from_millis(25);
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
    std::thread::sleep(SETTLE);
    warm
}

fn end_to_end(peer: &Peer, w: u8, threads: u64, n: u64) {
    let sink = CountingSink::new();
    let subject = (peer.build)(Target::Count(sink.clone()), w);
    let warm = warm_up(&*subject, &sink, n);
    let per_thread = n / threads;
    let n = per_thread * threads;

    // With several threads, each is started and logs its own warm-up (a
    // fresh thread's first entries set up its ring and buffers, as the
    // main thread's did in `warm_up`) before the run begins, once all of
    // that is written: a run times and counts the steady state, for every
    // peer alike, not the threads' start.
    let thread_warm = if threads == 1 {
        0
    } else {
        WARMUP.min(per_thread)
    };
    let warmed = warm + threads * thread_warm;
    // What the run starts from: the queue's full count, the allocations so
    // far, the time.
    let begin = || (subject.queue_full(), allocations(), Instant::now());
    let (full_before, allocations_before, start) = if threads == 1 {
        let begun = begin();
        for i in warm..warm + n {
            subject.log(i);
        }
        begun
    } else {
        let shared: &dyn Subject = &*subject;
        let ready = Barrier::new(threads as usize + 1);
        let go = Barrier::new(threads as usize + 1);
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (ready, go) = (&ready, &go);
                scope.spawn(move || {
                    let first = warm + t * (thread_warm + per_thread);
                    for i in first..first + thread_warm {
                        shared.log(i);
                    }
                    ready.wait();
                    go.wait();
                    for i in first + thread_warm..first + thread_warm + per_thread {
                        shared.log(i);
                    }
                });
            }
            ready.wait();
            shared.drain();
            wait_lines(&sink, warmed, Duration::from_secs(10));
            let begun = begin();
            go.wait();
            begun
        })
    };
    let calls_done = start.elapsed();
    let full = subject.queue_full().zip(full_before).map(|(a, b)| a - b);
    subject.finish();
    wait_lines(&sink, warmed + n, Duration::from_secs(30));
    let elapsed = start.elapsed();
    let allocated = allocations() - allocations_before;

    print_sample(&sink);
    println!(
        "RESULT ns={:.2} calls={:.2} allocs={:.6} allocated={} lines={} expected={}{}",
        elapsed.as_nanos() as f64 / n as f64,
        calls_done.as_nanos() as f64 / n as f64,
        allocated as f64 / n as f64,
        allocated,
        sink.lines(),
        warmed + n,
        full.map_or_else(String::new, |f| format!(" full={f}")),
    );
}

/// How a call is timed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// `lfence; rdtsc; lfence` before and `rdtscp; lfence` after: the call
    /// neither starts before the first read nor ends after the second.
    Fenced,
    /// A bare `rdtsc` on each side, as NanoLog's own benchmarks time a
    /// call: cheaper, but the reads may overlap the call's first and last
    /// instructions.
    Unfenced,
}

impl Timer {
    /// The ticks `body` takes, timed this way.
    #[inline(always)]
    fn time(self, body: impl FnOnce()) -> u64 {
        match self {
            Timer::Fenced => {
                let start = tsc::start();
                body();
                tsc::stop().wrapping_sub(start)
            }
            Timer::Unfenced => {
                let start = tsc::now();
                body();
                tsc::now().wrapping_sub(start)
            }
        }
    }

    /// The median cost, in ticks, of timing an empty body.
    fn own_cost(self) -> u64 {
        let mut samples: Vec<u64> = (0..100_000).map(|_| self.time(|| black_box(()))).collect();
        samples.sort_unstable();
        samples[samples.len() / 2]
    }
}

/// Bursts of [`BURST`] calls, each call timed with `timer`, the logger
/// drained and 1 ms of sleep after each burst; returns every sample and
/// those less each burst's first call (the one after the sleep, with cold
/// caches).
fn timed_bursts(
    subject: &dyn Subject,
    sink: &CountingSink,
    next: &mut u64,
    timer: Timer,
) -> (Vec<u64>, Vec<u64>) {
    let bursts = LATENCY_SAMPLES.div_ceil(BURST);
    let mut samples: Vec<u64> = Vec::with_capacity(bursts * BURST);
    let mut warm_samples: Vec<u64> = Vec::with_capacity(bursts * BURST);
    for _ in 0..bursts {
        for k in 0..BURST {
            let i = *next;
            let took = timer.time(|| subject.log(i));
            samples.push(took);
            if k > 0 {
                warm_samples.push(took);
            }
            *next += 1;
        }
        subject.drain();
        wait_lines(sink, *next, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(1));
    }
    samples.sort_unstable();
    warm_samples.sort_unstable();
    (samples, warm_samples)
}

fn latency(peer: &Peer, w: u8, n: u64) {
    let calibration = Calibration::get();
    let sink = CountingSink::new();
    let subject = (peer.build)(Target::Count(sink.clone()), w);
    let mut next = warm_up(&*subject, &sink, n);
    let (samples, warm_samples) = timed_bursts(&*subject, &sink, &mut next, Timer::Fenced);
    // The same again with the cheaper timer, for the median only.
    let (unfenced, _) = timed_bursts(&*subject, &sink, &mut next, Timer::Unfenced);
    subject.finish();
    wait_lines(&sink, next, Duration::from_secs(30));
    let at = |s: &[u64], q: f64| {
        calibration.nanos(s[((s.len() as f64 * q) as usize).min(s.len() - 1)]) as f64
    };
    println!(
        "RESULT p50={:.1} p99={:.1} p999={:.1} p999warm={:.1} max={:.1} timer={:.1} \
         p50unfenced={:.1} timerunfenced={:.1} samples={} lines={} expected={}",
        at(&samples, 0.50),
        at(&samples, 0.99),
        at(&samples, 0.999),
        at(&warm_samples, 0.999),
        at(&samples, 1.0),
        calibration.nanos(Timer::Fenced.own_cost()) as f64,
        at(&unfenced, 0.50),
        calibration.nanos(Timer::Unfenced.own_cost()) as f64,
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

fn to_file(peer: &Peer, w: u8, n: u64, tmp: &Path) {
    let dir = tempfile::Builder::new()
        .prefix("velo-compare-")
        .tempdir_in(tmp)
        .expect("temporary directory");
    let path = dir.path().join(format!("{}.log", peer.key));
    let subject = (peer.build)(Target::File(path), w);
    let warm = WARMUP.min(n);
    for i in 0..warm {
        subject.log(i);
    }
    subject.drain();
    wait_file_lines(dir.path(), warm, Duration::from_secs(10));

    let start = Instant::now();
    for i in warm..warm + n {
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
    let [key, w, scenario, n, tmp] = args else {
        panic!("usage: compare --child PEER WORKLOAD SCENARIO N TMPDIR");
    };
    let peer = peers::all()
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("unknown logger {key}"));
    let w = workload::parse(w).unwrap_or_else(|| panic!("unknown workload {w}"));
    assert!(peer.workloads.contains(&w), "{key} does not log W{w}");
    let n: u64 = n.parse().expect("N");
    match scenario.as_str() {
        "e2e1" => end_to_end(peer, w, 1, n),
        "e2e2" => end_to_end(peer, w, 2, n),
        "lat" => latency(peer, w, n),
        "file" => to_file(peer, w, n, Path::new(tmp)),
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

fn run_child(exe: &Path, peer: &Peer, w: u8, scenario: &str, n: u64, tmp: &Path) -> Outcome {
    let mut outcome = Outcome::default();
    let spawned = Command::new(exe)
        .arg("--child")
        .arg(peer.key)
        .arg(workload::name(w))
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
        format!("{per_event:.6}")
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

/// Nanoseconds for a table: one decimal below 100.
fn nanos(value: Option<f64>) -> String {
    match value {
        Some(v) if v < 100.0 => format!("{v:.1}"),
        other => ns(other),
    }
}

/// The better (lower) of two figures.
fn better(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The smallest step the TSC is seen to take, in nanoseconds: per-call
/// figures come in multiples of it.
fn tsc_step() -> f64 {
    // The most frequent difference between two back-to-back reads that
    // differ (reads can also differ by a tick or two where a step of
    // non-integer ticks is rounded).
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    for _ in 0..100_000 {
        let a = tsc::now();
        let b = tsc::now();
        if b > a {
            *seen.entry(b - a).or_default() += 1;
        }
    }
    let step = seen.iter().max_by_key(|(_, n)| **n).map_or(1, |(d, _)| *d);
    // Ticks to nanoseconds, with a fraction.
    Calibration::get().nanos(step.saturating_mul(1000)) as f64 / 1000.0
}

#[derive(Debug)]
struct Options {
    n: u64,
    runs: usize,
    only: Option<Vec<String>>,
    workloads: Vec<u8>,
    tmp: PathBuf,
}

fn parse_options(args: &[String]) -> Options {
    let mut options = Options {
        n: 1_000_000,
        runs: 3,
        only: None,
        workloads: workload::ALL.to_vec(),
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
            "--workloads" => {
                let list = args.next().expect("--workloads W0,W3,W10");
                options.workloads = list
                    .split(',')
                    .map(|w| workload::parse(w).unwrap_or_else(|| panic!("unknown workload {w}")))
                    .collect();
                options.workloads.sort_unstable();
                options.workloads.dedup();
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

/// Every run's outcomes, by (logger, workload, scenario).
type Results<'a> = BTreeMap<(&'a str, u8, &'a str), Vec<Outcome>>;

/// The median of `key` in one cell.
fn get(results: &Results<'_>, key: &str, w: u8, scenario: &str, value: &str) -> Option<f64> {
    cell(
        results
            .iter()
            .find(|((k, rw, s), _)| *k == key && *rw == w && *s == scenario)
            .map(|(_, o)| o),
        value,
    )
}

/// What went wrong with any run of `key` on workload `w` in `scenarios`.
fn problems(results: &Results<'_>, key: &str, w: u8, scenarios: &[&str]) -> Vec<String> {
    results
        .iter()
        .filter(|((k, rw, s), _)| *k == key && *rw == w && scenarios.contains(s))
        .flat_map(|((_, _, s), outcomes)| outcomes.iter().filter_map(|o| o.line_problem(s)))
        .collect()
}

/// The figures of one row of a workload's table.
const COLUMNS: [(&str, &str); 8] = [
    ("e2e1", "ns"),
    ("e2e2", "ns"),
    ("e2e1", "calls"),
    ("lat", "p50"),
    ("lat", "p99"),
    ("lat", "p999"),
    ("lat", "p999warm"),
    ("lat", "timer"),
];

fn workload_table(out: &mut String, results: &Results<'_>, selected: &[&Peer], w: u8) {
    let _ = writeln!(
        out,
        "| logger | ns/event, 1 thread | ns/event, 2 threads | caller loop ns/event, 1 thread | caller p50 ns | caller p99 ns | caller p99.9 ns | p99.9 without bursts' first calls | allocs/event (1 thread, 2 threads) | queue full (1 thread) | lines |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    let peers: Vec<&&Peer> = selected
        .iter()
        .filter(|p| p.workloads.contains(&w))
        .collect();
    for peer in &peers {
        let figure = |(scenario, value): (&str, &str)| get(results, peer.key, w, scenario, value);
        let problems = problems(results, peer.key, w, &["e2e1", "e2e2", "lat"]);
        let alloc = |scenario| {
            let per_event = get(results, peer.key, w, scenario, "allocs");
            let count = get(results, peer.key, w, scenario, "allocated").unwrap_or(0.0);
            match per_event {
                None => "error".to_owned(),
                Some(_) if count == 0.0 => "0".to_owned(),
                Some(p) => format!("{} ({} in all)", allocs(p), thousands(count)),
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}, {} | {} | {} |",
            peer.name,
            nanos(figure(COLUMNS[0])),
            nanos(figure(COLUMNS[1])),
            nanos(figure(COLUMNS[2])),
            nanos(figure(COLUMNS[3])),
            nanos(figure(COLUMNS[4])),
            nanos(figure(COLUMNS[5])),
            nanos(figure(COLUMNS[6])),
            alloc("e2e1"),
            alloc("e2e2"),
            get(results, peer.key, w, "e2e1", "full").map_or_else(|| "-".to_owned(), thousands),
            if problems.is_empty() {
                "ok".to_owned()
            } else {
                format!("WARNING {}", problems.join("; "))
            },
        );
    }
    let has = |key: &str| peers.iter().any(|p| p.key == key);
    if !has("velo") || !(has("inplace") || has("deferred")) {
        return;
    }
    let velo = |c: (&str, &str)| get(results, "velo", w, c.0, c.1);
    for (label, reference) in [
        (
            "**velo / better baseline**",
            &(|c: (&str, &str)| {
                better(
                    get(results, "inplace", w, c.0, c.1),
                    get(results, "deferred", w, c.0, c.1),
                )
            }) as &dyn Fn((&str, &str)) -> Option<f64>,
        ),
        ("velo / in-place ring", &|c: (&str, &str)| {
            get(results, "inplace", w, c.0, c.1)
        }),
        ("velo / deferred encoding", &|c: (&str, &str)| {
            get(results, "deferred", w, c.0, c.1)
        }),
    ] {
        let cells: Vec<String> = COLUMNS[..7]
            .iter()
            .map(|&c| ratio(velo(c), reference(c)))
            .collect();
        let _ = writeln!(out, "| {label} | {} | | | |", cells.join(" | "));
    }
}

/// One target: what it asks, the figure, and whether it is met.
fn target(out: &mut String, goal: &str, figure: String, met: Option<bool>) {
    let verdict = match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "not measured",
    };
    let _ = writeln!(out, "| {goal} | {figure} | {verdict} |");
}

fn targets(out: &mut String, results: &Results<'_>, workloads: &[u8]) {
    let _ = writeln!(out, "\n## Targets\n");
    let _ = writeln!(out, "| target | this run | met |");
    let _ = writeln!(out, "|---|---|---|");
    let velo = |w: u8, s: &str, v: &str| get(results, "velo", w, s, v);
    let base = |key: &str, w: u8, s: &str, v: &str| get(results, key, w, s, v);
    let fmt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    if workloads.contains(&workload::W3) {
        for (goal, p50, timer) in [
            ("W3 caller p50 <= 25 ns (timer included)", "p50", "timer"),
            (
                "the same, timed with a bare `rdtsc` on each side (NanoLog's way)",
                "p50unfenced",
                "timerunfenced",
            ),
        ] {
            let median = velo(workload::W3, "lat", p50);
            let deferred = base("deferred", workload::W3, "lat", p50);
            target(
                out,
                goal,
                format!(
                    "{} ns (timer {} ns; deferred baseline {} ns)",
                    fmt(median),
                    fmt(velo(workload::W3, "lat", timer)),
                    fmt(deferred)
                ),
                median.map(|p| p <= 25.0),
            );
        }
    }
    for (w, key, limit, name) in [
        (workload::W0, None, 1.10, "the better baseline"),
        (workload::W3, None, 1.10, "the better baseline"),
        (workload::W10, Some("inplace"), 1.25, "the in-place ring"),
    ] {
        if !workloads.contains(&w) {
            continue;
        }
        for scenario in ["e2e1", "e2e2"] {
            let v = velo(w, scenario, "ns");
            let r = match key {
                Some(key) => base(key, w, scenario, "ns"),
                None => better(
                    base("inplace", w, scenario, "ns"),
                    base("deferred", w, scenario, "ns"),
                ),
            };
            let threads = if scenario == "e2e1" { 1 } else { 2 };
            target(
                out,
                &format!(
                    "W{w} end to end, {threads} thread{}, within {limit:.2}x {name}",
                    if threads == 1 { "" } else { "s" }
                ),
                format!("{} / {} ns = {}", fmt(v), fmt(r), ratio(v, r)),
                v.zip(r).map(|(v, r)| v <= limit * r),
            );
        }
    }
    for &w in workloads {
        let p50 = velo(w, "lat", "p50");
        let p999 = velo(w, "lat", "p999");
        target(
            out,
            &format!("W{w} caller p99.9 within 5x p50"),
            format!(
                "{} / {} ns = {} (without bursts' first calls: {} ns)",
                fmt(p999),
                fmt(p50),
                ratio(p999, p50),
                fmt(velo(w, "lat", "p999warm"))
            ),
            p999.zip(p50).map(|(a, b)| a <= 5.0 * b),
        );
    }
    let mut undelivered = Vec::new();
    let mut allocating = Vec::new();
    let mut measured = false;
    let mut per_event = false;
    for &w in workloads {
        undelivered.extend(problems(results, "velo", w, scenarios(w)));
        for scenario in ["e2e1", "e2e2"] {
            if let Some(a) = velo(w, scenario, "allocs") {
                measured = true;
                let count = velo(w, scenario, "allocated").unwrap_or(0.0);
                // A few allocations per run (a thread's first ring, its
                // growth, `sync`'s waiter list) are not per event; one per
                // 10,000 events or more would be.
                let verdict = if a < 1e-4 { "" } else { " (per event)" };
                if count != 0.0 {
                    allocating.push(format!("W{w} {scenario}: {}{verdict}", thousands(count)));
                }
                if a >= 1e-4 {
                    per_event = true;
                }
            }
        }
    }
    target(
        out,
        "velo delivers every line (every workload and scenario, every run)",
        if undelivered.is_empty() {
            "all".to_owned()
        } else {
            undelivered.join("; ")
        },
        measured.then_some(undelivered.is_empty()),
    );
    target(
        out,
        "velo: zero allocations per event (all threads; fewer than 1 per 10,000 events in a run)",
        if allocating.is_empty() {
            "none".to_owned()
        } else {
            format!("allocations per run: {}", allocating.join("; "))
        },
        measured.then_some(!per_event),
    );
}

fn parent(args: &[String]) {
    let options = parse_options(args);
    let exe = std::env::current_exe().expect("own executable");
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
    let selected: Vec<&Peer> = peers::all()
        .iter()
        .filter(|p| {
            options
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|k| k == p.key))
        })
        .collect();

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
    let _ = writeln!(out, "# velo, the ring baselines and the peers\n");
    let _ = writeln!(out, "- command: `{command}`");
    let _ = writeln!(
        out,
        "- machine: {cores} cores (nproc), {}, Linux {}, clock source {}, load average at start: {}",
        cpu_model(),
        first_line_of("/proc/sys/kernel/osrelease"),
        first_line_of("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        first_line_of("/proc/loadavg")
    );
    let _ = writeln!(
        out,
        "- workloads (values vary with the event's index i): W0 message only; W3 user_id (u64 i), path (&str, one of 8), \
         latency_ms (f64 i*0.37 + (i%1000)/7); W10 W3 + status (u16), method (&str), bytes (u64), cache_hit, tls (bool), \
         ratio (f64), peer (Ipv4Addr through Display). N = {} events per run, each logger writing to a discarding writer \
         that counts lines; every cell from its own child process, median of {} run(s)",
        thousands(options.n as f64),
        options.runs
    );
    let _ = writeln!(
        out,
        "- every run starts after {} warm-up events and {} ms idle (the baselines calibrate their TSC conversion for 20 ms when \
         built, velo in its first 10 ms of logging); end-to-end: from the first call until the logger is flushed and every line \
         counted, / N (2 threads: N/2 each); \
         caller loop: the 1-thread run's time until its last call returned, / N (no timer; it includes waits for a full \
         queue); caller latency: each call timed with the TSC (lfence; rdtsc; lfence / rdtscp; lfence; the timer's own median, \
         given under each table, is included in every sample) over bursts of {BURST}, then as many calls again timed with a bare \
         rdtsc on each side (the median only, under each table), the logger drained and 1 ms of sleep \
         between bursts, {} samples (the TSC advances in steps of {:.1} ns here, so per-call figures are multiples of it); \"without bursts' first calls\": the same samples less the call after each sleep \
         ({:.2}% of them); allocations: all threads, during the end-to-end runs, / N; queue full: entries whose caller \
         found its queue full (velo: `sync_fallbacks`; ring baselines: waits for room)\n",
        thousands(WARMUP as f64),
        SETTLE.as_millis(),
        thousands((LATENCY_SAMPLES.div_ceil(BURST) * BURST) as f64),
        tsc_step(),
        100.0 / BURST as f64,
    );
    eprint!("{out}");

    let mut cells: Vec<(&Peer, u8, &str)> = Vec::new();
    for &w in &options.workloads {
        for &scenario in scenarios(w) {
            for peer in selected.iter().filter(|p| p.workloads.contains(&w)) {
                cells.push((peer, w, scenario));
            }
        }
    }
    let mut results: Results<'_> = BTreeMap::new();
    let total = options.runs * cells.len();
    let mut done = 0;
    for _ in 0..options.runs {
        for &(peer, w, scenario) in &cells {
            done += 1;
            eprintln!("[{done}/{total}] {} W{w} {scenario}", peer.key);
            let outcome = run_child(&exe, peer, w, scenario, options.n, &options.tmp);
            results
                .entry((peer.key, w, scenario))
                .or_default()
                .push(outcome);
        }
    }

    for &w in &options.workloads {
        let _ = writeln!(out, "## W{w}\n");
        workload_table(&mut out, &results, &selected, w);
        let timer = |value: &str| {
            let costs = selected
                .iter()
                .filter_map(|p| get(&results, p.key, w, "lat", value))
                .collect::<Vec<_>>();
            median(costs).map_or_else(|| "-".to_owned(), |t| format!("{t:.1}"))
        };
        let unfenced = selected
            .iter()
            .filter(|p| p.workloads.contains(&w))
            .map(|p| {
                let p50 = get(&results, p.key, w, "lat", "p50unfenced");
                format!("{} {}", p.name, nanos(p50))
            })
            .collect::<Vec<_>>();
        let _ = writeln!(
            out,
            "\nTimer cost (median of timing an empty body, in each latency run; included in the caller figures): {} ns. \
             Caller p50 timed with a bare `rdtsc` on each side instead (NanoLog's way; its timer costs {} ns): {}.\n",
            timer("timer"),
            timer("timerunfenced"),
            unfenced.join(", ")
        );
    }

    if options.workloads.contains(&workload::W3) {
        let velo_file = get(&results, "velo", workload::W3, "file", "ns");
        let _ = writeln!(
            out,
            "## W3 to a real file in {} (1 thread, N = {}; timed until the logger's flush returns, lines counted in the file afterwards)\n",
            options.tmp.display(),
            thousands(options.n as f64)
        );
        let _ = writeln!(out, "| logger | ns/event | ratio to velo | lines |");
        let _ = writeln!(out, "|---|--:|--:|---|");
        for peer in selected
            .iter()
            .filter(|p| p.workloads.contains(&workload::W3))
        {
            let value = get(&results, peer.key, workload::W3, "file", "ns");
            let problems = problems(&results, peer.key, workload::W3, &["file"]);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                peer.name,
                nanos(value),
                ratio(value, velo_file),
                if problems.is_empty() {
                    "ok".to_owned()
                } else {
                    format!("WARNING {}", problems.join("; "))
                },
            );
        }
    }

    targets(&mut out, &results, &options.workloads);

    for &w in &options.workloads {
        let _ = writeln!(out, "\nFirst line written by each logger, W{w}:\n");
        let _ = writeln!(out, "```");
        for peer in selected.iter().filter(|p| p.workloads.contains(&w)) {
            let sample = results
                .get(&(peer.key, w, "e2e1"))
                .and_then(|o| o.iter().find_map(|o| o.sample.clone()))
                .unwrap_or_default();
            let _ = writeln!(out, "{:<14} {sample}", peer.key);
        }
        let _ = writeln!(out, "```");
    }
    print!("{out}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child") => child(&args[1..]),
        _ => parent(&args),
    }
}
