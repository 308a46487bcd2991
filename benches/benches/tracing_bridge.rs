//! A `tracing` event through velo's bridge versus through
//! tracing-subscriber's JSON formatter writing via tracing-appender's
//! `non_blocking`, both to a discarding writer, in one run:
//! `cargo bench -p velo-benches --bench tracing_bridge`.
//!
//! - `event`: the W3 workload (`user_id` u64, `path` &str, `latency_ms`
//!   f64) as a `tracing::info!`.
//! - `event_in_span`: the same inside an entered span with two fields
//!   (`request_id`, `method`), which both subscribers add to the line.
//! - `disabled`: a `tracing::debug!` under an `info` filter.
//!
//! Both subscribers are used as `tracing`'s scoped default
//! (`dispatcher::with_default`), so both pay the same dispatch lookup. velo
//! is the installed default logger, asynchronous, JSON, with
//! `Overflow::Sync` (a full queue makes the caller write; nothing is lost);
//! `non_blocking` is in lossless mode (`lossy(false)`: the caller waits
//! when its queue is full), as the peer comparison sets it up. Each figure
//! is the caller's time per event; the writing threads run meanwhile, so on
//! a loaded machine, where the threads wait for a core, the figures swing
//! and approach the total CPU work per event: `src/bin/tracing_cpu.rs`
//! reports CPU time, per thread and per process, instead.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use tracing::Dispatch;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use velo::{Builder, Format};

const PATH: &str = "/api/orders";
const LATENCY_MS: f64 = 12.5;

/// velo as the global subscriber (the bridge sets it) and that dispatch.
fn velo_dispatch() -> Dispatch {
    Builder::new()
        .format(Format::Json)
        .filter("info")
        .writer(std::io::sink())
        .install()
        .expect("first logger");
    velo::bridge_tracing().expect("first subscriber");
    tracing::dispatcher::get_default(Dispatch::clone)
}

/// tracing-subscriber's JSON formatter through `non_blocking`.
fn fmt_dispatch() -> (Dispatch, WorkerGuard) {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::sink());
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(writer)
        .finish();
    (Dispatch::new(subscriber), guard)
}

#[inline(never)]
fn event(i: u64) {
    tracing::info!(
        user_id = i,
        path = black_box(PATH),
        latency_ms = black_box(LATENCY_MS),
        "request handled"
    );
}

#[inline(never)]
fn disabled(i: u64) {
    tracing::debug!(user_id = i, path = black_box(PATH), "request handled");
}

fn bench(c: &mut Criterion) {
    let subjects = [("velo_bridge", velo_dispatch(), None), {
        let (dispatch, guard) = fmt_dispatch();
        ("fmt_json_non_blocking", dispatch, Some(guard))
    }];
    let mut group = c.benchmark_group("event");
    for (name, dispatch, _) in &subjects {
        tracing::dispatcher::with_default(dispatch, || {
            let mut i = 0u64;
            group.bench_function(*name, |b| {
                b.iter(|| {
                    i += 1;
                    event(i);
                });
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("event_in_span");
    for (name, dispatch, _) in &subjects {
        tracing::dispatcher::with_default(dispatch, || {
            let span = tracing::info_span!("request", request_id = 7u64, method = "GET");
            let _inside = span.enter();
            let mut i = 0u64;
            group.bench_function(*name, |b| {
                b.iter(|| {
                    i += 1;
                    event(i);
                });
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("disabled");
    for (name, dispatch, _) in &subjects {
        tracing::dispatcher::with_default(dispatch, || {
            let mut i = 0u64;
            group.bench_function(*name, |b| {
                b.iter(|| {
                    i += 1;
                    disabled(i);
                });
            });
        });
    }
    group.finish();
    velo::close();
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
    targets = bench
}
criterion_main!(benches);
