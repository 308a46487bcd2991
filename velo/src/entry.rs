//! Building one record on the caller's thread: what the code `velo!`
//! generates calls.
//!
//! An enabled call site creates an [`Entry`] (the record's header: the
//! site's address and a raw clock reading, then the logger's context and
//! the thread's scope fields, copied), calls one method per field to record
//! its value, and finishes it, which hands the record to the logger. No
//! text is formatted here: the worker does that (see `record.rs`).
//!
//! A site of at most twelve fields and no `every:` makes one call instead,
//! which does all of that in one function: one copy per list of value
//! types, shared by the sites with that list. `Entry::logN`, for a site
//! whose fields all go through [`Value`], writes the record in place with
//! it held in registers rather than in an `Entry` in memory;
//! `Entry::bufferedN`, for a site with a `%` or `?` field (given as
//! `__private::Shown` and `Debugged` values), in the thread's buffer. A
//! site without fields calls [`Entry::emit`].

use crate::callsite::{CallSite, Site};
use crate::core::Core;
use crate::local::{self, Reserved};
use crate::logger::Logger;
use crate::record;
use crate::stats::Reason;
use crate::value::{Encoder, Value};
use std::fmt;
use std::mem::ManuallyDrop;

/// A record being encoded. Dropping it unfinished (a panic in a value's
/// `Display`) returns its buffer to its thread and writes nothing.
///
/// A record is written straight into its thread's ring when there is room
/// ([`local::reserve`]) while its values are numbers, booleans and strings
/// ([`Value::encode_in_place`]): no code of the user's runs then, so no
/// other entry can come between. Before the first value that runs the
/// user's code (`Display`, `Debug`, a user's `Value`), or one that does not
/// fit, the record so far moves to the thread's encoding buffer
/// ([`local::spill`]) and goes on there, as a site with a `%` or `?` field
/// does from the start.
#[doc(hidden)]
#[derive(Debug)]
pub struct Entry<'a> {
    core: &'a Core,
    /// The record, unless it is in the ring (`in_ring`). Dropped by
    /// `Entry`'s own `drop` (which gives it back to the thread), so that
    /// the drop glue at every call site is one call.
    buf: ManuallyDrop<Vec<u8>>,
    /// The record's room in this thread's ring, while it is written there.
    in_ring: Option<Reserved>,
}

/// The least room a record starts in place with, besides its header and
/// context: its values are usually shorter.
const IN_PLACE_MIN: usize = 128;

