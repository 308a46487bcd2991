//! End-to-end cost per entry for velo's workloads: N entries to a
//! discarding writer, timed until everything is written (`sync`), with one
//! and with two producer threads.
//!
//! `cargo run --release -p velo-benches --bin throughput [-- N]`
//! (`-- --delivery [SAMPLES]` runs only the delivery rows, with SAMPLES
//! calls per row, 200 by default).
//!
//! - W0: a static message, no fields.
//! - W3: `user_id` (u64), `path` (&str), `latency_ms` (f64).
//! - W10: ten fields of mixed kinds.
//! - Wctx: W0 through a child logger with ten bound context fields.
//! - W3 text: W3 in the text format.
//! - W0 in scope: W0 inside one `velo::scope` of the same ten fields
//!   (entered once per producer thread).
//! - W3 template: W3 whose message is a template naming its three fields.
//! - W3 local time: W3 from a logger with `local_time(true)`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger};

/// A discarding writer that counts the bytes that reach it.
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Release);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Time from a call on an otherwise idle logger until its line reaches the
/// writer, without `sync()`, after pauses of `pause` (long pauses let the
/// worker park; short ones find it polling), over `samples` calls.
fn delivery(pause: Duration, samples: usize) -> Percentiles {
    let written = Arc::new(AtomicU64::new(0));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Counting(Arc::clone(&written)))
        .build()
        .unwrap();
    let count = samples;
    let mut samples = Vec::with_capacity(count);
    for i in 0..count as u32 {
        std::thread::sleep(pause);
        let before = written.load(Ordering::Acquire);
        let start = Instant::now();
        velo!(logger: &logger, info, "idle", i);
        if std::env::var_os("VELO_DEBUG_DELIVERY").is_some() {
            eprintln!("call took {:?}", start.elapsed());
        }
        while written.load(Ordering::Acquire) == before {
            std::hint::spin_loop();
        }
        samples.push(start.elapsed());
    }
    Percentiles::of(samples)
}

/// Median, 99th percentile and maximum of a set of timings.
struct Percentiles {
    median: Duration,
    p99: Duration,
    max: Duration,
}

impl Percentiles {
    fn of(mut samples: Vec<Duration>) -> Percentiles {
        samples.sort();
        let n = samples.len();
        // The smallest sample at or above 99% of them (nearest rank).
        let p99 = (n * 99).div_ceil(100).max(1) - 1;
        Percentiles {
            median: samples[n / 2],
            p99: samples[p99],
            max: samples[n - 1],
        }
    }
}

/// The delivery rows.
fn delivery_table(samples: usize) {
    println!("| delivery to the writer without sync ({samples} calls) | median | p99 | max |");
    println!("|---|---|---|---|");
    for (name, pause) in [
        ("after 2 ms idle (worker polling)", Duration::from_millis(2)),
        (
            "after 20 ms idle (worker parked)",
            Duration::from_millis(20),
        ),
        (
            "after 50 ms idle (worker parked)",
            Duration::from_millis(50),
        ),
        (
            "after 200 ms idle (worker parked)",
            Duration::from_millis(200),
        ),
    ] {
        let p = delivery(pause, samples);
        println!(
            "| {name} | {:.1?} | {:.1?} | {:.1?} |",
            p.median, p.p99, p.max
        );
    }
}

type Workload = fn(&Logger, u64);

fn w0(l: &Logger, _: u64) {
    velo!(logger: l, info, "request handled");
}

fn w3(l: &Logger, i: u64) {
    velo!(logger: l, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5);
}

fn w10(l: &Logger, i: u64) {
    let method = "GET";
    velo!(
        logger: l,
        info,
        "request handled",
        user_id = i,
        path = "/api/orders",
        latency_ms = 12.5,
        status = 200u16,
        method,
        bytes = 5120u64,
        cache_hit = true,
        retries = 0u8,
        region = "eu-west-1",
        ratio = 0.25,
    );
}

fn w3_template(l: &Logger, i: u64) {
    velo!(logger: l, info, "request {path} by {user_id} handled in {latency_ms} ms", user_id = i, path = "/api/orders", latency_ms = 12.5);
}

fn run(logger: &Logger, work: Workload, threads: u64, n: u64) -> f64 {
    run_in(logger, work, threads, n, None)
}

/// [`run`], each producer thread inside one scope of `scope`'s fields.
fn run_in(
    logger: &Logger,
    work: Workload,
    threads: u64,
    n: u64,
    scope: Option<&velo::Fields>,
) -> f64 {
    let per_thread = n / threads;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let produce = || {
                    for i in 0..per_thread {
                        work(logger, i);
                    }
                };
                match scope {
                    Some(fields) => velo::scope(fields.clone(), produce),
                    None => produce(),
                }
            });
        }
    });
    logger.sync().unwrap();
    start.elapsed().as_nanos() as f64 / (per_thread * threads) as f64
}

fn logger(format: Format) -> Logger {
    Builder::new()
        .format(format)
        .writer(std::io::sink())
        .build()
        .unwrap()
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--delivery") {
        let samples = std::env::args()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(200);
        return delivery_table(samples);
    }
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let json = logger(Format::Json);
    let ten = velo::fields!(
        service = "api",
        version = "1.4.2",
        region = "eu-west-1",
        host = "web-7",
        pid = 4242u32,
        env = "prod",
        build = 31337u64,
        shard = 3u8,
        zone = "b",
        canary = false,
    );
    let ctx = json.with(ten.clone());
    let text = logger(Format::Text);
    let local = Builder::new()
        .format(Format::Json)
        .local_time(true)
        .writer(std::io::sink())
        .build()
        .unwrap();
    let cases: [(&str, &Logger, Workload); 5] = [
        ("W0", &json, w0),
        ("W3", &json, w3),
        ("W10", &json, w10),
        ("Wctx", &ctx, w0),
        ("W3 text", &text, w3),
    ];
    run(&json, w3, 1, n / 10); // warm-up
    println!("| workload | 1 thread ns/entry | 2 threads ns/entry |");
    println!("|---|---|---|");
    for (name, logger, work) in cases {
        let one = run(logger, work, 1, n);
        let two = run(logger, work, 2, n);
        println!("| {name} | {one:.0} | {two:.0} |");
    }
    let features: [(&str, &Logger, Workload, Option<&velo::Fields>); 3] = [
        ("W0 in scope", &json, w0, Some(&ten)),
        ("W3 template", &json, w3_template, None),
        ("W3 local time", &local, w3, None),
    ];
    for (name, logger, work, scope) in features {
        let one = run_in(logger, work, 1, n, scope);
        let two = run_in(logger, work, 2, n, scope);
        println!("| {name} | {one:.0} | {two:.0} |");
    }
    println!();
    delivery_table(50);
    for logger in [&json, &text] {
        let stats = logger.stats();
        assert_eq!(stats.dropped, 0);
        assert_eq!(stats.write_errors, 0);
    }
}
