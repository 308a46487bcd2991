//! Lines formatted on the caller's thread while the worker is behind.
//!
//! A caller normally hands its entry over as a record of raw values, and
//! the worker formats the line: escaping, numbers and the calendar run on
//! the worker's core, not the caller's. When a thread logs faster than the
//! worker formats, though, the worker is the bottleneck: its ring fills,
//! and the caller's core idles between waits for room (or drops, or writes
//! synchronously, as its `Overflow` says) while there is work it could do.
//!
//! So a caller whose ring the worker found behind at its last drain
//! (`Ring::worker_behind`) formats its entry's line itself, with a
//! [`LineFormat`] of its own for that logger, and hands the worker a
//! [`record::LINE`] record, which the worker copies out as it is. Both
//! cores then format, and the split settles by itself: the more lines the
//! callers format, the sooner the worker catches up and tells them to
//! stop. An entry goes into the same place in its ring as its record
//! would have, with the same header (level, site, flags), dated a copy
//! before it is published as a record is (see [`Formatter::line_record`]),
//! so order, the merge of threads, the counts and every overflow strategy
//! are unchanged.
//!
//! Only for loggers whose output writes lines as they are
//! (`Output::takes_lines`: a stream, a file) in velo's JSON schema
//! ([`formats`]), and for plain records: a call site's values alone, with
//! no context, scope, template, target, `every:` count or backtrace (what
//! the worker formats without decoding an `Event`, `LineFormat::plain_json`).
//! Those are the records whose formatting allocates nothing once the
//! thread's formatter has the site's head: the caches of context and scope
//! blocks would allocate for every new block, and a request's context is
//! new at every request. Records with no values are left too (a line of
//! static parts costs the worker a copy either way). A record written in
//! place in the ring is rewritten there ([`rewrite`]); one encoded in the
//! thread's buffer (a `%` or `?` field) is pushed as its line
//! ([`push_line`]; a line the ring has no room for goes in as its record).
//! The line is made by the same code in the same style as the worker's.
//!
//! Formatting runs velo's code alone (the user's `Display` and `Value`
//! impls ran when the record was encoded), inside the thread's busy
//! section. It allocates when a thread first formats for a logger (its
//! formatter) and for a call site (the site's head), and when a line is
//! longer than any before; never in steady state, as long as a thread
//! formats for at most [`KEPT`] loggers.

use crate::clock::{self, Converter};
use crate::event::Event;
use crate::line::LineFormat;
use crate::options::{Schema, Style};
use crate::record::{self, Slot, HEADER};
use std::cell::RefCell;

/// The loggers a thread keeps a formatter for, at most; beyond them the
/// one used least recently is dropped (and made again when needed).
const KEPT: usize = 16;

/// Whether callers format lines in `style` (see the module docs): velo's
/// JSON schema.
pub(crate) fn formats(style: &Style) -> bool {
    !style.text && style.schema == Schema::Velo
}

/// The longest record a caller formats: a longer one is left to the
/// worker, so that a thread's line buffer stays small.
const MAX_RECORD: usize = 1024;

thread_local! {
    /// This thread's formatters, the one used last first.
    static FORMATTERS: RefCell<Vec<Formatter>> = const { RefCell::new(Vec::new()) };
}

/// One thread's formatter for one logger.
struct Formatter {
    /// The logger's core.
    core_id: u64,
    format: LineFormat,
    /// Converts this thread's TSC readings; made again once stale.
    clock: Converter,
    line: Vec<u8>,
    /// A line's opening, written last (see [`Formatter::line_record`]).
    open: Vec<u8>,
}

/// Room for the longest opening of a line: `{`, the time's key and the
/// time with nanoseconds and a zone's offset.
const OPEN_MAX: usize = 64;

/// Rewrites the record in `slot` (complete and dated) as a [`record::LINE`]
/// record with its line in `style`, by this thread's formatter for the
/// logger `core_id`; leaves it as it is when the line would not fit the
/// slot, or there is none (see [`with_formatter`]).
pub(crate) fn rewrite(core_id: u64, style: Style, slot: &mut Slot) {
    with_formatter(core_id, style, slot.len(), |f| {
        let line = f.line_record(slot.written())?;
        if line.len() <= slot.room() {
            slot.clear();
            let fits = slot.put(line);
            debug_assert!(fits, "the line was checked against the slot's room");
        }
        Some(())
    });
}

