//! Rolling files: a live file that is renamed aside ("rotated") when it
//! would grow past a size or when the UTC hour or day of its entries
//! changes, with the oldest rotated files deleted.
//!
//! The decision is made per entry, on the worker, after the entry is
//! formatted and before it is counted into the live file: when the live
//! file's bytes (those on disk plus those still buffered) and the entry's
//! would pass `max_bytes`, or the entry's period is later than the file's,
//! the buffer gets a *cut* at the entry's first byte. Nothing is written
//! then; whenever the buffer is written out (when it fills, and on every
//! flush, which the worker does whenever the queue runs empty), the bytes
//! before each cut go to the live file, which is then closed and renamed,
//! and the bytes after it to a new live file. So a rotated file always ends
//! with a whole entry, every entry is written once, and a file passes
//! `max_bytes` only when it holds a single entry larger than that.
//!
//! Rotated files are named `<live name>.<UTC time>.<sequence>`, such as
//! `app.log.20261130T052925.000001`: the time the rotation was decided (the
//! time of the first entry of the next file, so every entry of a rotated
//! file is no later than its name says, to the second), then a six-digit
//! sequence number that tells apart rotations within one second. Names only
//! ever increase, across runs too (a clock that steps back reuses the last
//! second with the next sequence number), so sorting them by name sorts them
//! in rotation order, oldest first. Files of that form beside the live file,
//! from this run or earlier ones, are the rotated files `keep` counts.
//!
//! Errors are returned to the sink, which counts and reports them; the
//! output retries on its next write or flush. Bytes that could not be
//! written stay buffered, up to a bound (the oldest whole lines go beyond
//! it), cuts included, so a rotation happens where it was decided. If the
//! rename itself fails, entries keep going to the live file (which then
//! passes `max_bytes`) rather than waiting: nothing is lost for a rename.
//!
//! Why not a rotating-file crate: the ones in use (file-rotate,
//! rolling-file, tracing-appender's `rolling`) are `io::Write` adapters
//! that decide per `write` call, and velo writes 64 KiB batches of entries
//! per call. file-rotate's `Bytes` limit cuts inside a write (splitting an
//! entry) and `BytesSurpassed` rotates only after the limit is passed;
//! rolling-file rotates once the size has reached the limit, so each file
//! passes it by up to a write; tracing-appender rotates by time only. Each
//! would need a write call per entry to keep entries whole, and none counts
//! bytes that are still buffered.

use super::{Lines, Lost, Output};
use crate::buffer::Shrink;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::line::LineFormat;
use crate::timestamp;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes buffered before they are written out (the same as a stream's).
const BUFFER_SIZE: usize = super::STREAM_BUFFER;

use super::stream::{absolute, cannot_open, open_append, LineEnd};

/// Length of a rotated name's suffix: `.YYYYMMDDTHHMMSS.NNNNNN`.
const SUFFIX_LEN: usize = 23;

/// The largest sequence number in a name (six digits).
const MAX_SEQUENCE: u32 = 999_999;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// When a [`Rolling`] file is also rotated by time: when the UTC hour or
/// day of its entries changes.
///
/// # Examples
///
/// ```
/// let daily = velo::Rolling::new("logs/app.log").every(velo::Period::Daily);
/// # drop(daily);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Period {
    /// Only by size (the default).
    #[default]
    Never,
    /// When the UTC hour changes.
    Hourly,
    /// When the UTC day changes (at midnight UTC).
    Daily,
}

impl Period {
    /// The period's length in nanoseconds.
    fn nanos(self) -> Option<u64> {
        match self {
            Period::Never => None,
            Period::Hourly => Some(3_600 * NANOS_PER_SEC),
            Period::Daily => Some(86_400 * NANOS_PER_SEC),
        }
    }
}

