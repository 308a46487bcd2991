//! What the syslog output costs, in one run, next to the byte writer:
//!
//! 1. W3 per call as the caller sees it, for the byte writer to a
//!    discarding sink and for syslog to rsyslogd (TCP, UDP), to a TCP
//!    reader that discards and to a UDP port nobody reads: in bursts of 1,000 calls that fit the queue
//!    (median and 90th percentile of 300 bursts, `sync` between them,
//!    untimed), and sustained (N calls back to back; when the worker is
//!    slower than the caller the queue fills and, under the default
//!    `Overflow::Sync`, callers write too), with the time until `sync`
//!    returns.
//! 2. Throughput to rsyslogd over TCP on loopback: N entries logged as fast
//!    as possible, timed until the last one is in rsyslogd's file, with a
//!    backlog large enough to drop nothing and with the default one.
//!
//! `cargo run --release -p velo-benches --bin syslog [-- N [FILTER]]`
//! (default N = 200,000; FILTER keeps the per-call cases whose name holds
//! it; needs `/usr/sbin/rsyslogd`, or `RSYSLOGD=path`).

use std::hint::black_box;
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Logger, Syslog};

// The private rsyslogd of the integration tests, started the same way.
#[path = "../../../tests/src/rsyslog.rs"]
#[allow(
    dead_code,
    reason = "the tests use more of the harness than the benchmark"
)]
mod rsyslog;

use rsyslog::Rsyslogd;

fn w3(logger: &Logger, i: u64) {
    velo!(
        logger: logger,
        info,
        "request handled",
        user_id = i,
        path = black_box("/api/orders"),
        latency_ms = black_box(12.5),
    );
}

fn builder() -> Builder {
    Builder::new().format(Format::Json).app_name("velo-bench")
}

