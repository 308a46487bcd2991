//! Per-call cost of `velo!(info, "msg", a = 1u64, b = "x", c = 2.5)`.
//!
//! - `velo/sync_sink`: encode and write on the caller thread into a
//!   discarding writer (no queue): formatting plus a lock and a copy.
//! - `velo/async_sink`: the default asynchronous path: encode, queue; the
//!   worker writes to a discarding writer.
//! - `baseline/hand_written`: the same line formatted by hand with itoa and
//!   ryu into a reused `Vec`, with the same clock read: the floor.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::{SystemTime, UNIX_EPOCH};
use velo::{velo, Builder, Format};

fn bench_w1(c: &mut Criterion) {
    let mut group = c.benchmark_group("w1_three_fields");

    let sync = Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .asynchronous(false)
        .build()
        .unwrap();
    group.bench_function("velo/sync_sink", |b| {
        b.iter(|| velo!(logger: &sync, info, "msg", a = black_box(1u64), b = black_box("x"), c = black_box(2.5)));
    });

    let asynchronous = Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .build()
        .unwrap();
    group.bench_function("velo/async_sink", |b| {
        b.iter(|| velo!(logger: &asynchronous, info, "msg", a = black_box(1u64), b = black_box("x"), c = black_box(2.5)));
    });
    asynchronous.sync().unwrap();

    let mut buf = Vec::with_capacity(512);
    group.bench_function("baseline/hand_written", |b| {
        b.iter(|| {
            buf.clear();
            let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            buf.extend_from_slice(b"{\"time\":");
            buf.extend_from_slice(itoa::Buffer::new().format(d.as_nanos()).as_bytes());
            buf.extend_from_slice(
                b",\"level\":\"info\",\"msg\":\"msg\",\"caller\":\"benches/encode.rs:1\",\"a\":",
            );
            buf.extend_from_slice(itoa::Buffer::new().format(black_box(1u64)).as_bytes());
            buf.extend_from_slice(b",\"b\":\"");
            buf.extend_from_slice(black_box("x").as_bytes());
            buf.extend_from_slice(b"\",\"c\":");
            buf.extend_from_slice(ryu::Buffer::new().format(black_box(2.5)).as_bytes());
            buf.extend_from_slice(b"}\n");
            black_box(&buf);
        });
    });
    group.finish();
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

criterion_group!(benches, bench_w1, bench_disabled);
criterion_main!(benches);
