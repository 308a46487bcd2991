//! `.file(path)` on a FIFO: with nobody reading it, `build()` returns an
//! error at once instead of waiting for a reader forever; with a reader,
//! entries reach it as lines.
#![cfg(unix)]

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use velo::{velo, Builder, ErrorKind, Format};
use velo_tests::{
    assert_child_passed, is_child, parse_line, run_child_within, TempDir, CHILD_TIMEOUT,
};

#[test]
fn fifo_child() {
    if !is_child("fifo_child") {
        return;
    }
    let dir = TempDir::new("fifo");
    let path = dir.path().join("log.fifo");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid C string and a mode.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);

    let err = Builder::new().file(&path).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::File);
    assert!(err.to_string().contains("cannot open log file"), "{err}");
    let source = err.io_error().unwrap().to_string();
    assert!(source.contains("a FIFO with no reader"), "{source}");

    // A reader first (without blocking: no writer yet), then the logger.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .unwrap();
    let logger = Builder::new()
        .format(Format::Json)
        .file(&path)
        .build()
        .unwrap();
    velo!(logger: &logger, info, "through the fifo", n = 7);
    logger.sync().unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.ends_with('\n') {
        match reader.read(&mut buf) {
            Ok(n) => text.push_str(std::str::from_utf8(&buf[..n]).unwrap()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    }
    let entry = parse_line(text.trim_end());
    assert_eq!(entry["msg"], "through the fifo");
    assert_eq!(entry["n"], 7);
}

#[test]
fn a_fifo_without_a_reader_is_an_error_not_a_hang() {
    assert_child_passed(&run_child_within("fifo_child", &[], CHILD_TIMEOUT));
}
