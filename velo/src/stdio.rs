//! Standard output and standard error, written straight to their file
//! descriptors, and velo's own messages on stderr.

use std::io::{self, Write};

/// Says `what` on stderr, prefixed `velo: `, in one write: straight to the
/// descriptor (see [`Stdio`]), never panicking when stderr is gone, and
/// whole between other threads' writes (a `write!` of the pieces would
/// make several). Text from outside velo in `what` goes through
/// `escape::for_stderr` first.
pub(crate) fn say(what: std::fmt::Arguments<'_>) {
    let line = format!("velo: {what}\n");
    let _ = Stdio::Stderr.write_all(line.as_bytes());
}

/// Standard output or standard error, written with `write(2)` on the file
/// descriptor: never through `std::io::Stdout`'s lock, which a thread that
/// panics inside `println!` holds while the panic hook waits for the worker.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stdio {
    Stdout,
    Stderr,
}

impl Write for Stdio {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(unix)]
        {
            let fd = match self {
                Stdio::Stdout => 1,
                Stdio::Stderr => 2,
            };
            // The buffer holds whole lines. A pipe or socket that others
            // write to as well (`println!`, a second logger, `2>&1`) keeps
            // a write whole only up to PIPE_BUF bytes: there, each write
            // ends at a line's end within that, so lines never tear
            // (unless one is longer than PIPE_BUF by itself).
            let mut len = buf.len().min(isize::MAX as usize);
            if len > PIPE_BUF && is_shared_kind(fd) {
                len = match buf[..PIPE_BUF].iter().rposition(|&b| b == b'\n') {
                    Some(end) => end + 1,
                    // One long line: written whole, as far as it goes.
                    None => buf
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(len, |end| end + 1),
                };
            }
            // SAFETY: `buf` is valid for `len` bytes; write(2) reads no more.
            let n = unsafe { libc::write(fd, buf.as_ptr().cast(), len) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        }
        #[cfg(not(unix))]
        match self {
            Stdio::Stdout => io::stdout().write(buf),
            Stdio::Stderr => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing is buffered on this side of the descriptor.
        Ok(())
    }
}

/// The most bytes POSIX keeps whole in one write to a pipe.
#[cfg(unix)]
const PIPE_BUF: usize = 4096;

/// Whether descriptor `fd` (1 or 2) is a pipe or a socket, where writes
/// of other processes and threads interleave with ours. Looked up once per
/// descriptor.
#[cfg(unix)]
fn is_shared_kind(fd: i32) -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0: not looked up yet; 1: a pipe or socket; 2: anything else.
    static KIND: [AtomicU8; 2] = [AtomicU8::new(0), AtomicU8::new(0)];
    let slot = &KIND[usize::from(fd == 2)];
    match slot.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            // SAFETY: `stat` is plain old data, written by fstat(2) before
            // it is read; a failed call leaves it unread.
            let shared = unsafe {
                let mut st: libc::stat = std::mem::zeroed();
                libc::fstat(fd, &mut st) == 0
                    && matches!(st.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFSOCK)
            };
            slot.store(if shared { 1 } else { 2 }, Ordering::Relaxed);
            shared
        }
    }
}
