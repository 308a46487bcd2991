//! Where entries go: every output is an [`Output`], which the worker hands
//! each decoded entry to, in order.
//!
//! An output that writes bytes asks the [`LineFormat`] for the entry's line
//! (a stream of lines, a syslog frame); one that has fields of its own
//! (journald, OTLP) takes the level, message and typed values from the
//! [`Event`]. Either way the worker, not the caller, runs the output, and
//! it runs under the logger's output lock, one entry at a time.

use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::line::LineFormat;
use std::io;

mod custom;
#[cfg(unix)]
mod journald;
#[cfg(feature = "otlp")]
mod otlp;
mod rolling;
mod stream;
#[cfg(unix)]
mod syslog;
mod tee;

#[cfg(unix)]
pub(crate) use journald::{named as journald_named, Journald, SOCKET as JOURNALD_SOCKET};
#[cfg(unix)]
pub use syslog::Syslog;

pub(crate) use custom::Custom;
#[cfg(feature = "otlp")]
pub(crate) use otlp::Otlp;
pub(crate) use rolling::RollingFile;
pub use rolling::{Period, Rolling};
pub(crate) use stream::{File, Stream, TestWriter, BUFFER_SIZE as STREAM_BUFFER};
pub(crate) use tee::{Branch, Tee};

/// Runs a call into the user's writer or appender, turning a panic into an
/// error so the worker survives a writer that panics.
pub(crate) fn guarded<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(io::Error::other("the log writer panicked")))
}

/// `e`, saying which output it came from (`file logs/app.log: No space
/// left on device`), as the network outputs' errors do: a logger's errors
/// are said on one stderr, which several loggers may share.
pub(crate) fn named_error(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Checks that `path` can name a unix socket (it is not empty, not too
/// long for one, and holds no NUL), so that a bad path is an error from
/// `build()` rather than from the first write; `what` names the output.
#[cfg(unix)]
pub(crate) fn check_socket_path(path: &std::path::Path, what: &str) -> Result<(), Error> {
    let checked = if path.as_os_str().is_empty() {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path is empty",
        ))
    } else {
        std::os::unix::net::SocketAddr::from_pathname(path).map(drop)
    };
    // Quoted as `Debug` quotes it: a NUL or a control character is shown
    // escaped.
    checked.map_err(|e| {
        Error::io(
            ErrorKind::Output,
            format!("bad {what} socket path {path:?}"),
            e,
        )
    })
}

/// An output's buffer of lines, from [`Output::line_buffer`].
///
/// A line that does not belong in it goes through [`Output::write`]
/// instead, which decides where it goes (a rolling file rotates first).
/// The lines appended are reported with [`Output::lines_appended`].
pub(crate) struct Lines<'a> {
    /// The buffer: lines are appended to it as they are.
    pub(crate) buf: &'a mut Vec<u8>,
    /// Lines may be appended while `buf` is shorter than this; the next
    /// line goes through [`Output::write`], which writes the buffer out.
    pub(crate) below: usize,
    /// The length `buf` may reach with a line appended; a line that ends
    /// past it is taken back (a rolling file's size limit).
    pub(crate) fit: usize,
    /// The latest time (nanoseconds since the epoch) of an entry that may
    /// be appended (a rolling file's current period), `u64::MAX` for any;
    /// below that, an entry without a time is not appended either.
    pub(crate) last: u64,
}

impl<'a> Lines<'a> {
    /// Lines up to `below` bytes of `buf`, with no other bound.
    #[inline]
    pub(crate) fn new(buf: &'a mut Vec<u8>, below: usize) -> Lines<'a> {
        Lines {
            buf,
            below,
            fit: usize::MAX,
            last: u64::MAX,
        }
    }

    /// Whether another line may be appended.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.buf.len() < self.below
    }

    /// Whether an entry at `time` may be appended, by [`Lines::last`].
    #[inline(always)]
    pub(crate) fn takes_time(&self, time: Option<u64>) -> bool {
        time.unwrap_or(u64::MAX) <= self.last
    }
}

/// The interface the worker drains into.
pub(crate) trait Output: Send {
    /// Writes one entry; returns the bytes it took (for the statistics).
    /// `Ok(0)` from an output that [`writes_bytes`](Output::writes_bytes):
    /// it dropped the entry at once (no room in its backlog), and counts it
    /// in [`Output::take_lost`].
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize>;

    /// Whether [`Output::write`] counts bytes. An output that hands
    /// entries to the user's code (an `Appender`) counts none: its `Ok(0)`
    /// is an entry taken, not one dropped.
    fn writes_bytes(&self) -> bool {
        true
    }

    /// Whether the output marks its own progress (`local::wrote_some`) as
    /// its writer takes bytes (a stream, through `stream::write_from`) or
    /// the user's appender takes an entry. The entries such an output takes
    /// are then no progress of their own: a stream's lines wait in its
    /// buffer for a write-out, which may fail, and a writer that never
    /// takes a byte would seem to progress as long as entries come (see
    /// `Sink::beat`). Other outputs' entries taken count as progress.
    fn reports_progress(&self) -> bool {
        false
    }

