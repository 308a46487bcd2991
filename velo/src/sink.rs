//! The output side of a logger: its [`Output`], the line format, the error
//! bookkeeping, and the lock they sit behind.
//!
//! Whoever holds the output lock is the one consumer of the logger's queue:
//! the worker, or a caller in one of the documented cases (a full queue
//! under `Overflow::Sync`, logging after `close`, a logger without a
//! worker). It drains every ring, decodes each record, dates it and hands
//! it to the output. Holding the lock while draining is what keeps each
//! thread's entries in order: whoever holds it writes everything queued
//! before its own.
//!
//! The lock is re-entrant per logger in one way only: a thread that holds
//! a logger's output lock (inside that logger's writer, say) and logs to
//! the same logger does not take the lock again; its entry goes into its
//! ring for the worker. Logging to *another* logger from inside a writer is
//! not re-entrant at all and works as from anywhere else.

use crate::buffer::Shrink;
use crate::callsite::{internal_site, CallSite};
use crate::clock::{self, Converter};
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::fork;
use crate::line::LineFormat;
use crate::local;
use crate::merge::Merge;
use crate::output::{guarded, Lost, Output};
use crate::pause::pause;
use crate::queue::{Drained, Queue, Seen};
use crate::record;
use crate::stats::{self, Counters, Reason};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// An error reported on stderr.
struct Reported {
    text: String,
    at: Instant,
    /// A flush has worked since the error last happened.
    recovered: bool,
}

impl Reported {
    /// Whether the error `text`, happening at `now`, is to be reported,
    /// given the last ones reported (the latest last); notes it in `last`.
    /// An error is reported once while the output keeps failing, though
    /// others come between (an output down that fails two ways by turns).
    /// After the output worked again, the same error is news only some
    /// time later: an output that fails now and then the same way (a
    /// rotation's rename, each time the file is full) is not reported each
    /// time.
    fn news(last: &mut Vec<Reported>, text: &str, now: Instant) -> bool {
        if let Some(r) = last.iter_mut().find(|r| r.text == text) {
            if !r.recovered || now.saturating_duration_since(r.at) < REPORT_AGAIN_AFTER {
                // Failing again: consecutive from here until a flush works.
                r.recovered = false;
                return false;
            }
        }
        last.retain(|r| r.text != text);
        if last.len() == REPORTED_KEPT {
            last.remove(0);
        }
        last.push(Reported {
            text: text.to_owned(),
            at: now,
            recovered: false,
        });
        true
    }

    /// A flush worked since the errors in `last`.
    fn recovered(last: &mut [Reported]) {
        for r in last {
            r.recovered = true;
        }
    }
}

/// How many different errors reported lately are remembered (see
/// [`Reported::news`]).
const REPORTED_KEPT: usize = 16;

/// How long after an error was reported the same error, met again after
/// the output worked in between, is reported again.
const REPORT_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// The output and what writing to it needs.
pub(crate) struct Sink {
    output: Box<dyn Output>,
    format: LineFormat,
    /// The logger's own fields (`Builder::fields`), encoded: velo's
    /// warnings carry them as every entry of the logger does.
    context: Box<[u8]>,
    /// The last error reported on stderr (see [`Sink::fail`]).
    last_reported: Vec<Reported>,
    /// `dropped` count already announced by a warning entry.
    reported_drops: u64,
    /// Of the drops not announced yet, those the output gave up on (a
    /// network backlog that overflowed, a batch given up), which are
    /// announced by a warning of their own.
    lost_unreported: u64,
    /// How many of the entries dropped for each [`Reason`] (by its index)
    /// a warning announced.
    reported_for: [u64; Reason::ALL.len()],
    /// Set by a failure to write, or lines the output gave up, until a
    /// flush succeeds: the drop warnings wait meanwhile, since the output
    /// would only hold them in the buffer it is giving up lines of.
    failing: bool,
    /// Whether an entry the output takes counts as its progress: not for
    /// one that reports its progress itself (see
    /// `Output::reports_progress`).
    entries_are_progress: bool,
    /// A record split across slices of a ring's bytes (its wrap, or
    /// where a drain frees a part), being put together.
    partial: Vec<u8>,
    /// The current ring's bytes stopped reading as records: the rest of
    /// them, up to the ring's end, is skipped.
    unreadable: bool,
    /// When `partial` gives back what large records made it grow.
    partial_shrink: Shrink,
    /// Several threads' records of a pass, being put in time order.
    merge: Merge,
    /// The rings' extents as a pass began.
    cuts: Vec<Seen>,
    /// When the clock's period was last refined.
    refined: Instant,
    /// When a drop warning was last written: while drops go on, one a
    /// [`WARNING_INTERVAL`] at most (see [`Sink::drain`]).
    warned: Option<Instant>,
    /// The clock at the last drain's cut, which warnings written after
    /// it show (see [`Sink::drain`]).
    cut: Option<(u16, u64)>,
    /// The converter of records' times, and when it was made (see
    /// [`Sink::clock`]).
    clock: Option<(Converter, Instant)>,
    /// Whether `clock` is kept however old (see [`Sink::hold_clock`]).
    clock_held: bool,
}

/// How long [`Sink::clock`] keeps a converter: the counter's drift
/// against the system clock over it is well under a microsecond.
const CLOCK_FOR: Duration = Duration::from_millis(1);

/// While entries keep being dropped (a queue full for good under
/// `Overflow::Drop`), the drop warnings come this far apart at most,
/// each with the count since the last; what is held back is written when
/// the worker idles (`worker::POLL_FOR` without entries) and at every
/// `sync` and `close`.
const WARNING_INTERVAL: Duration = Duration::from_secs(1);

/// When a drain writes the drop warnings due, and the time they show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Warnings {
    /// At its end, dated at its cut.
    Now,
    /// At its end, dated with this reading of `clock::read`: that of the
    /// entry a caller writes after the drain (see `Core::write_now`), so
    /// that they do not show a later time than the entry after them.
    At((u16, u64)),
    /// At its end if the last came [`WARNING_INTERVAL`] ago or more, else
    /// later: the worker's passes, which under a flood of drops follow
    /// each other without end.
    Paced,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// How long a thread inside one logger's output waits for the output of a
