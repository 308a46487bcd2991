//! A stream of lines: any `io::Write`, a file, stdout or stderr, behind a
//! 64 KiB buffer the worker formats lines straight into.

use super::{Lines, Lost, Output};
use crate::buffer::Shrink;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::line::LineFormat;
use crate::pause::pause;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Size of the buffer between the worker and the writer.
pub(crate) const BUFFER_SIZE: usize = 64 * 1024;

/// Most bytes kept while the writer fails, before the oldest are dropped.
pub(crate) const MAX_KEPT: usize = 4 * BUFFER_SIZE;

/// How long a writer that would block (a non-blocking pipe or socket that
/// is full) is waited for without taking any byte, in one write-out,
/// before that counts as its error.
const WOULD_BLOCK_PATIENCE: Duration = Duration::from_secs(5);

/// The same, for a writer that took nothing in the whole of the last
/// write-out's patience: it is given this long, not the 5 s again, until
/// it takes a byte (as a wait after the first one gives a stuck worker a
/// tenth of a second, see `worker::STALL_AGAIN`). A writer blocked for good
/// would otherwise cost every later write-out, every flush, 5 s.
const BLOCKED_AGAIN_PATIENCE: Duration = Duration::from_millis(100);

/// Interrupted writes retried at once in a row; past them, a writer that
/// keeps answering `Interrupted` is waited for as one that would block, so
/// that it can neither spin the worker's CPU nor keep it for good.
const INTERRUPTED_RETRIES: u32 = 16;

/// Writes `buf[*written..]` to `w`, advancing `written` past what it
/// took, each piece taken counting as the output's progress. Retries a
/// write that was interrupted, and waits (polling each millisecond) on a
/// writer that would block (or keeps being interrupted), while it takes
/// something at least every [`WOULD_BLOCK_PATIENCE`].
pub(crate) fn write_from(w: &mut dyn Write, buf: &[u8], written: &mut usize) -> io::Result<()> {
    write_within(w, buf, written, WOULD_BLOCK_PATIENCE)
}

/// Writes a newline and as much of `buf[*written..]` as `w` takes with it
/// in one vectored write (a file: one `writev`), retried if interrupted
/// before it took anything; advances `written` past the bytes of `buf`
/// written. The caller writes the rest.
fn write_newline_and(w: &mut dyn Write, buf: &[u8], written: &mut usize) -> io::Result<()> {
    let mut interrupted = 0;
    loop {
        let slices = [io::IoSlice::new(b"\n"), io::IoSlice::new(&buf[*written..])];
        match w.write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) if n > 1 + buf.len() - *written => return Err(overcounted()),
            Ok(n) => {
                *written += n - 1;
                crate::local::wrote_some();
                return Ok(());
            }
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted && interrupted < INTERRUPTED_RETRIES =>
            {
                interrupted += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The error for a writer that said it wrote more bytes than it was given
/// (without the count, which changes from write to write: the same error
/// is said once).
#[cold]
fn overcounted() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the log writer said it wrote more bytes than it was given",
    )
}

