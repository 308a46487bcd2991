//! Where the compared loggers write: a discarding writer that counts lines,
//! so the comparison can check that every entry arrived.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A discarding writer that counts the `\n` bytes written through any of
/// its clones, and keeps the first line for display.
///
/// Counting costs a scan of the bytes (memchr's vectorised search, a few
/// instructions per line) and, for a write that holds at least one
/// newline, one relaxed atomic add: the same for every logger, and small
/// next to any of them.
#[derive(Clone, Debug, Default)]
pub struct CountingSink {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    lines: AtomicU64,
    first_done: AtomicBool,
    first: Mutex<Vec<u8>>,
}

impl CountingSink {
    /// A new sink with no line counted.
    pub fn new() -> CountingSink {
        CountingSink::default()
    }

    /// Counts the lines in `bytes` and discards them.
    #[inline]
    pub fn record(&self, bytes: &[u8]) {
        let lines = memchr::memchr_iter(b'\n', bytes).count() as u64;
        if !self.shared.first_done.load(Ordering::Relaxed) {
            self.capture(bytes);
        }
        if lines > 0 {
            self.shared.lines.fetch_add(lines, Ordering::Relaxed);
        }
    }

    #[cold]
    fn capture(&self, bytes: &[u8]) {
        let mut first = self.shared.first.lock().unwrap_or_else(|e| e.into_inner());
        if self.shared.first_done.load(Ordering::Relaxed) {
            return;
        }
        match bytes.iter().position(|&b| b == b'\n') {
            Some(end) => {
                first.extend_from_slice(&bytes[..end]);
                self.shared.first_done.store(true, Ordering::Release);
            }
            None => first.extend_from_slice(bytes),
        }
    }

    /// Lines counted so far.
    pub fn lines(&self) -> u64 {
        self.shared.lines.load(Ordering::Relaxed)
    }

    /// The first complete line written, without its `\n`.
    pub fn first_line(&self) -> Option<String> {
        if !self.shared.first_done.load(Ordering::Acquire) {
            return None;
        }
        let first = self.shared.first.lock().unwrap_or_else(|e| e.into_inner());
        Some(String::from_utf8_lossy(&first).into_owned())
    }
}

impl Write for CountingSink {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.record(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.record(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a logger under comparison writes.
#[derive(Debug)]
pub enum Target {
    /// The discarding, line-counting writer (through the logger's API for
    /// an arbitrary `Write`, or its closest equivalent).
    Count(CountingSink),
    /// A real file, written the way the library recommends for files.
    File(PathBuf),
}