/// logger made before it (see `local::holds_output_after`) before it gives
/// up: the entry is then queued if there is room, else dropped and counted.
const CROSS_WAIT: Duration = Duration::from_secs(1);

/// The output locks that threads holding other output locks wait for, as
/// `(held, wanted)` pairs: how a thread inside a later logger's output
/// (see `local::holds_output_after`) tells that the holder of the lock it
/// wants waits for one it holds, and gives up at once instead of after
/// [`CROSS_WAIT`].
static WAITS: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// While alive, records in [`WAITS`] that this thread, with the output
/// locks it holds, waits for the output (the lock, or room in the queue)
/// of the logger core `wanted`. Records nothing for a thread that holds
/// none.
pub(crate) struct Waiting {
    wanted: u64,
    recorded: bool,
}

impl Waiting {
    pub(crate) fn start(wanted: u64) -> Waiting {
        let recorded = local::with_held(|held| {
            if held.is_empty() {
                return false;
            }
            fork::lock(&WAITS).extend(held.iter().map(|&h| (h, wanted)));
            true
        })
        .unwrap_or(false);
        Waiting { wanted, recorded }
    }

    /// Whether the holder of `wanted`'s output lock (or its worker, waiting
    /// in `sync` or `close`) waits for an output this thread holds.
    pub(crate) fn is_cycle(wanted: u64) -> bool {
        local::with_held(|held| {
            fork::lock(&WAITS)
                .iter()
                .any(|&(h, w)| h == wanted && held.contains(&w))
        })
        .unwrap_or(false)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.recorded {
            return;
        }
        local::with_held(|held| {
            let mut waits = fork::lock(&WAITS);
            for &h in held {
                if let Some(i) = waits.iter().position(|&p| p == (h, self.wanted)) {
                    waits.swap_remove(i);
                }
            }
        });
    }
}

/// What the sink reports to: the logger's counters and the error slot the
/// next `sync` returns.
pub(crate) struct Report<'a> {
    pub(crate) stats: &'a Counters,
    pub(crate) error: &'a Mutex<Option<Error>>,
    /// The output's progress counter (see [`OutputLock::beat`]).
    pub(crate) beat: &'a AtomicU64,
}

pub(crate) static DROPPED: CallSite = internal_site!(
    Warn,
    "velo dropped entries: the queue was full",
    ["dropped"]
);

/// The warning for entries an output's own writer logged in the last of
/// the rounds a write that no drain follows gives it (at `close`, at the
/// exit, at every write of a logger without a queue; see
/// `Core::end_writing`).
pub(crate) static INSIDE: CallSite = internal_site!(
    Warn,
    "velo dropped entries: the log writer logged them while writing its own entries, round after round",
    ["dropped"]
);

/// The warning for entries logged as the process exited, once no worker
/// pass was left to write them (see `Core::queue_at_exit`).
pub(crate) static AT_EXIT: CallSite = internal_site!(
    Warn,
    "velo dropped entries: they were logged as the process exited, after the last write",
    ["dropped"]
);

/// The warning for entries whose value panicked as it was encoded.
pub(crate) static PANICKED: CallSite = internal_site!(
    Warn,
    "velo dropped entries: a value panicked as it was written (its Display, Debug or Value impl)",
    ["dropped"]
);

/// The warning for entries dropped while the output was stuck.
pub(crate) static STUCK_OUTPUT: CallSite = internal_site!(
    Warn,
    "velo dropped entries: the log output was stuck (a write made no progress for 5 s) and no queue could hold them",
    ["dropped"]
);

/// The warning for entries velo's panic hook could not queue (see
/// `Core::queue_in_panic_hook`).
pub(crate) static IN_PANIC_HOOK: CallSite = internal_site!(
    Warn,
    "velo dropped entries: they were logged in the panic hook with no worker to write them, and the log writer may not run inside a panic hook",
    ["dropped"]
);

/// The warning for entries logged from a signal handler that interrupted
/// velo on the same thread.
pub(crate) static INTERRUPTED: CallSite = internal_site!(
    Warn,
    "velo dropped entries: they were logged from a signal handler that interrupted velo on the same thread",
    ["dropped"]
);

/// The warning for entries the output accepted and then gave up on.
pub(crate) static LOST: CallSite = internal_site!(
    Warn,
    "velo dropped entries: the output gave up on them",
    ["dropped"]
);

/// What a pass wrote, counted as it goes and added to the statistics once
/// at its end.
#[derive(Default)]
struct Tally {
    /// Entries written.
    ok: u64,
    /// Bytes they took.
    bytes: u64,
}

impl Tally {
    /// Counts one record [`Sink::write_record`] wrote (`Some`) or failed to
    /// write (`None`: counted where it failed), and the output's progress
    /// on `beat` (see [`Sink::beat`]).
    #[inline]
    fn count(&mut self, written: Option<usize>, beat: Option<&AtomicU64>) {
        if let Some(n) = written {
            self.ok += 1;
            self.bytes += n as u64;
            if let Some(beat) = beat {
                stats::bump_owned(beat);
            }
        }
    }

    /// Counts a run of records [`Sink::write_run`] wrote.
    #[inline]
    fn add_run(&mut self, run: &Run, beat: Option<&AtomicU64>) {
        self.ok += run.records;
        self.bytes += run.written as u64;
        // One beat for the run: it only says the output makes progress.
        if let Some(beat) = beat {
            stats::bump_owned(beat);
        }
    }
}

/// Records [`Sink::write_run`] wrote.
#[derive(Default)]
struct Run {
    /// How many.
    records: u64,
    /// The bytes of records they were.
    used: usize,
    /// The bytes of lines they made.
    written: usize,
}

impl Sink {
    pub(crate) fn new(output: Box<dyn Output>, format: LineFormat, context: &[u8]) -> Sink {
        let entries_are_progress = !output.reports_progress();
        Sink {
            output,
            format,
            context: context.into(),
            last_reported: Vec::new(),
            reported_drops: 0,
            lost_unreported: 0,
            reported_for: [0; Reason::ALL.len()],
            failing: false,
            entries_are_progress,
            partial: Vec::new(),
            unreadable: false,
            partial_shrink: Shrink::default(),
            merge: Merge::default(),
            cuts: Vec::new(),
            refined: Instant::now(),
            warned: None,
            cut: None,
            clock: None,
            clock_held: false,
        }
    }

