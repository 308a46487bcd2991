//! The process exits while threads log flat out under `Overflow::Sync`,
//! their queues small and often full. Once the exit has begun, a thread
//! may not write to the output itself, so an entry that finds its queue
//! full waits for room while the worker still drains, and is dropped only
//! once nothing will drain any more. What each thread logged is then
//! written up to some entry, in order, with nothing missing before it: an
//! entry dropped while the worker went on draining left a gap, later
//! entries of the same thread being written after it.

use std::fs;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{is_child, json_lines, run_child_within, TempDir, CHILD_TIMEOUT};

const THREADS: u64 = 3;

/// A file that takes a little while per write, so queues fill.
struct Slowish {
    file: fs::File,
    writes: Arc<AtomicU64>,
}

impl Write for Slowish {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_micros(200));
        self.file.write_all(buf)?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn child_exits_while_threads_log() {
    if !is_child("child_exits_while_threads_log") {
        return;
    }
    let path = std::env::var("VELO_TEST_FILE").unwrap();
    let writes = Arc::new(AtomicU64::new(0));
    let logger = Builder::new()
        .format(Format::Json)
        .writer(Slowish {
            file: fs::File::create(&path).unwrap(),
            writes: Arc::clone(&writes),
        })
        .overflow(Overflow::Sync)
        .buffer_size(16)
        .build()
        .unwrap();
    for t in 0..THREADS {
        let logger = logger.clone();
        std::thread::spawn(move || {
            for i in 0u64.. {
                velo!(logger: &logger, info, "tick", t, i);
            }
        });
    }
    while writes.load(Ordering::SeqCst) < 20 {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::process::exit(0);
}

#[test]
fn each_thread_is_written_up_to_an_entry_with_no_gap() {
    let dir = TempDir::new("exit_while_threads_log_leaves_no_gap");
    let path = dir.path().join("out.log");
    for run in 0..10 {
        let out = run_child_within(
            "child_exits_while_threads_log",
            &[("VELO_TEST_FILE", path.to_str().unwrap())],
            CHILD_TIMEOUT,
        );
        assert!(out.status.success(), "run {run}: {out:?}");
        let entries = json_lines(&fs::read(&path).unwrap());
        for t in 0..THREADS {
            let ticks: Vec<u64> = entries
                .iter()
                .filter(|e| e["msg"] == "tick" && e["t"] == t)
                .map(|e| e["i"].as_u64().unwrap())
                .collect();
            let gap = ticks.iter().enumerate().find(|&(n, &i)| n as u64 != i);
            assert!(
                gap.is_none(),
                "run {run}, thread {t}: entry {:?} written where {} was due ({} written; around it: {:?}); the rest: {:?}",
                gap.map(|(_, i)| i),
                gap.map_or(0, |(n, _)| n),
                ticks.len(),
                gap.map(|(n, _)| &ticks[n.saturating_sub(3)..(n + 8).min(ticks.len())]),
                entries.iter().filter(|e| e["msg"] != "tick").collect::<Vec<_>>()
            );
        }
        // Under `Sync` no queue overflowed: entries dropped because the
        // exit left no pass to write them are warned of as such.
        for e in entries.iter().filter(|e| e["msg"] != "tick") {
            assert_eq!(
                e["msg"],
                "velo dropped entries: they were logged as the process exited, after the last write",
                "run {run}: {e:?}"
            );
        }
    }
}