    /// The buffer whole lines in the logger's format may be appended to
    /// directly, as [`Output::write`] would append them: `Some` only from
    /// an output that buffers lines as they are (a stream, a file) and
    /// while its buffer has room (see [`Lines`]). The worker's path for
    /// plain JSON lines, which it formats without decoding an `Event` (see
    /// `LineFormat::plain_json`), and for lines its callers formatted.
    fn line_buffer(&mut self) -> Option<Lines<'_>> {
        None
    }

    /// After lines were appended to [`Output::line_buffer`]'s buffer:
    /// `bytes` of them, for an output that counts what it buffers.
    fn lines_appended(&mut self, bytes: usize) {
        let _ = bytes;
    }

    /// Whether the output writes lines as they are, so that a caller may
    /// format an entry's line itself while the worker is behind (see
    /// `caller_format`) and the worker hand it over with
    /// [`Output::write_line`].
    fn takes_lines(&self) -> bool {
        false
    }

    /// Writes one line formatted before in the logger's format (ending in
    /// `\n`), as [`Output::write`] would have written its entry; returns
    /// the bytes it took. Called only on an output that
    /// [`takes_lines`](Output::takes_lines).
    fn write_line(&mut self, line: &[u8]) -> io::Result<usize> {
        let _ = line;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this output takes entries, not lines",
        ))
    }

    /// Writes out anything buffered.
    fn flush(&mut self) -> io::Result<()>;

    /// Writes out anything buffered and waits, bounded, until it has
    /// reached its destination: for `sync` and `close`. Outputs whose
    /// `flush` does that already need nothing more; one that hands its
    /// batches to a thread of its own (OTLP) waits for that thread here,
    /// and only here, never in `flush`, which the worker calls after every
    /// pass.
    fn deliver(&mut self) -> io::Result<()> {
        self.flush()
    }

    /// [`Output::deliver`], waiting no later than `deadline` (which may
    /// have passed: then it only hands over what it has and looks), for a
    /// logger with several outputs, whose waits share one bound: each
    /// network output waiting its own in turn kept the worker in one pass
    /// past the bound after which the worker counts as stuck.
    fn deliver_by(&mut self, deadline: std::time::Instant) -> io::Result<()> {
        let _ = deadline;
        self.deliver()
    }

    /// Whether the output's last failure is over. An output that retries
    /// on its own (syslog over a lost link) says `false` between attempts,
    /// so that a flush with nothing to do does not make the same failure
    /// on the next attempt look new.
    fn healthy(&self) -> bool {
        true
    }

    /// Reopens the output's file (after logrotate moved it); outputs
    /// without a file do nothing.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Discards what is buffered and not yet written: in a child process
    /// after `fork`, where the parent writes it.
    fn forget_buffered(&mut self) {}

    /// How soon the output wants to be flushed again though nothing new is
    /// queued: it holds entries its receiver could not take yet (a syslog
    /// daemon's full queue), and the worker comes back for them after this
    /// long rather than at its next pass (twice a second while idle).
    /// `None`: nothing waits on the receiver.
    fn retry_in(&self) -> Option<std::time::Duration> {
        None
    }

    /// At `close`, after the last delivery: gives up on the entries still
    /// waiting for the receiver, and counts them for
    /// [`Output::take_lost`], so that `stats()` after `close` tells them
    /// dropped rather than written. Outputs with nothing waiting do
    /// nothing.
    fn give_up(&mut self) {}

    /// Names this output in the messages it prints itself on stderr: a
    /// further output of the logger's (`output 2, file app.log`). Outputs
    /// that print none ignore it.
    fn set_label(&mut self, _label: &str) {}

    /// The worker is about to sleep: give back the memory buffers grew to
    /// for a large entry (see `buffer::Shrink::idle`). Never runs the
    /// user's writer.
    fn idle(&mut self) {}

    /// Entries this output accepted but then could not deliver, since the
    /// last call (lines its buffer gave up while the writer kept failing,
    /// a network output whose backlog overflowed while its peer was away);
    /// the logger counts them as dropped instead of written. The worker
    /// calls it after every pass.
    fn take_lost(&mut self) -> Lost {
        Lost::default()
    }
}

/// What an output gave up on (see [`Output::take_lost`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lost {
    /// Entries.
    pub(crate) entries: u64,
    /// The bytes of them that [`Output::write`] had returned, as far as
    /// the output knows them (OTLP's batches count none).
    pub(crate) bytes: u64,
}

impl Lost {
    /// `entries` entries of unknown size.
    #[cfg(feature = "otlp")]
    pub(crate) fn entries(entries: u64) -> Lost {
        Lost { entries, bytes: 0 }
    }
}

// Outputs must never keep the worker waiting for long: a network output
// that cannot deliver keeps a bounded backlog and returns, and retries on
// later calls (the worker passes at least twice a second while idle, see
// `worker.rs`), or hands its batches to a thread of its own. While the
// worker waits, callers fill their queues and then, under
// `Overflow::Sync`, wait for the output lock themselves.
