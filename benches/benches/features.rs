//! Per-call cost of the compile-time features against their baselines,
//! `cargo bench -p velo-benches --bench features`.
//!
//! - `limits`: a call site under `every: 1h` that is suppressed (its
//!   period has not passed) and one under `sample: 1000000` that is
//!   skipped, against `disabled`, a site the filter rejects.
//! - `context`: W0 inside one `velo::scope` of ten fields against Wctx (W0
//!   through a child logger with the same ten fields), caller side
//!   (`async`) and formatted on the caller (`sync_sink`).
//! - `template`: W3 with its message as a template naming its three fields
//!   against W3 with a literal message.
//! - `local_time`: W3 with `local_time(true)` against UTC.
//!
//! `async` is the caller's cost only: formatting happens on the worker, so
//! the template's and local time's cost shows in `sync_sink` (formatting on
//! the caller) and end to end (`throughput`).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use velo::{velo, Builder, Format, Logger};

fn logger(asynchronous: bool) -> Builder {
    Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .asynchronous(asynchronous)
}

fn ten_fields() -> velo::Fields {
    velo::fields!(
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
    )
}

fn bench_limits(c: &mut Criterion) {
    let mut group = c.benchmark_group("limits");
    let quiet = logger(true).level(velo::LevelFilter::Warn).build().unwrap();
    group.bench_function("disabled", |b| {
        b.iter(|| velo!(logger: &quiet, debug, "msg", a = black_box(1u64)));
    });
    let l = logger(true).build().unwrap();
    // The first call writes; every later one within the hour is suppressed.
    group.bench_function("every_suppressed", |b| {
        b.iter(|| velo!(logger: &l, every: 1h, info, "msg", a = black_box(1u64)));
    });
    group.bench_function("sample_skipped", |b| {
        b.iter(|| velo!(logger: &l, sample: 1_000_000, info, "msg", a = black_box(1u64)));
    });
    group.finish();
    l.sync().unwrap();
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

fn w3_template(l: &Logger) {
    velo!(
        logger: l,
        info,
        "request {path} by {user_id} handled in {latency_ms} ms",
        user_id = black_box(42u64),
        path = black_box("/api/orders"),
        latency_ms = black_box(12.5),
    );
}

fn bench_context(c: &mut Criterion) {
    let mut group = c.benchmark_group("context");
    for asynchronous in [true, false] {
        let id = if asynchronous { "async" } else { "sync_sink" };
        let base = logger(asynchronous).build().unwrap();
        let child = base.with(ten_fields());
        group.bench_function(format!("wctx/{id}"), |b| b.iter(|| w0(&child)));
        velo::scope(ten_fields(), || {
            group.bench_function(format!("w0_in_scope/{id}"), |b| b.iter(|| w0(&base)));
        });
        base.sync().unwrap();
    }
    group.finish();
}

fn bench_template(c: &mut Criterion) {
    let mut group = c.benchmark_group("template");
    for asynchronous in [true, false] {
        let id = if asynchronous { "async" } else { "sync_sink" };
        let l = logger(asynchronous).build().unwrap();
        group.bench_function(format!("w3_literal/{id}"), |b| b.iter(|| w3(&l)));
        group.bench_function(format!("w3_template/{id}"), |b| {
            b.iter(|| w3_template(&l));
        });
        l.sync().unwrap();
    }
    group.finish();
}

fn bench_local_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("local_time");
    for local in [false, true] {
        let id = if local {
            "w3_local/sync_sink"
        } else {
            "w3_utc/sync_sink"
        };
        let l = logger(false).local_time(local).build().unwrap();
        group.bench_function(id, |b| b.iter(|| w3(&l)));
    }
    group.finish();
}

fn config() -> Criterion {
    // Short runs, as in `encode`: compare figures from one run.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_limits, bench_context, bench_template, bench_local_time
}
criterion_main!(benches);