/// A log file that is rotated by size and/or time, for
/// [`Builder::rolling`](crate::Builder::rolling).
///
/// The live file is at the given path; when it is rotated, it is renamed
/// beside itself to `<name>.<UTC time>.<sequence>`, such as
/// `app.log.20261130T052925.000001`, and a new live file is started. The
/// time is when the rotation happened (the time of the first entry after
/// it, to the second), so every entry of a rotated file is no later than its
/// name; the six-digit sequence number tells apart rotations in one second.
/// Sorted by name, rotated files are in the order they were rotated, across
/// runs of the program too.
///
/// - A rotated file always ends with a whole entry, and no entry is lost or
///   written twice across a rotation.
/// - With [`max_bytes`](Rolling::max_bytes), the live file is rotated
///   before an entry would make it pass that size (counting bytes still
///   buffered), so every file stays within it, except one holding a single
///   larger entry.
/// - With [`every`](Rolling::every), it is rotated before the first entry
///   of a later UTC hour or day (taken from the entry's timestamp, or the
///   clock when the logger writes none). A file left from an earlier run is
///   dated by its modification time.
/// - With [`keep`](Rolling::keep), the oldest rotated files beyond that
///   number are deleted, counting those that earlier runs left.
///
/// Rotation happens on the logger's worker, when it writes out its buffer.
/// [`Logger::reopen`](crate::Logger::reopen) opens the live path again, for
/// an external rotation (logrotate's move, then signal). A live file that
/// cannot be opened or created (with its directory) at
/// [`build`](crate::Builder::build) is an [`ErrorKind::File`](crate::ErrorKind::File)
/// error from it; after that, errors (a directory removed since, a full
/// disk) are counted as write errors and reported by the next
/// [`sync`](crate::Logger::sync), and writing is retried on the next entry
/// or flush. If the rename itself fails, entries keep going to the live file.
///
/// # Examples
///
/// ```no_run
/// let logger = velo::Builder::new()
///     .rolling(
///         velo::Rolling::new("logs/app.log")
///             .max_bytes(64 << 20)
///             .every(velo::Period::Daily)
///             .keep(7),
///     )
///     .build()?;
/// velo::velo!(logger: &logger, info, "started");
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Rolling {
    path: PathBuf,
    max_bytes: Option<u64>,
    period: Period,
    keep: Option<usize>,
}

impl Rolling {
    /// The live file's path, as given.
    pub(crate) fn live(&self) -> &std::path::Path {
        &self.path
    }

    /// A rolling file whose live file is `path`, appended to if it exists,
    /// created (with its directory) if not. Without further settings it is
    /// never rotated and nothing is deleted. A relative path is taken from
    /// the current directory when the logger is built: rotations, deletions
    /// and [`Logger::reopen`](crate::Logger::reopen) stay in that directory
    /// if the program changes directory later.
    ///
    /// # Examples
    ///
    /// ```
    /// let rolling = velo::Rolling::new("app.log").max_bytes(1 << 20);
    /// # drop(rolling);
    /// ```
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Rolling {
        Rolling {
            path: path.into(),
            max_bytes: None,
            period: Period::Never,
            keep: None,
        }
    }

    /// Rotates the live file before an entry would make it larger than
    /// `bytes`. A single entry larger than `bytes` gets a file of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// let rolling = velo::Rolling::new("app.log").max_bytes(64 << 20);
    /// # drop(rolling);
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, bytes: u64) -> Rolling {
        self.max_bytes = Some(bytes);
        self
    }

    /// Rotates the live file when the UTC hour or day of its entries
    /// changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let rolling = velo::Rolling::new("app.log").every(velo::Period::Hourly);
    /// # drop(rolling);
    /// ```
    #[must_use]
    pub fn every(mut self, period: Period) -> Rolling {
        self.period = period;
        self
    }

    /// Keeps the `files` newest rotated files and deletes older ones,
    /// counting rotated files that earlier runs left beside the live file.
    /// By default none are deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// let rolling = velo::Rolling::new("app.log").max_bytes(1 << 30).keep(7);
    /// # drop(rolling);
    /// ```
    #[must_use]
    pub fn keep(mut self, files: usize) -> Rolling {
        self.keep = Some(files);
        self
    }
}

/// Decides, entry by entry, where the live file ends: the rotation rules
/// without any file, so they can be tested with made-up sizes and times.
#[derive(Debug)]
struct Schedule {
    max_bytes: u64,
    /// The period's length in nanoseconds, if rotating by time.
    period: Option<u64>,
    /// Bytes of the file the next entry goes to, written or buffered.
    size: u64,
    /// The latest period (time / period length) among that file's entries.
    current: Option<u64>,
}

impl Schedule {
    fn new(max_bytes: Option<u64>, period: Period) -> Schedule {
        Schedule {
            max_bytes: max_bytes.unwrap_or(u64::MAX),
            period: period.nanos(),
            size: 0,
            current: None,
        }
    }

    /// Starts counting a file that already holds `size` bytes, last
    /// modified at `modified` (nanoseconds since the epoch).
    fn resume(&mut self, size: u64, modified: Option<u64>) {
        self.size = size;
        self.current = match (self.period, modified) {
            (Some(period), Some(time)) if size > 0 => Some(time / period),
            _ => None,
        };
    }

