//! Building one record on the caller's thread: what the code `velo!`
//! generates calls.
//!
//! An enabled call site creates an [`Entry`] (the record's header: the
//! site's address and a raw clock reading, then the logger's context and
//! the thread's scope fields, copied), calls one method per field to record
//! its value, and finishes it, which hands the record to the logger. No
//! text is formatted here: the worker does that (see `record.rs`).

use crate::callsite::{CallSite, Site};
use crate::clock;
use crate::core::Core;
use crate::level::Level;
use crate::local;
use crate::logger::Logger;
use crate::record;
use crate::value::{Encoder, Value};
use std::fmt;

/// A record being encoded. Dropping it unfinished (a panic in a value's
/// `Display`) returns its buffer to its thread and writes nothing.
#[doc(hidden)]
#[derive(Debug)]
pub struct Entry<'a> {
    core: &'a Core,
    buf: Vec<u8>,
}

impl<'a> Entry<'a> {
    /// Starts a record for `logger` at call site `cs`.
    #[inline]
    pub fn new(logger: &'a Logger, cs: &'static CallSite) -> Entry<'a> {
        Entry::start(logger.core(), logger.context(), cs.site(), None)
    }

    /// Starts a record for a site under `every:` that skipped `suppressed`
    /// calls since its last entry.
    #[inline]
    pub fn with_suppressed(
        logger: &'a Logger,
        cs: &'static CallSite,
        suppressed: u64,
    ) -> Entry<'a> {
        let suppressed = (suppressed != 0).then_some(suppressed);
        Entry::start(logger.core(), logger.context(), cs.site(), suppressed)
    }

    // Not `#[inline]`: this is the bulk of an entry's code, and keeping it
    // out of line keeps every call site small.
    pub(crate) fn start(
        core: &'a Core,
        context: &[u8],
        site: &'static Site,
        suppressed: Option<u64>,
    ) -> Entry<'a> {
        let (mut flags, time) = if core.config.timestamp {
            clock::read()
        } else {
            (record::NO_TIME, 0)
        };
        if suppressed.is_some() {
            flags |= record::SUPPRESSED;
        }
        if !context.is_empty() {
            flags |= record::CONTEXT;
        }
        let (mut buf, scoped) = local::take();
        if scoped {
            flags |= record::SCOPE;
        }
        record::begin(&mut buf, flags, site.level, time, site);
        if let Some(n) = suppressed {
            record::put_u64(&mut buf, n);
        }
        if !context.is_empty() {
            record::put_block(&mut buf, context);
        }
        if scoped {
            local::append_scope(&mut buf);
        }
        let mut entry = Entry { core, buf };
        if core.config.backtrace.is_some_and(|l| site.level >= l) {
            entry.backtrace();
        }
        entry
    }

    /// Starts a record whose level, message and caller are known only at
    /// run time (a bridged `log` record or `tracing` event); its fields
    /// carry their keys ([`Entry::field`]).
    #[cfg_attr(
        not(any(feature = "log", feature = "tracing")),
        allow(dead_code, reason = "used by the bridges")
    )]
    pub(crate) fn dynamic(
        core: &'a Core,
        context: &[u8],
        head: &Dynamic<'_>,
        extra_context: &[u8],
    ) -> Entry<'a> {
        let (mut flags, time) = if core.config.timestamp {
            clock::read()
        } else {
            (record::NO_TIME, 0)
        };
        flags |= record::DYNAMIC;
        let (mut buf, scoped) = local::take();
        if !context.is_empty() || !extra_context.is_empty() {
            flags |= record::CONTEXT;
        }
        // Outside any scope, no visit to the thread's scope list.
        let scope = if scoped { local::scope() } else { Vec::new() };
        if !scope.is_empty() {
            flags |= record::SCOPE;
        }
        record::begin_dynamic(&mut buf, flags, head.level, time);
        // The message, formatted in place.
        let msg = record::open_untagged(&mut buf);
        let _ = fmt::Write::write_fmt(
            &mut record::StrWriter {
                buf: &mut buf,
                start: msg,
            },
            head.message,
        );
        record::close(&mut buf, msg);
        record::put_str(&mut buf, head.file);
        record::put_u32(&mut buf, head.line);
        record::put_str(&mut buf, head.module);
        record::put_str(&mut buf, head.target);
        if extra_context.is_empty() {
            if !context.is_empty() {
                record::put_block(&mut buf, context);
            }
        } else {
            // Span fields come after the logger's context, whose keys they
            // set take their place; copied in place, with no list between.
            let block = record::open_untagged(&mut buf);
            record::copy_fields_except(&mut buf, context, |k| record::has_key(extra_context, k));
            buf.extend_from_slice(extra_context);
            record::close(&mut buf, block);
        }
        if !scope.is_empty() {
            record::put_block(&mut buf, &scope);
        }
        let mut entry = Entry { core, buf };
        if core.config.backtrace.is_some_and(|l| head.level >= l) {
            entry.backtrace();
        }
        entry
    }

    #[cold]
    fn backtrace(&mut self) {
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        record::add_flag(&mut self.buf, record::BACKTRACE);
        Encoder::new(&mut self.buf).str(&caller_frames(&trace));
    }

    /// Writes a field through [`Value`].
    ///
    /// Out of line, like every field writer: one copy per value type, shared
    /// by all call sites, keeps each call site to one call per field.
    #[inline(never)]
    pub fn value<V: Value + ?Sized>(&mut self, value: &V) {
        value.encode(&mut Encoder::new(&mut self.buf));
    }

    /// Writes a field through `Display` (`key = %value`).
    #[inline]
    pub fn display<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        self.display_dyn(&value);
    }

    #[inline(never)]
    fn display_dyn(&mut self, value: &dyn fmt::Display) {
        Encoder::new(&mut self.buf).display(value);
    }

    /// Writes a field through `Debug` (`key = ?value`).
    #[inline]
    pub fn debug<V: fmt::Debug + ?Sized>(&mut self, value: &V) {
        self.debug_dyn(&value);
    }

    #[inline(never)]
    fn debug_dyn(&mut self, value: &dyn fmt::Debug) {
        Encoder::new(&mut self.buf).debug(value);
    }

    /// Writes a field of a dynamic record: its key, then its value.
    #[cfg_attr(
        not(any(feature = "log", feature = "tracing")),
        allow(dead_code, reason = "used by the bridges")
    )]
    pub(crate) fn field(&mut self, key: &str) -> Encoder<'_> {
        record::put_str(&mut self.buf, key);
        Encoder::new(&mut self.buf)
    }

    /// Appends fields of a dynamic record already encoded (keys and
    /// values), such as those a bridge met before the message.
    #[cfg_attr(
        not(feature = "tracing"),
        allow(dead_code, reason = "used by the tracing bridge")
    )]
    pub(crate) fn encoded_fields(&mut self, fields: &[u8]) {
        self.buf.extend_from_slice(fields);
    }

    /// Ends the record and hands it to the logger.
    #[inline]
    pub fn finish(mut self) {
        record::finish(&mut self.buf);
        let buf = std::mem::take(&mut self.buf);
        self.core.submit(buf);
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if self.buf.capacity() != 0 {
            local::give(std::mem::take(&mut self.buf));
        }
    }
}