impl<'a> Entry<'a> {
    /// Starts a record for `logger` at call site `cs`.
    #[inline]
    pub fn new(logger: &'a Logger, cs: &'static CallSite) -> Entry<'a> {
        Entry::start::<true>(logger.core(), logger.context(), cs.site(), None)
    }

    /// Starts a record for `logger` at call site `cs`, a site with a field
    /// written through `Display` or `Debug`: in the thread's encoding buffer
    /// from the start, as the first such field would move it there.
    #[inline]
    pub fn buffered(logger: &'a Logger, cs: &'static CallSite) -> Entry<'a> {
        Entry::start::<false>(logger.core(), logger.context(), cs.site(), None)
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
        Entry::start::<true>(logger.core(), logger.context(), cs.site(), suppressed)
    }

    /// Writes the entry of a call site without fields: [`Entry::new`] and
    /// [`Entry::finish`] in one call, written in place and published with
    /// no [`Entry`] built at all.
    #[inline(never)]
    pub fn emit(logger: &'a Logger, cs: &'static CallSite) {
        let (core, context, site) = (logger.core(), logger.context(), cs.site());
        let mut entry = match Entry::begin(core, context, site, None) {
            // Without values: never a line its caller formats.
            Ok(reserved) => return core.commit_record(reserved),
            Err(entry) => entry,
        };
        entry.finish();
        // It holds nothing now.
        std::mem::forget(entry);
    }

    /// The entry begun in place by `Entry::logN` whose next value does not
    /// fit or would run the user's code, moved to the thread's buffer,
    /// where `Entry::restN` goes on with it.
    #[cold]
    #[inline(never)]
    fn spilled(core: &'a Core, reserved: Reserved) -> Entry<'a> {
        Entry {
            core,
            buf: ManuallyDrop::new(local::spill(reserved)),
            in_ring: None,
        }
    }

    // Not `#[inline]`: this is the bulk of an entry's code, and keeping it
    // out of line keeps every call site small. `IN_PLACE` is a parameter of
    // the type, not an argument, for the same reason (one argument more
    // would be a store at every call site).
    #[inline(never)]
    pub(crate) fn start<const IN_PLACE: bool>(
        core: &'a Core,
        context: &[u8],
        site: &'static Site,
        suppressed: Option<u64>,
    ) -> Entry<'a> {
        if IN_PLACE {
            return match Entry::begin(core, context, site, suppressed) {
                // Built in the return value: an entry built first and then
                // returned is built on the stack and copied.
                Ok(reserved) => Entry {
                    core,
                    buf: ManuallyDrop::new(Vec::new()),
                    in_ring: Some(reserved),
                },
                Err(entry) => entry,
            };
        }
        let mut flags = Entry::buffered_flags(core, context, suppressed);
        let (mut buf, scoped) = local::take();
        if scoped {
            flags |= record::SCOPE;
        }
        record::begin(&mut buf, flags, site.level, site);
        if let Some(n) = suppressed {
            record::put_u64(&mut buf, n);
        }
        if core.config.thread_names {
            local::put_thread_name(&mut buf);
        }
        if !context.is_empty() {
            record::put_block(&mut buf, context);
        }
        if scoped {
            local::append_scope(&mut buf);
        }
        let mut entry = Entry {
            core,
            buf: ManuallyDrop::new(buf),
            in_ring: None,
        };
        if core.config.backtrace_at(site.level) {
            entry.backtrace();
        }
        entry
    }

    /// The flags every record of this call starts with.
    #[inline(always)]
    fn flags(core: &Core, context: &[u8], suppressed: Option<u64>) -> u16 {
        // Dated as it goes into the queue (see `clock::stamp`).
        let mut flags = if core.config.timestamp {
            0
        } else {
            record::NO_TIME
        };
        if suppressed.is_some() {
            flags |= record::SUPPRESSED;
        }
        if !context.is_empty() {
            flags |= record::CONTEXT;
        }
        flags
    }

    /// [`Entry::flags`], and [`record::THREAD`] when the logger writes
    /// thread names: for a record started in the thread's buffer (an entry
    /// in place never carries the name: see `Config::buffered_at`).
    #[inline]
    fn buffered_flags(core: &Core, context: &[u8], suppressed: Option<u64>) -> u16 {
        let flags = Entry::flags(core, context, suppressed);
        if core.config.thread_names {
            flags | record::THREAD
        } else {
            flags
        }
    }

    /// Starts a record in place in this thread's ring, when there is room
    /// and the logger adds nothing at the site's level that only the
    /// thread's buffer takes (a backtrace, the thread's name: see
    /// `Config::buffered_at`): its header, the suppressed count,
    /// the logger's context and the thread's scope. Otherwise starts it as
    /// an [`Entry`] in the thread's buffer: from the start, or with what
    /// was written in place when the thread's scope does not fit there.
    #[inline(always)]
    fn begin(
        core: &'a Core,
        context: &[u8],
        site: &'static Site,
        suppressed: Option<u64>,
    ) -> Result<Reserved, Entry<'a>> {
        if core.config.buffered_at(site.level) {
            return Err(Entry::buffered_start(core, context, site, suppressed));
        }
        let mut flags = Entry::flags(core, context, suppressed);
        let min = record::HEADER + 4 + context.len() + IN_PLACE_MIN;
        let Some((mut reserved, scoped)) = core.reserve(min) else {
            return Err(Entry::buffered_start(core, context, site, suppressed));
        };
        if scoped {
            flags |= record::SCOPE;
        }
        // All of this fits: `min` counts the header and the context
        // block, and the suppressed count is within `IN_PLACE_MIN`.
        let slot = &mut reserved.slot;
        let mut fits = slot.put(&record::header(0, flags, site.level, 0, site));
        if let Some(n) = suppressed {
            fits &= slot.put(&n.to_le_bytes());
        }
        if !context.is_empty() {
            fits &= slot.put_block(context);
        }
        debug_assert!(fits, "the room reserved holds the record's start");
        if scoped && !local::append_scope_in(&mut reserved.slot) {
            return Err(Entry::with_scope_spilled(core, reserved));
        }
        Ok(reserved)
    }

    /// [`Entry::start`] in the thread's buffer, for a record that could not
    /// begin in place: cold, out of the way of the path in place.
    #[cold]
    #[inline(never)]
    fn buffered_start(
        core: &'a Core,
        context: &[u8],
        site: &'static Site,
        suppressed: Option<u64>,
    ) -> Entry<'a> {
        Entry::start::<false>(core, context, site, suppressed)
    }

    /// Goes on with a record started in place in the thread's encoding
    /// buffer, with the thread's scope fields, which did not fit in place.
    #[cold]
    fn with_scope_spilled(core: &'a Core, reserved: Reserved) -> Entry<'a> {
        let mut buf = local::spill(reserved);
        local::append_scope(&mut buf);
        Entry {
            core,
            buf: ManuallyDrop::new(buf),
            in_ring: None,
        }
    }

    /// Moves a record written in place into the thread's encoding buffer.
    #[inline]
    fn spill(&mut self) {
        if let Some(reserved) = self.in_ring.take() {
            *self.buf = local::spill(reserved);
        }
    }

    /// Starts a record whose level, message and caller are known only at
    /// run time (a bridged `log` record or `tracing` event); its fields
    /// carry their keys ([`Entry::field`]).
    ///
    /// `spans` is `Some` for a `tracing` event: the fields of the span it
    /// is in, after the logger's context; the thread's scope then gives
    /// velo's scopes' fields alone (see `local::set_span_scope`). A `log`
    /// record (`None`) takes the thread's whole scope, spans' fields
    /// included, as `velo!` does.
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn dynamic(
        core: &'a Core,
        context: &[u8],
        head: &Dynamic<'_>,
        spans: Option<&[u8]>,
    ) -> Entry<'a> {
        let mut flags = Entry::buffered_flags(core, context, None) | record::DYNAMIC;
        let (buf, mut scoped) = local::take();
        let extra_context = spans.unwrap_or_default();
        let own_scope = spans.is_some();
        if own_scope {
            scoped = local::has_own_scope();
        }
        if !extra_context.is_empty() {
            flags |= record::CONTEXT;
        }
        if scoped {
            flags |= record::SCOPE;
        }
        // An entry from here on: a panic in the message's `Display` unwinds
        // through it, which counts the record lost (see `Entry`'s `drop`)
        // and gives the buffer back.
        let mut entry = Entry {
            core,
            buf: ManuallyDrop::new(buf),
            in_ring: None,
        };
        let buf = &mut *entry.buf;
        record::begin_dynamic(buf, flags, head.level);
        // The message, formatted in place.
        let msg = record::open_untagged(buf);
        let _ = fmt::Write::write_fmt(&mut record::StrWriter { buf, start: msg }, head.message);
        record::close(buf, msg);
        record::put_str(buf, crate::callsite::tidy(head.file));
        record::put_u32(buf, head.line);
        record::put_str(buf, head.module);
        record::put_str(buf, head.target);
        if core.config.thread_names {
            local::put_thread_name(buf);
        }
        if extra_context.is_empty() {
            if !context.is_empty() {
                record::put_block(buf, context);
            }
        } else {
            // Span fields come after the logger's context, whose keys they
            // set take their place; copied in place, with no list between.
            // A block of its own, with no id (see `record::split_block`).
            let block = record::open_untagged(buf);
            record::put_u64(buf, 0);
            let context = record::context_fields(context);
            record::copy_fields_except(buf, context, |k| record::has_key(extra_context, k));
            buf.extend_from_slice(extra_context);
            record::close(buf, block);
        }
        if scoped {
            // Copied straight from the thread's scope (no copy of it first).
            if own_scope {
                local::append_own_scope(buf);
            } else {
                local::append_scope(buf);
            }
        }
        if core.config.backtrace_at(head.level) {
            entry.backtrace();
        }
        entry
    }

    /// Marks the record as one a full queue must not drop (see
    /// `record::must_keep`): the panic hook's.
    pub(crate) fn keep(&mut self) {
        self.spill();
        record::add_flag(&mut self.buf, record::KEEP);
    }

    #[cold]
    fn backtrace(&mut self) {
        if local::is_busy() {
            // A signal handler that interrupted this thread inside velo (a
            // capture included): capturing would wait for the locks the
            // interrupted code holds (std's, the allocator's). Without one.
            return;
        }
        // Busy (it allocates, and takes std's lock), so that a signal
        // handler logging meanwhile does not capture too; under the fork
        // lock, as std holds a process-wide lock while it captures and
        // symbolises (see `fork.rs`).
        local::while_busy(|| {
            let trace =
                crate::fork::short(|| std::backtrace::Backtrace::force_capture().to_string());
            record::add_flag(&mut self.buf, record::BACKTRACE);
            Encoder::new(&mut self.buf).str(&caller_frames(&trace));
        });
    }

    /// Writes a field through [`Value`].
    ///
    /// Out of line, like every field writer: one copy per value type,
    /// shared by the call sites that write a field at a time (more than
    /// twelve fields, or `every:`) and by `Entry::restN`.
    #[inline(never)]
    pub fn value<V: Value + ?Sized>(&mut self, value: &V) {
        match &mut self.in_ring {
            Some(reserved) => {
                if !value.encode_in_place(&mut reserved.slot) {
                    self.value_spilled(value);
                }
            }
            None => Encoder::new(&mut self.buf).one(value),
        }
    }

    /// [`Entry::value`] for a value that does not fit in place: moves the
    /// record to the thread's buffer and goes on there. Apart, so that the
    /// path in place needs no stack frame.
    #[cold]
    #[inline(never)]
    fn value_spilled<V: Value + ?Sized>(&mut self, value: &V) {
        self.spill();
        Encoder::new(&mut self.buf).one(value);
    }

    /// Writes a field through `Display` (`key = %value`).
    #[inline]
    pub fn display<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        self.display_dyn(&value);
    }

    #[inline(never)]
    fn display_dyn(&mut self, value: &dyn fmt::Display) {
        self.spill();
        Encoder::new(&mut self.buf).display(value);
    }

    /// Writes a field through `Debug` (`key = ?value`).
    #[inline]
    pub fn debug<V: fmt::Debug + ?Sized>(&mut self, value: &V) {
        self.debug_dyn(&value);
    }

    #[inline(never)]
    fn debug_dyn(&mut self, value: &dyn fmt::Debug) {
        self.spill();
        Encoder::new(&mut self.buf).debug(value);
    }

    /// Writes a field of a dynamic record: its key, then its value.
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn field(&mut self, key: &str) -> Encoder<'_> {
        record::put_str(&mut self.buf, key);
        Encoder::new(&mut self.buf)
    }

    /// Appends fields of a dynamic record already encoded (keys and
    /// values), such as those a bridge met before the message.
    #[cfg(feature = "tracing")]
    pub(crate) fn encoded_fields(&mut self, fields: &[u8]) {
        self.buf.extend_from_slice(fields);
    }

    /// Ends the record and hands it to the logger: publishes the record
    /// written in place, or hands the buffer's record to the logger (and
    /// the buffer with it), leaving neither in the entry, whose drop then
    /// has nothing to do; the code `velo!` generates forgets it instead,
    /// which saves a call. A panic in the user's writer (a synchronous
    /// write) unwinds through an entry that holds nothing.
    ///
    /// By reference: an entry taken by value is copied at every call site.
    #[inline(never)]
    pub fn finish(&mut self) {
        if let Some(reserved) = self.in_ring.take() {
            return self.core.commit(reserved);
        }
        record::finish(&mut self.buf);
        let buf = std::mem::take(&mut *self.buf);
        self.core.submit(buf);
    }
}

