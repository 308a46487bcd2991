//! A user's [`Appender`] as an output: each entry decoded into a
//! [`Record`] and handed over, on the worker.
//!
//! The appender's calls are guarded here, as a stream guards its writer:
//! a panic becomes this output's error, so that the outputs beside it
//! (`Builder::also`) go on.

use super::{guarded, Output};
use crate::appender::{Appender, Record};
use crate::event::{Event, ScopeIndex};
use crate::line::LineFormat;
use std::io;

/// The output of [`Builder::appender`](crate::Builder::appender).
pub(crate) struct Custom {
    appender: Box<dyn Appender>,
    /// The entry's message, filled in; reused.
    message: Vec<u8>,
    scope_index: ScopeIndex,
}

impl Custom {
    pub(crate) fn new(appender: Box<dyn Appender>) -> Custom {
        Custom {
            appender,
            message: Vec::new(),
            scope_index: ScopeIndex::default(),
        }
    }
}

impl Output for Custom {
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        self.message.clear();
        format.plain_message(ev, &mut self.message);
        // Valid UTF-8: the message and the values filled into it are
        // strings, numbers and times.
        let message = String::from_utf8_lossy(&self.message);
        self.scope_index.prepare(ev);
        let record = Record::new(ev, &message, &self.scope_index);
        let appender = &mut self.appender;
        crate::local::as_output_user_code(|| guarded(|| appender.append(&record)))?;
        // Handed over: the output's progress, as bytes a writer takes are
        // (bounded waits watch it; see `Sink::beat`).
        crate::local::wrote_some();
        // An appender writes no bytes of velo's (see `Output::writes_bytes`).
        Ok(0)
    }

    fn writes_bytes(&self) -> bool {
        false
    }

    fn reports_progress(&self) -> bool {
        true
    }

    fn flush(&mut self) -> io::Result<()> {
        let appender = &mut self.appender;
        crate::local::as_output_user_code(|| guarded(|| appender.flush()))
    }
}
