//! Per-call cost of velo's workloads, `cargo bench -p velo-benches --bench encode`.
//!
//! Workloads (as in the `throughput` and `compare` programs):
//!
//! - W0: a static message; W3: `user_id` (u64), `path` (&str),
//!   `latency_ms` (f64); W10: ten mixed fields; Wctx: W0 from a logger with
//!   ten bound context fields; W3 text: W3 in the text format.
//!
//! Each is measured two ways:
//!
//! - `sync_sink`: encode and write on the caller thread into a discarding
//!   writer (no queue): formatting plus a lock and a copy. Steady, so it is
//!   the figure to compare between changes to the encoder.
//! - `async`: the default asynchronous path as the caller sees it: encode
//!   and copy into the thread's ring; the worker writes to a discarding
//!   writer meanwhile.
//!
//! Plus `w3/baseline_hand_written` (W3 formatted by hand with itoa and ryu
//! into a reused `Vec`, with `SystemTime::now`: the floor velo's encoder is
//! held to) and `disabled_call_site`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::{velo, Builder, Format, Logger};

fn logger(format: Format, asynchronous: bool) -> Logger {
    Builder::new()
        .format(format)
        .writer(std::io::sink())
        .asynchronous(asynchronous)
        .build()
        .unwrap()
}

fn w0(l: &Logger) {
    velo!(logger: l, info, "request handled");
}

fn w3(l: &Logger) {
    velo!(
        logger: l,
        info,
        "request handled",
        user_id = black_box(42u64),
        path = black_box("/api/orders"),
        latency_ms = black_box(12.5),
    );
}

fn w10(l: &Logger) {
    let method = black_box("GET");
    velo!(
        logger: l,
        info,
        "request handled",
        user_id = black_box(42u64),
        path = black_box("/api/orders"),
        latency_ms = black_box(12.5),
        status = 200u16,
        method,
        bytes = black_box(5120u64),
        cache_hit = true,
        retries = 0u8,
        region = "eu-west-1",
        ratio = 0.25,
    );
}

fn with_context(l: &Logger) -> Logger {
    l.with(velo::fields!(
        service = "api",
        version = 3,
        region = "eu-west-1",
        host = "web-7",
        pid = 4242u32,
        build = "2026.11.27",
        canary = false,
        shard = 12u8,
        weight = 0.5,
        tenant = "acme",
    ))
}

fn bench_workloads(c: &mut Criterion) {
    type Work = fn(&Logger);
    let cases: [(&str, Format, bool, Work); 5] = [
        ("w0", Format::Json, false, w0),
        ("w3", Format::Json, false, w3),
        ("w10", Format::Json, false, w10),
        ("wctx", Format::Json, true, w0),
        ("w3_text", Format::Text, false, w3),
    ];
    for (name, format, context, work) in cases {
        let mut group = c.benchmark_group(name);
        for asynchronous in [false, true] {
            let base = logger(format, asynchronous);
            let l = if context { with_context(&base) } else { base };
            let id = if asynchronous { "async" } else { "sync_sink" };
            group.bench_function(id, |b| b.iter(|| work(&l)));
            l.sync().unwrap();
        }
        if name == "w3" {
            bench_hand_written(&mut group);
        }
        group.finish();
    }
}

fn bench_hand_written(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let mut buf = Vec::with_capacity(512);
    group.bench_function("baseline_hand_written", |b| {
        b.iter(|| {
            buf.clear();
            let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            buf.extend_from_slice(b"{\"time\":");
            buf.extend_from_slice(itoa::Buffer::new().format(d.as_nanos()).as_bytes());
            buf.extend_from_slice(
                b",\"level\":\"info\",\"msg\":\"request handled\",\"caller\":\"benches/encode.rs:1\",\"user_id\":",
            );
            buf.extend_from_slice(itoa::Buffer::new().format(black_box(42u64)).as_bytes());
            buf.extend_from_slice(b",\"path\":\"");
            buf.extend_from_slice(black_box("/api/orders").as_bytes());
            buf.extend_from_slice(b"\",\"latency_ms\":");
            buf.extend_from_slice(ryu::Buffer::new().format(black_box(12.5)).as_bytes());
            buf.extend_from_slice(b"}\n");
            black_box(&buf);
        });
    });
}

fn bench_disabled(c: &mut Criterion) {
    let logger = Builder::new()
        .level(velo::LevelFilter::Warn)
        .writer(std::io::sink())
        .build()
        .unwrap();
    c.bench_function("disabled_call_site", |b| {
        b.iter(|| velo!(logger: &logger, debug, "msg", a = black_box(1u64)));
    });
}

fn config() -> Criterion {
    // Short runs: the machines this runs on are shared and noisy anyway;
    // compare figures from one run.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_workloads, bench_disabled
}
criterion_main!(benches);
