//! CPU time per `tracing` event, velo's bridge versus tracing-subscriber's
//! JSON formatter with tracing-appender's `non_blocking`, both writing to a
//! discarding writer: `cargo run --release -p velo-benches --bin
//! tracing_cpu [EVENTS]`.
//!
//! Wall-clock figures (the `tracing_bridge` criterion bench) swing widely
//! on a loaded machine, where the logging thread and the writing thread
//! wait for a core. CPU time does not count that wait, so this program
//! reports, per event:
//!
//! - `caller`: the CPU time of the thread that logs (what a call costs the
//!   program's own thread);
//! - `process`: the CPU time of the whole process, writing threads
//!   included, divided by the events (the total work per event);
//! - `wall`: elapsed time, for reference.
//!
//! Workloads as in the bench: W3 (`user_id`, `path`, `latency_ms`) alone
//! and inside an entered span with two fields. Each subject is the scoped
//! default in turn; rounds alternate and the best (lowest) round is shown.

use std::hint::black_box;
use std::time::Instant;
use tracing::Dispatch;
use tracing_appender::non_blocking::NonBlockingBuilder;
use velo::{Builder, Format};

fn cpu(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and `clock` one of the
    // CPU-time clocks every Linux has.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[inline(never)]
fn event(i: u64) {
    tracing::info!(
        user_id = i,
        path = black_box("/api/orders"),
        latency_ms = black_box(12.5),
        "request handled"
    );
}

#[derive(Clone, Copy)]
struct Figures {
    caller: f64,
    process: f64,
    wall: f64,
}

/// Logs `n` events under `dispatch`, in a span or not; `settle` waits for
/// the writing thread.
fn run(dispatch: &Dispatch, n: u64, in_span: bool, settle: &dyn Fn()) -> Figures {
    tracing::dispatcher::with_default(dispatch, || {
        let span =
            in_span.then(|| tracing::info_span!("request", request_id = 7u64, method = "GET"));
        let _inside = span.as_ref().map(tracing::Span::enter);
        let (t0, p0, w0) = (
            cpu(libc::CLOCK_THREAD_CPUTIME_ID),
            cpu(libc::CLOCK_PROCESS_CPUTIME_ID),
            Instant::now(),
        );
        for i in 0..n {
            event(i);
        }
        let caller = cpu(libc::CLOCK_THREAD_CPUTIME_ID) - t0;
        let wall = w0.elapsed().as_nanos() as f64;
        settle();
        let process = cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - p0;
        let n = n as f64;
        Figures {
            caller: caller as f64 / n,
            process: process as f64 / n,
            wall: wall / n,
        }
    })
}

fn best(a: Figures, b: Figures) -> Figures {
    Figures {
        caller: a.caller.min(b.caller),
        process: a.process.min(b.process),
        wall: a.wall.min(b.wall),
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(500_000, |s| s.parse().expect("a number of events"));
    Builder::new()
        .format(Format::Json)
        .filter("info")
        .writer(std::io::sink())
        .install()
        .expect("first logger");
    velo::bridge_tracing().expect("first subscriber");
    let velo_dispatch = tracing::dispatcher::get_default(Dispatch::clone);
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::sink());
    let fmt_dispatch = Dispatch::new(
        tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .finish(),
    );
    // `non_blocking` offers no flush: a short pause lets its worker drain.
    let settle_fmt = || std::thread::sleep(std::time::Duration::from_millis(50));
    let settle_velo = || velo::sync().expect("sync");

    let worst = Figures {
        caller: f64::MAX,
        process: f64::MAX,
        wall: f64::MAX,
    };
    println!(
        "{n} events per round, best of 5 rounds; ns per event (caller CPU / process CPU / wall)"
    );
    for in_span in [false, true] {
        let (mut v, mut f) = (worst, worst);
        for _ in 0..5 {
            v = best(v, run(&velo_dispatch, n, in_span, &settle_velo));
            f = best(f, run(&fmt_dispatch, n, in_span, &settle_fmt));
        }
        let name = if in_span { "event in span" } else { "event" };
        println!(
            "{name:14} velo bridge {:6.0} / {:6.0} / {:6.0}   fmt json non_blocking {:6.0} / {:6.0} / {:6.0}   ratio {:.1}x / {:.1}x / {:.1}x",
            v.caller, v.process, v.wall, f.caller, f.process, f.wall,
            f.caller / v.caller, f.process / v.process, f.wall / v.wall,
        );
    }
    drop(guard);
    let stats = velo::logger().stats();
    println!(
        "velo: {} written, {} dropped, {} written by callers (full queue)",
        stats.written, stats.dropped, stats.sync_fallbacks
    );
}
