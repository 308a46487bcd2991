//! A fork while a logger's writer is blocked (a full pipe, a lock held
//! elsewhere): the fork waits a moment for it, then goes ahead, and in the
//! child that logger's output is lost, since its lock stays held by a thread
//! the child does not have. The child must not wait for it: its entries to
//! that logger are dropped and counted, even past a full queue under
//! `Overflow::Sync`, `sync` says why instead of timing out, and exit is
//! prompt.
#![cfg(unix)]

use std::time::Duration;
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{is_child, run_child_within, Held, CHILD_TIMEOUT};

#[test]
fn child_forks_while_the_writer_blocks() {
    if !is_child("child_forks_while_the_writer_blocks") {
        return;
    }
    let writer = Held::default();
    let logger = Builder::new()
        .format(Format::Json)
        .buffer_size(16)
        .overflow(Overflow::Sync)
        .writer(writer.clone())
        .build()
        .unwrap();
    velo!(logger: &logger, info, "blocks the writer");
    while !writer.entered() {
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: fork(2); the child runs only the code below and ends with
    // `exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let before = logger.stats().dropped;
        // Far more than the queue holds: under `Overflow::Sync` the caller
        // would write them itself, into the lost output.
        for seq in 0..1000u32 {
            velo!(logger: &logger, info, "in child", seq);
        }
        let synced = logger.sync();
        println!("child dropped: {}", logger.stats().dropped - before);
        match synced {
            Ok(()) => println!("child sync: ok"),
            Err(e) => println!("child sync: {:?}: {e}", e.kind()),
        }
        std::process::exit(0);
    }
    writer.open();
    logger.sync().unwrap();
    let mut status = 0;
    // SAFETY: waitpid(2) writes the status into the local it is given.
    let got = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(got, pid);
    println!(
        "forked child exited: {}",
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    );
}

#[test]
fn the_child_drops_and_counts_and_sync_says_why() {
    let out = run_child_within("child_forks_while_the_writer_blocks", &[], CHILD_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("forked child exited: true"), "{stdout}");
    assert!(stdout.contains("child dropped: 1000\n"), "{stdout}");
    assert!(
        stdout.contains("child sync: Write: ") && stdout.contains("lost in fork()"),
        "{stdout}"
    );
}