    /// Writes every queued entry; returns how many bytes of records that
    /// was. The caller holds the output lock.
    pub(crate) fn drain(
        &mut self,
        queue: &Queue,
        report: &Report<'_>,
        warnings: Warnings,
    ) -> usize {
        if self.refined.elapsed() >= Duration::from_secs(1) {
            clock::refine();
            self.refined = Instant::now();
        }
        // Taken (or renewed) just before the rings' extents are read: every
        // record drained is older than its pair, or a little newer, and
        // converted at the same rate either way.
        let clock = self.clock();
        // The time of the cut, which the pass's drop warnings show: they
        // follow its records, which are older, and come before what the
        // next pass drains, which is newer.
        let cut = clock::read();
        let mut drained = 0;
        let mut tally = Tally::default();
        // Several threads' records are copied out and written in time
        // order (see `merge`); one thread's are written straight from its
        // ring.
        let mut merging = false;
        let mut cuts = std::mem::take(&mut self.cuts);
        // SAFETY: the caller holds the output lock, under which every drain
        // of this queue runs.
        unsafe {
            queue.drain(&mut cuts, |part| match part {
                Drained::Start(threads) => {
                    merging = threads > 1;
                    0
                }
                Drained::Bytes(bytes) => {
                    drained += bytes.len();
                    if merging {
                        self.merge.push(bytes)
                    } else {
                        self.write_records(bytes, &clock, report, &mut tally)
                    }
                }
                // The end of a ring ends any record split across its wrap.
                Drained::RingEnd => {
                    self.partial.clear();
                    self.unreadable = false;
                    0
                }
                Drained::ThreadEnd => {
                    if merging {
                        self.merge.end_thread();
                    }
                    0
                }
            })
        };
        self.cuts = cuts;
        if merging {
            let mut merge = std::mem::take(&mut self.merge);
            // Runs of whole records: nothing is left in `partial`.
            merge.write(&clock, |run| {
                self.write_whole(run, &clock, report, &mut tally);
            });
            self.merge = merge;
        }
        stats::add(&report.stats.written, tally.ok);
        // Counted once a pass, not with an atomic add per entry.
        stats::add(&report.stats.bytes, tally.bytes);
        self.count_lost(report);
        self.cut = Some(cut);
        let dated = match warnings {
            Warnings::Now => Some(cut),
            Warnings::At(time) => Some(time),
            // One warning a `WARNING_INTERVAL` at most, not one a pass,
            // which under a flood of drops is thousands a second; the rest
            // is written once the worker idles, or at `sync` or `close`.
            Warnings::Paced => self
                .warned
                .is_none_or(|at| at.elapsed() >= WARNING_INTERVAL)
                .then_some(cut),
        };
        if let Some(time) = dated {
            self.announce_drops(report, time);
        }
        drained
    }

    /// Writes the warnings of drops not announced yet, dated `time` (a
    /// reading of `clock::read`), unless the output is failing (they wait
    /// for its recovery then): what a drain does after its entries, for a
    /// logger without a queue too. Whether it wrote any.
    pub(crate) fn announce_drops(&mut self, report: &Report<'_>, time: (u16, u64)) -> bool {
        !self.failing && self.report_drops(report, time)
    }

    /// The warnings a drain held back (see [`WARNING_INTERVAL`]), dated
    /// at its cut; whether it wrote any.
    fn announce_held_drops(&mut self, report: &Report<'_>) -> bool {
        let cut = self.cut.unwrap_or_else(clock::read);
        self.announce_drops(report, cut)
    }

