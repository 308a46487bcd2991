//! A writer that never returns (stdout is a pipe nobody reads, a network
//! filesystem that hung) holds the worker inside the output for good. Under
//! the default `Overflow::Sync`, a caller whose queue fills then writes
//! itself, which needs the output: it waits while the output makes
//! progress, and gives up after a bounded wait without any, counting what
//! it could not write; later callers give up at once until the output
//! moves again. The program never hangs.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format};
use velo_tests::{is_child, Held};

#[test]
fn child_logs_into_a_stuck_writer() {
    if !is_child("child_logs_into_a_stuck_writer") {
        return;
    }
    let held = Held::default();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(held.clone())
        .buffer_size(8)
        .build()
        .unwrap();
    // The worker is the one stuck in the writer. (Were the queue to fill
    // before the worker first ran, as on a loaded machine, this thread
    // would write itself, into a writer that never returns: no bound can
    // help a caller inside the user's own writer.)
    velo!(logger: &logger, info, "first");
    held.wait_entered();
    let start = Instant::now();
    for i in 0..2_000u32 {
        velo!(logger: &logger, info, "entry", i);
    }
    let took = start.elapsed();
    let stats = logger.stats();
    // One wait of the bound (5 s) at most, not one per entry.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(stats.dropped > 0, "{stats:?}");
    // Each entry counts once: none was written by a caller, so none is a
    // fallback (a dropped entry is not one too).
    assert_eq!(stats.sync_fallbacks, 0, "{stats:?}");
    assert!(logger.sync().is_err(), "the stuck output is reported");
    held.open();
    // The worker finishes its pass now: a sync right after waits for it,
    // though the last one gave up on it.
    logger.sync().expect("the writer returned");
    let stats = logger.stats();
    // Every entry is either queued (and then written) or counted dropped;
    // `written` also has the warning about the drops.
    assert_eq!(stats.enqueued + stats.dropped, 2_001, "{stats:?}");
    assert!(stats.written > stats.enqueued, "{stats:?}");
}