/// Pushes, with `push`, the [`record::LINE`] record made from `record`
/// (one whole record, complete and dated) in `style` by this thread's
/// formatter for the logger `core_id`; what `push` returned, or `None`,
/// without calling it, when there is no line (see [`with_formatter`]).
pub(crate) fn push_line(
    core_id: u64,
    style: Style,
    record: &[u8],
    push: impl FnOnce(&[u8]) -> bool,
) -> Option<bool> {
    with_formatter(core_id, style, record.len(), |f| {
        f.line_record(record).map(push)
    })
}

/// Runs `f` with this thread's formatter for the logger `core_id` (made
/// now, in `style`, if it has none), for a record of `len` bytes; `None`
/// when there is nothing to format: the record has no values or is long (see
/// [`MAX_RECORD`]), or this thread's formatters are in use (a signal
/// handler's entry) or gone (the thread is exiting).
fn with_formatter<R>(
    core_id: u64,
    style: Style,
    len: usize,
    f: impl FnOnce(&mut Formatter) -> Option<R>,
) -> Option<R> {
    if len <= HEADER || len > MAX_RECORD {
        // A record without values makes a line of static parts, which
        // the worker copies as cheaply as it would copy the line.
        return None;
    }
    FORMATTERS
        .try_with(|formatters| {
            let mut formatters = formatters.try_borrow_mut().ok()?;
            match formatters.iter().position(|f| f.core_id == core_id) {
                Some(i) => formatters[..=i].rotate_right(1),
                None => {
                    formatters.truncate(KEPT - 1);
                    formatters.insert(0, Formatter::new(core_id, style));
                }
            }
            f(&mut formatters[0])
        })
        .ok()
        .flatten()
}

impl Formatter {
    #[cold]
    fn new(core_id: u64, style: Style) -> Formatter {
        Formatter {
            core_id,
            format: LineFormat::new(style),
            clock: Converter::now(),
            // Room for the line of almost any record up to `MAX_RECORD`.
            line: Vec::with_capacity(4 * MAX_RECORD),
            open: Vec::with_capacity(2 * OPEN_MAX),
        }
    }

    /// The [`record::LINE`] record of `record`, a plain record: its header,
    /// marked, and its line; `None` for any other record.
    ///
    /// The line is formatted before it is dated: its head and values go in
    /// first, after room for the header and the line's opening, and the
    /// record is dated once they are (as `clock::stamp` dates a record as
    /// it goes into the ring), its opening with the time written last, in
    /// front of them. So the time is read a copy before the line is
    /// published, as for a record, and the worker, which writes the
    /// threads' entries in the order of their times, still writes them in
    /// the order they were published.
    fn line_record(&mut self, record: &[u8]) -> Option<&[u8]> {
        let &header = record.first_chunk::<HEADER>()?;
        let plain = record::Plain::read(record)?;
        if plain.site.is_template() || plain.site.target().is_some() {
            return None;
        }
        self.line.clear();
        self.line.resize(HEADER + OPEN_MAX, 0);
        let rest = self.line.len();
        if !self
            .format
            .plain_json_rest(plain.site, plain.values, &mut self.line)
        {
            return self.first_line(record, header);
        }
        let mut header = header;
        record::set_time(&mut header, clock::read);
        let flags = u16::from_le_bytes([header[4], header[5]]);
        let time = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        self.refresh_clock(flags, time);
        self.open.clear();
        self.format
            .json_open(self.clock.shown(flags, time), &mut self.open);
        let start = (HEADER + OPEN_MAX).checked_sub(HEADER + self.open.len())?;
        self.line[start + HEADER..rest].copy_from_slice(&self.open);
        let line_len = self.line.len() - start - HEADER;
        self.line[start..start + HEADER].copy_from_slice(&record::line_header(&header, line_len));
        Some(&self.line[start..])
    }

    /// The [`record::LINE`] record of a plain record whose site's head this
    /// formatter has not made yet: formatted in full, with the time it was
    /// dated with, which keeps the head for the site's next lines.
    #[cold]
    fn first_line(&mut self, record: &[u8], header: [u8; HEADER]) -> Option<&[u8]> {
        let flags = u16::from_le_bytes([header[4], header[5]]);
        let time = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        self.refresh_clock(flags, time);
        self.line.clear();
        self.line.extend_from_slice(&header);
        let event = Event::decode(record, &self.clock)?;
        self.format.write(&event, &mut self.line);
        let line_header = record::line_header(&header, self.line.len() - HEADER);
        self.line[..HEADER].copy_from_slice(&line_header);
        Some(&self.line)
    }

    /// Makes the converter again if it is stale for a record dated `time`.
    #[inline]
    fn refresh_clock(&mut self, flags: u16, time: u64) {
        if flags & record::WALL_TIME == 0 && !self.clock.is_fresh_for(time) {
            self.clock = Converter::now();
        }
    }
}