/// What a dynamic record says about itself.
#[derive(Debug)]
pub(crate) struct Dynamic<'m> {
    pub(crate) level: Level,
    pub(crate) message: fmt::Arguments<'m>,
    pub(crate) file: &'m str,
    pub(crate) line: u32,
    pub(crate) module: &'m str,
    pub(crate) target: &'m str,
}

/// The frames of a captured backtrace from the caller of velo on: the
/// frames of the capture itself and of velo's entry code are dropped.
fn caller_frames(trace: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    // A frame is a `N: symbol` line followed by its `at file:line` line.
    let is_velo_frame = |l: &str| {
        let l = l.trim_start();
        l.contains("std::backtrace")
            || l.contains("velo::entry::")
            || l.contains("velo::__private")
            || l.contains("backtrace_rs")
    };
    let first = lines
        .iter()
        .rposition(|l| is_velo_frame(l))
        .map_or(0, |i| i + 1);
    let mut out = String::new();
    for line in &lines[first..] {
        let line = line.trim_start();
        if let Some(at) = line.strip_prefix("at ") {
            out.push_str(" (");
            out.push_str(at);
            out.push(')');
        } else {
            if !out.is_empty() {
                out.push('\n');
            }
            // `12: my_app::handler` -> `my_app::handler`
            let frame = line.split_once(": ").map_or(line, |(_, f)| f);
            out.push_str(frame);
        }
    }
    out
}