    /// Whether the file must be rotated before an entry of `len` bytes
    /// logged at `time` (nanoseconds since the epoch; needed only when
    /// rotating by time); then counts the entry into the file it goes to.
    ///
    /// An entry of an earlier period than the file's (threads' entries may
    /// arrive out of time order by microseconds) goes into the file: the
    /// period only moves forward.
    fn admit(&mut self, len: u64, time: Option<u64>) -> bool {
        let period = self.period.zip(time).map(|(p, t)| t / p);
        let later = matches!((period, self.current), (Some(p), Some(c)) if p > c);
        let rotate = self.size > 0 && (self.size.saturating_add(len) > self.max_bytes || later);
        if rotate {
            self.size = 0;
            self.current = None;
        }
        self.size = self.size.saturating_add(len);
        if let Some(p) = period {
            self.current = Some(self.current.map_or(p, |c| c.max(p)));
        }
        rotate
    }
}

/// A rotation decided at `at` in the buffer, for an entry logged at `time`.
#[derive(Clone, Copy, Debug)]
struct Cut {
    at: usize,
    time: Option<u64>,
}

/// The output: the live file, its buffer and cuts, and the rotated files.
pub(crate) struct RollingFile {
    path: PathBuf,
    /// What its errors call it: `rolling file logs/app.log`, the path as
    /// given.
    named: Box<str>,
    /// The directory the live file and its rotated files are in.
    dir: PathBuf,
    /// The live file's name, which rotated names start with.
    name: OsString,
    keep: Option<usize>,
    /// The live file, opened again after a rotation or an error when
    /// there is something to write.
    file: Option<fs::File>,
    buf: Vec<u8>,
    /// When `buf` gives back what large entries made it grow.
    shrink: Shrink,
    /// Rotations decided and not yet done, in buffer order.
    cuts: VecDeque<Cut>,
    schedule: Schedule,
    /// Rotated files, oldest first (only with `keep`).
    rotated: VecDeque<PathBuf>,
    /// The second and sequence number of the newest rotated name.
    last_name: Option<(u64, u32)>,
    /// Lines dropped from the buffer since the last `take_lost`.
    lost: Lost,
    /// What its messages call it (see `Output::set_label`).
    label: Option<Box<str>>,
    /// A failure to write the buffer out when it filled, for the next
    /// flush to report (see `Stream`).
    failed: Option<io::Error>,
    /// Whether the live file ends inside a line.
    end: LineEnd,
}

impl std::fmt::Debug for RollingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollingFile")
            .field("path", &self.path)
            .field("buffered", &self.buf.len())
            .field("cuts", &self.cuts.len())
            .field("rotated", &self.rotated.len())
            .finish_non_exhaustive()
    }
}

impl RollingFile {
    /// Opens (creating) the live file, finds the rotated files beside it
    /// and deletes those beyond `keep`.
    pub(crate) fn open(rolling: Rolling) -> Result<RollingFile, Error> {
        let Rolling {
            path,
            max_bytes,
            period,
            keep,
        } = rolling;
        let Some(name) = path.file_name().map(ToOwned::to_owned) else {
            return Err(Error::new(
                ErrorKind::File,
                format!("rolling log file `{}` has no file name", path.display()),
            ));
        };
        let named = format!("rolling file {}", path.display()).into();
        // Absolute: renames, deletions and the listing of rotated files
        // must not follow the program into another current directory.
        let path = absolute(&path)?;
        let dir = match path.parent() {
            Some(dir) => dir.to_owned(),
            None => PathBuf::from("/"),
        };
        let opened = open_append(&path).map_err(|e| cannot_open(&path, e))?;
        let file = opened.file;
        let mut schedule = Schedule::new(max_bytes, period);
        if let Ok(meta) = file.metadata() {
            // A newline owed to a torn last line is the file's too.
            let size = meta.len() + u64::from(opened.owes_newline);
            schedule.resume(size, meta.modified().ok().and_then(nanos_since_epoch));
        }
        let rotated = find_rotated(&dir, &name);
        let last_name = rotated
            .back()
            .and_then(|p| p.file_name())
            .and_then(|n| parse_suffix(&n.as_encoded_bytes()[name.len()..]));
        let mut out = RollingFile {
            path,
            named,
            dir,
            name,
            keep,
            file: Some(file),
            buf: Vec::with_capacity(BUFFER_SIZE),
            shrink: Shrink::default(),
            cuts: VecDeque::new(),
            schedule,
            rotated,
            last_name,
            lost: Lost::default(),
            label: None,
            failed: None,
            end: LineEnd::default(),
        };
        out.end.opened(opened.owes_newline);
        // A failure to delete is reported when a rotation deletes again.
        let _ = out.prune();
        Ok(out)
    }