/// [`write_from`], waiting at most `patience` without a byte taken.
fn write_within(
    w: &mut dyn Write,
    buf: &[u8],
    written: &mut usize,
    patience: Duration,
) -> io::Result<()> {
    let mut blocked_since: Option<Instant> = None;
    let mut interrupted = 0;
    while *written < buf.len() {
        match w.write(&buf[*written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            // A writer that breaks `Write`'s contract: what it took is
            // unknown, and counting more than was given would go past the
            // buffer's end.
            Ok(n) if n > buf.len() - *written => return Err(overcounted()),
            Ok(n) => {
                *written += n;
                blocked_since = None;
                interrupted = 0;
                crate::local::wrote_some();
            }
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted && interrupted < INTERRUPTED_RETRIES =>
            {
                interrupted += 1;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                let since = *blocked_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= patience {
                    return Err(e);
                }
                pause(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Drops the oldest whole lines of `buf` past [`MAX_KEPT`] bytes, when the
/// writer keeps failing; returns the bytes and the lines dropped.
fn keep_newest(buf: &mut Vec<u8>) -> (usize, u64) {
    if buf.len() <= MAX_KEPT {
        return (0, 0);
    }
    let from = buf.len() - MAX_KEPT;
    let cut = buf[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(buf.len(), |i| from + i + 1);
    let lines = buf[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
    buf.drain(..cut);
    (cut, lines)
}

/// Where the bytes a buffer gave its writer end: between lines, or inside
/// one.
///
/// A write that fails after a short one (a full disk) leaves a line begun
/// in the output, its rest at the front of the buffer. When the writer
/// works again the rest follows and the line is whole. When the rest is
/// dropped instead (the writer failed for long; the output is replaced),
/// the line is torn: a file velo writes alone is cut back to its last
/// whole line; any other output gets a newline ending the torn line before
/// anything else, so no later entry is ever glued to it.
#[derive(Debug, Default)]
pub(crate) struct LineEnd {
    /// The line begun in the output, whose rest starts the buffer.
    open: Option<Open>,
    /// The output ends inside a line whose rest was dropped.
    torn: bool,
    /// The file ended inside a line of someone else's when it was opened
    /// (a crash, another program): a newline goes before the first bytes
    /// written, so that they start a line of their own.
    owed: bool,
    /// The last write-out waited out its patience without a byte taken
    /// (see [`BLOCKED_AGAIN_PATIENCE`]).
    blocked: bool,
}

/// A line written in part.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Its bytes in the output.
    head: usize,
    /// The length of the file written, after them; none for an output
    /// that is not a file, or a file that could not say.
    file_len: Option<u64>,
}

impl LineEnd {
    /// Whether the last write-out waited out a writer that would block
    /// without a byte taken.
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Writes `buf[*written..]` to `w` as [`write_from`] does, after the
    /// newline a torn line is owed. `file` is `w`'s file, if it is one.
    pub(crate) fn write(
        &mut self,
        w: &mut dyn Write,
        file: Option<&std::fs::File>,
        buf: &[u8],
        written: &mut usize,
    ) -> io::Result<()> {
        let start = *written;
        if (self.torn || self.owed) && *written < buf.len() {
            if file.is_some() {
                // A file takes the newline and the first bytes in one
                // `writev`, so another appender's bytes cannot land between
                // them.
                write_newline_and(w, buf, written)?;
            } else {
                write_from(w, b"\n", &mut 0)?;
            }
            self.torn = false;
            self.owed = false;
        }
        let patience = if self.blocked {
            BLOCKED_AGAIN_PATIENCE
        } else {
            WOULD_BLOCK_PATIENCE
        };
        let result = write_within(w, buf, written, patience);
        self.blocked = *written == start
            && result.as_ref().is_err_and(|e| {
                matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                )
            });
        if *written > start {
            let took = &buf[start..*written];
            // The line left open, and the part of it an earlier write took
            // (for a line this write continues).
            let (open, earlier) = match took.iter().rposition(|&b| b == b'\n') {
                Some(i) if i + 1 == took.len() => (None, None),
                Some(i) => (Some(took.len() - i - 1), None),
                None => (
                    Some(self.open.map_or(0, |o| o.head) + took.len()),
                    self.open,
                ),
            };
            self.open = open.map(|head| Open {
                head,
                file_len: None,
            });
            // The file's length right after this write's bytes, when it
            // failed with the line open: what `cut_back` compares with to
            // see that no one wrote after them (not after a write that took
            // nothing: the length then also counts what others appended
            // since). A line continued must also lie in one piece: another
            // program's append between its parts grew the file by more
            // than this write took, and cutting the line's length back
            // would take that append and leave the first part.
            if let (Some(open), Some(file), Err(_)) = (&mut self.open, file, &result) {
                let now = file.metadata().ok().map(|m| m.len());
                open.file_len = match earlier {
                    None => now,
                    Some(earlier) => now.filter(|&now| {
                        earlier
                            .file_len
                            .is_some_and(|then| now == then + took.len() as u64)
                    }),
                };
            }
        }
        result
    }

    /// When the writer keeps failing: drops the oldest whole lines of
    /// `buf` past [`MAX_KEPT`] bytes, counting them in `lost`; returns the
    /// bytes dropped.
    pub(crate) fn keep_newest(
        &mut self,
        file: Option<&std::fs::File>,
        buf: &mut Vec<u8>,
        lost: &mut Lost,
    ) -> usize {
        let (cut, lines) = keep_newest(buf);
        if cut > 0 {
            self.count_dropped(file, cut, lines, lost);
        }
        cut
    }

    /// When the output is about to be replaced (reopened after logrotate
    /// moved it) while a line begun in it waits for its rest: drops that
    /// rest, which must not start the next output, counting the entry in
    /// `lost`. Returns the bytes dropped from the front of `buf`.
    pub(crate) fn drop_rest(
        &mut self,
        file: Option<&std::fs::File>,
        buf: &mut Vec<u8>,
        lost: &mut Lost,
    ) -> usize {
        if self.open.is_none() {
            return 0;
        }
        let cut = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        buf.drain(..cut);
        self.count_dropped(file, cut, 1, lost);
        cut
    }

    /// Before the output `w` is closed or replaced: ends a torn line in
    /// it, if it can. (A newline owed to a line of someone else's is left:
    /// the next open of the file finds that line again.)
    pub(crate) fn end_torn(&mut self, w: &mut dyn Write, lost: &mut Lost) {
        if self.torn && write_from(w, b"\n", &mut 0).is_err() {
            // The newline owed was counted as written: it never was.
            lost.bytes += 1;
        }
        self.torn = false;
        self.owed = false;
    }

    /// For a file just opened: whether it ends inside a line (see
    /// [`open_append`]).
    pub(crate) fn opened(&mut self, owed: bool) {
        self.owed = owed;
    }

    /// Forgets what was begun in the output, but not a newline owed to
    /// someone else's line (the output's buffer is forgotten, the file is
    /// as it was), nor that the writer took nothing the last time: it is
    /// the same writer (a `close` that gave up on it, then an entry
    /// written after it, would wait the whole patience again).
    pub(crate) fn forget(&mut self) {
        *self = LineEnd {
            owed: self.owed,
            blocked: self.blocked,
            ..LineEnd::default()
        };
    }

    /// At `close`, once the rest of the buffer is given up (counted by
    /// [`give_up_lines`]): cuts a line begun in `file` back off it, and
    /// counts the newline a torn line is owed as never written.
    pub(crate) fn give_up(&mut self, file: Option<&std::fs::File>, lost: &mut Lost) {
        if let Some(open) = self.open.take() {
            if cut_back(file, open) {
                lost.bytes += open.head as u64;
            }
        }
        if self.torn {
            lost.bytes += 1;
        }
        self.forget();
    }

    /// Counts `lines` entries of `cut` bytes dropped from the front of the
    /// buffer, and tears the line begun in the output, if any: its rest was
    /// among them.
    fn count_dropped(
        &mut self,
        file: Option<&std::fs::File>,
        cut: usize,
        lines: u64,
        lost: &mut Lost,
    ) {
        lost.entries += lines;
        lost.bytes += cut as u64;
        let Some(open) = self.open.take() else {
            return;
        };
        if cut_back(file, open) {
            lost.bytes += open.head as u64;
            return;
        }
        // Otherwise the newline that will end it stays counted as written.
        self.torn = true;
        lost.bytes -= 1;
    }
}

/// Cuts the line `open` begun in `file` back off it, if nobody wrote to
/// the file since (a full disk always allows this); whether it did.
fn cut_back(file: Option<&std::fs::File>, open: Open) -> bool {
    let head = open.head as u64;
    let (Some(file), Some(len)) = (file, open.file_len) else {
        return false;
    };
    let now = file.metadata().map(|m| m.len());
    now.is_ok_and(|now| now == len && len >= head) && file.set_len(len - head).is_ok()
}

/// At `close`, after the last attempt to write `buf` out failed: counts its
/// lines in `lost` and names them once on stderr, with the output's
/// `label` (see `Output::set_label`). The caller then forgets them.
pub(crate) fn give_up_lines(buf: &[u8], lost: &mut Lost, label: Option<&str>) {
    if buf.is_empty() {
        return;
    }
    // Whole lines but for the first, which a short write may have begun.
    let lines = buf.iter().filter(|&&b| b == b'\n').count() as u64;
    lost.entries += lines;
    lost.bytes += buf.len() as u64;
    crate::stdio::say(format_args!(
        "{} never written: {} kept failing",
        crate::escape::entries_were(lines),
        crate::escape::for_stderr(label.unwrap_or("the writer"))
    ));
}

/// Lines formatted into a buffer, written out whenever it fills and on
/// every flush.
///
/// A line in the buffer is accepted: a failure to write the buffer out is
/// reported by the next flush (so counted once a pass, and returned by
/// `sync`), and what was not written stays for the next attempt; lines the
/// buffer cannot keep any more ([`MAX_KEPT`]) are counted as lost.
pub(crate) struct Stream {
    buf: Vec<u8>,
    /// When `buf` gives back what large entries made it grow.
    shrink: Shrink,
    inner: Box<dyn Write + Send>,
    /// Lines dropped from the buffer since the last `take_lost`.
    lost: Lost,
    /// A failure to write the buffer out when it filled, for the next
    /// flush to report.
    failed: Option<io::Error>,
    /// Whether the output ends inside a line.
    end: LineEnd,
    /// The file `inner` writes, when it is one: a torn line is cut off it.
    file: Option<std::fs::File>,
    /// What its messages call it (see `Output::set_label`).
    label: Option<Box<str>>,
}

/// The user's writer, each call of which turns a panic into an error.
///
/// Caught here, call by call, a panic is a failed `write` like any other:
/// the stream knows how many bytes the calls before it took, keeps the
/// rest for the next attempt, and counts the line that filled its buffer
/// as the written line it will be. Caught further out, it would unwind
/// through that bookkeeping, and bytes already taken would be written
/// again.
struct Unwinding(Box<dyn Write + Send>);

impl Write for Unwinding {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        crate::local::as_output_user_code(|| super::guarded(|| self.0.write(buf)))
    }

    fn flush(&mut self) -> io::Result<()> {
        crate::local::as_output_user_code(|| super::guarded(|| self.0.flush()))
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Stream {
    pub(crate) fn new(inner: Box<dyn Write + Send>) -> Stream {
        Stream {
            buf: Vec::with_capacity(BUFFER_SIZE),
            shrink: Shrink::default(),
            inner: Box::new(Unwinding(inner)),
            lost: Lost::default(),
            failed: None,
            end: LineEnd::default(),
            file: None,
            label: None,
        }
    }

    /// A stream into `file`.
    fn into_file(file: Opened) -> Stream {
        let mut stream = Stream::new(Box::new(io::sink()));
        stream.replace_file(file);
        stream
    }

    /// Writes into `file` from now on (reopened after logrotate moved the
    /// old one), once a line torn in the old one is ended there. A second
    /// handle to it (`inner` is any writer) lets a torn line be cut off.
    fn replace_file(&mut self, opened: Opened) {
        self.end.end_torn(&mut *self.inner, &mut self.lost);
        self.end.opened(opened.owes_newline);
        self.file = opened.file.try_clone().ok();
        self.inner = Box::new(opened.file);
    }

    /// After a line was appended: writes the buffer out once it is full,
    /// keeping a failure for the next flush to report. After a write-out
    /// that waited out a writer that would block and got no byte taken, no
    /// other is tried before that flush (each would wait again, for every
    /// entry): the lines wait in the buffer, the oldest past [`MAX_KEPT`]
    /// bytes dropped, counted. After any other failure (an error, a panic)
    /// the next line tries again at once: the writer may be back.
    #[inline]
    fn after_append(&mut self) {
        if self.buf.len() >= BUFFER_SIZE {
            if self.failed.is_some() && self.end.is_blocked() {
                let file = self.file.as_ref();
                self.end.keep_newest(file, &mut self.buf, &mut self.lost);
            } else if let Err(e) = self.write_buffer() {
                self.failed = Some(e);
            }
        }
    }

    /// Writes the buffer out. On an error, what was not written stays for
    /// the next attempt, up to [`MAX_KEPT`] bytes.
    fn write_buffer(&mut self) -> io::Result<()> {
        let mut written = 0;
        let used = self.buf.len();
        let file = self.file.as_ref();
        let result = self
            .end
            .write(&mut *self.inner, file, &self.buf, &mut written);
        self.buf.drain(..written);
        self.end.keep_newest(file, &mut self.buf, &mut self.lost);
        self.shrink.after_use(&mut self.buf, used, BUFFER_SIZE);
        result
    }
}

impl Output for Stream {
    fn idle(&mut self) {
        self.shrink.idle(&mut self.buf, BUFFER_SIZE);
    }

    #[inline]
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        let start = self.buf.len();
        format.write(ev, &mut self.buf);
        let len = self.buf.len() - start;
        self.after_append();
        Ok(len)
    }

    fn takes_lines(&self) -> bool {
        true
    }

    fn reports_progress(&self) -> bool {
        true
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(line);
        self.after_append();
        Ok(line.len())
    }

    #[inline]
    fn line_buffer(&mut self) -> Option<Lines<'_>> {
        let lines = Lines::new(&mut self.buf, BUFFER_SIZE);
        // Full: the next line goes through `write`, which writes it out.
        lines.has_room().then_some(lines)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.write_buffer();
        let earlier = self.failed.take();
        result?;
        self.inner.flush()?;
        earlier.map_or(Ok(()), Err)
    }

    fn forget_buffered(&mut self) {
        self.buf.clear();
        self.failed = None;
        self.end.forget();
    }

    fn give_up(&mut self) {
        give_up_lines(&self.buf, &mut self.lost, self.label.as_deref());
        self.end.give_up(self.file.as_ref(), &mut self.lost);
        self.forget_buffered();
    }

    fn take_lost(&mut self) -> Lost {
        std::mem::take(&mut self.lost)
    }

    fn set_label(&mut self, label: &str) {
        self.label = Some(label.into());
    }
}

/// A file opened for appending, reopened on request (after logrotate moved
/// it): a [`Stream`] that knows its path.
pub(crate) struct File {
    stream: Stream,
    path: PathBuf,
    /// What its errors call it: `file logs/app.log`, the path as given.
    named: Box<str>,
}

impl File {
    /// Opens (creating) `path` for appending, and its directory if missing.
    /// A relative path is made absolute first, against the current
    /// directory at build time: the program may change directory later,
    /// and [`Output::reopen`] must open the file it was writing.
    pub(crate) fn open(path: PathBuf) -> Result<File, Error> {
        let named = format!("file {}", path.display()).into();
        let path = absolute(&path)?;
        let file = open_append(&path).map_err(|e| cannot_open(&path, e))?;
        Ok(File {
            stream: Stream::into_file(file),
            path,
            named,
        })
    }

    fn named(&self, e: io::Error) -> io::Error {
        super::named_error(&self.named, e)
    }
}

/// `path` made absolute against the current directory (without resolving
/// symbolic links), for a log file's path kept for later opens.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|e| cannot_open(path, e))
}

/// The build error for a log file that cannot be opened.
pub(crate) fn cannot_open(path: &Path, e: io::Error) -> Error {
    Error::io(
        ErrorKind::File,
        format!("cannot open log file `{}`", path.display()),
        e,
    )
}

/// A log file opened for appending (see [`open_append`]).
pub(crate) struct Opened {
    pub(crate) file: std::fs::File,
    /// The file ends inside a line (see [`ends_inside_a_line`]), for
    /// [`LineEnd::opened`].
    pub(crate) owes_newline: bool,
}

/// Opens `path` for appending, creating it, and its directory when that
/// is missing (a fresh project's `logs/`, or one removed while the program
/// runs). A FIFO nobody reads is an error at once, not a wait.
pub(crate) fn open_append(path: &Path) -> io::Result<Opened> {
    let open = || {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // A FIFO with no reader would hold the open (and `build()`, or the
        // worker at a `reopen`) until one came: without blocking, it is an
        // error at once instead.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
        options.open(path).and_then(blocking)
    };
    match open() {
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            // The device behind the path is not there: a FIFO's reader,
            // or, for `/dev/tty`, the process's terminal.
            let fifo = std::fs::metadata(path).is_ok_and(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_fifo()
            });
            let what = if fifo {
                "a FIFO with no reader"
            } else {
                "a device that is not there (for /dev/tty: no controlling terminal)"
            };
            Err(io::Error::new(e.kind(), format!("{what}: {e}")))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        let dir = dir.display();
                        io::Error::new(
                            e.kind(),
                            format!("cannot create its directory `{dir}`: {e}"),
                        )
                    })?;
                }
                _ => return Err(e),
            }
            open()
        }
        result => result,
    }
    .map(|file| Opened {
        owes_newline: ends_inside_a_line(&file, path),
        file,
    })
}