    /// The counter an entry taken by the output bumps as its progress
    /// (which bounded waits watch): none for an output that reports its
    /// progress itself as its writer takes bytes (a stream: its lines only
    /// wait in its buffer until a write-out), nor while the output fails.
    /// Otherwise a writer that never takes a byte (a full non-blocking
    /// pipe) would seem to progress as long as entries come, and `sync`,
    /// `close` and the exit would wait for it without end.
    #[inline]
    fn beat<'r>(&self, report: &Report<'r>) -> Option<&'r AtomicU64> {
        (self.entries_are_progress && !self.failing).then_some(report.beat)
    }

    /// Counts the entries the output has given up on since the last call.
    fn count_lost(&mut self, report: &Report<'_>) {
        let lost = self.output.take_lost();
        self.add_lost(lost, report);
    }

    /// Counts `lost`, entries the output has given up on.
    fn add_lost(&mut self, lost: Lost, report: &Report<'_>) {
        if lost.entries != 0 {
            // Counted written when the output accepted them; it has given
            // up on delivering them since.
            stats::add(&report.stats.dropped, lost.entries);
            self.lost_unreported += lost.entries;
            stats::take_back(&report.stats.written, lost.entries);
            stats::take_back(&report.stats.bytes, lost.bytes);
            self.failing = true;
        }
    }

    /// Writes every whole record in `bytes`, joining a record split across
    /// slices in `partial`; returns how many records it passed on (for
    /// `Ring::drain_to` to free).
    fn write_records(
        &mut self,
        mut bytes: &[u8],
        clock: &Converter,
        report: &Report<'_>,
        tally: &mut Tally,
    ) -> u64 {
        let mut records = 0;
        if self.unreadable {
            return 0;
        }
        if !self.partial.is_empty() {
            let need = if self.partial.len() >= 4 {
                record::record_len(&self.partial).unwrap_or(0)
            } else {
                let take = (4 - self.partial.len()).min(bytes.len());
                self.partial.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if self.partial.len() < 4 {
                    return 0;
                }
                record::record_len(&self.partial).unwrap_or(0)
            };
            if need == 0 {
                // Not a record: give up on this ring's bytes.
                self.partial.clear();
                self.unreadable = true;
                return 0;
            }
            let take = (need - self.partial.len()).min(bytes.len());
            self.partial.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.partial.len() < need {
                return 0;
            }
            let whole = std::mem::take(&mut self.partial);
            let written = self.write_record(&whole, clock, report);
            tally.count(written, self.beat(report));
            records += 1;
            self.partial = whole;
            let used = self.partial.len();
            self.partial.clear();
            self.partial_shrink
                .after_use(&mut self.partial, used, 64 << 10);
        }
        records + self.write_whole(bytes, clock, report, tally)
    }

    /// [`Sink::write_records`] after the record it put together: writes
    /// the whole records `bytes` starts with, and keeps a record cut at
    /// its end in `partial`.
    fn write_whole(
        &mut self,
        mut bytes: &[u8],
        clock: &Converter,
        report: &Report<'_>,
        tally: &mut Tally,
    ) -> u64 {
        let mut records = 0;
        while !bytes.is_empty() {
            let run = self.write_run(bytes, clock);
            if run.records != 0 {
                tally.add_run(&run, self.beat(report));
                records += run.records;
                bytes = &bytes[run.used..];
                continue;
            }
            match record::record_len(bytes) {
                Some(len) if len <= bytes.len() => {
                    let written = self.write_general(&bytes[..len], clock, report);
                    tally.count(written, self.beat(report));
                    records += 1;
                    bytes = &bytes[len..];
                }
                Some(_) => {
                    self.partial.extend_from_slice(bytes);
                    return records;
                }
                None if bytes.len() < 4 => {
                    self.partial.extend_from_slice(bytes);
                    return records;
                }
                // Not a record: the rest of this ring's bytes cannot be
                // read.
                None => {
                    self.unreadable = true;
                    return records;
                }
            }
        }
        records
    }

    /// Writes the whole records at the start of `bytes` that go straight
    /// into the output's line buffer (see `Output::line_buffer`), for as
    /// long as they follow each other and the buffer has room: plain JSON
    /// records (see `record::Plain` and `LineFormat::plain_json`), and
    /// lines its callers formatted. Stops, with nothing written for it, at
    /// the first record that takes the general path
    /// ([`Sink::write_general`]).
    ///
    /// Not guarded: it runs velo's formatting alone, and the buffer has
    /// room, so the user's writer is not called.
    #[inline(always)]
    fn write_run(&mut self, bytes: &[u8], clock: &Converter) -> Run {
        let mut run = Run::default();
        // A look at the first record's flags first: a run of records that
        // take the general path is not worth asking the output about.
        match record::line_or_plain(bytes) {
            Some(true) => {}
            Some(false) if self.format.has_plain_lines() => {}
            _ => return run,
        }
        let Some(lines) = self.output.line_buffer() else {
            return run;
        };
        let start = lines.buf.len();
        while lines.has_room() {
            let rest = &bytes[run.used..];
            let Some(len) = record::record_len(rest).filter(|&len| len <= rest.len()) else {
                break;
            };
            let record = &rest[..len];
            let before = lines.buf.len();
            if let Some(line) = record::line(record) {
                // A caller's line has no time to check.
                if !lines.takes_time(None) {
                    break;
                }
                lines.buf.extend_from_slice(line);
            } else {
                let Some(plain) = record::Plain::read(record) else {
                    break;
                };
                let time = clock.shown(plain.flags, plain.time);
                if !lines.takes_time(time)
                    || !self
                        .format
                        .plain_json(plain.site, time, plain.values, lines.buf)
                {
                    break;
                }
            }
            if lines.buf.len() > lines.fit {
                lines.buf.truncate(before);
                break;
            }
            run.used += len;
            run.records += 1;
        }
        run.written = lines.buf.len() - start;
        if run.records != 0 {
            self.output.lines_appended(run.written);
        }
        run
    }

    /// Writes one whole record; the bytes written, or `None` if it was not
    /// written (an error, already counted).
    pub(crate) fn write_record(
        &mut self,
        bytes: &[u8],
        clock: &Converter,
        report: &Report<'_>,
    ) -> Option<usize> {
        let run = self.write_run(bytes, clock);
        if run.records != 0 {
            return Some(run.written);
        }
        self.write_general(bytes, clock, report)
    }

    /// Writes one whole record the way every output takes it, for a record
    /// [`Sink::write_run`] stopped at: a line its caller formatted through
    /// `Output::write_line`, any other record decoded as an `Event`.
    #[inline]
    fn write_general(
        &mut self,
        bytes: &[u8],
        clock: &Converter,
        report: &Report<'_>,
    ) -> Option<usize> {
        if let Some(line) = record::line(bytes) {
            return self.write_guarded(report, |output, _| output.write_line(line));
        }
        let Some(event) = Event::decode(bytes, clock) else {
            self.fail(
                io::Error::new(io::ErrorKind::InvalidData, "an entry could not be decoded"),
                report,
            );
            return None;
        };
        self.write_guarded(report, |output, format| output.write(&event, format))
    }

    /// Runs `write` on the output and the line format, guarded; the bytes
    /// it wrote, or `None` on an error (counted and reported).
    fn write_guarded(
        &mut self,
        report: &Report<'_>,
        write: impl FnOnce(&mut dyn Output, &mut LineFormat) -> io::Result<usize>,
    ) -> Option<usize> {
        let (output, format) = (&mut *self.output, &mut self.format);
        match guarded(|| write(output, format)) {
            Ok(n) => Some(n),
            Err(e) => {
                self.fail(e, report);
                None
            }
        }
    }

    /// The converter of records' times: one for [`CLOCK_FOR`], for the
    /// drains and the records written one at a time alike, so that
    /// records with the same time show the same time, and later ones a
    /// later time, whichever way they are written (each pairing of the
    /// clocks is off by tens of nanoseconds its own way).
    fn clock(&mut self) -> Converter {
        match self.clock {
            Some((clock, made))
                if self.clock_held || (made.elapsed() < CLOCK_FOR && clock.is_current()) =>
            {
                clock
            }
            _ => {
                let clock = Converter::now();
                self.clock = Some((clock, Instant::now()));
                clock
            }
        }
    }

    /// With `hold`, keeps the converter [`Sink::clock`] hands out, however
    /// old it gets, until called without: for records that must be
    /// converted alike (a caller's entry and the warnings written before
    /// it), which a thread preempted between them would otherwise see
    /// converted by two pairings of the clocks.
    pub(crate) fn hold_clock(&mut self, hold: bool) {
        self.clock_held = hold;
    }

    /// Writes one record of the caller's, counting it; the bytes the
    /// output took (`Some(0)`: it dropped the record at once, see
    /// `Output::write`), or `None` when it was not written.
    pub(crate) fn write_own(&mut self, bytes: &[u8], report: &Report<'_>) -> Option<usize> {
        let clock = self.clock();
        let n = self.write_record(bytes, &clock, report)?;
        stats::add(&report.stats.bytes, n as u64);
        stats::inc(&report.stats.written);
        if let Some(beat) = self.beat(report) {
            stats::bump_owned(beat);
        }
        Some(n)
    }

    /// At `close`, after the last delivery: counts what the output still
    /// holds undelivered as dropped (see `Output::give_up`).
    ///
    /// The output says so on stderr: no warning entry follows, which would
    /// only wait in the same output to be given up at the next close.
    pub(crate) fn give_up(&mut self, report: &Report<'_>) {
        // What was lost before is announced as usual.
        self.count_lost(report);
        let output = &mut self.output;
        if guarded(|| {
            output.give_up();
            Ok(())
        })
        .is_ok()
        {
            let before = self.lost_unreported;
            self.count_lost(report);
            let given_up = self.lost_unreported - before;
            self.lost_unreported = before;
            self.reported_drops += given_up;
        }
    }

    /// Names on stderr the entries a writer logged in the last round of a
    /// write no pass follows (see `Core::end_writing`), whose warning entry
    /// no pass would write: one written now would go through that writer,
    /// which would log again, in a round of its own.
    pub(crate) fn say_dropped_inside(&mut self, report: &Report<'_>) {
        let dropped = report.stats.dropped_for(Reason::Inside);
        let reported = &mut self.reported_for[Reason::Inside as usize];
        let n = dropped - *reported;
        if n == 0 {
            return;
        }
        *reported = dropped;
        self.reported_drops += n;
        crate::stdio::say(format_args!(
            "{} dropped: the log writer logged them while writing its own entries, round after round",
            crate::escape::entries_were(n)
        ));
    }

    /// How soon the output wants another flush (see `Output::retry_in`).
    pub(crate) fn retry_in(&self) -> Option<Duration> {
        self.output.retry_in()
    }

    /// The worker is about to sleep: every buffer of the sink and its
    /// output gives back what a large entry made it grow to.
    pub(crate) fn idle(&mut self, report: &Report<'_>) {
        if self.announce_held_drops(report) {
            self.flush(report);
        }
        self.partial_shrink.idle(&mut self.partial, 64 << 10);
        self.merge.idle();
        self.format.idle();
        self.output.idle();
    }

    pub(crate) fn flush(&mut self, report: &Report<'_>) {
        self.flush_with(report, false);
    }

    /// Flushes and waits, bounded, until the output has delivered what it
    /// holds (see `Output::deliver`): for `sync` and `close`.
    pub(crate) fn deliver(&mut self, report: &Report<'_>) {
        self.announce_held_drops(report);
        self.flush_with(report, true);
    }

    fn flush_with(&mut self, report: &Report<'_>, deliver: bool) {
        let recovered = match self.flush_output(deliver) {
            Ok(()) if self.output.healthy() => {
                Reported::recovered(&mut self.last_reported);
                std::mem::take(&mut self.failing)
            }
            Ok(()) => false,
            Err(e) => {
                self.fail(e, report);
                false
            }
        };
        // A logger without a worker drains nothing: count here too.
        self.count_lost(report);
        if recovered && !self.failing && self.report_drops(report, clock::read()) {
            // The warnings held back while the output failed: out now too,
            // so that an idle logger holds nothing unwritten. Once: if this
            // fails, they wait for the next flush that works.
            if let Err(e) = self.flush_output(deliver) {
                self.fail(e, report);
            }
            self.count_lost(report);
        }
    }

    /// The output's flush, or with `deliver` its bounded delivery, guarded.
    fn flush_output(&mut self, deliver: bool) -> io::Result<()> {
        let output = &mut self.output;
        if deliver {
            guarded(|| output.deliver())
        } else {
            guarded(|| output.flush())
        }
    }

    pub(crate) fn reopen(&mut self, report: &Report<'_>) -> Result<(), Error> {
        self.flush(report);
        let output = &mut self.output;
        guarded(|| output.reopen())
            .map_err(|e| Error::io(ErrorKind::File, "cannot reopen the log file", e))
    }

    /// In a forked child: forget what the parent buffered.
    pub(crate) fn after_fork(&mut self) {
        self.output.forget_buffered();
        self.partial.clear();
        self.unreadable = false;
    }

    fn fail(&mut self, e: io::Error, report: &Report<'_>) {
        stats::inc(&report.stats.write_errors);
        self.failing = true;
        let text = e.to_string();
        if Reported::news(&mut self.last_reported, &text, Instant::now()) {
            // Straight to the descriptor: never through `io::stderr()`'s
            // lock, and never panicking when stderr is gone.
            let text = crate::escape::for_stderr(&text);
            crate::stdio::say(format_args!("writing log output failed: {text}"));
        }
        *fork::lock(report.error) =
            Some(Error::io(ErrorKind::Write, "writing log output failed", e));
    }

    /// Writes one warning entry for entries dropped since the last one (two,
    /// when some were dropped by the queue and some by the output), dated
    /// `time` (a reading of `clock::read`); whether it wrote any. A warning
    /// the output refuses is announced again later (its count goes back to
    /// the unannounced ones).
    fn report_drops(&mut self, report: &Report<'_>, time: (u16, u64)) -> bool {
        let dropped = stats::get(&report.stats.dropped);
        if dropped <= self.reported_drops {
            return false;
        }
        let count = dropped - self.reported_drops;
        let lost = self.lost_unreported.min(count);
        // What no other warning announces: a full queue's.
        let mut queue_full = count - lost;
        let for_reason = Reason::ALL.map(|reason| {
            let n = (report.stats.dropped_for(reason) - self.reported_for[reason as usize])
                .min(queue_full);
            queue_full -= n;
            (Announces::For(reason), n)
        });
        let warnings = [(Announces::QueueFull, queue_full)]
            .into_iter()
            .chain(for_reason)
            .chain([(Announces::Lost, lost)]);
        let mut wrote = false;
        for (announces, n) in warnings {
            if n == 0 {
                continue;
            }
            let site = announces.site();
            let mut buf = Vec::with_capacity(64 + self.context.len());
            if self.context.is_empty() {
                record::begin(&mut buf, 0, site.level(), site.site());
            } else {
                record::begin(&mut buf, record::CONTEXT, site.level(), site.site());
                record::put_block(&mut buf, &self.context);
            }
            crate::value::Value::encode(&n, &mut crate::value::Encoder::new(&mut buf));
            record::finish(&mut buf);
            record::set_time(&mut buf, || time);
            match self.write_own(&buf, report) {
                None => break,
                Some(0) if self.output.writes_bytes() => {
                    // Dropped at once (syslog's full backlog): refused, so
                    // its count waits for the next warning rather than
                    // going with it. Whatever else the output lost
                    // meanwhile is counted as usual.
                    let mut lost = self.output.take_lost();
                    lost.entries = lost.entries.saturating_sub(1);
                    stats::take_back(&report.stats.written, 1);
                    self.add_lost(lost, report);
                    self.failing = true;
                    break;
                }
                Some(_) => {}
            }
            wrote = true;
            self.warned = Some(Instant::now());
            self.reported_drops += n;
            match announces {
                Announces::QueueFull => {}
                Announces::For(reason) => self.reported_for[reason as usize] += n,
                Announces::Lost => self.lost_unreported -= n,
            }
        }
        wrote
    }
}

