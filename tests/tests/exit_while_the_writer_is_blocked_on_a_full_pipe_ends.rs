//! A writer blocked on a full pipe that nobody reads keeps the worker in
//! the output for good. `sync` then gives up with `ErrorKind::Timeout`
//! once the output has made no progress for a while, and so does `close`
//! at exit: the program ends instead of hanging.
#![cfg(unix)]

use std::os::fd::{FromRawFd, OwnedFd};
use velo::{velo, Builder, ErrorKind, Format};
use velo_tests::{is_child, run_child_within, CHILD_TIMEOUT};

#[test]
fn child_fills_a_pipe_nobody_reads() {
    if !is_child("child_fills_a_pipe_nobody_reads") {
        return;
    }
    let mut fds = [0; 2];
    // SAFETY: pipe(2) writes two new descriptors into the array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let logger = Builder::new()
        .format(Format::Json)
        .writer(std::fs::File::from(write_end))
        .install()
        .unwrap();
    // Several times what the pipe holds (64 KiB), well within what the
    // queue takes: the worker blocks in write(2), the caller never waits.
    let pad = "x".repeat(200);
    for seq in 0..2000u32 {
        velo!(info, "fills the pipe", seq, pad = pad.as_str());
    }
    match logger.sync() {
        Ok(()) => println!("sync: ok"),
        Err(e) if e.kind() == ErrorKind::Timeout => println!("sync: timed out"),
        Err(e) => println!("sync: {e}"),
    }
    // The read end stays open (nobody reads it), so writes block rather
    // than fail; `close` runs at exit.
    std::mem::forget(read_end);
    println!("returning from main");
}

#[test]
fn sync_times_out_and_exit_ends_the_program() {
    let out = run_child_within("child_fills_a_pipe_nobody_reads", &[], CHILD_TIMEOUT);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sync: timed out\n"), "{stdout}");
    assert!(stdout.contains("returning from main\n"), "{stdout}");
}