impl Drop for Entry<'_> {
    /// Only an entry a panic unwinds through is dropped holding a record
    /// (a finished one holds none, and the code `velo!` generates forgets
    /// it): that entry is lost, and counted so (`Reason::Panicked`).
    #[inline(never)]
    fn drop(&mut self) {
        let holds_record = self.in_ring.is_some() || self.buf.capacity() != 0;
        if let Some(reserved) = self.in_ring.take() {
            local::abandon(reserved);
        }
        if self.buf.capacity() != 0 {
            local::give(std::mem::take(&mut *self.buf));
        }
        if holds_record && std::thread::panicking() {
            self.core.stats.drop_for(Reason::Panicked);
        }
    }
}

/// `Entry::log1` to `Entry::log12`: the whole entry of a call site whose
/// fields all go through [`Value`] (no `every:`), in one call;
/// `Entry::buffered1` to `Entry::buffered12`, the same for a site with a
/// field written through `Display` or `Debug`; and `Entry::rest1` to
/// `Entry::rest12`, their path out of line.
macro_rules! log_n {
    ($($name:ident $buffered:ident $rest:ident($($v:ident: $V:ident),+);)*) => {
        impl<'a> Entry<'a> {$(
            /// Writes the entry of call site `cs` for `logger`, with these
            /// values, in one call: one copy for each list of value types,
            /// shared by every call site with that list.
            ///
            /// The record is begun in place, its values encoded there and
            /// the record published within this function, the entry held
            /// in registers. When it cannot begin in place, or a value does
            /// not fit or would run the user's code (`Display`, `Debug`, a
            /// user's `Value`), it goes on out of line in the thread's
            /// buffer (`restN`) from that value on.
            #[inline(never)]
            #[allow(clippy::too_many_arguments)]
            pub fn $name<$($V: Value + ?Sized),+>(
                logger: &'a Logger,
                cs: &'static CallSite,
                $($v: &$V),+
            ) {
                let (core, context, site) = (logger.core(), logger.context(), cs.site());
                let (entry, done) = match Entry::begin(core, context, site, None) {
                    Ok(mut reserved) => {
                        let done = 'fast: {
                            let slot = &mut reserved.slot;
                            let mut done = 0;
                            $(
                                if !$v.encode_in_place(slot) {
                                    break 'fast done;
                                }
                                done += 1;
                            )+
                            let _ = done;
                            return core.commit(reserved);
                        };
                        (Entry::spilled(core, reserved), done)
                    }
                    Err(entry) => (entry, 0),
                };
                Entry::$rest(entry, done, $($v),+);
            }

            /// [`Entry::buffered`], then these values, and the entry
            /// finished, in one call: for a site with a value that runs the
            /// user's code (`Display`, `Debug`), which cannot be written in
            /// place (and moving the values before it out of the ring costs
            /// more than writing them in the buffer).
            #[inline(never)]
            #[allow(clippy::too_many_arguments)]
            pub fn $buffered<$($V: Value + ?Sized),+>(
                logger: &'a Logger,
                cs: &'static CallSite,
                $($v: &$V),+
            ) {
                let entry = Entry::start::<false>(logger.core(), logger.context(), cs.site(), None);
                Entry::go_on(entry, |entry| {
                    // Encoded here rather than through `Entry::value`: the
                    // entry is in the buffer from the start.
                    $(Encoder::new(&mut entry.buf).one($v);)+
                });
            }

            /// Goes on with `entry`, in the thread's buffer, from its
            /// `done`th value on, and finishes it.
            #[cold]
            #[inline(never)]
            #[allow(clippy::too_many_arguments)]
            fn $rest<$($V: Value + ?Sized),+>(entry: Entry<'a>, done: usize, $($v: &$V),+) {
                let mut at = 0;
                Entry::go_on(entry, |entry| {
                    $(
                        if at >= done {
                            entry.value($v);
                        }
                        at += 1;
                    )+
                });
                let _ = at;
            }
        )*}
    };
}