    /// Writes the buffer out, rotating at each cut. On an error, what was
    /// not written stays for the next attempt (up to `MAX_KEPT` bytes),
    /// with its cuts.
    fn write_out(&mut self) -> io::Result<()> {
        let mut written = 0;
        let used = self.buf.len();
        let result = self.write_cuts(&mut written);
        self.buf.drain(..written);
        for cut in &mut self.cuts {
            cut.at -= written;
        }
        self.drop_oldest();
        self.shrink.after_use(&mut self.buf, used, BUFFER_SIZE);
        result
    }

    /// Writes `buf[*written..]`, advancing `written`, and does each cut
    /// when the bytes before it are written.
    fn write_cuts(&mut self, written: &mut usize) -> io::Result<()> {
        let mut failed_rotation = None;
        loop {
            let end = self.cuts.front().map_or(self.buf.len(), |c| c.at);
            if *written < end {
                let file = match &mut self.file {
                    Some(file) => file,
                    None => {
                        let opened = open_append(&self.path)?;
                        self.end.opened(opened.owes_newline);
                        self.file.insert(opened.file)
                    }
                };
                // `&File` writes too: the same file as writer and as file.
                let mut writer: &fs::File = file;
                self.end
                    .write(&mut writer, Some(file), &self.buf[..end], written)?;
            }
            let Some(cut) = self.cuts.pop_front() else {
                // A failed rotation is reported once the entries after it
                // are written.
                return failed_rotation.map_or(Ok(()), Err);
            };
            // The cut is done even if the rename fails: the entries after
            // it then go on to the live file, which passes `max_bytes`,
            // rather than wait.
            if let Err(e) = self.rotate(cut.time) {
                failed_rotation.get_or_insert(e);
            }
        }
    }

    /// When the writer keeps failing: keeps the newest `MAX_KEPT` bytes,
    /// in whole lines (counting the lines dropped as lost), and the cuts
    /// among them (a cut in what is dropped moves to the start, so the next
    /// file still starts where decided).
    fn drop_oldest(&mut self) {
        let cut = self
            .end
            .keep_newest(self.file.as_ref(), &mut self.buf, &mut self.lost);
        if cut == 0 {
            return;
        }
        let mut at_start = false;
        self.cuts.retain_mut(|c| {
            if c.at <= cut {
                c.at = 0;
                !std::mem::replace(&mut at_start, true)
            } else {
                c.at -= cut;
                true
            }
        });
    }

    /// Closes the live file and renames it aside, then deletes the oldest
    /// rotated files beyond `keep`.
    fn rotate(&mut self, time: Option<u64>) -> io::Result<()> {
        // Nothing written since the last rotation (a full disk dropped the
        // period's entries): an empty file renamed aside would take the
        // place of a real one among the `keep` newest.
        let len = match &self.file {
            Some(file) => file.metadata(),
            None => fs::metadata(&self.path),
        };
        if len.is_ok_and(|m| m.len() == 0) {
            return Ok(());
        }
        // Closed first: some systems cannot rename an open file. A line
        // torn in it is ended there, never continued in the next file.
        if let Some(file) = &mut self.file {
            self.end.end_torn(file, &mut self.lost);
        }
        self.file = None;
        let time = time.unwrap_or_else(wall_nanos);
        let last_name = self.last_name;
        let target = loop {
            let target = self.next_name(time);
            match rename_no_replace(&self.path, &target) {
                Ok(()) => break target,
                // Taken since `next_name` looked (another process rotating
                // the same file: a forked child that logs): the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                // Moved away by someone else (or never created, after an
                // error): the next write starts a new live file anyway.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => {
                    // The name was not used: the next rotation takes it.
                    self.last_name = last_name;
                    // The same text each time (no rotated name in it), so
                    // that a rename that keeps failing is reported once.
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "cannot rename log file `{}` aside to rotate it (entries go on to it): {e}",
                            self.path.display()
                        ),
                    ));
                }
            }
        };
        // Without `keep` nothing is deleted, so nothing needs listing.
        if self.keep.is_some() {
            self.rotated.push_back(target);
        }
        self.prune()
    }

    /// The path for the next rotated file: a name later than every earlier
    /// one, and not taken.
    fn next_name(&mut self, time: u64) -> PathBuf {
        let second = time / NANOS_PER_SEC;
        let mut next = match self.last_name {
            Some((last, seq)) if second <= last => bump(last, seq),
            _ => (second, 1),
        };
        loop {
            let mut name = self.name.clone();
            name.push(suffix(next.0, next.1));
            let path = self.dir.join(name);
            // A file of that name that this run did not make (another
            // process, a copy by hand) is never overwritten.
            if !path.exists() {
                self.last_name = Some(next);
                return path;
            }
            next = bump(next.0, next.1);
        }
    }

    /// Deletes the oldest rotated files beyond `keep`; returns the first
    /// error (a file that is gone already is no error).
    fn prune(&mut self) -> io::Result<()> {
        let Some(keep) = self.keep else {
            return Ok(());
        };
        let mut result = Ok(());
        while self.rotated.len() > keep {
            let Some(oldest) = self.rotated.pop_front() else {
                break;
            };
            match fs::remove_file(&oldest) {
                Err(e) if e.kind() != io::ErrorKind::NotFound && result.is_ok() => {
                    result = Err(e);
                }
                _ => {}
            }
        }
        result
    }
}