/// Which drops a warning announces.
#[derive(Clone, Copy)]
enum Announces {
    /// Entries a full queue dropped, and any dropped for no other reason.
    QueueFull,
    /// Entries dropped for a [`Reason`] of their own.
    For(Reason),
    /// Entries the output gave up on.
    Lost,
}

impl Announces {
    fn site(self) -> &'static CallSite {
        match self {
            Announces::QueueFull => &DROPPED,
            Announces::For(Reason::Inside) => &INSIDE,
            Announces::For(Reason::Exiting) => &AT_EXIT,
            Announces::For(Reason::Panicked) => &PANICKED,
            Announces::For(Reason::Stuck) => &STUCK_OUTPUT,
            Announces::For(Reason::PanicHook) => &IN_PANIC_HOOK,
            Announces::For(Reason::Interrupted) => &INTERRUPTED,
            Announces::Lost => &LOST,
        }
    }
}

/// A logger's sink behind its lock.
pub(crate) struct OutputLock {
    core_id: u64,
    sink: Mutex<Sink>,
    /// The holder's [`local::this_thread`], 0 when the lock is free: tells
    /// a thread that it holds the lock already where its thread-locals
    /// cannot (an `exit` from inside the output runs `close` after they
    /// are destroyed).
    owner: AtomicUsize,
    /// Set in a forked child when another thread held the lock at the
    /// fork: it stays locked for good, and no one may wait for it.
    lost: AtomicBool,
    /// Times the lock was let go: with `beat`, its holder's progress.
    released: AtomicU64,
    /// Bumped for every entry written under the lock: a holder that keeps
    /// the lock for one long pass to a slow output is making progress, not
    /// stuck. Shared with the logger's worker, whose waits watch it too.
    beat: Arc<AtomicU64>,
    /// `released` when a caller gave up waiting for a holder that kept the
    /// lock for [`STUCK`] (`u64::MAX`: none did): until the holder lets go,
    /// callers do not wait.
    stuck_at: AtomicU64,
    /// Callers waiting for the lock: the worker lets them go first.
    waiting: AtomicUsize,
    /// The logger is closing: a worker waiting for the lock goes first.
    closing: AtomicBool,
    /// Threads waiting for the lock that go before the callers waiting:
    /// the worker once the logger closes, and `close`'s own last write
    /// ([`Wait::Closing`]). After `close` every entry is written by its
    /// caller, so while threads log the lock is always wanted, and `close`,
    /// which waits for the worker's last passes and then writes what raced
    /// with them, would wait for what those threads log after it.
    first: AtomicUsize,
}