#[test]
fn sync_callers_give_up_on_a_stuck_writer_once_and_count_the_loss() {
    // In a child: a caller that waited for good would hang the test.
    let out = velo_tests::run_child_within(
        "child_logs_into_a_stuck_writer",
        &[],
        velo_tests::CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn child_syncs_a_synchronous_logger_whose_writer_is_stuck() {
    if !is_child("child_syncs_a_synchronous_logger_whose_writer_is_stuck") {
        return;
    }
    let held = Held::default();
    let logger = Builder::new()
        .format(Format::Json)
        .writer(held.clone())
        .asynchronous(false)
        .build()
        .unwrap();
    let stuck = {
        let logger = logger.clone();
        std::thread::spawn(move || velo!(logger: &logger, info, "stuck in the writer"))
    };
    held.wait_entered();
    // The output is held by a write that never returns: sync cannot write
    // anything, and must say so rather than report success.
    let synced = logger.sync();
    assert!(synced.is_err(), "{synced:?}");
    held.open();
    stuck.join().unwrap();
    logger.sync().expect("the writer returned");
}

#[test]
fn sync_of_a_logger_whose_writer_is_stuck_is_an_error() {
    let out = velo_tests::run_child_within(
        "child_syncs_a_synchronous_logger_whose_writer_is_stuck",
        &[],
        velo_tests::CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn child_floods_stdout() {
    if !is_child("child_floods_stdout") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stdout()
        .install()
        .unwrap();
    for i in 0..100_000u32 {
        velo!(info, "flood", i);
    }
    eprintln!("logged everything");
    // The test harness would print its result to the full pipe: exit here,
    // through velo's close at exit.
    std::process::exit(0);
}

#[test]
fn a_full_pipe_on_stdout_does_not_hang_the_program() {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "child_floods_stdout",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VELO_TEST_CHILD", "child_floods_stdout")
        .env_remove("VELO_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads stdout until the child is done.
    let deadline = Instant::now() + velo_tests::CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if status.is_none() {
        let _ = child.kill();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = status.unwrap_or_else(|| panic!("hung with stdout full; stderr: {stderr}"));
    assert!(status.success(), "{status:?} {stderr}");
    assert!(stderr.contains("logged everything"), "{stderr}");
}

/// `n` loggers writing to `held`, each with one entry logged: their
/// workers are about to get stuck in the writer.
fn loggers_into(n: usize, held: &Held) -> Vec<velo::Logger> {
    (0..n)
        .map(|_| {
            let l = Builder::new()
                .format(Format::Json)
                .writer(held.clone())
                .build()
                .unwrap();
            velo!(logger: &l, info, "stuck");
            l
        })
        .collect()
}

/// `n` loggers writing to `held`, each with its worker inside the writer.
fn stuck_loggers(n: usize, held: &Held) -> Vec<velo::Logger> {
    let loggers = loggers_into(n, held);
    std::thread::sleep(Duration::from_millis(100));
    loggers
}

/// Runs the child scenario `name`, which must pass; returns how long it
/// took and what it wrote on stderr.
fn timed_child(name: &str) -> (Duration, String) {
    let start = Instant::now();
    let out = velo_tests::run_child_within(name, &[], velo_tests::CHILD_TIMEOUT);
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (took, stderr)
}

#[test]
fn child_closes_stuck_loggers() {
    if !is_child("child_closes_stuck_loggers") {
        return;
    }
    let held = Held::default();
    let loggers = stuck_loggers(4, &held);
    let start = Instant::now();
    velo::close();
    let first = start.elapsed();
    velo::close();
    for l in &loggers {
        assert!(l.sync().is_err(), "the stuck output is reported");
        l.close();
    }
    let rest = start.elapsed() - first;
    eprintln!(
        "first close {} ms, the rest {} ms",
        first.as_millis(),
        rest.as_millis()
    );
    // The workers are still in the pass the first close gave up on: the
    // waits after it know they are stuck and cost nothing more (a quarter
    // of a second each, ten of them, before).
    assert!(rest < Duration::from_millis(1500), "{rest:?}");
    // Exit closes them all once more.
}

#[test]
fn stuck_loggers_cost_one_bounded_wait_in_all() {
    let (took, stderr) = timed_child("child_closes_stuck_loggers");
    // Four stuck loggers, closed twice, synced and closed again, then at
    // exit: one wait of 5 s in all (each one's own, in turn: over a
    // minute).
    assert!(took < Duration::from_secs(12), "took {took:?}: {stderr}");
}

#[test]
fn child_syncs_stuck_loggers() {
    if !is_child("child_syncs_stuck_loggers") {
        return;
    }
    let held = Held::default();
    let loggers = stuck_loggers(6, &held);
    assert!(velo::sync().is_err(), "the stuck outputs are reported");
    // Free the writer: the exit is quick.
    held.open();
    drop(loggers);
}

#[test]
fn a_global_sync_of_stuck_loggers_costs_one_bounded_wait_in_all() {
    let (took, stderr) = timed_child("child_syncs_stuck_loggers");
    // Six stuck loggers: one wait of 5 s in all (each one's own, in turn:
    // 30 s).
    assert!(took < Duration::from_secs(15), "took {took:?}: {stderr}");
}

#[test]
fn child_drops_stuck_loggers() {
    if !is_child("child_drops_stuck_loggers") {
        return;
    }
    let held = Held::default();
    // Each logger's last handle, dropped in turn (as a program's locals at
    // the end of `main`), closing its logger each: the first waits for its
    // stuck worker, the others find theirs stuck as long already.
    let loggers = stuck_loggers(4, &held);
    let start = Instant::now();
    for l in loggers {
        drop(l);
        eprintln!("dropped one after {} ms", start.elapsed().as_millis());
    }
    // Then, one by one: `close` and `sync` of each in turn.
    let loggers = stuck_loggers(4, &held);
    let start = Instant::now();
    for l in &loggers {
        l.close();
        assert!(l.sync().is_err(), "the stuck output is reported");
        eprintln!("closed one after {} ms", start.elapsed().as_millis());
    }
}

#[test]
fn stuck_loggers_closed_in_turn_cost_one_bounded_wait_each_round() {
    let (took, stderr) = timed_child("child_drops_stuck_loggers");
    // Two rounds of four stuck loggers: one wait of 5 s a round, and a
    // short look at each of the others (each one's own, in turn: 40 s).
    assert!(took < Duration::from_secs(30), "took {took:?}: {stderr}");
}

#[test]
fn child_blocks_on_a_stuck_writer_then_exits() {
    if !is_child("child_blocks_on_a_stuck_writer_then_exits") {
        return;
    }
    let held = Held::default();
    let logger = Builder::new()
        .format(Format::Json)
        .overflow(velo::Overflow::Block)
        .buffer_size(16)
        .writer(held.clone())
        .build()
        .unwrap();
    // The first write holds the worker; the queue fills behind it, and a
    // caller waits 5 s for room before it drops, counted.
    for seq in 0..1_000u32 {
        velo!(logger: &logger, info, "blocked", seq);
    }
    assert!(logger.stats().dropped > 0, "{:?}", logger.stats());
    // Then exit: it finds the worker stuck as long already.
}

#[test]
fn exit_after_block_gave_up_on_a_stuck_writer_does_not_wait_again() {
    let (took, stderr) = timed_child("child_blocks_on_a_stuck_writer_then_exits");
    // One wait of 5 s, by the caller that found the queue full; the exit
    // does not wait 5 s more for the same stuck worker.
    assert!(
        took < Duration::from_millis(8500),
        "took {took:?}: {stderr}"
    );
    // What it leaves queued for the stuck output is said lost, with a
    // count (the queue of 16 and the entry inside the stuck write at most).
    let lost: u64 = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("velo: the log output made no progress for 5 s as the process exited: ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no word of the entries lost: {stderr}"));
    assert!((1..=17).contains(&lost), "{lost}: {stderr}");
}

#[test]
fn child_logs_after_a_close_that_gave_up() {
    if !is_child("child_logs_after_a_close_that_gave_up") {
        return;
    }
    /// Writes its first write at once, and the others through `held`.
    struct AfterFirst {
        first: bool,
        held: Held,
        out: velo_tests::Capture,
    }
    impl std::io::Write for AfterFirst {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if std::mem::take(&mut self.first) {
                return self.out.write(buf);
            }
            self.held.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = velo_tests::Capture::new();
    let held = Held::new(out.clone());
    let logger = Builder::new()
        .format(Format::Json)
        .writer(AfterFirst {
            first: true,
            held: held.clone(),
            out: out.clone(),
        })
        .build()
        .unwrap();
    velo!(logger: &logger, info, "before");
    logger.sync().unwrap();
    // The close's last pass is the one that gets stuck.
    velo!(logger: &logger, info, "in the last pass");
    logger.close();
    assert!(held.entered(), "the last pass is stuck in the writer");
    // After `close`, with the output still held: queued, not waited for.
    for seq in 0..10u32 {
        velo!(logger: &logger, info, "after close", seq);
    }
    held.open();
    // Written once the writer returns, without another call on the logger.
    let start = Instant::now();
    while out.text().matches("after close").count() < 10 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still unwritten: {:?}",
            out.text()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let msgs = out.msgs();
    assert_eq!(msgs.iter().filter(|m| *m == "after close").count(), 10);
    std::process::exit(0);
}

#[test]
fn entries_logged_after_a_close_that_gave_up_are_written_when_the_writer_returns() {
    timed_child("child_logs_after_a_close_that_gave_up");
}

#[test]
fn child_closes_loggers_stuck_in_their_last_pass() {
    if !is_child("child_closes_loggers_stuck_in_their_last_pass") {
        return;
    }
    let held = Held::default();
    // Logged right before the close: each worker gets stuck in the close's
    // last pass, after the close began waiting.
    let loggers = loggers_into(3, &held);
    let start = Instant::now();
    velo::close();
    let global = start.elapsed();
    // Then each dropped in turn, as at the end of `main`.
    let start = Instant::now();
    drop(loggers);
    eprintln!("close {global:?}, drops {:?}", start.elapsed());
    // One wait of 5 s for the three (each one's own, in turn: 15 s).
    assert!(global < Duration::from_secs(8), "{global:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn loggers_stuck_in_their_last_pass_cost_one_bounded_wait_in_all() {
    timed_child("child_closes_loggers_stuck_in_their_last_pass");
}

#[test]
fn child_overfills_a_queue_after_a_close_that_gave_up() {
    if !is_child("child_overfills_a_queue_after_a_close_that_gave_up") {
        return;
    }
    let out = velo_tests::Capture::new();
    let held = Held::new(out.clone());
    let logger = Builder::new()
        .format(Format::Json)
        .buffer_size(16)
        .writer(held.clone())
        .build()
        .unwrap();
    velo!(logger: &logger, info, "stuck in the writer");
    held.wait_entered();
    // Gives up on the stuck worker after 5 s.
    logger.close();
    // Queued while the queue has room; the rest cannot wait anywhere.
    for seq in 0..100u32 {
        velo!(logger: &logger, info, "after close", seq);
    }
    let dropped = logger.stats().dropped;
    assert!(dropped > 0, "{:?}", logger.stats());
    held.open();
    let start = Instant::now();
    loop {
        let warned: u64 = out
            .entries()
            .iter()
            .filter(|e| {
                e["msg"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("velo dropped"))
            })
            .map(|e| {
                let msg = e["msg"].as_str().unwrap();
                assert!(msg.contains("the log output was stuck"), "{msg}");
                e["dropped"].as_u64().unwrap()
            })
            .sum();
        if warned == dropped {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "warned of {warned} of {dropped}: {:?}",
            out.text()
        );
        std::thread::sleep(Duration::from_millis(10));
        // What arrives later is written synchronously: the warning with it.
        velo!(logger: &logger, info, "later");
    }
    std::process::exit(0);
}

#[test]
fn entries_dropped_for_a_stuck_output_are_warned_of_as_such() {
    timed_child("child_overfills_a_queue_after_a_close_that_gave_up");
}

/// The logger of `child_logs_after_close_to_a_stuck_writer_then_exits`, for
/// the handler that reads its statistics after velo's exit.
static STUCK_AT_EXIT: std::sync::OnceLock<velo::Logger> = std::sync::OnceLock::new();

extern "C" fn print_stats_at_exit() {
    if let Some(l) = STUCK_AT_EXIT.get() {
        let s = l.stats();
        eprintln!(
            "at exit: enqueued {} written {} dropped {}",
            s.enqueued, s.written, s.dropped
        );
    }
}

#[test]
fn child_logs_after_close_to_a_stuck_writer_then_exits() {
    if !is_child("child_logs_after_close_to_a_stuck_writer_then_exits") {
        return;
    }
    // Registered before velo's own handler, so it runs after it.
    // SAFETY: `atexit` takes a function without arguments that does not
    // unwind; this one only reads counters and prints.
    assert_eq!(unsafe { libc::atexit(print_stats_at_exit) }, 0);
    let held = Held::default();
    let logger = STUCK_AT_EXIT.get_or_init(|| {
        Builder::new()
            .format(Format::Json)
            .writer(held.clone())
            .build()
            .unwrap()
    });
    for seq in 0..10u32 {
        velo!(logger: logger, info, "before close", seq);
    }
    assert!(logger.sync().is_err(), "the writer is stuck");
    logger.close();
    // Queued for the stuck output, which may yet return.
    for seq in 0..3u32 {
        velo!(logger: logger, info, "after close", seq);
    }
    // The exit gives up on them.
}

#[test]
fn entries_queued_for_a_stuck_writer_at_exit_are_counted_dropped() {
    let (_, stderr) = timed_child("child_logs_after_close_to_a_stuck_writer_then_exits");
    let counts: Vec<u64> = stderr
        .lines()
        .find_map(|l| l.strip_prefix("at exit: "))
        .unwrap_or_else(|| panic!("no statistics at exit: {stderr}"))
        .split(' ')
        .filter_map(|w| w.parse().ok())
        .collect();
    let [enqueued, written, dropped] = counts[..] else {
        panic!("{stderr}")
    };
    // The three logged after `close` never reach the writer: dropped, as
    // stderr says. (The ten before it are in the buffer the stuck write
    // holds: counted written, as velo cannot take them out of that write.)
    assert_eq!((enqueued, written, dropped), (13, 10, 3), "{stderr}");
    assert!(
        stderr.contains("3 entries queued for it are lost"),
        "{stderr}"
    );
}

#[test]
fn child_fills_the_queue_under_sync_then_closes() {
    if !is_child("child_fills_the_queue_under_sync_then_closes") {
        return;
    }
    let held = Held::default();
    let logger = Builder::new()
        .format(Format::Json)
        .buffer_size(64)
        .writer(held.clone())
        .build()
        .unwrap();
    // The first write holds the worker (it must be the worker's: a
    // caller that writes itself into a writer that never returns never
    // returns either). Then the queue fills, and a caller writing itself
    // (`Overflow::Sync`) waits 5 s for the output, then gives up on it.
    velo!(logger: &logger, info, "first");
    held.wait_entered();
    let start = Instant::now();
    for seq in 0..200u32 {
        velo!(logger: &logger, info, "blocked", seq);
    }
    eprintln!("filled after {} ms", start.elapsed().as_millis());
    let start = Instant::now();
    logger.close();
    eprintln!("closed after {} ms", start.elapsed().as_millis());
    std::process::exit(0);
}

/// A caller's wait that gave up on the stuck output counts as the first
/// wait: `close` after it gives the worker a tenth of a second, as after
/// a `sync` that gave up (before, a second 5 s under `Overflow::Sync`;
/// `Overflow::Block`'s callers already counted).
#[test]
fn close_after_a_caller_gave_up_under_sync_does_not_wait_again() {
    let (_, stderr) = timed_child("child_fills_the_queue_under_sync_then_closes");
    let ms = |what: &str| -> u128 {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(what)?.strip_suffix(" ms")?.parse().ok())
            .unwrap_or_else(|| panic!("no `{what}`: {stderr}"))
    };
    assert!(ms("filled after ") >= 4_900, "{stderr}");
    // A tenth of a second, with a busy machine's margin; 5,000 before.
    assert!(ms("closed after ") < 2_000, "{stderr}");
}
