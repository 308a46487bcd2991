//! Under `Overflow::Drop` a full queue drops entries, but never the last
//! words: a `fatal` entry, or the panic the installed hook logs, is written
//! as under `Sync` when its queue is full, before the process exits.

use std::io::{self, Write};
use std::time::Duration;
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{is_child, json_lines, run_child};

/// Writes to stderr, slowly, so the queue fills.
struct SlowStderr;

impl Write for SlowStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(20));
        io::stderr().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

fn install() {
    Builder::new()
        .format(Format::Json)
        .writer(SlowStderr)
        .overflow(Overflow::Drop)
        .buffer_size(2)
        .install()
        .unwrap();
    for i in 0..100u32 {
        velo!(info, "flood", i);
    }
}

#[test]
fn child_fatal_with_a_full_queue() {
    if !is_child("child_fatal_with_a_full_queue") {
        return;
    }
    install();
    velo!(fatal, "cannot continue", code = 7);
}

#[test]
fn child_panic_with_a_full_queue() {
    if !is_child("child_panic_with_a_full_queue") {
        return;
    }
    install();
    panic!("out of invoices");
}

#[test]
fn fatal_is_written_though_the_queue_is_full() {
    let out = run_child("child_fatal_with_a_full_queue", &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let entries = json_lines(&out.stderr);
    assert!(
        entries
            .iter()
            .any(|e| e["msg"] == "velo dropped entries: the queue was full"),
        "the queue was full and dropped floods: {entries:?}"
    );
    let last = entries.last().expect("entries");
    assert_eq!(last["level"], "fatal", "{entries:?}");
    assert_eq!(last["code"], 7);
}

#[test]
fn a_panic_is_logged_though_the_queue_is_full() {
    let out = run_child("child_panic_with_a_full_queue", &[]);
    assert!(!out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let panic = entries
        .iter()
        .find(|e| e["msg"] == "panic")
        .unwrap_or_else(|| panic!("the panic entry: {entries:?}"));
    assert_eq!(panic["panic"], "out of invoices");
    assert_eq!(panic["level"], "error");
}
