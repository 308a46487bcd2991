//! One large entry makes the buffers it passes through grow; once the
//! usual entries have gone through them for a while, they give the memory
//! back: a logger holds about its usual
//! buffers for as long as it lives, not the size of the largest line it
//! ever wrote. Measured by an allocator that counts the live bytes of the
//! whole process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use velo::{velo, Builder, Format};

struct Live;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged and only
// counts the sizes.
unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded; `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Live = Live;

fn live_mib() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / (1 << 20) as f64
}

#[test]
fn buffers_shrink_back_after_a_large_entry() {
    for asynchronous in [true, false] {
        let dir = velo_tests::TempDir::new("large-entry");
        let logger = Builder::new()
            .format(Format::Json)
            .file(dir.path().join("app.log"))
            .asynchronous(asynchronous)
            .build()
            .unwrap();
        // The usual entries first: the buffers at their working size.
        for i in 0..1_000u32 {
            velo!(logger: &logger, info, "small", i);
        }
        logger.sync().unwrap();
        let usual = live_mib();
        {
            let big = "z".repeat(12 << 20);
            velo!(logger: &logger, info, "big", big = big.as_str());
            logger.sync().unwrap();
        }
        // The usual entries again, in enough passes (each a use of the
        // buffers) for them to give the memory back: they keep it while
        // large entries go on, so as not to grow again for each.
        for _ in 0..500 {
            for i in 0..10u32 {
                velo!(logger: &logger, info, "small", i);
            }
            logger.sync().unwrap();
        }
        let after = live_mib();
        assert!(
            after - usual < 4.0,
            "asynchronous({asynchronous}): {usual:.1} MiB live before the 12 MiB entry, \
             {after:.1} MiB after it was written"
        );
        let lines = std::fs::read_to_string(dir.path().join("app.log"))
            .unwrap()
            .lines()
            .count();
        assert_eq!(lines, 6_001);

        if asynchronous {
            // A logger that goes quiet after a large entry gives the memory
            // back once its worker is idle, with no entry after it.
            {
                let big = "z".repeat(12 << 20);
                velo!(logger: &logger, info, "big", big = big.as_str());
                logger.sync().unwrap();
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while live_mib() - usual >= 4.0 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let idle = live_mib();
            assert!(
                idle - usual < 4.0,
                "{usual:.1} MiB live before the 12 MiB entry, {idle:.1} MiB with the logger idle after it"
            );
        }
    }
}
