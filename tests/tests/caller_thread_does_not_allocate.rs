//! Zero allocations in steady state, on the caller thread and on every
//! thread (the worker's included), counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use velo::{velo, Builder, Format, Overflow};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Allocations on every thread.
static ALL_ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` unchanged; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        ALL_ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        ALL_ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Taken by each test for its whole run: the count over all threads would
/// otherwise take in the other test's allocations, made on its own thread
/// at the same time (which a loaded machine made happen).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Allocations on this thread and on all threads while `f` runs.
fn allocations_during(f: impl FnOnce()) -> (u64, u64) {
    let before = (ALLOCS.with(Cell::get), ALL_ALLOCS.load(Ordering::SeqCst));
    f();
    (
        ALLOCS.with(Cell::get) - before.0,
        ALL_ALLOCS.load(Ordering::SeqCst) - before.1,
    )
}

/// Waits, without allocating (as `sync` may), until `logger` has written
/// `n` entries in all: the worker's share of a round counted with it.
fn wait_written(logger: &velo::Logger, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while logger.stats().written < n {
        assert!(std::time::Instant::now() < deadline, "{:?}", logger.stats());
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Runs `round` up to three times, until one allocates nothing on this
/// thread or any other; the allocations of each round run.
fn rounds_until_none(mut round: impl FnMut()) -> Vec<(u64, u64)> {
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let n = allocations_during(&mut round);
        rounds.push(n);
        if n == (0, 0) {
            break;
        }
    }
    rounds
}

/// A discarding writer whose first `slow_writes` writes sleep 2 ms each:
/// with a few, warm-up fills the queue to capacity, so the thread's ring
/// grows to its largest size before counting starts.
struct SlowStart {
    slow_writes: u32,
}

impl std::io::Write for SlowStart {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.slow_writes > 0 {
            self.slow_writes -= 1;
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const CAPACITY: usize = 256;

fn steady_state(overflow: Overflow, format: Format) {
    let logger = Builder::new()
        .format(format)
        .writer(SlowStart { slow_writes: 20 })
        .overflow(overflow)
        .buffer_size(CAPACITY)
        .build()
        .unwrap();
    let child = logger.with(velo::fields!(request_id = 7));
    let name = "ada";
    let log = |i: u64| {
        velo!(logger: &child, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5, name = %name, tags = ["a", "b"]);
    };
    // Warm-up: grow the thread's ring, calibrate the clock, format the
    // timestamp prefix, compute the call site's interest.
    for i in 0..20_000 {
        log(i);
    }
    logger.sync().unwrap();
    // Steady state: a round of 100,000 calls that allocates nothing, on
    // this thread or any other. A ring grows (one allocation) only when its
    // thread fills it, which warm-up normally did; a second round is
    // allowed for a machine so loaded that it did not, but an allocation
    // per entry (or any growth past the ring's bound) fails.
    let rounds = rounds_until_none(|| {
        for i in 0..100_000 {
            log(i);
        }
    });
    assert_eq!(
        rounds.last(),
        Some(&(0, 0)),
        "{overflow:?} {format:?}: allocations (this thread, all threads) per round of 100,000: {rounds:?}"
    );
    assert!(
        rounds.iter().map(|r| r.1).sum::<u64>() <= 8,
        "{overflow:?} {format:?}: more than a ring's growth: {rounds:?}"
    );
    logger.sync().unwrap();
    assert_eq!(
        logger.stats().written,
        20_000 + 100_000 * rounds.len() as u64
    );
}

#[test]
fn no_allocation_per_entry() {
    let _alone = one_at_a_time();
    steady_state(Overflow::Sync, Format::Json);
    steady_state(Overflow::Block, Format::Json);
    steady_state(Overflow::Sync, Format::Text);
}

/// A discarding writer that spins 100 us per write: the worker stays
/// behind a thread logging flat out, so the thread formats its own lines
/// much of the time (`caller_format`).
struct Slow;

impl std::io::Write for Slow {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_micros(100) {
            std::hint::spin_loop();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// While the worker is behind, a caller formats lines itself, for entries
/// written in place and for those encoded in its buffer (a `%` field):
/// with its own formatter, made on its first such line, and nothing
/// allocated after.
#[test]
fn a_caller_formatting_its_own_lines_does_not_allocate() {
    let _alone = one_at_a_time();
    for format in [Format::Json, Format::Text] {
        let logger = Builder::new()
            .format(format)
            .writer(Slow)
            .overflow(Overflow::Block)
            .buffer_size(CAPACITY)
            .build()
            .unwrap();
        let child = logger.with(velo::fields!(request_id = 7));
        let log = |i: u64| {
            let ratio = i as f64 / 3.0;
            velo!(logger: &logger, info, "request handled", user_id = i, path = "/api/orders", ratio);
            velo!(logger: &child, info, "with context", user_id = i);
            velo!(logger: &logger, warn, "slow", i, ok = i.is_multiple_of(2), shown = %ratio);
        };
        for i in 0..20_000 {
            log(i);
        }
        logger.sync().unwrap();
        let rounds = rounds_until_none(|| {
            for i in 0..20_000 {
                log(i);
            }
        });
        assert_eq!(
            rounds.last(),
            Some(&(0, 0)),
            "{format:?}: allocations (this thread, all threads) per round of 60,000: {rounds:?}"
        );
        logger.sync().unwrap();
        let stats = logger.stats();
        assert_eq!(stats.dropped, 0, "{stats:?}");
        assert_eq!(stats.written, 60_000 * (1 + rounds.len() as u64));
    }
}

/// Allocations on this thread inside `f` alone, summed over calls.
fn inside(total: &mut u64, f: impl FnOnce()) {
    let before = ALLOCS.with(Cell::get);
    f();
    *total += ALLOCS.with(Cell::get) - before;
}

/// While the worker is behind, entries whose context or scope is new at
/// every call (a request's id) allocate nothing inside `velo!` either: a
/// caller never formats a block of fields (which would be cached, and a
/// new block allocates). The thread logs to eight loggers in turn, each
/// keeping its formatter; a thread that kept fewer would fail this test
/// only now and then, as the workers fall behind only now and then.
#[test]
fn new_contexts_and_scopes_while_behind_do_not_allocate_in_velo() {
    let _alone = one_at_a_time();
    let loggers: Vec<_> = (0..8)
        .map(|_| {
            Builder::new()
                .format(Format::Json)
                .writer(SlowStart {
                    // Every write: each worker stays behind a thread that
                    // logs to eight loggers in turn.
                    slow_writes: u32::MAX,
                })
                .overflow(Overflow::Block)
                .buffer_size(CAPACITY)
                .build()
                .unwrap()
        })
        .collect();
    let children: Vec<_> = (0..1_000u64)
        .map(|r| loggers[0].with(velo::fields!(request_id = r)))
        .collect();
    let plain = |allocs: &mut u64, logger: &velo::Logger, i: u64| {
        let ratio = i as f64 / 3.0;
        inside(
            allocs,
            || velo!(logger: logger, info, "round robin", i, ratio),
        );
    };
    let round = |allocs: &mut u64, n: u64| {
        for i in 0..n {
            for logger in &loggers {
                plain(allocs, logger, i);
            }
            let child = &children[(i % 1_000) as usize];
            inside(allocs, || velo!(logger: child, info, "a request's", i));
            velo::scope(velo::fields!(trace_id = i), || {
                let ratio = i as f64 / 3.0;
                inside(
                    allocs,
                    || velo!(logger: &loggers[1], info, "in a scope", i, ratio),
                );
            });
        }
    };
    // Warm-up. In the round robin, the two loggers that take three
    // entries an iteration fill first and pace the thread, so the others
    // may not fall behind for thousands of rounds, and their first line
    // formatted by this thread (its formatter for them, the site's head)
    // would land in a counted round. Each logger alone is logged to
    // first, past its ring's capacity: its worker, asleep in its first
    // write, finds the ring full when it wakes, and this thread formats.
    let mut warm = 0;
    for logger in &loggers {
        for i in 0..4 * CAPACITY as u64 {
            plain(&mut warm, logger, i);
        }
    }
    round(&mut warm, 5_000);
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let mut n = 0;
        round(&mut n, 5_000);
        rounds.push(n);
        if n == 0 {
            break;
        }
    }
    assert_eq!(
        rounds.last(),
        Some(&0),
        "allocations inside velo! per round of 50,000: {rounds:?}"
    );
    for logger in &loggers {
        logger.sync().unwrap();
        assert_eq!(logger.stats().dropped, 0);
    }
}

/// A future under `velo::scoped` that logs on every poll: its polls after
/// the first allocate nothing on the polling thread, with or without an
/// outer scope (the merged scope is built in a buffer the future keeps).
#[test]
fn polling_a_scoped_future_does_not_allocate() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    let _alone = one_at_a_time();

    /// Logs once per poll, never finishes.
    struct Ticks<'l>(&'l velo::Logger, u64);

    impl Future for Ticks<'_> {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.1 += 1;
            velo!(logger: self.0, info, "tick", n = self.1);
            Poll::Pending
        }
    }

    let logger = Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .build()
        .unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    for outer in [false, true] {
        let mut task = Box::pin(velo::scoped(
            velo::fields!(job = "reindex"),
            Ticks(&logger, 0),
        ));
        let mut poll = || {
            let _ = task.as_mut().poll(&mut cx);
        };
        let run = |f: &mut dyn FnMut()| {
            if outer {
                velo::scope(velo::fields!(request_id = 7), f);
            } else {
                f();
            }
        };
        // Warm-up: the thread's ring, the clock, the site, the buffer.
        run(&mut || {
            for _ in 0..20_000 {
                poll();
            }
        });
        logger.sync().unwrap();
        // The outer scope's own set-up allocates (its fields, its merge),
        // the same for any number of polls inside it: nothing per poll,
        // on this thread or the worker's (the future's fields keep their
        // id from poll to poll, so the worker formats them once).
        let mut polls = |n: u32| {
            logger.sync().unwrap();
            let written = logger.stats().written;
            allocations_during(|| {
                run(&mut || {
                    for _ in 0..n {
                        poll();
                    }
                });
                wait_written(&logger, written + u64::from(n));
            })
        };
        let (few, many) = (polls(1_000), polls(4_000));
        assert_eq!(
            few, many,
            "outer scope {outer}: allocations (this thread, all) in 1,000 polls, {few:?}, in 4,000, {many:?}"
        );
        if !outer {
            assert_eq!(many.0, 0, "no allocation at all without an outer scope");
        }
    }
}

/// Twenty arms of a `match` on `$n % 20`, each its own copy of `$body`.
macro_rules! twenty {
    ($n:expr, $body:expr) => {
        match $n % 20 {
            0 => $body,
            1 => $body,
            2 => $body,
            3 => $body,
            4 => $body,
            5 => $body,
            6 => $body,
            7 => $body,
            8 => $body,
            9 => $body,
            10 => $body,
            11 => $body,
            12 => $body,
            13 => $body,
            14 => $body,
            15 => $body,
            16 => $body,
            17 => $body,
            18 => $body,
            _ => $body,
        }
    };
}

/// A JSON logger to a discarding writer.
fn sink_logger() -> velo::Logger {
    Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .buffer_size(CAPACITY)
        .build()
        .unwrap()
}

/// Asserts that `n` calls of `log` to `logger`, after `n` calls of
/// warm-up, allocate nothing on this thread or any other, the worker's
/// writing of them included (a second or third round allowed, as in
/// [`steady_state`]).
fn assert_rounds_allocate_nothing(logger: &velo::Logger, n: u64, log: impl Fn(u64)) {
    for i in 0..n {
        log(i);
    }
    logger.sync().unwrap();
    let mut written = logger.stats().written;
    let rounds = rounds_until_none(|| {
        for i in 0..n {
            log(i);
        }
        written += n;
        wait_written(logger, written);
    });
    assert_eq!(
        rounds.last(),
        Some(&(0, 0)),
        "allocations (this thread, all threads) per round of {n}: {rounds:?}"
    );
}

/// Four arms of a `match` on `$n % 4`, each its own copy of `$body`.
macro_rules! four {
    ($n:expr, $body:expr) => {
        match $n % 4 {
            0 => $body,
            1 => $body,
            2 => $body,
            _ => $body,
        }
    };
}

/// A program of many call sites, called in turn: more than the worker
/// keeps the formatted heads of (1,024), so sites take each other's
/// places; that costs formatting a head again, not an allocation.
#[test]
fn sixteen_hundred_call_sites_in_turn_do_not_allocate() {
    let _alone = one_at_a_time();
    let logger = sink_logger();
    // 1,600 `velo!` call sites, one per value of `i % 1_600`.
    assert_rounds_allocate_nothing(&logger, 48_000, |i| {
        four!(
            i / 400,
            twenty!(i / 20, twenty!(i, velo!(logger: &logger, info, "site", i)))
        )
    });
}

/// Requests' child loggers in turn, more of them than the worker keeps
/// the formatted context of: a context that takes another's place costs
/// formatting it again, not an allocation.
#[test]
fn many_child_loggers_in_turn_do_not_allocate() {
    let _alone = one_at_a_time();
    let logger = sink_logger();
    let children: Vec<_> = (0..1_000u64)
        .map(|r| logger.with(velo::fields!(request_id = r, user = "ada")))
        .collect();
    assert_rounds_allocate_nothing(&logger, 20_000, |i| {
        let child = &children[(i % 1_000) as usize];
        velo!(logger: child, info, "request step", i);
    });
}

/// A child logger made for each request (as `examples/web_service.rs`
/// does): its fields and its context take three allocations in all on
/// the calling thread, whatever the number of fields (the fields' list,
/// the merged context, the context shared by the child's clones).
#[test]
fn a_child_logger_per_request_takes_three_allocations() {
    let _alone = one_at_a_time();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .build()
        .unwrap()
        .with(velo::fields!(service = "api", region = "eu-west-1"));
    let mut children = Vec::with_capacity(1_000);
    let (here, _) = allocations_during(|| {
        for r in 0..1_000u64 {
            let peer = std::net::Ipv4Addr::from(r as u32);
            children.push(logger.with(velo::fields!(
                request_id = r,
                method = "GET",
                path = "/api/orders",
                peer = %peer,
                user_id = r * 7
            )));
        }
    });
    assert_eq!(here, 3 * 1_000, "allocations for 1,000 child loggers");
    drop(children);
}