/// `file`, opened without blocking, made blocking again: writes to a
/// FIFO wait for its reader as they would have.
fn blocking(file: std::fs::File) -> io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: fcntl(2) on a descriptor `file` owns, with flags only.
        let cleared = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) >= 0
        };
        if !cleared {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(file)
}

/// How long [`ends_inside_a_line`] waits between its looks at a file's
/// end; how many looks in a row must find it unchanged before a file is
/// taken for torn; and how long it looks at most.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(1);
const SETTLED_LOOKS: usize = 3;
const SETTLE_FOR: std::time::Duration = std::time::Duration::from_millis(10);

/// Whether the file `file` at `path`, opened for appending, ends inside a
/// line (a crash, or another program's write cut short by a full disk):
/// then its [`LineEnd`] writes a newline before the first bytes, so they
/// are never glued to the torn line.
///
/// Another process may be appending to the file as it is opened (a forked
/// child sharing a rolling file, two instances of a service, the old file
/// of a `reopen`): while the kernel copies a large write in, the file's
/// size grows a page at a time, so its last byte can be inside that
/// write's last line, and a newline of velo's would leave an empty line
/// once that write ends. So a file that does not end in a newline is
/// looked at again, every [`SETTLE`], until it does (no newline owed), or
/// has stayed the same for [`SETTLED_LOOKS`] looks in a row (torn), or is
/// still growing after [`SETTLE_FOR`] (another writer's long write, whose
/// lines are whole; no newline owed). A writer stopped inside a
/// write for longer than those looks (descheduled on a loaded machine)
/// can still leave an empty line; a program that writes pieces of a line
/// into the file as velo opens it can find velo's first line after them.
fn ends_inside_a_line(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        // Only a regular file has a last byte to read back (a FIFO's read
        // would take another reader's data); it is read through a handle of
        // its own, as `file` may only write.
        let size = || {
            file.metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len())
        };
        let Some(mut len) = size().filter(|&n| n > 0) else {
            return false;
        };
        let Ok(reader) = std::fs::File::open(path) else {
            return false;
        };
        let began = std::time::Instant::now();
        let mut unchanged = 0;
        loop {
            let mut last = [0];
            if reader.read_exact_at(&mut last, len - 1).is_err() || last[0] == b'\n' {
                return false;
            }
            if unchanged >= SETTLED_LOOKS {
                return true;
            }
            // Only while it grows: a file that stopped is counted to
            // `SETTLED_LOOKS` however slowly the looks come (a loaded
            // machine), so that a torn one is never taken for growing.
            if unchanged == 0 && began.elapsed() >= SETTLE_FOR {
                return false;
            }
            std::thread::sleep(SETTLE);
            match size() {
                Some(now) if now > 0 && now != len => {
                    len = now;
                    unchanged = 0;
                }
                Some(_) => unchanged += 1,
                None => return true,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        false
    }
}