/// A thread waiting for an output lock that goes before the callers
/// waiting, counted in `OutputLock::first` while this lives.
struct GoesFirst<'a>(&'a AtomicUsize);

impl<'a> GoesFirst<'a> {
    fn new(first: &'a AtomicUsize) -> GoesFirst<'a> {
        first.fetch_add(1, Ordering::Relaxed);
        GoesFirst(first)
    }
}

impl Drop for GoesFirst<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Who waits for an output lock, and how (see [`OutputLock::lock`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The worker, for a pass: it waits as long as it takes, since nothing
    /// waits on it that cannot give up.
    Worker,
    /// A thread writing itself (a full queue under `Overflow::Sync`,
    /// logging after `close`, `sync` and `close` themselves): it waits
    /// while the holder makes progress, and gives up after [`STUCK`]
    /// without any.
    Caller,
    /// `close`'s own last write, after the worker's last pass: as
    /// [`Wait::Caller`], but before the callers waiting (see
    /// `OutputLock::first`).
    Closing,
    /// The worker going idle (see `Sink::idle`): only if the lock is free
    /// now. A worker that waited here for a stuck writer's lock would be
    /// stuck outside a pass, where bounded waits do not watch it.
    Free,
}

/// The thread that is running the process's exit (see
/// [`exit_begins`]); 0 before.
static EXITING: AtomicUsize = AtomicUsize::new(0);

/// Notes that this thread is running the process's exit, before it closes
/// every logger: from then on, other threads do not start writing to an
/// output themselves (their entries are queued if there is room, else
/// dropped and counted), since the end of the process could cut such a
/// write, and a line, in half. Writes under way finish first: the close
/// waits for each output's lock.
pub(crate) fn exit_begins() {
    EXITING.store(local::this_thread(), Ordering::SeqCst);
}

/// Whether this thread is the one running the process's exit (velo's exit
/// handler ran on it).
pub(crate) fn this_thread_exits() -> bool {
    EXITING.load(Ordering::SeqCst) == local::this_thread()
}

/// Whether this thread may not start a write of its own because another
/// has begun the process's exit (see [`exit_begins`]). A thread inside an
/// output (a worker's last pass whose writer logs) still may: it is one
/// the exit's close waits for.
pub(crate) fn exit_forbids_writing() -> bool {
    // Relaxed: stored before the exiting thread's close took the output
    // lock, which a thread taking it later has seen let go.
    let exiting = EXITING.load(Ordering::Relaxed);
    exiting != 0
        && exiting != local::this_thread()
        && local::with_held(<[u64]>::is_empty).unwrap_or(true)
}

/// How long a holder of an output lock may keep it without letting go
/// before the callers waiting for it give up (as `Overflow::Block` gives up
/// on a worker that makes no progress).
pub(crate) const STUCK: Duration = Duration::from_secs(5);

impl std::fmt::Debug for OutputLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputLock").finish_non_exhaustive()
    }
}

