//! Where entries go: every output is an [`Output`], which the worker hands
//! each decoded entry to, in order.
//!
//! An output that writes bytes asks the [`LineFormat`] for the entry's line
//! (a stream of lines, a syslog frame); one that has fields of its own
//! (journald, OTLP) takes the level, message and typed values from the
//! [`Event`]. Either way the worker, not the caller, runs the output, and
//! it runs under the logger's output lock, one entry at a time.

use crate::event::Event;
use crate::line::LineFormat;
use std::io;

#[cfg(unix)]
mod journald;
mod stream;

#[cfg(unix)]
pub(crate) use journald::{Journald, SOCKET as JOURNALD_SOCKET};

pub(crate) use stream::{File, Stdio, Stream, TestWriter, BUFFER_SIZE as STREAM_BUFFER};

/// The interface the worker drains into.
pub(crate) trait Output: Send {
    /// Writes one entry; returns the bytes it took (for the statistics).
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize>;

    /// Writes out anything buffered.
    fn flush(&mut self) -> io::Result<()>;

    /// Reopens the output's file (after logrotate moved it); outputs
    /// without a file do nothing.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Discards what is buffered and not yet written: in a child process
    /// after `fork`, where the parent writes it.
    fn forget_buffered(&mut self) {}
}