/// Renames `from` to `to` unless `to` exists (`AlreadyExists` then): two
/// processes rotating the same file (a forked child that logs) must not
/// rename theirs onto the file the other just rotated, which `rename`
/// would silently replace, losing it.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let from_c = std::ffi::CString::new(from.as_os_str().as_bytes())?;
        let to_c = std::ffi::CString::new(to.as_os_str().as_bytes())?;
        // SAFETY: both are valid NUL-terminated paths that outlive the
        // call; `AT_FDCWD` resolves them as `rename` does.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from_c.as_ptr(),
                libc::AT_FDCWD,
                to_c.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // A file system or kernel without the flag: the portable way below.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            return Err(e);
        }
    }
    // A hard link fails if `to` exists; then the old name goes. A file
    // system without hard links gets `rename` after a look, as before.
    match fs::hard_link(from, to) {
        Ok(()) => fs::remove_file(from).inspect_err(|_| {
            // Not renamed after all: no second name for the live file.
            let _ = fs::remove_file(to);
        }),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::AlreadyExists | io::ErrorKind::NotFound
            ) =>
        {
            Err(e)
        }
        Err(_) if to.exists() => Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => fs::rename(from, to),
    }
}

impl Output for RollingFile {
    fn idle(&mut self) {
        self.shrink.idle(&mut self.buf, BUFFER_SIZE);
    }

    /// The buffer, for lines that go into the live file as it is: up to
    /// the size limit and within the current period, which is as far as
    /// [`Schedule::admit`] would let them in without a rotation. The first
    /// entry of a period goes through `write`, which starts the period.
    #[inline]
    fn line_buffer(&mut self) -> Option<Lines<'_>> {
        let schedule = &self.schedule;
        // The current period's last nanosecond.
        let last = match (schedule.period, schedule.current) {
            (None, _) => u64::MAX,
            (Some(period), Some(current)) => current
                .saturating_add(1)
                .saturating_mul(period)
                .saturating_sub(1),
            (Some(_), None) => return None,
        };
        let room = schedule.max_bytes.saturating_sub(schedule.size);
        let fit = self
            .buf
            .len()
            .saturating_add(usize::try_from(room).unwrap_or(usize::MAX));
        let lines = Lines {
            fit,
            last,
            ..Lines::new(&mut self.buf, BUFFER_SIZE)
        };
        // Full: the next line goes through `write`, which writes it out.
        lines.has_room().then_some(lines)
    }

    #[inline]
    fn lines_appended(&mut self, bytes: usize) {
        // Admitted in the file as it is (see `line_buffer`).
        self.schedule.size = self.schedule.size.saturating_add(bytes as u64);
    }

    fn reports_progress(&self) -> bool {
        true
    }

    #[inline]
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        let start = self.buf.len();
        format.write(ev, &mut self.buf);
        let len = self.buf.len() - start;
        let time = match self.schedule.period {
            Some(_) => Some(ev.time.unwrap_or_else(wall_nanos)),
            None => ev.time,
        };
        if self.schedule.admit(len as u64, time) {
            self.cuts.push_back(Cut { at: start, time });
        }
        if self.buf.len() >= BUFFER_SIZE {
            if let Err(e) = self.write_out() {
                self.failed = Some(e);
            }
        }
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.write_out();
        let earlier = self.failed.take();
        let flushed = result.and_then(|()| match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        });
        flushed
            .and(earlier.map_or(Ok(()), Err))
            .map_err(|e| super::named_error(&self.named, e))
    }

    fn take_lost(&mut self) -> Lost {
        std::mem::take(&mut self.lost)
    }

    fn set_label(&mut self, label: &str) {
        self.label = Some(label.into());
    }

    fn reopen(&mut self) -> io::Result<()> {
        // What is buffered belongs to the old file; if it cannot be
        // written there, it goes to the new one.
        let flushed = self.write_out();
        // A line begun in the old file is not finished in the new one.
        let cut = self
            .end
            .drop_rest(self.file.as_ref(), &mut self.buf, &mut self.lost);
        for c in &mut self.cuts {
            c.at -= cut;
        }
        if let Some(file) = &mut self.file {
            self.end.end_torn(file, &mut self.lost);
        }
        self.file = None;
        let named = |e| super::named_error(&self.named, e);
        let opened = open_append(&self.path).map_err(named)?;
        let meta = opened.file.metadata().map_err(named)?;
        self.end.opened(opened.owes_newline);
        self.file = Some(opened.file);
        // With a cut pending, the schedule counts the file after it, not
        // this one.
        if self.cuts.is_empty() {
            let current = self.schedule.current;
            let size = meta.len() + u64::from(opened.owes_newline);
            self.schedule
                .resume(size, meta.modified().ok().and_then(nanos_since_epoch));
            if meta.len() == 0 && !self.buf.is_empty() {
                // The buffered entries' period.
                self.schedule.current = current;
            }
            self.schedule.size += self.buf.len() as u64;
        }
        flushed.map_err(|e| super::named_error(&self.named, e))
    }

    fn give_up(&mut self) {
        super::stream::give_up_lines(&self.buf, &mut self.lost, self.label.as_deref());
        self.end.give_up(self.file.as_ref(), &mut self.lost);
        self.forget_buffered();
    }

    fn forget_buffered(&mut self) {
        self.buf.clear();
        self.cuts.clear();
        self.failed = None;
        self.end.forget();
        let size = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        self.schedule.size = size;
    }
}