impl<'a> Entry<'a> {
    /// Runs `values` on `entry` (in the thread's buffer), then finishes it.
    #[inline(always)]
    fn go_on(mut entry: Entry<'a>, values: impl FnOnce(&mut Entry<'a>)) {
        values(&mut entry);
        entry.finish();
        // It holds nothing now.
        std::mem::forget(entry);
    }
}

log_n! {
    log1 buffered1 rest1(a: A);
    log2 buffered2 rest2(a: A, b: B);
    log3 buffered3 rest3(a: A, b: B, c: C);
    log4 buffered4 rest4(a: A, b: B, c: C, d: D);
    log5 buffered5 rest5(a: A, b: B, c: C, d: D, e: E);
    log6 buffered6 rest6(a: A, b: B, c: C, d: D, e: E, f: F);
    log7 buffered7 rest7(a: A, b: B, c: C, d: D, e: E, f: F, g: G);
    log8 buffered8 rest8(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H);
    log9 buffered9 rest9(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I);
    log10 buffered10 rest10(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: J);
    log11 buffered11 rest11(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: J, k: K);
    log12 buffered12 rest12(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: J, k: K, l: L);
}

/// What a dynamic record says about itself.
#[cfg(any(feature = "log", feature = "tracing"))]
#[derive(Debug)]
pub(crate) struct Dynamic<'m> {
    pub(crate) level: crate::level::Level,
    pub(crate) message: fmt::Arguments<'m>,
    pub(crate) file: &'m str,
    pub(crate) line: u32,
    pub(crate) module: &'m str,
    pub(crate) target: &'m str,
}

