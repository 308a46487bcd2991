//! `std::process::exit` while another thread writes: once the exit has
//! begun, other threads start no write of their own, so the end of the
//! process cannot cut one (and a line) in half. Writes under way finish
//! first.

use std::fs;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use velo::{velo, Builder, Format};
use velo_tests::{is_child, run_child_within, TempDir};

/// Writes each buffer in two halves, 50 ms apart: a write the end of the
/// process would cut in the middle.
struct SlowHalves {
    file: fs::File,
    writes: Arc<AtomicU64>,
}

impl Write for SlowHalves {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let half = buf.len() / 2;
        self.file.write_all(&buf[..half])?;
        std::thread::sleep(Duration::from_millis(50));
        self.file.write_all(&buf[half..])?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_exits_while_another_thread_writes() {
    if !is_child("child_exits_while_another_thread_writes") {
        return;
    }
    let path = std::env::var("VELO_TEST_FILE").unwrap();
    let writes = Arc::new(AtomicU64::new(0));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(SlowHalves {
            file: fs::File::create(&path).unwrap(),
            writes: Arc::clone(&writes),
        })
        .asynchronous(false)
        .build()
        .unwrap();
    std::thread::spawn(move || {
        for i in 0u64.. {
            velo!(logger: &logger, info, "from another thread", i);
        }
    });
    while writes.load(Ordering::SeqCst) < 3 {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::process::exit(0);
}

#[test]
fn the_end_of_the_process_cuts_no_line() {
    let dir = TempDir::new("exit_never_cuts_a_line");
    let path = dir.path().join("out.log");
    for _ in 0..3 {
        let out = run_child_within(
            "child_exits_while_another_thread_writes",
            &[("VELO_TEST_FILE", path.to_str().unwrap())],
            velo_tests::CHILD_TIMEOUT,
        );
        assert!(out.status.success(), "{out:?}");
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with('\n'),
            "the last line is whole: {:?}",
            &text[text.len().saturating_sub(120)..]
        );
        for line in text.lines() {
            velo_tests::parse_line(line);
        }
        assert!(text.lines().count() >= 3);
    }
}
