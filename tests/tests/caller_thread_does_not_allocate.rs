//! Zero allocations on the caller thread in steady state, counted by a
//! global allocator that counts per thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use velo::{velo, Builder, Format, Overflow};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` unchanged; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

fn steady_state(overflow: Overflow, format: Format) {
    let logger = Builder::new()
        .format(format)
        .writer(std::io::sink())
        .overflow(overflow)
        // Small enough that warm-up fills it, so every buffer the queue can
        // hold has been allocated before counting starts.
        .buffer_size(256)
        .build()
        .unwrap();
    let child = logger.with(velo::fields!(request_id = 7));
    let name = "ada";
    let log = |i: u64| {
        velo!(logger: &child, info, "request handled", user_id = i, path = "/api/orders", latency_ms = 12.5, name = %name, tags = ["a", "b"]);
    };
    // Warm-up: fill the pool, format the timestamp prefix, compute the
    // call site's interest.
    for i in 0..20_000 {
        log(i);
    }
    logger.sync().unwrap();
    let n = allocations_during(|| {
        for i in 0..100_000 {
            log(i);
        }
    });
    assert_eq!(
        n, 0,
        "{overflow:?} {format:?}: allocations on the caller thread"
    );
    logger.sync().unwrap();
    assert_eq!(logger.stats().written, 120_000);
}

#[test]
fn no_allocation_per_entry() {
    steady_state(Overflow::Sync, Format::Json);
    steady_state(Overflow::Block, Format::Json);
    steady_state(Overflow::Sync, Format::Text);
}