/// The frames of a captured backtrace from the caller of velo to the
/// thread's entry point, one `symbol (file:line:col)` per line.
///
/// `std` writes a frame as `N: symbol` (an inlined function as a further
/// symbol line without its number), each symbol followed by an
/// `at file:line:col` line when debug info has one. The leading frames are
/// the capture's own, velo's, and for a bridged record those of the `log`
/// or `tracing` crates it came through ([`is_plumbing`]): they are dropped
/// up to the first frame of anything else (the caller; found from the top,
/// so that a caller that velo itself called, such as a `Display` impl that
/// logs, keeps its own frame). The frames from `__rust_begin_short_backtrace` on
/// are the runtime's start-up code, which `std` leaves out of short
/// backtraces for the same reason; so are the standard library's frames
/// just before it, which call `main` or a thread's closure.
fn caller_frames(trace: &str) -> String {
    // (symbol, location)
    let mut frames: Vec<(&str, Option<&str>)> = Vec::new();
    for line in trace.lines().map(str::trim) {
        if let Some(at) = line.strip_prefix("at ") {
            if let Some((_, location @ None)) = frames.last_mut() {
                *location = Some(at);
            }
        } else if !line.is_empty() {
            frames.push((strip_frame_number(line), None));
        }
    }
    let first = frames
        .iter()
        .position(|&(symbol, location)| !is_plumbing(symbol, location))
        .unwrap_or(frames.len());
    // The runtime's start-up code, and the standard library's frames that
    // call into the program from there (`FnOnce::call_once` calling `main`).
    let mut end = frames.len();
    if let Some(start) = frames[first..]
        .iter()
        .position(|(symbol, _)| symbol.contains("__rust_begin_short_backtrace"))
    {
        end = first + start;
        while end > first && is_plumbing(frames[end - 1].0, frames[end - 1].1) {
            end -= 1;
        }
    }
    let mut out = String::new();
    for (symbol, location) in &frames[first..end] {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(symbol);
        if let Some(at) = location {
            out.push_str(" (");
            out.push_str(at);
            out.push(')');
        }
    }
    out
}