impl Output for File {
    #[inline]
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        self.stream.write(ev, format)
    }

    #[inline]
    fn line_buffer(&mut self) -> Option<Lines<'_>> {
        self.stream.line_buffer()
    }

    fn takes_lines(&self) -> bool {
        true
    }

    fn reports_progress(&self) -> bool {
        true
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<usize> {
        self.stream.write_line(line).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush().map_err(|e| self.named(e))
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.stream.flush().map_err(|e| self.named(e))?;
        let file = open_append(&self.path).map_err(|e| self.named(e))?;
        self.stream.replace_file(file);
        Ok(())
    }

    fn forget_buffered(&mut self) {
        self.stream.forget_buffered();
    }

    fn give_up(&mut self) {
        self.stream.give_up();
    }

    fn take_lost(&mut self) -> Lost {
        self.stream.take_lost()
    }

    fn idle(&mut self) {
        self.stream.idle();
    }

    fn set_label(&mut self, label: &str) {
        self.stream.set_label(label);
    }
}

/// Writes through the test harness's output capture, as `print!` does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TestWriter;

impl Write for TestWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // `print!` goes through the capture of the test running on this
        // thread; it panics only when stdout is gone, which the output's
        // guard turns into an error.
        print!("{}", String::from_utf8_lossy(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