/// The held output lock; while it lives, this thread is "writing" for the
/// logger (see [`local::is_writing`]).
pub(crate) struct SinkGuard<'a> {
    /// Let go in `drop`, while this thread is marked as letting go.
    sink: std::mem::ManuallyDrop<MutexGuard<'a, Sink>>,
    owner: &'a AtomicUsize,
    released: &'a AtomicU64,
    core_id: u64,
    /// This thread's output progress counter before this lock (see
    /// `local::swap_beat`), restored when it is let go.
    beat_before: Option<Arc<AtomicU64>>,
    _fork: fork::Guard,
}

impl Drop for SinkGuard<'_> {
    fn drop(&mut self) {
        // From here until the lock is let go this thread holds it but is
        // no longer recorded as its holder (see `OutputLock::lock`).
        let before = local::acquiring(Some(self.core_id));
        // Relaxed: read only to compare with the reader's own id, which no
        // other thread stores; cleared before the lock is let go.
        self.owner.store(0, Ordering::Relaxed);
        self.released.fetch_add(1, Ordering::Relaxed);
        local::swap_beat(self.beat_before.take());
        local::done_writing(self.core_id);
        // A hold ends with the lock, whatever left it unended (a panic).
        self.sink.clock_held = false;
        // SAFETY: dropped once, here, and not used after.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.sink) };
        local::acquiring(before);
    }
}

impl std::ops::Deref for SinkGuard<'_> {
    type Target = Sink;
    fn deref(&self) -> &Sink {
        &self.sink
    }
}

impl std::ops::DerefMut for SinkGuard<'_> {
    fn deref_mut(&mut self) -> &mut Sink {
        &mut self.sink
    }
}

impl OutputLock {
    pub(crate) fn new(core_id: u64, sink: Sink, beat: Arc<AtomicU64>) -> OutputLock {
        OutputLock {
            core_id,
            sink: Mutex::new(sink),
            owner: AtomicUsize::new(0),
            lost: AtomicBool::new(false),
            released: AtomicU64::new(0),
            beat,
            stuck_at: AtomicU64::new(u64::MAX),
            waiting: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            first: AtomicUsize::new(0),
        }
    }

    /// Whether this thread holds the lock: what `local::is_writing` says
    /// while the thread's thread-locals exist, and after too (in the exit's
    /// handler).
    pub(crate) fn held_here(&self) -> bool {
        // Relaxed: only this thread stores its own id (see `hold`). An id
        // of 0 is unknown (off unix, once the thread-locals are gone),
        // and 0 is also a free lock's.
        let this = local::this_thread();
        this != 0 && self.owner.load(Ordering::Relaxed) == this
    }