/// Whether a frame is code between the caller and the capture: the
/// standard library's (the capture, thread-locals, closures' calls), velo's,
/// or that of the `log` and `tracing` crates a bridged record came through
/// (their macros' expansions are the caller's own code, and named so).
fn is_plumbing(symbol: &str, location: Option<&str>) -> bool {
    const CRATES: [&str; 8] = [
        "std::",
        "core::",
        "alloc::",
        "velo::",
        "log::",
        "tracing::",
        "tracing_core::",
        "tracing_subscriber::",
    ];
    let listed = |path: &str| CRATES.iter().any(|c| path.starts_with(c));
    // `<velo::log_bridge::Bridge as log::Log>::log` is plumbing, but
    // `<core::result::Result<T, E> as my_app::ResultExt>::log_err` and
    // `<my_app::Thing as core::fmt::Display>::fmt` are the user's: a trait
    // method's frame is plumbing when both the type and the trait are.
    let named = match symbol.strip_prefix('<').map(|s| s.split_once(" as ")) {
        Some(Some((ty, tr))) => listed(ty) && listed(tr),
        Some(None) => listed(&symbol[1..]),
        None => listed(symbol),
    };
    named || symbol.contains("backtrace_rs::") || location.is_some_and(is_plumbing_location)
}

/// Whether a frame's `file:line:col` is in velo's sources or in those of
/// the `log` and `tracing` crates (`.../tracing-core-0.1.36/src/...`).
/// With line tables only (`debug = "line-tables-only"`, a common release
/// setting) an inlined function is named without its path (`event`,
/// `{closure#0}`), so its location is what says whose it is.
fn is_plumbing_location(location: &str) -> bool {
    const BRIDGED: [&str; 4] = ["log-", "tracing-", "tracing-core-", "tracing-subscriber-"];
    let path = location.rsplitn(3, ':').nth(2).unwrap_or(location);
    let path = path.strip_prefix("./").unwrap_or(path);
    is_in_velo(path)
        || path.split(['/', '\\']).any(|dir| {
            BRIDGED.iter().any(|name| {
                dir.strip_prefix(name)
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            })
        })
}

