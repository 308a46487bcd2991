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
//! would have, with the same header (time, level, site), so order, the
//! merge of threads, the counts and every overflow strategy are unchanged.
//!
//! Only for loggers whose output writes lines as they are
//! (`Output::takes_lines`: a stream, a file), and records with values (a
//! line of static parts costs the worker a copy either way), written in
//! place in the ring ([`rewrite`]) or encoded in the thread's buffer and
//! copied in ([`push_line`]; a line the ring has no room for goes in as
//! its record). The line is made by the same code in the same style as
//! the worker's. Formatting runs velo's code alone (the user's `Display` and
//! `Value` impls ran when the record was encoded), inside the thread's
//! busy section, and allocates only when a thread first formats for a
//! logger or a call site (the formatter's caches), not in steady state.

use crate::clock::Converter;
use crate::event::Event;
use crate::line::LineFormat;
use crate::options::Style;
use crate::record::{self, Slot, HEADER};
use std::cell::RefCell;

/// The loggers a thread keeps a formatter for, at most; beyond them the
/// one used least recently is dropped.
const KEPT: usize = 4;

/// The longest record a caller formats: a longer one is left to the
/// worker, so that a thread's line buffer stays small.
const MAX_RECORD: usize = 4 * 1024;

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
}

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
            line: Vec::with_capacity(512),
        }
    }

    /// The [`record::LINE`] record of `record`: its header, marked, and
    /// its line.
    fn line_record(&mut self, record: &[u8]) -> Option<&[u8]> {
        let &header = record.first_chunk::<HEADER>()?;
        let flags = u16::from_le_bytes([header[4], header[5]]);
        let time = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        if flags & record::WALL_TIME == 0 && !self.clock.is_fresh_for(time) {
            self.clock = Converter::now();
        }
        self.line.clear();
        self.line.extend_from_slice(&header);
        if !self.format_record(record) {
            return None;
        }
        let line_header = record::line_header(&header, self.line.len() - HEADER);
        self.line[..HEADER].copy_from_slice(&line_header);
        Some(&self.line)
    }

    /// Appends the line of `record` to `self.line` as the worker would
    /// write it (see `Sink::write_record`); `false` if it cannot be
    /// decoded (the worker will say so).
    fn format_record(&mut self, record: &[u8]) -> bool {
        if let Some(plain) = record::Plain::read(record) {
            let time = self.clock.shown(plain.flags, plain.time);
            if self
                .format
                .plain_json(plain.site, time, plain.values, &mut self.line)
            {
                return true;
            }
        }
        let Some(event) = Event::decode(record, &self.clock) else {
            return false;
        };
        self.format.write(&event, &mut self.line);
        true
    }
}