    /// Locks the sink, or `None` when this thread already holds it (logging
    /// from inside the output), when it was lost in a fork (see
    /// [`OutputLock::is_lost`]), or for a caller (see [`Wait`]) when the
    /// holder is stuck.
    pub(crate) fn lock(&self, wait: Wait) -> Option<SinkGuard<'_>> {
        if local::is_writing(self.core_id)
            || self.is_lost()
            || self.held_here()
            // A signal handler that interrupted this thread as it took or
            // let go of the lock, which it may hold.
            || local::is_acquiring(self.core_id)
        {
            return None;
        }
        let fork = fork::guard();
        let before = local::acquiring(Some(self.core_id));
        let taken = self.take(wait);
        let guard = taken.map(|sink| self.hold(sink, fork));
        local::acquiring(before);
        guard
    }

    /// The lock, as [`OutputLock::lock`] takes it; `None` when it may not.
    fn take(&self, wait: Wait) -> Option<MutexGuard<'_, Sink>> {
        let sink = if local::holds_output_after(self.core_id) {
            // Inside a later logger's output (its writer logs here): the
            // thread holding this lock may be waiting for that one.
            self.lock_within(CROSS_WAIT)?
        } else {
            // A caller takes a free lock at once unless a thread that goes
            // first waits for it (see `first`).
            let tried = if wait == Wait::Caller && self.first.load(Ordering::Relaxed) != 0 {
                Err(std::sync::TryLockError::WouldBlock)
            } else {
                self.sink.try_lock()
            };
            match tried {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                // Recorded only when this thread has to wait (see `WAITS`).
                Err(std::sync::TryLockError::WouldBlock) => {
                    match (wait, Waiting::start(self.core_id)) {
                        (Wait::Worker, _waiting) => {
                            // A caller waiting gets the lock first: it is doing
                            // the worker's job already. Not once the logger
                            // closes (see `closing`).
                            for _ in 0..64 {
                                if self.waiting.load(Ordering::Relaxed) == 0
                                    || self.closing.load(Ordering::Relaxed)
                                {
                                    break;
                                }
                                std::thread::yield_now();
                            }
                            let _first = self
                                .closing
                                .load(Ordering::Relaxed)
                                .then(|| GoesFirst::new(&self.first));
                            self.sink.lock().unwrap_or_else(PoisonError::into_inner)
                        }
                        (Wait::Caller, _waiting) => self.lock_unless_stuck(false)?,
                        (Wait::Closing, _waiting) => self.lock_unless_stuck(true)?,
                        (Wait::Free, _) => return None,
                    }
                }
            }
        };
        if matches!(wait, Wait::Caller | Wait::Closing) && exit_forbids_writing() {
            return None;
        }
        Some(sink)
    }

    /// Records this thread as the holder of the lock it took.
    fn hold<'a>(&'a self, sink: MutexGuard<'a, Sink>, fork: fork::Guard) -> SinkGuard<'a> {
        self.owner.store(local::this_thread(), Ordering::Relaxed);
        local::start_writing(self.core_id);
        SinkGuard {
            sink: std::mem::ManuallyDrop::new(sink),
            owner: &self.owner,
            released: &self.released,
            core_id: self.core_id,
            beat_before: local::swap_beat(Some(Arc::clone(&self.beat))),
            _fork: fork,
        }
    }

    /// In a forked child: the threads that waited for the lock in the
    /// parent are not here. (One counted in `first` would keep this
    /// process's callers off the lock for good.)
    pub(crate) fn forget_waiters(&self) {
        self.first.store(0, Ordering::Relaxed);
        self.waiting.store(0, Ordering::Relaxed);
    }

    /// The logger is closing: from now on a worker waiting for the lock
    /// gets it before the callers waiting (see `closing`).
    pub(crate) fn closing(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    /// Notes that the holder of the lock is stuck (a wait for the worker,
    /// which holds it for its passes, gave up): callers do not wait for it
    /// until it lets go.
    pub(crate) fn mark_stuck(&self) {
        // Relaxed: see `lock_unless_stuck`.
        self.stuck_at.store(self.progress(), Ordering::Relaxed);
    }

    /// Whether the holder of the lock was found stuck and has neither let
    /// go nor written anything since.
    pub(crate) fn is_stuck(&self) -> bool {
        self.stuck_at.load(Ordering::Relaxed) == self.progress()
    }

    /// The holder's progress: releases of the lock plus beats.
    fn progress(&self) -> u64 {
        // Relaxed: counters compared for change.
        self.released
            .load(Ordering::Relaxed)
            .wrapping_add(self.beat.load(Ordering::Relaxed))
    }

    /// The counter the writers of this output bump (see
    /// `stats::bump_owned`).
    pub(crate) fn beat(&self) -> &AtomicU64 {
        &self.beat
    }

    /// Waits for the sink while its holder lets go of it now and then;
    /// `None` once the holder has kept it for [`STUCK`] (a writer blocked
    /// for good: a full pipe nobody reads), and from then on at once, until
    /// the holder lets go. While a thread that goes `first` waits (see
    /// `OutputLock::first`), the others do not take the lock.
    #[cold]
    fn lock_unless_stuck(&self, first: bool) -> Option<MutexGuard<'_, Sink>> {
        // Relaxed: counters compared for change; the mutex orders the rest.
        let mut seen = self.progress();
        if self.stuck_at.load(Ordering::Relaxed) == seen {
            return None;
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _first = first.then(|| GoesFirst::new(&self.first));
        let mut since = Instant::now();
        let mut spins = 0u32;
        let guard = loop {
            // Relaxed: a stale look costs one try more or one less.
            if first || self.first.load(Ordering::Relaxed) == 0 {
                match self.sink.try_lock() {
                    Ok(guard) => break Some(guard),
                    Err(std::sync::TryLockError::Poisoned(e)) => break Some(e.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => {}
                }
            }
            if spins < 256 {
                spins += 1;
                std::thread::yield_now();
            } else {
                pause(Duration::from_micros(50));
            }
            let now = self.progress();
            if now != seen {
                seen = now;
                since = Instant::now();
            } else if since.elapsed() >= STUCK {
                self.stuck_at.store(seen, Ordering::Relaxed);
                break None;
            }
        };
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        guard
    }

    /// Locks the sink if it comes free within `patience`, giving up at once
    /// when its holder waits for an output this thread holds (the two
    /// would wait for each other for good). Once it gave up, this thread
    /// does not wait for it again until it has released the output locks
    /// it holds: each of its entries here would cost the wait.
    #[cold]
    fn lock_within(&self, patience: Duration) -> Option<MutexGuard<'_, Sink>> {
        let start = Instant::now();
        let patience = if local::gave_up_on(self.core_id) {
            Duration::ZERO
        } else {
            patience
        };
        loop {
            match self.sink.try_lock() {
                Ok(guard) => return Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => return Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock)
                    if start.elapsed() < patience && !Waiting::is_cycle(self.core_id) =>
                {
                    pause(Duration::from_micros(50));
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    local::give_up_on(self.core_id);
                    return None;
                }
            }
        }
    }

    /// The sink without the fork guard, in a forked child's handler (which
    /// holds the fork locks exclusively); `None`, and the output marked
    /// lost, if another thread held the lock at the fork.
    pub(crate) fn lock_in_child(&self) -> Option<MutexGuard<'_, Sink>> {
        match self.sink.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {
                // Relaxed: the child has one thread.
                self.lost.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    /// Whether the output was lost in a fork: nothing can be written to it
    /// in this process any more.
    pub(crate) fn is_lost(&self) -> bool {
        // Relaxed: set before any thread of the child exists.
        self.lost.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_news_once_while_failing_and_again_a_while_after_recovering() {
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let mut last = Vec::new();
        let news =
            |last: &mut Vec<Reported>, text: &str, secs| Reported::news(last, text, at(secs));
        let recover = |last: &mut Vec<Reported>| Reported::recovered(last);
        assert!(news(&mut last, "disk on fire", 0));
        // Failing on, for longer than the interval: never again.
        assert!(!news(&mut last, "disk on fire", 1));
        assert!(!news(&mut last, "disk on fire", 120));
        // Another error is news at once; the first one, back while the
        // output still fails, is not.
        assert!(news(&mut last, "pipe broken", 121));
        assert!(!news(&mut last, "disk on fire", 122));
        assert!(!news(&mut last, "pipe broken", 123));
        // Past the errors remembered, the oldest is news again.
        for n in 0..REPORTED_KEPT - 1 {
            assert!(news(&mut last, &format!("other {n}"), 124));
        }
        assert!(news(&mut last, "disk on fire", 125));
        // Worked, then the same error within the interval: not news, and
        // failing from then on is consecutive again, however long it lasts.
        recover(&mut last);
        assert!(!news(&mut last, "disk on fire", 150));
        assert!(!news(&mut last, "disk on fire", 400));
        // Worked, then the same error after the interval: news.
        recover(&mut last);
        assert!(news(&mut last, "disk on fire", 401));
    }
}