/// The next name after `(second, seq)`.
fn bump(second: u64, seq: u32) -> (u64, u32) {
    if seq < MAX_SEQUENCE {
        (second, seq + 1)
    } else {
        (second + 1, 1)
    }
}

/// `.YYYYMMDDTHHMMSS.NNNNNN` for a second since the epoch (UTC) and a
/// sequence number.
fn suffix(second: u64, seq: u32) -> String {
    let days = (second / 86_400) as i64;
    let rem = second % 86_400;
    let (year, month, day) = timestamp::civil_from_days(days);
    format!(
        ".{year:04}{month:02}{day:02}T{:02}{:02}{:02}.{seq:06}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The second and sequence number of a rotated name's suffix
/// (`.YYYYMMDDTHHMMSS.NNNNNN`), if it is one.
fn parse_suffix(suffix: &[u8]) -> Option<(u64, u32)> {
    if suffix.len() != SUFFIX_LEN || suffix[0] != b'.' || suffix[9] != b'T' || suffix[16] != b'.' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = &suffix[range];
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
    };
    let (year, month, day) = (num(1..5)?, num(5..7)?, num(7..9)?);
    let (hour, minute, second) = (num(10..12)?, num(12..14)?, num(14..16)?);
    let seq = num(17..23)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
        || seq == 0
        || year < 1970
    {
        return None;
    }
    let days = days_from_civil(year as i64, month as i64, day as i64);
    let secs = days as u64 * 86_400 + hour * 3600 + minute * 60 + second;
    Some((secs, seq as u32))
}

/// Days since 1970-01-01 of a proleptic Gregorian date: the inverse of
/// `timestamp::civil_from_days`, on the same March-based calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The rotated files beside the live file (`<name>.<suffix>`), oldest
/// first; none if the directory cannot be read.
fn find_rotated(dir: &Path, name: &OsString) -> VecDeque<PathBuf> {
    let name = name.as_encoded_bytes();
    let Ok(entries) = fs::read_dir(dir) else {
        return VecDeque::new();
    };
    let mut found: Vec<_> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file_name = entry.file_name();
            let bytes = file_name.as_encoded_bytes();
            let suffix = bytes.strip_prefix(name)?;
            let key = parse_suffix(suffix)?;
            Some((key, entry.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, path)| path).collect()
}

/// Nanoseconds since the epoch, now.
fn wall_nanos() -> u64 {
    nanos_since_epoch(SystemTime::now()).unwrap_or(0)
}

fn nanos_since_epoch(time: SystemTime) -> Option<u64> {
    let d = time.duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(d.as_nanos()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600 * NANOS_PER_SEC;
    const DAY: u64 = 24 * HOUR;
    /// 2026-11-30T05:29:25Z.
    const T0: u64 = 1_796_016_565 * NANOS_PER_SEC;

    /// The entries (length, time) after which `schedule` rotates.
    fn rotations(schedule: &mut Schedule, entries: &[(u64, u64)]) -> Vec<usize> {
        entries
            .iter()
            .enumerate()
            .filter(|(_, &(len, time))| schedule.admit(len, Some(time)))
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn a_rotation_never_renames_onto_an_existing_file() {
        let dir = std::env::temp_dir().join(format!("velo-noreplace-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let (live, taken) = (dir.join("app.log"), dir.join("app.log.1"));
        fs::write(&live, "live\n").unwrap();
        fs::write(&taken, "rotated by another process\n").unwrap();
        let e = rename_no_replace(&live, &taken).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            fs::read_to_string(&taken).unwrap(),
            "rotated by another process\n"
        );
        assert_eq!(fs::read_to_string(&live).unwrap(), "live\n");
        let free = dir.join("app.log.2");
        rename_no_replace(&live, &free).unwrap();
        assert!(!live.exists());
        assert_eq!(fs::read_to_string(&free).unwrap(), "live\n");
        let e = rename_no_replace(&live, &dir.join("app.log.3")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn size_rotates_before_an_entry_would_pass_the_limit() {
        let mut s = Schedule::new(Some(100), Period::Never);
        // 40 + 40 + 20 = 100 fits exactly; the next byte does not.
        let entries = [(40, 0), (40, 0), (20, 0), (1, 0), (99, 0), (1, 0)];
        assert_eq!(rotations(&mut s, &entries), [3, 5]);
        assert_eq!(s.size, 1);
    }

    #[test]
    fn an_oversized_entry_gets_a_file_of_its_own() {
        let mut s = Schedule::new(Some(100), Period::Never);
        // Into the empty first file without a rotation; then one alone.
        let entries = [(500, 0), (10, 0), (500, 0), (500, 0), (10, 0)];
        assert_eq!(rotations(&mut s, &entries), [1, 2, 3, 4]);
    }

    #[test]
    fn a_file_from_an_earlier_run_counts_its_size() {
        let mut s = Schedule::new(Some(100), Period::Never);
        s.resume(90, None);
        assert!(!s.admit(10, None));
        assert!(s.admit(1, None));
    }

    #[test]
    fn hourly_rotates_when_the_utc_hour_of_the_entries_changes() {
        let mut s = Schedule::new(None, Period::Hourly);
        let hour_start = T0 - T0 % HOUR;
        let entries = [
            (10, T0),
            (10, hour_start + HOUR - 1),
            (10, hour_start + HOUR), // 06:00:00.000000000
            // Logged a microsecond earlier on another thread, written
            // later: stays in the new file rather than rotating back.
            (10, hour_start + HOUR - 1_000),
            (10, hour_start + HOUR + 1),
            // Several hours later, then the next hour.
            (10, hour_start + 5 * HOUR),
            (10, hour_start + 6 * HOUR + 59 * 60 * NANOS_PER_SEC),
        ];
        assert_eq!(rotations(&mut s, &entries), [2, 5, 6]);
    }

    #[test]
    fn daily_rotates_at_midnight_utc_only() {
        let mut s = Schedule::new(None, Period::Daily);
        let midnight = T0 - T0 % DAY + DAY;
        let entries = [
            (10, T0),
            (10, T0 + HOUR),
            (10, midnight - 1),
            (10, midnight),
            (10, midnight + 23 * HOUR),
            (10, midnight + DAY + 1),
        ];
        assert_eq!(rotations(&mut s, &entries), [3, 5]);
    }

    #[test]
    fn never_ignores_time_and_size_and_time_combine() {
        let mut s = Schedule::new(None, Period::Never);
        assert!(rotations(&mut s, &[(10, 0), (10, DAY), (10, 9 * DAY)]).is_empty());
        let mut s = Schedule::new(Some(25), Period::Daily);
        let entries = [(10, T0), (10, T0), (10, T0), (10, T0 + DAY), (10, T0 + DAY)];
        assert_eq!(rotations(&mut s, &entries), [2, 3]);
    }

    #[test]
    fn a_file_left_from_yesterday_is_rotated_by_the_first_entry_of_today() {
        let mut s = Schedule::new(None, Period::Daily);
        s.resume(300, Some(T0 - DAY));
        assert!(s.admit(10, Some(T0)));
        // An empty file has no period yet.
        let mut s = Schedule::new(None, Period::Daily);
        s.resume(0, Some(T0 - DAY));
        assert!(!s.admit(10, Some(T0)));
    }

    #[test]
    fn names_format_parse_and_sort_in_rotation_order() {
        let second = T0 / NANOS_PER_SEC;
        assert_eq!(suffix(second, 1), ".20261130T052925.000001");
        assert_eq!(parse_suffix(b".20261130T052925.000001"), Some((second, 1)));
        for bad in [
            &b".20261130T052925.000000"[..],
            b".20261130T052925.00001",
            b".20261130-052925.000001",
            b".20261332T052925.000001",
            b".2026113xT052925.000001",
            b".20261130T052925.000001.gz",
        ] {
            assert_eq!(parse_suffix(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        // Every day from 1970 to 2100 round-trips.
        for days in 0..47_482 {
            let second = days * 86_400 + 86_399;
            assert_eq!(
                parse_suffix(suffix(second, 7).as_bytes()),
                Some((second, 7))
            );
        }
        // Later names sort later, including a new sequence over a new second.
        let mut names = [(second, MAX_SEQUENCE), (second + 1, 1), (second, 2)];
        names.sort();
        let texts: Vec<String> = names.iter().map(|&(s, q)| suffix(s, q)).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
    }

    /// The buffer's bounds let in exactly what `admit` would without a
    /// rotation: lines up to the size limit, entries of the current period.
    #[test]
    fn the_line_buffer_takes_what_needs_no_rotation() {
        let dir = std::env::temp_dir().join(format!("velo-rolling-lines-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let rolling = Rolling::new(dir.join("a.log"))
            .max_bytes(100)
            .every(Period::Hourly);
        let mut out = RollingFile::open(rolling).unwrap();
        // No entry of a period yet: `write` starts one.
        assert!(out.line_buffer().is_none());
        out.schedule.admit(30, Some(T0));
        out.buf.extend_from_slice(&[b'x'; 30]);
        let lines = out.line_buffer().expect("room");
        assert_eq!(lines.fit, 30 + 70, "up to max_bytes in all");
        let end_of_hour = (T0 / HOUR + 1) * HOUR;
        assert!(lines.takes_time(Some(T0)) && lines.takes_time(Some(end_of_hour - 1)));
        assert!(
            !lines.takes_time(Some(end_of_hour)),
            "the next period rotates"
        );
        assert!(
            !lines.takes_time(None),
            "no time: `write` takes the wall clock's"
        );
        // As `admit` has it: 70 bytes more in this hour fit, one more does not.
        let mut s = Schedule::new(Some(100), Period::Hourly);
        s.admit(30, Some(T0));
        assert!(!s.admit(70, Some(end_of_hour - 1)));
        assert!(s.admit(1, Some(T0)));
        out.lines_appended(70);
        assert_eq!(out.schedule.size, 100);
        let lines = out.line_buffer().expect("room");
        assert_eq!(lines.fit, lines.buf.len(), "full: the next line rotates");
        // Without a size limit or a period: no bound but the buffer's.
        let mut out = RollingFile::open(Rolling::new(dir.join("b.log"))).unwrap();
        let lines = out.line_buffer().expect("room");
        assert_eq!((lines.fit, lines.last), (usize::MAX, u64::MAX));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn next_names_increase_when_the_clock_steps_back() {
        let dir = std::env::temp_dir().join(format!("velo-rolling-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut out = RollingFile::open(Rolling::new(dir.join("a.log"))).unwrap();
        let second = T0 / NANOS_PER_SEC;
        let names: Vec<PathBuf> = [T0, T0, T0 - 3 * NANOS_PER_SEC, T0 + NANOS_PER_SEC]
            .iter()
            .map(|&t| out.next_name(t))
            .collect();
        let suffixes: Vec<String> = names
            .iter()
            .map(|p| p.to_string_lossy()[dir.join("a.log").to_string_lossy().len()..].to_owned())
            .collect();
        assert_eq!(
            suffixes,
            [
                suffix(second, 1),
                suffix(second, 2),
                suffix(second, 3),
                suffix(second + 1, 1)
            ]
        );
        out.last_name = Some((second, MAX_SEQUENCE));
        assert!(out
            .next_name(T0)
            .ends_with(format!("a.log{}", suffix(second + 1, 1))));
        fs::remove_dir_all(&dir).unwrap();
    }
}
