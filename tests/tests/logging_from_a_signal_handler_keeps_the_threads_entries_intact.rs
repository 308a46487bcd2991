//! A signal handler that logs can interrupt its thread in the middle of
//! logging, even in the middle of copying an entry into the thread's ring.
//! The nested entry must not corrupt the interrupted one: it goes into the
//! ring when the ring is not being pushed to, and is dropped and counted
//! when it is. Every entry of the interrupted thread arrives, whole and in
//! order, and every entry of the handler is written or counted as dropped.
#![cfg(unix)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use velo::{velo, Builder, Format, Logger};
use velo_tests::{is_child, run_child_within, signals, Capture, CHILD_TIMEOUT};

static LOGGER: OnceLock<Logger> = OnceLock::new();
/// Entries the handler logged.
static FROM_SIGNAL: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    let n = FROM_SIGNAL.fetch_add(1, Ordering::Relaxed);
    if let Some(logger) = LOGGER.get() {
        velo!(logger: logger, info, "from the handler", n);
    }
}

const ENTRIES: u64 = 50_000;

/// Runs `f` on this thread while another sends it `SIGUSR1` every 20 us.
fn while_signalled(f: impl FnOnce()) {
    signals::while_sending(libc::SIGUSR1, Duration::from_micros(20), f);
}

#[test]
fn child_logs_while_a_handler_logs() {
    if !is_child("child_logs_while_a_handler_logs") {
        return;
    }
    // The worker inherits the blocked signal: only this thread takes it
    // (it is sent to this thread alone anyway).
    signals::mask(libc::SIGUSR1, libc::SIG_BLOCK);
    let out = Capture::new();
    let dir = velo_tests::TempDir::new("signal-handler");
    let file = dir.path().join("app.log");
    // A logger without a queue, whose handler entries find its lock held
    // by the code they interrupt; a queue of two entries, which the
    // handler finds full while this thread takes the output's lock. Both
    // write on this thread at times: to a file, as `Capture`'s buffer
    // allocates, and a handler interrupting the allocator deadlocks there
    // whatever it calls (README, "Signal handlers").
    let mode = std::env::var("MODE").unwrap_or_default();
    let builder = Builder::new().format(Format::Json);
    let builder = match mode.as_str() {
        "synchronous" => builder.file(&file).asynchronous(false),
        "small" => builder.file(&file).buffer_size(2),
        _ => builder.writer(out.clone()),
    };
    let logger = builder.build().unwrap();
    LOGGER.set(logger.clone()).unwrap();
    signals::install(libc::SIGUSR1, on_signal);
    velo!(logger: &logger, info, "first");
    while_signalled(|| {
        for seq in 0..ENTRIES {
            velo!(logger: &logger, info, "main", seq, pad = "0123456789abcdef0123456789abcdef");
        }
    });
    logger.sync().unwrap();

    let mut main = Vec::new();
    let mut from_signal = 0u64;
    // Drop warnings: those that name the signal handler, and any other.
    let (mut named, mut other) = (0u64, 0u64);
    let entries = match mode.as_str() {
        "synchronous" | "small" => velo_tests::json_lines(&std::fs::read(&file).unwrap()),
        _ => out.entries(),
    };
    for e in entries {
        match e["msg"].as_str().unwrap() {
            "main" => main.push(e["seq"].as_u64().unwrap()),
            "from the handler" => from_signal += 1,
            m if m.starts_with("velo dropped entries:") => {
                let n = e["dropped"].as_u64().unwrap();
                if m.contains("signal handler") {
                    named += n;
                } else {
                    other += n;
                }
            }
            _ => {}
        }
    }
    let stats = logger.stats();
    println!("main in order: {}", main.iter().copied().eq(0..ENTRIES));
    println!(
        "handler: logged {}, written {}, dropped {}",
        FROM_SIGNAL.load(Ordering::Relaxed),
        from_signal,
        stats.dropped
    );
    println!("warnings: named {named}, other {other}");
}

#[test]
fn every_entry_is_written_whole_or_counted_as_dropped() {
    // A few runs: where the handler lands is up to the scheduler.
    for mode in ["queue", "queue", "queue", "synchronous", "small"] {
        let out = run_child_within(
            "child_logs_while_a_handler_logs",
            &[("MODE", mode)],
            CHILD_TIMEOUT,
        );
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("main in order: true\n"), "{stdout}");
        let handler = stdout
            .lines()
            .find_map(|l| l.strip_prefix("handler: "))
            .expect("the child's counts");
        let [logged, written, dropped]: [u64; 3] = handler
            .split(", ")
            .map(|part| part.rsplit(' ').next().unwrap().parse().unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        assert!(logged > 0, "the handler ran: {handler}");
        assert_eq!(written + dropped, logged, "{handler}");
        // Announced as what they were: logged from a handler that
        // interrupted velo; with a writer of the user's, a handler that
        // interrupted that writer is taken for the writer logging (velo
        // cannot tell them apart), so announced as the writer's or as a
        // full queue; no other way.
        let [named, other]: [u64; 2] = stdout
            .lines()
            .find_map(|l| l.strip_prefix("warnings: "))
            .expect("the child's warnings")
            .split(", ")
            .map(|part| part.rsplit(' ').next().unwrap().parse().unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        assert_eq!(named + other, dropped, "{stdout}");
        // To a file, with no code of the user's inside the output: every
        // drop is the handler's (without a queue they were announced as a
        // stuck output, or as the writer logging; with a queue of two, as
        // a full queue).
        if mode != "queue" {
            assert_eq!(other, 0, "{stdout}");
        }
    }
}

#[test]
fn child_changes_filters_while_a_handler_logs() {
    if !is_child("child_changes_filters_while_a_handler_logs") {
        return;
    }
    signals::mask(libc::SIGUSR1, libc::SIG_BLOCK);
    let logger = Builder::new().writer(std::io::sink()).build().unwrap();
    LOGGER.set(logger.clone()).unwrap();
    signals::install(libc::SIGUSR1, on_signal);
    // The handler's call site is registered before any signal.
    on_signal(0);
    // Each change takes the call sites' registry: a handler that
    // interrupts it must not wait for that lock.
    while_signalled(|| {
        for i in 0..100_000u32 {
            if i % 2 == 0 {
                logger.set_level(velo::Level::Debug);
            } else {
                logger.set_filter("info").unwrap();
            }
        }
    });
    logger.sync().unwrap();
    println!("handler ran {}", FROM_SIGNAL.load(Ordering::Relaxed));
}

/// A handler that logs while its thread changes the logger's filter (which
/// locks the call sites' registry) drops its entry rather than wait for
/// that lock: the program ends (it hung every run).
#[test]
fn changing_filters_while_a_handler_logs_does_not_hang() {
    let out = run_child_within(
        "child_changes_filters_while_a_handler_logs",
        &[],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("handler ran"), "{stdout}");
}