/// Whether `path` is in velo's `src` directory, this file's. `file!()` is
/// the path rustc was given: absolute for a dependency, relative to the
/// workspace for velo's own builds, which the debug info's absolute path
/// holds after a separator.
fn is_in_velo(path: &str) -> bool {
    const THIS: &str = file!();
    let dir = THIS.trim_end_matches(|c| c != '/' && c != '\\');
    path.match_indices(dir)
        .any(|(at, _)| at == 0 || path[..at].ends_with('/') || path[..at].ends_with('\\'))
}

/// `12: my_app::handler` -> `my_app::handler`.
fn strip_frame_number(line: &str) -> &str {
    match line.split_once(": ") {
        Some((n, symbol)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => symbol,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::caller_frames;

    #[test]
    fn velo_frames_and_the_runtime_start_are_trimmed() {
        let trace = "   0: std::backtrace_rs::backtrace::libunwind::trace
             at /rustc/library/std/src/../../backtrace/src/backtrace/libunwind.rs:117:9
   1: std::backtrace::Backtrace::create
             at /rustc/library/std/src/backtrace.rs:331:13
   2: velo::entry::Entry::backtrace
             at ./velo/src/entry.rs:156:21
   3: velo::entry::Entry::start
             at ./velo/src/entry.rs:95:13
   4: my_app::handler
             at ./src/main.rs:10:5
      my_app::inlined_helper
             at ./src/main.rs:20:9
   5: <my_app::Thing as core::fmt::Display>::fmt
   6: velo::entry::Entry::display_dyn
             at ./velo/src/entry.rs:190:9
   7: my_app::main
             at ./src/main.rs:30:5
   8: core::ops::function::FnOnce::call_once
             at /rustc/library/core/src/ops/function.rs:250:5
   9: std::sys::backtrace::__rust_begin_short_backtrace
             at /rustc/library/std/src/sys/backtrace.rs:152:18
  10: std::rt::lang_start_internal
  11: main
";
        assert_eq!(
            caller_frames(trace),
            "my_app::handler (./src/main.rs:10:5)
my_app::inlined_helper (./src/main.rs:20:9)
<my_app::Thing as core::fmt::Display>::fmt
velo::entry::Entry::display_dyn (./velo/src/entry.rs:190:9)
my_app::main (./src/main.rs:30:5)"
        );
    }

    #[test]
    fn a_trait_method_is_plumbing_only_when_its_type_and_trait_are() {
        let plumbing = |symbol| super::is_plumbing(symbol, None);
        assert!(plumbing("<velo::log_bridge::Bridge as log::Log>::log"));
        assert!(plumbing(
            "<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once"
        ));
        assert!(!plumbing(
            "<core::result::Result<T,E> as my_app::ResultExt>::log_err"
        ));
        assert!(!plumbing("<my_app::Thing as core::fmt::Display>::fmt"));
        assert!(!plumbing("my_app::handler"));
        assert!(plumbing("std::thread::local::LocalKey<T>::with"));
    }

    #[test]
    fn a_bridged_records_frames_start_at_the_caller() {
        let log = "   0: std::backtrace::Backtrace::force_capture
   1: velo::entry::Entry::dynamic
   2: <velo::log_bridge::Bridge as log::Log>::log
             at ./velo/src/log_bridge.rs:57:9
   3: log::__private_api::log_impl
   4: log::__private_api::log
   5: my_app::charge
             at ./src/main.rs:10:5
   6: my_app::main
";
        assert_eq!(
            caller_frames(log),
            "my_app::charge (./src/main.rs:10:5)\nmy_app::main"
        );
        let tracing = "   0: std::backtrace::Backtrace::force_capture
   1: velo::tracing_bridge::EventWriter::start
   2: <velo::tracing_bridge::EventWriter as tracing_core::field::Visit>::record_debug
   3: tracing_core::field::ValueSet::record
   4: velo::tracing_bridge::write_event
   5: <velo::tracing_bridge::Bridge as tracing_core::subscriber::Subscriber>::event
   6: tracing_core::dispatcher::Dispatch::event
   7: std::thread::local::LocalKey<T>::try_with
   8: tracing_core::dispatcher::get_default
   9: tracing_core::event::Event::dispatch
  10: my_app::charge
             at ./src/main.rs:10:5
";
        assert_eq!(
            caller_frames(tracing),
            "my_app::charge (./src/main.rs:10:5)"
        );
        // With line tables only: inlined frames by bare name and location.
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        let inlined = format!(
            "   0: std::backtrace::Backtrace::force_capture
   1: event
             at {registry}/tracing-core-0.1.36/src/dispatcher.rs:610:24
   2: tracing_core::event::Event::dispatch
             at {registry}/tracing-core-0.1.36/src/event.rs:34:9
   3: {{closure#0}}
             at {registry}/tracing-0.1.44/src/macros.rs:905:17
   4: charge
             at ./src/main.rs:10:5
"
        );
        assert_eq!(caller_frames(&inlined), "charge (./src/main.rs:10:5)");
    }

    #[test]
    fn inlined_frames_named_without_a_path_are_trimmed_by_location() {
        let this = super::is_plumbing_location;
        assert!(this(&format!("/build/ws/{}:32:9", file!())));
        assert!(this(&format!("./{}:32:9", file!())));
        assert!(this(&format!("{}:32:9", file!())));
        assert!(this(&format!(
            "/build/ws/{}:32:9",
            file!().replace("entry.rs", "log_bridge.rs")
        )));
        assert!(!this(&format!("/build/ws/my{}:32:9", file!())));
        assert!(!this("./src/main.rs:10:5"));
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        assert!(this(&format!(
            "{registry}/tracing-core-0.1.36/src/dispatcher.rs:610:24"
        )));
        assert!(this(&format!(
            "{registry}/tracing-0.1.44/src/macros.rs:905:17"
        )));
        assert!(this(&format!(
            "{registry}/log-0.4.28/src/__private_api.rs:61:5"
        )));
        assert!(!this(&format!(
            "{registry}/tracing-appender-0.2.3/src/lib.rs:1:1"
        )));
        assert!(!this(&format!("{registry}/logos-0.15.0/src/lib.rs:1:1")));

        // As `debug = "line-tables-only"` writes it: the inlined `new`
        // and the caller it was inlined into, each by its bare name.
        let trace = format!(
            "   0: std::backtrace::Backtrace::create
             at /rustc/library/std/src/backtrace.rs:331:13
   1: velo::entry::Entry::backtrace
             at /ws/{this}:156:21
   2: new
             at /ws/{this}:32:9
      handler
             at ./src/main.rs:10:5
   3: my_app::main
             at ./src/main.rs:30:5
   4: std::sys::backtrace::__rust_begin_short_backtrace
",
            this = file!()
        );
        assert_eq!(
            caller_frames(&trace),
            "handler (./src/main.rs:10:5)
my_app::main (./src/main.rs:30:5)"
        );
    }
}
