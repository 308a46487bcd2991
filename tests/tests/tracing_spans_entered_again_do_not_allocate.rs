//! A `tracing` span made once and entered for each request (as a task's
//! span is on each poll): entering and leaving it, and the entries logged
//! inside it, `tracing` events and `velo!` entries alike, allocate nothing
//! in steady state, on the logging thread or the worker's. Entering keeps
//! the thread's buffers, and the span's fields merged with the thread's
//! scope keep their id, by which the worker knows their text.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use velo::{velo, Builder, Format};

struct Counting;

/// Allocations on every thread.
static ALL_ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` unchanged; the counter is an
// atomic, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALL_ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALL_ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn entering_a_span_again_and_logging_inside_it_allocates_nothing() {
    Builder::new()
        .format(Format::Json)
        .writer(std::io::sink())
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    let logger = velo::logger();
    let span = tracing::info_span!("request", request_id = 7, route = "/api/orders");
    let request = |i: u64| {
        let _entered = span.enter();
        tracing::info!(step = i, "handled");
        velo!(info, "also handled", i);
    };
    for i in 0..20_000 {
        request(i);
    }
    logger.sync().unwrap();
    let mut written = logger.stats().written;
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let before = ALL_ALLOCS.load(Ordering::SeqCst);
        for i in 0..10_000 {
            request(i);
        }
        // Waits for the worker's share without allocating (as `sync` may).
        written += 20_000;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while logger.stats().written < written {
            assert!(std::time::Instant::now() < deadline, "{:?}", logger.stats());
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        rounds.push(ALL_ALLOCS.load(Ordering::SeqCst) - before);
        if rounds.last() == Some(&0) {
            break;
        }
    }
    assert_eq!(
        rounds.last(),
        Some(&0),
        "allocations on all threads per round of 10,000 requests: {rounds:?}"
    );
}