/// Per-call nanoseconds of bursts of 1,000 calls: (median, 90th
/// percentile).
fn bursts(logger: &Logger) -> (f64, f64) {
    const BURST: u64 = 1000;
    let mut samples = Vec::new();
    for round in 0..300u64 {
        let start = Instant::now();
        for i in 0..BURST {
            w3(logger, round * BURST + i);
        }
        samples.push(start.elapsed().as_nanos() as f64 / BURST as f64);
        let _ = logger.sync();
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
}

/// CPU time of this process's worker threads so far (from the scheduler's
/// statistics, in nanoseconds): what the output costs, whoever else
/// competes for the cores.
fn worker_cpu() -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "velo-worker" {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            total += stat
                .split(' ')
                .next()
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// `n` calls back to back: per-call nanoseconds for the calls alone,
/// until `sync` returned, and the workers' CPU time per entry.
fn sustained(logger: &Logger, n: u64) -> (f64, f64, f64) {
    let cpu = worker_cpu();
    let start = Instant::now();
    for i in 0..n {
        w3(logger, i);
    }
    let calls = start.elapsed();
    let _ = logger.sync();
    let all = start.elapsed();
    let cpu = worker_cpu() - cpu;
    (
        calls.as_nanos() as f64 / n as f64,
        all.as_nanos() as f64 / n as f64,
        cpu as f64 / n as f64,
    )
}

/// Counts the lines of rsyslogd's file as it grows (probes included).
struct LineCounter {
    file: std::fs::File,
    lines: u64,
    buf: Vec<u8>,
}

impl LineCounter {
    fn new(dir: &Path) -> LineCounter {
        LineCounter {
            file: std::fs::File::open(dir.join("messages.jsonl")).expect("rsyslogd's file"),
            lines: 0,
            buf: vec![0; 1 << 20],
        }
    }

    fn count(&mut self) -> u64 {
        use std::io::Read;
        while let Ok(n @ 1..) = self.file.read(&mut self.buf) {
            self.lines += self.buf[..n].iter().filter(|&&c| c == b'\n').count() as u64;
        }
        self.lines
    }
}

/// Logs `n` entries to a fresh rsyslogd over TCP as fast as possible;
/// returns (seconds until the last one is in the file, entries that
/// arrived, stats).
fn to_rsyslogd(n: u64, backlog: usize) -> (f64, u64, velo::Stats) {
    let rsyslogd = Rsyslogd::start();
    let mut counter = LineCounter::new(rsyslogd.dir());
    let probes = counter.count();
    let logger = builder()
        .syslog(Syslog::tcp(rsyslogd.tcp_addr()).backlog(backlog))
        .build()
        .expect("syslog logger");
    let start = Instant::now();
    for i in 0..n {
        w3(&logger, i);
    }
    let _ = logger.sync();
    let mut last = (0, Instant::now());
    loop {
        let _ = logger.sync();
        let stats = logger.stats();
        let arrived = counter.count() - probes;
        if arrived >= stats.written {
            let secs = start.elapsed().as_secs_f64();
            return (secs, arrived, stats);
        }
        if arrived != last.0 {
            last = (arrived, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(10) {
            panic!("rsyslogd stopped at {arrived} of {} lines", stats.written);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A TCP port on loopback whose connections a thread reads and discards:
/// the fastest receiver there is.
fn discarding_reader() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a TCP port");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut conn, &mut std::io::sink());
            });
        }
    });
    addr
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    // Only the cases whose name holds this text, if given.
    let only = std::env::args().nth(2).unwrap_or_default();
    let rsyslogd = Rsyslogd::start();
    let nobody = UdpSocket::bind("127.0.0.1:0").expect("a UDP port");
    let discarding = discarding_reader();
    let mut cases: Vec<(&str, Logger)> = vec![
        (
            "byte writer, discarding sink",
            builder().writer(std::io::sink()).build().unwrap(),
        ),
        (
            "syslog TCP to rsyslogd",
            builder()
                .syslog(Syslog::tcp(rsyslogd.tcp_addr()).backlog(1 << 30))
                .build()
                .unwrap(),
        ),
        (
            "syslog TCP to a reader that discards",
            builder()
                .syslog(Syslog::tcp(discarding.to_string()).backlog(1 << 30))
                .build()
                .unwrap(),
        ),
        (
            "syslog UDP to rsyslogd",
            builder()
                .syslog(Syslog::udp(rsyslogd.udp_addr()))
                .build()
                .unwrap(),
        ),
        (
            "syslog UDP to a port nobody reads",
            builder()
                .syslog(Syslog::udp(nobody.local_addr().unwrap().to_string()))
                .build()
                .unwrap(),
        ),
    ];
    cases.retain(|(name, _)| name.contains(&only));
    for (_, logger) in &cases {
        sustained(logger, n / 10); // warm-up, connections up
    }
    println!("W3 per call, release build, {n} calls sustained\n");
    println!("| output | burst median ns | burst p90 ns | sustained ns/call | sustained until sync ns/entry | worker CPU ns/entry |");
    println!("|---|---|---|---|---|---|");
    for (name, logger) in &cases {
        let (median, p90) = bursts(logger);
        let (calls, all, cpu) = sustained(logger, n);
        println!("| {name} | {median:.0} | {p90:.0} | {calls:.0} | {all:.0} | {cpu:.0} |");
    }
    println!();
    for (name, logger) in &cases {
        let s = logger.stats();
        println!(
            "{name}: written {}, dropped {}, write errors {}, caller writes (sync fallbacks) {}",
            s.written, s.dropped, s.write_errors, s.sync_fallbacks
        );
    }
    drop(cases);
    drop(rsyslogd);
    if !only.is_empty() {
        return;
    }

    println!("\nTCP to rsyslogd on loopback, {n} entries as fast as possible\n");
    println!("| backlog | seconds until all in rsyslogd's file | entries/s arrived | arrived | dropped |");
    println!("|---|---|---|---|---|");
    for (name, backlog) in [
        ("1 GiB", 1 << 30),
        ("default 8 MiB", Syslog::DEFAULT_BACKLOG),
    ] {
        let (secs, arrived, stats) = to_rsyslogd(n, backlog);
        println!(
            "| {name} | {secs:.3} | {:.0} | {arrived} | {} |",
            arrived as f64 / secs,
            stats.dropped
        );
    }
}
