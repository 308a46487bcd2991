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

/// `n` loggers writing to `held`, each with its worker inside the writer.
fn stuck_loggers(n: usize, held: &Held) -> Vec<velo::Logger> {
    let loggers: Vec<_> = (0..n)
        .map(|_| {
            let l = Builder::new()
                .format(Format::Json)
                .writer(held.clone())
                .build()
                .unwrap();
            velo!(logger: &l, info, "stuck");
            l
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    loggers
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
    eprintln!(
        "first close {} ms, the rest {} ms",
        first.as_millis(),
        (start.elapsed() - first).as_millis()
    );
    // Exit closes them all once more.
}

#[test]
fn stuck_loggers_cost_one_bounded_wait_in_all() {
    let start = Instant::now();
    let out =
        velo_tests::run_child_within("child_closes_stuck_loggers", &[], velo_tests::CHILD_TIMEOUT);
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Four stuck loggers, closed twice, synced and closed again, then at
    // exit: one wait of 5 s in all (each one's own, in turn: over a
    // minute).
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
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
    let start = Instant::now();
    let out =
        velo_tests::run_child_within("child_syncs_stuck_loggers", &[], velo_tests::CHILD_TIMEOUT);
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
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
    let start = Instant::now();
    let out =
        velo_tests::run_child_within("child_drops_stuck_loggers", &[], velo_tests::CHILD_TIMEOUT);
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Two rounds of four stuck loggers: one wait of 5 s a round, and a
    // short look at each of the others (each one's own, in turn: 40 s).
    assert!(took < Duration::from_secs(30), "took {took:?}: {stderr}");
}
