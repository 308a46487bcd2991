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
//! (`Output::takes_lines`: a stream, a file) and records written in place
//! in the ring; the line is made by the same code in the same style as the
//! worker's. Formatting runs velo's code alone (the user's `Display` and
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
/// logger `core_id`. Leaves the record as it is when the line would not fit
/// the slot, the record is long, or this thread's formatters are in use (a
/// signal handler's entry) or gone (the thread is exiting).
pub(crate) fn rewrite(core_id: u64, style: Style, slot: &mut Slot) {
    if slot.len() <= HEADER || slot.len() > MAX_RECORD {
        // A record without values makes a line of static parts, which
        // the worker copies as cheaply as it would copy the line.
        return;
    }
    let _ = FORMATTERS.try_with(|formatters| {
        let Ok(mut formatters) = formatters.try_borrow_mut() else {
            return;
        };
        match formatters.iter().position(|f| f.core_id == core_id) {
            Some(i) => formatters[..=i].rotate_right(1),
            None => {
                formatters.truncate(KEPT - 1);
                formatters.insert(0, Formatter::new(core_id, style));
            }
        }
        formatters[0].rewrite(slot);
    });
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

    fn rewrite(&mut self, slot: &mut Slot) {
        let record = slot.written();
        let Some(&header) = record.first_chunk::<HEADER>() else {
            return;
        };
        let flags = u16::from_le_bytes([header[4], header[5]]);
        let time = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        if flags & record::WALL_TIME == 0 && !self.clock.is_fresh_for(time) {
            self.clock = Converter::now();
        }
        self.line.clear();
        if !self.format_record(record) || HEADER + self.line.len() > slot.room() {
            return;
        }
        slot.clear();
        let fits = slot.put(&record::line_header(&header, self.line.len())) && slot.put(&self.line);
        debug_assert!(fits, "the line was checked against the slot's room");
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
