//! What the OTLP output costs the caller, next to the byte writer, in the
//! same run: workload W3 on one thread.
//!
//! `cargo run --release -p velo-benches --features otlp --bin otlp [-- RUNS]`
//!
//! - `stream`: JSON lines to a writer that discards them and counts bytes.
//! - `otlp`: OTLP/HTTP to a collector on loopback that reads every request
//!   whole, discards it and answers 200 (another thread of this process).
//!
//! For each, interleaved, RUNS times (default 5; medians shown):
//!
//! - `calls`: N = 200,000 calls in a row, timed on the caller until the
//!   last one returns, per call (what the caller pays, including the
//!   entries it writes itself when its queue is full), in wall time and in
//!   the caller thread's CPU time (which a busy shared machine's
//!   preemptions do not inflate);
//! - `sync`: the `sync` after them, per entry (the worker's and, for OTLP,
//!   the sender's remaining work: until the collector has answered);
//! - latency: each call timed with `Instant` over bursts of 256, the
//!   logger synced and idle 1 ms between bursts (about 100,000 samples);
//! - `inline`: N calls to the same output built with
//!   `asynchronous(false)`, so the caller does the worker's job (decoding
//!   the record and formatting the line, or encoding the protobuf record),
//!   in the caller's CPU time per call: the output's own cost per entry,
//!   which a caller pays when its queue is full under `Overflow::Sync`.
//!
//! Entries dropped are counted and shown: the OTLP output drops batches
//! when its sender falls more than its queue behind the worker.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger};

const N: u64 = 200_000;
const BURST: usize = 256;
const SAMPLES: usize = 100_000;

fn w3(l: &Logger, i: u64) {
    velo!(logger: l, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5);
}

/// A discarding writer that counts bytes.
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Requests and body bytes the discarding collector received.
#[derive(Default)]
struct Received {
    requests: AtomicU64,
    bytes: AtomicU64,
}

/// Starts the discarding collector; returns its endpoint.
fn collector(received: Arc<Received>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let received = Arc::clone(&received);
            std::thread::spawn(move || serve(stream, &received));
        }
    });
    url
}

fn serve(stream: TcpStream, received: &Received) {
    let mut r = BufReader::with_capacity(256 * 1024, stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut len = 0usize;
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                len = v.trim().parse().unwrap();
            }
        }
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() {
            return;
        }
        received.requests.fetch_add(1, Ordering::Relaxed);
        received.bytes.fetch_add(len as u64, Ordering::Relaxed);
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        if r.get_mut().write_all(answer).is_err() {
            return;
        }
    }
}

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is one
    // Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[derive(Clone, Copy, Default)]
struct Outcome {
    calls_ns: f64,
    calls_cpu_ns: f64,
    sync_ns: f64,
    p50: u64,
    p99: u64,
    p999: u64,
    sync_fallbacks: u64,
    inline_cpu_ns: f64,
    /// Entries dropped during the `calls` burst and during the latency
    /// bursts.
    dropped_calls: u64,
    dropped_bursts: u64,
}

/// The caller's CPU time per call on a logger without a worker.
fn inline(logger: &Logger) -> f64 {
    for i in 0..20_000 {
        w3(logger, i);
    }
    let cpu = thread_cpu();
    for i in 0..N {
        w3(logger, i);
    }
    let took = thread_cpu() - cpu;
    logger.sync().unwrap();
    took.as_nanos() as f64 / N as f64
}

fn measure(logger: &Logger) -> Outcome {
    // Warm-up: rings grown, connection open.
    for i in 0..20_000 {
        w3(logger, i);
    }
    logger.sync().unwrap();

    let before = logger.stats();
    let start = Instant::now();
    let cpu = thread_cpu();
    for i in 0..N {
        w3(logger, i);
    }
    let calls = start.elapsed();
    let calls_cpu = thread_cpu() - cpu;
    logger.sync().unwrap();
    let synced = start.elapsed() - calls;
    let after_calls = logger.stats();

    let mut samples = Vec::with_capacity(SAMPLES.div_ceil(BURST) * BURST);
    let mut i = 0;
    while samples.len() < SAMPLES {
        for _ in 0..BURST {
            let start = Instant::now();
            w3(logger, i);
            samples.push(start.elapsed().as_nanos() as u64);
            i += 1;
        }
        logger.sync().unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let stats = logger.stats();
    assert_eq!(stats.write_errors, 0, "{stats:?}");
    Outcome {
        calls_ns: calls.as_nanos() as f64 / N as f64,
        calls_cpu_ns: calls_cpu.as_nanos() as f64 / N as f64,
        sync_ns: synced.as_nanos() as f64 / N as f64,
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        sync_fallbacks: stats.sync_fallbacks - before.sync_fallbacks,
        inline_cpu_ns: 0.0,
        dropped_calls: after_calls.dropped - before.dropped,
        dropped_bursts: stats.dropped - after_calls.dropped,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let received = Arc::new(Received::default());
    let url = collector(Arc::clone(&received));
    let mut results: [Vec<Outcome>; 2] = [Vec::new(), Vec::new()];
    let mut entries = 0;
    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        let bytes = Arc::new(AtomicU64::new(0));
        let stream = Builder::new()
            .format(Format::Json)
            .writer(Counting(Arc::clone(&bytes)))
            .build()
            .unwrap();
        results[0].push(measure(&stream));
        let otlp = Builder::new().otlp(&url).build().unwrap();
        results[1].push(measure(&otlp));
        entries += otlp.stats().written;
        let stream = Builder::new()
            .format(Format::Json)
            .writer(Counting(Arc::clone(&bytes)))
            .asynchronous(false)
            .build()
            .unwrap();
        results[0].last_mut().unwrap().inline_cpu_ns = inline(&stream);
        let otlp = Builder::new()
            .otlp(&url)
            .asynchronous(false)
            .build()
            .unwrap();
        results[1].last_mut().unwrap().inline_cpu_ns = inline(&otlp);
        // Its sender may fall behind a caller this fast (what it drops
        // costs the caller the same).
        entries += otlp.stats().written;
    }
    let requests = received.requests.load(Ordering::Relaxed);
    let bytes = received.bytes.load(Ordering::Relaxed);
    assert!(
        requests >= entries / 512,
        "{requests} requests for {entries} entries"
    );

    println!("W3 on 1 thread, N = {N} calls per run, median of {runs} runs (ns per call)\n");
    println!("| output | calls | calls, caller CPU | inline, caller CPU | sync after them | caller p50 | p99 | p99.9 | calls the caller wrote itself | dropped in the 200k burst | dropped in the 256-call bursts |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (name, outcomes) in [
        ("byte writer (JSON, discarded)", &results[0]),
        ("OTLP/HTTP (loopback, discarded)", &results[1]),
    ] {
        let m = |f: fn(&Outcome) -> f64| median(outcomes.iter().map(f).collect());
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            m(|o| o.calls_ns),
            m(|o| o.calls_cpu_ns),
            m(|o| o.inline_cpu_ns),
            m(|o| o.sync_ns),
            m(|o| o.p50 as f64),
            m(|o| o.p99 as f64),
            m(|o| o.p999 as f64),
            m(|o| o.sync_fallbacks as f64),
            m(|o| o.dropped_calls as f64),
            m(|o| o.dropped_bursts as f64),
        );
    }
    println!(
        "\nOTLP: {requests} requests, {:.0} records and {:.0} KiB each on average",
        entries as f64 / requests as f64,
        bytes as f64 / requests as f64 / 1024.0
    );
}
