//! The byte layout of an entry on its way from the caller to the worker:
//! the one definition the caller's encoder and the worker's decoder share.
//!
//! A caller does not format its entry. It writes a *record*: a fixed header
//! naming the call site's static descriptor and the raw clock reading, then
//! the values of the call in a small tagged binary form (integers and
//! floats as their eight bytes, strings and `Display` output as raw UTF-8
//! with a length). The worker decodes the record and formats the line in
//! the logger's format (JSON, text, a schema, a syslog frame, journald
//! fields, OTLP), so escaping, number formatting and the calendar cost the
//! caller nothing.
//!
//! ```text
//! record  := header body
//! header  := len:u32 flags:u16 level:u8 0:u8 time:u64 site:u64     (24 bytes)
//! body    := [suppressed:u64]                         if SUPPRESSED
//!            [dynamic]                                if DYNAMIC
//!            [thread:str]                             if THREAD
//!            [len:u32 context_id:u64 fields]          if CONTEXT
//!            [len:u32 scope_id:u64 fields]            if SCOPE
//!            [value]                                  if BACKTRACE (a string)
//!            values                                   the call's
//! dynamic := message:str file:str line:u32 module:str target:str
//! fields  := (key:str value)*
//! values  := value*                 one per key of the site, in order;
//!                                   for a dynamic record, `fields`
//! value   := U64 u64 | I64 i64 | F64 f64 | F32 f32 | TRUE | FALSE | NULL
//!          | U128 u128 | I128 i128 | STR str | TIME i64 u32
//!          | SEQ len:u32 value*  | MAP len:u32 (key:str value)*
//! str     := len:u32 bytes          UTF-8, unescaped
//! ```
//!
//! Numbers are little-endian. `site` is the address of the call site's
//! `&'static Site`; the worker turns it back into the reference (see
//! [`Reader::header`]). Every read is bounds-checked: a malformed record
//! ends its decoding, never the process.

use crate::callsite::Site;
use crate::level::Level;

/// Size of the header.
pub(crate) const HEADER: usize = 24;

/// `flags`: the record carries a suppressed count (`every:`).
pub(crate) const SUPPRESSED: u16 = 1;
/// `flags`: the level, message and caller are in the body, not a site.
pub(crate) const DYNAMIC: u16 = 1 << 1;
/// `flags`: the logger's context fields follow.
pub(crate) const CONTEXT: u16 = 1 << 2;
/// `flags`: the thread's scope fields follow.
pub(crate) const SCOPE: u16 = 1 << 3;
/// `flags`: a backtrace string follows.
pub(crate) const BACKTRACE: u16 = 1 << 4;
/// `flags`: `time` is nanoseconds since the Unix epoch, not a TSC reading.
pub(crate) const WALL_TIME: u16 = 1 << 5;
/// `flags`: the entry shows no timestamp (`Timestamp::Off`). It is dated
/// all the same, so that the worker can still write different threads'
/// entries in the order they were logged.
pub(crate) const NO_TIME: u16 = 1 << 6;
/// `flags`: the entry is never dropped for a full queue (the panic hook's);
/// see [`must_keep`].
pub(crate) const KEEP: u16 = 1 << 7;

/// `flags`: the body is the entry's whole line in the logger's format,
/// formatted by the caller while the worker was behind (see
/// `caller_format`); the worker copies it out as it is.
pub(crate) const LINE: u16 = 1 << 8;
/// `flags`: the name of the thread that logged the entry follows
/// (`Builder::thread_names`).
pub(crate) const THREAD: u16 = 1 << 9;

/// `flags` of which any makes a record other than [`Plain`].
const NOT_PLAIN: u16 = SUPPRESSED | DYNAMIC | THREAD | CONTEXT | SCOPE | BACKTRACE | LINE;

/// Value tags.
pub(crate) mod tag {
    pub(crate) const U64: u8 = 1;
    pub(crate) const I64: u8 = 2;
    pub(crate) const F64: u8 = 3;
    pub(crate) const F32: u8 = 4;
    pub(crate) const TRUE: u8 = 5;
    pub(crate) const FALSE: u8 = 6;
    pub(crate) const NULL: u8 = 7;
    pub(crate) const STR: u8 = 8;
    pub(crate) const U128: u8 = 9;
    pub(crate) const I128: u8 = 10;
    pub(crate) const SEQ: u8 = 11;
    pub(crate) const MAP: u8 = 12;
    pub(crate) const TIME: u8 = 13;
}

// ---- writing (the caller's side) -------------------------------------------

/// The header of a record of `len` bytes from call site `site`.
#[inline]
pub(crate) fn header(
    len: usize,
    flags: u16,
    level: Level,
    time: u64,
    site: &'static Site,
) -> [u8; HEADER] {
    // Three words: the length, flags and level; the time; the site.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    let first = u64::from(len) | u64::from(flags) << 32 | u64::from(level as u8) << 48;
    let site = site as *const Site as usize as u64;
    let mut header = [0u8; HEADER];
    header[..8].copy_from_slice(&first.to_le_bytes());
    header[8..16].copy_from_slice(&time.to_le_bytes());
    header[16..].copy_from_slice(&site.to_le_bytes());
    header
}

/// Starts a record in `buf` (which must be empty): the header, with the
/// length left for [`finish`] and the time for [`set_time`] (a record is
/// dated as it is handed over: `clock::stamp`).
#[inline]
pub(crate) fn begin(buf: &mut Vec<u8>, flags: u16, level: Level, site: &'static Site) {
    buf.extend_from_slice(&header(0, flags, level, 0, site));
}

/// Starts a dynamic record in `buf` (which must be empty): the header
/// without a site (and, as for [`begin`], without its time yet); the
/// dynamic part of the body follows.
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn begin_dynamic(buf: &mut Vec<u8>, flags: u16, level: Level) {
    let mut header = [0u8; HEADER];
    header[4..6].copy_from_slice(&(flags | DYNAMIC).to_le_bytes());
    header[6] = level as u8;
    buf.extend_from_slice(&header);
}

/// Whether the record in `buf` must not be dropped for a full queue: a
/// `fatal` entry (the last the process writes) or one marked [`KEEP`].
/// Under `Overflow::Drop` such an entry is written as under `Sync`.
pub(crate) fn must_keep(buf: &[u8]) -> bool {
    buf.len() >= HEADER
        && (buf[6] == Level::Fatal as u8 || u16::from_le_bytes([buf[4], buf[5]]) & KEEP != 0)
}

/// Adds `flag` to the header of the record in `buf`.
#[inline]
pub(crate) fn add_flag(buf: &mut [u8], flag: u16) {
    let flags = u16::from_le_bytes([buf[4], buf[5]]) | flag;
    buf[4..6].copy_from_slice(&flags.to_le_bytes());
}

/// Dates the record in `buf` with what `clock` returns (a time and its
/// [`WALL_TIME`] bit), [`NO_TIME`] or not (see there).
#[inline(always)]
pub(crate) fn set_time(buf: &mut [u8], clock: impl FnOnce() -> (u16, u64)) {
    let Some(head) = buf.first_chunk_mut::<16>() else {
        return;
    };
    let flags = u16::from_le_bytes([head[4], head[5]]);
    let (bit, time) = clock();
    head[4..6].copy_from_slice(&((flags & !WALL_TIME) | bit).to_le_bytes());
    head[8..16].copy_from_slice(&time.to_le_bytes());
}

/// [`finish`] and [`set_time`] in one, for a record written in place,
/// whose header does not carry [`WALL_TIME`] yet (it was written once, by
/// its caller, just before): only a reading that sets the bit changes the
/// flags, and the length is the slot's, which is far below `u32::MAX`.
#[inline(always)]
pub(crate) fn finish_fresh(buf: &mut [u8], clock: impl FnOnce() -> (u16, u64)) {
    let len = buf.len() as u32;
    let Some(head) = buf.first_chunk_mut::<16>() else {
        return;
    };
    debug_assert_eq!(u16::from_le_bytes([head[4], head[5]]) & WALL_TIME, 0);
    let (bit, time) = clock();
    *head.first_chunk_mut::<4>().expect("16 bytes") = len.to_le_bytes();
    if bit != 0 {
        let flags = u16::from_le_bytes([head[4], head[5]]) | bit;
        head[4..6].copy_from_slice(&flags.to_le_bytes());
    }
    head[8..16].copy_from_slice(&time.to_le_bytes());
}

/// Writes the record's length into its header; the record is complete.
/// Records longer than `u32::MAX` cannot be made: values are truncated
/// long before (see [`put_str`]).
#[inline(always)]
pub(crate) fn finish(buf: &mut [u8]) {
    let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    if let Some(head) = buf.first_chunk_mut::<4>() {
        *head = len.to_le_bytes();
    }
}

/// A logger's context as records carry it: an id of its own (never 0,
/// never given to another context of the process), then its fields; empty
/// when it has none. The worker finds the context's line formatted before
/// by the id, without hashing or comparing its fields (see
/// `LineFormat::block`).
pub(crate) fn context_block(fields: &[u8]) -> std::sync::Arc<[u8]> {
    merged_context_block(&[], fields)
}

/// [`context_block`] of `outer`'s fields merged with `inner`'s (see
/// [`merge_fields`]): a child logger's context, built in one buffer.
pub(crate) fn merged_context_block(outer: &[u8], inner: &[u8]) -> std::sync::Arc<[u8]> {
    if outer.is_empty() && inner.is_empty() {
        return std::sync::Arc::from(&[][..]);
    }
    let mut block = Vec::with_capacity(8 + outer.len() + inner.len());
    block.extend_from_slice(&new_block_id().to_le_bytes());
    merge_fields(&mut block, outer, inner);
    block.into()
}

/// A new id for a context or scope block: never 0, never given before in
/// this process (contexts and scopes share the sequence).
pub(crate) fn new_block_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Appends a scope block: its id (see [`new_block_id`]), then its fields.
#[inline]
pub(crate) fn put_scope_block(buf: &mut Vec<u8>, id: u64, fields: &[u8]) {
    put_u32(buf, (8 + fields.len()) as u32);
    put_u64(buf, id);
    buf.extend_from_slice(fields);
}

/// The id and the fields of a context or scope block
/// ([`context_block`], [`put_scope_block`]); id 0 for
/// a block of fields merged at the call (a bridged event's spans), which
/// has none.
#[inline]
pub(crate) fn split_block(block: &[u8]) -> (u64, &[u8]) {
    match block.split_first_chunk::<8>() {
        Some((id, fields)) => (u64::from_le_bytes(*id), fields),
        None => (0, block),
    }
}

/// The fields of a context block ([`context_block`]).
#[inline]
pub(crate) fn context_fields(block: &[u8]) -> &[u8] {
    split_block(block).1
}

/// Appends a length-prefixed block of encoded fields (context or scope).
#[inline]
pub(crate) fn put_block(buf: &mut Vec<u8>, block: &[u8]) {
    put_u32(buf, block.len() as u32);
    buf.extend_from_slice(block);
}

#[inline]
pub(crate) fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

#[inline]
pub(crate) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

/// The most bytes one string may take in a record: longer strings are cut
/// at a character boundary (a record must fit a queue, and 16 MiB in one
/// field is a bug in the program, not a log entry).
pub(crate) const MAX_STR: usize = 16 << 20;

/// Appends a string's length and bytes (no tag).
#[inline]
pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    let s = truncate(s);
    put_u32(buf, s.len() as u32);
    buf.extend_from_slice(s.as_bytes());
}

#[inline]
fn truncate(s: &str) -> &str {
    if s.len() <= MAX_STR {
        return s;
    }
    let mut end = MAX_STR;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A number's value: its tag, then its eight bytes.
#[inline(always)]
pub(crate) fn number(tag: u8, bits: u64) -> [u8; 9] {
    let mut v = [tag; 9];
    v[1..].copy_from_slice(&bits.to_le_bytes());
    v
}

/// An `f32`'s value: its tag, then its four bytes.
#[inline(always)]
pub(crate) fn number32(tag: u8, bits: u32) -> [u8; 5] {
    let mut v = [tag; 5];
    v[1..].copy_from_slice(&bits.to_le_bytes());
    v
}

/// A string value's head: its tag and its length (its bytes follow).
#[inline(always)]
fn str_head(len: usize) -> [u8; 5] {
    number32(tag::STR, len as u32)
}

/// Appends a string value: its tag, length and bytes (cut at [`MAX_STR`]).
#[inline]
pub(crate) fn put_str_value(buf: &mut Vec<u8>, s: &str) {
    let s = truncate(s);
    buf.extend_from_slice(&str_head(s.len()));
    buf.extend_from_slice(s.as_bytes());
}

/// Room to write a record in place, in its thread's ring: bytes no other
/// thread reads until the record is published whole (see
/// `Ring::reserve`). Writes either fit whole or write nothing, so a
/// record that outgrows its room can move to a buffer as it is (see
/// `Entry`).
#[doc(hidden)]
#[derive(Debug)]
pub struct Slot {
    ptr: *mut u8,
    len: usize,
    room: usize,
}

impl Slot {
    /// A slot of `room` bytes at `ptr`, empty.
    ///
    /// # Safety
    ///
    /// `ptr` is valid for reads and writes of `room` bytes, which nothing
    /// else reads or writes while the slot lives.
    #[inline]
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) unsafe fn new(ptr: *mut u8, room: usize) -> Slot {
        Slot { ptr, len: 0, room }
    }

    /// Bytes written.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes the slot holds, written or not.
    #[inline]
    pub(crate) fn room(&self) -> usize {
        self.room
    }

    /// Forgets what was written, to write the slot again from its start.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `bytes`, or writes nothing and returns `false` if they do
    /// not fit.
    #[inline(always)]
    pub(crate) fn put(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > self.room - self.len {
            return false;
        }
        // SAFETY: `len + bytes.len() <= room`, and the slot's bytes are
        // this slot's alone (the contract of `new`); `bytes` cannot be
        // among them (they are not lent out).
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(self.len), bytes.len());
        }
        self.len += bytes.len();
        true
    }

    /// Appends a string value (as [`put_str_value`]), or writes nothing
    /// and returns `false` if it does not fit.
    #[inline]
    pub(crate) fn put_str_value(&mut self, s: &str) -> bool {
        if s.len() + 5 > self.room - self.len {
            return false;
        }
        // SAFETY: `len + 5 + s.len() <= room` (checked above: the two
        // `put`s would check it again), and the slot's bytes are this
        // slot's alone (the contract of `new`); neither the head nor `s`
        // can be among them.
        unsafe {
            let at = self.ptr.add(self.len);
            std::ptr::copy_nonoverlapping(str_head(s.len()).as_ptr(), at, 5);
            std::ptr::copy_nonoverlapping(s.as_ptr(), at.add(5), s.len());
        }
        self.len += 5 + s.len();
        true
    }

    /// Appends a block of encoded fields (as [`put_block`]), or writes
    /// nothing and returns `false` if it does not fit.
    #[inline]
    pub(crate) fn put_block(&mut self, block: &[u8]) -> bool {
        if block.len() + 4 > self.room - self.len {
            return false;
        }
        self.put(&(block.len() as u32).to_le_bytes()) && self.put(block)
    }

    /// Appends a scope block (as [`put_scope_block`]), or writes nothing
    /// and returns `false` if it does not fit.
    #[inline]
    pub(crate) fn put_scope_block(&mut self, id: u64, fields: &[u8]) -> bool {
        if fields.len() + 12 > self.room - self.len {
            return false;
        }
        self.put(&((8 + fields.len()) as u32).to_le_bytes())
            && self.put(&id.to_le_bytes())
            && self.put(fields)
    }

    /// The bytes written, to change in place.
    #[inline]
    pub(crate) fn written_mut(&mut self) -> &mut [u8] {
        // SAFETY: the first `len` bytes were written, and are this slot's.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// The bytes written.
    #[inline]
    pub(crate) fn written(&self) -> &[u8] {
        // SAFETY: the first `len` bytes were written, and are this slot's.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Starts a value whose length is known only at its end (a string written
/// piece by piece, a sequence, a map): writes `tag` and a placeholder
/// length, and returns where the contents start, for [`close`].
#[inline]
pub(crate) fn open(buf: &mut Vec<u8>, tag: u8) -> usize {
    buf.push(tag);
    put_u32(buf, 0);
    buf.len()
}

/// Starts a string without a tag (a message, a key) whose length is known
/// only at its end; returns where the contents start, for [`close`].
#[cfg(any(feature = "log", feature = "tracing", feature = "serde"))]
pub(crate) fn open_untagged(buf: &mut Vec<u8>) -> usize {
    put_u32(buf, 0);
    buf.len()
}

/// Ends a value started by [`open`] or [`open_untagged`] at `start`.
#[inline]
pub(crate) fn close(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start - 4..start].copy_from_slice(&len.to_le_bytes());
}

/// A `fmt::Write` appending raw UTF-8 to a string opened with [`open`],
/// stopping at [`MAX_STR`].
pub(crate) struct StrWriter<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
    pub(crate) start: usize,
}

impl std::fmt::Write for StrWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = MAX_STR.saturating_sub(self.buf.len() - self.start);
        if s.len() <= room {
            self.buf.extend_from_slice(s.as_bytes());
            Ok(())
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.buf.extend_from_slice(&s.as_bytes()[..end]);
            Err(std::fmt::Error)
        }
    }
}

// ---- reading (the worker's side) -------------------------------------------

/// A decoded value. Strings borrow from the record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    U64(u64),
    I64(i64),
    F64(f64),
    F32(f32),
    Bool(bool),
    Null,
    Str(&'a str),
    U128(u128),
    I128(i128),
    /// Seconds and nanoseconds since the Unix epoch (a `SystemTime`).
    Time(i64, u32),
    /// The encoded items of a sequence: read them with [`Reader::value`].
    Seq(&'a [u8]),
    /// The encoded entries of a map: read them with [`Reader::field`].
    Map(&'a [u8]),
}

/// The fixed part of a record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) flags: u16,
    pub(crate) level: Level,
    pub(crate) time: u64,
    pub(crate) site: u64,
}

impl Header {
    /// The record's static call site, unless it is dynamic.
    #[inline]
    pub(crate) fn site(&self) -> Option<&'static Site> {
        if self.flags & DYNAMIC != 0 || self.site == 0 {
            return None;
        }
        // SAFETY: a record that is not `DYNAMIC` was written by `begin`,
        // which stored the address of a `&'static Site`; records are only
        // written by this crate's encoder and reach the reader whole (the
        // queue's protocol), so the address is that reference's.
        Some(unsafe { &*(self.site as usize as *const Site) })
    }
}

/// A record of a call site with nothing in its body but the call's
/// values: no context, scope, `every:` count or backtrace (see
/// [`Plain::read`]).
pub(crate) struct Plain<'a> {
    pub(crate) site: &'static Site,
    pub(crate) flags: u16,
    pub(crate) time: u64,
    pub(crate) values: &'a [u8],
}

impl<'a> Plain<'a> {
    /// `bytes` (one whole record) as a [`Plain`] record, if it is one.
    #[inline]
    pub(crate) fn read(bytes: &'a [u8]) -> Option<Plain<'a>> {
        let mut r = Reader::new(bytes);
        let h = r.header()?;
        if h.flags & NOT_PLAIN != 0 {
            return None;
        }
        Some(Plain {
            site: h.site()?,
            flags: h.flags,
            time: h.time,
            values: r.rest(),
        })
    }
}

/// Whether the record starting at `bytes` is a [`LINE`] record (`Some(true)`)
/// or may be a [`Plain`] one (`Some(false)`), by a look at its flags alone.
#[inline]
pub(crate) fn line_or_plain(bytes: &[u8]) -> Option<bool> {
    let flags = u16::from_le_bytes(bytes.get(4..6)?.try_into().ok()?);
    if flags & LINE != 0 {
        return Some(true);
    }
    (flags & NOT_PLAIN == 0).then_some(false)
}

/// The header of a [`LINE`] record with a line of `line_len` bytes,
/// formatted from the record whose header is `record`: the same flags,
/// level, time and site, so that it is written in its place, merged with
/// other threads' entries by the same time and counted alike.
#[inline]
pub(crate) fn line_header(record: &[u8; HEADER], line_len: usize) -> [u8; HEADER] {
    let mut header = *record;
    let len = u32::try_from(HEADER + line_len).unwrap_or(u32::MAX);
    header[..4].copy_from_slice(&len.to_le_bytes());
    let flags = u16::from_le_bytes([header[4], header[5]]) | LINE;
    header[4..6].copy_from_slice(&flags.to_le_bytes());
    header
}

/// The line of a [`LINE`] record (one whole record), if it is one.
#[inline]
pub(crate) fn line(bytes: &[u8]) -> Option<&[u8]> {
    let head = bytes.first_chunk::<HEADER>()?;
    let flags = u16::from_le_bytes([head[4], head[5]]);
    (flags & LINE != 0).then(|| &bytes[HEADER..])
}

/// Length of the record starting at `bytes` (at least its four length
/// bytes), read from its header.
#[inline]
pub(crate) fn record_len(bytes: &[u8]) -> Option<usize> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    (len >= HEADER).then_some(len)
}

/// The `flags` and `time` of the record starting at `bytes`, read from its
/// header without decoding the rest.
#[inline]
pub(crate) fn flags_and_time(bytes: &[u8]) -> Option<(u16, u64)> {
    let flags = u16::from_le_bytes(bytes.get(4..6)?.try_into().ok()?);
    let time = u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some((flags, time))
}

/// A bounds-checked cursor over encoded bytes.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    /// What is left to read.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    #[inline]
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// A string's length and bytes.
    #[inline]
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: every string in a record was copied from a `&str` (or
        // written through `fmt::Write`, which writes `&str`s, and cut only at
        // a character boundary, see `StrWriter` and `put_str`) by this
        // crate's encoder, and reaches the reader byte for byte: a record
        // is read only whole, at the offsets its own lengths give, from the
        // ring its one producer wrote it into. Validating again cost 13% of
        // the worker's time on the context workload (callgrind, Wctx).
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// A length-prefixed block, as a reader of its own.
    #[inline]
    pub(crate) fn block(&mut self) -> Option<Reader<'a>> {
        let len = self.u32()? as usize;
        self.take(len).map(Reader::new)
    }

    /// The header of the record that starts here.
    #[inline]
    pub(crate) fn header(&mut self) -> Option<Header> {
        let _len = self.u32()?;
        let flags = u16::from_le_bytes(self.array()?);
        let level = *Level::ALL.get(usize::from(self.u8()?))?;
        self.u8()?;
        let time = self.u64()?;
        let site = self.u64()?;
        Some(Header {
            flags,
            level,
            time,
            site,
        })
    }

    /// The tag of the value that starts here, not taken.
    #[inline(always)]
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// The eight bytes of a value tagged [`tag::U64`], [`tag::I64`] or
    /// [`tag::F64`] (after [`Reader::peek_tag`] told which), tag and all.
    #[inline(always)]
    pub(crate) fn tagged_u64(&mut self) -> Option<u64> {
        let (&[_, ref v @ ..], rest) = self.bytes.split_first_chunk::<9>()?;
        self.bytes = rest;
        Some(u64::from_le_bytes(*v))
    }

    /// A value tagged [`tag::STR`] (after [`Reader::peek_tag`] told so),
    /// tag and all.
    #[inline(always)]
    pub(crate) fn tagged_str(&mut self) -> Option<&'a str> {
        self.bytes = self.bytes.get(1..)?;
        self.str()
    }

    /// One value.
    #[inline]
    pub(crate) fn value(&mut self) -> Option<Val<'a>> {
        Some(match self.u8()? {
            tag::U64 => Val::U64(self.u64()?),
            tag::I64 => Val::I64(self.u64()? as i64),
            tag::F64 => Val::F64(f64::from_bits(self.u64()?)),
            tag::F32 => Val::F32(f32::from_bits(self.u32()?)),
            tag::TRUE => Val::Bool(true),
            tag::FALSE => Val::Bool(false),
            tag::NULL => Val::Null,
            tag::STR => Val::Str(self.str()?),
            tag::U128 => Val::U128(u128::from_le_bytes(self.array()?)),
            tag::I128 => Val::I128(i128::from_le_bytes(self.array()?)),
            tag::TIME => Val::Time(self.u64()? as i64, self.u32()?),
            tag::SEQ => Val::Seq(self.block()?.bytes),
            tag::MAP => Val::Map(self.block()?.bytes),
            _ => return None,
        })
    }

    /// Passes over one value without decoding it.
    fn skip_value(&mut self) -> Option<()> {
        let len = match self.u8()? {
            tag::TRUE | tag::FALSE | tag::NULL => 0,
            tag::F32 => 4,
            tag::U64 | tag::I64 | tag::F64 => 8,
            tag::TIME => 12,
            tag::U128 | tag::I128 => 16,
            tag::STR | tag::SEQ | tag::MAP => self.u32()? as usize,
            _ => return None,
        };
        self.take(len).map(|_| ())
    }

    /// One `key value` pair of a field list or map.
    #[inline]
    pub(crate) fn field(&mut self) -> Option<(&'a str, Val<'a>)> {
        let key = self.str()?;
        Some((key, self.value()?))
    }
}

/// Whether an encoded field list sets `key`: its keys compared as bytes,
/// its values skipped unread (a check the worker makes for each context
/// field of an entry).
pub(crate) fn has_key(fields: &[u8], key: &str) -> bool {
    let mut r = Reader::new(fields);
    while let Some(len) = r.u32() {
        match r.take(len as usize) {
            Some(k) if k == key.as_bytes() => return true,
            Some(_) if r.skip_value().is_some() => {}
            _ => return false,
        }
    }
    false
}

/// The keys of an encoded field list, in order.
pub(crate) fn field_keys(fields: &[u8]) -> impl Iterator<Item = &str> {
    let mut reader = Reader::new(fields);
    std::iter::from_fn(move || reader.field().map(|(k, _)| k))
}

/// Appends the field list `outer` then `inner` to `out`, each key once:
/// an outer field whose key `inner` sets is left out.
pub(crate) fn merge_fields(out: &mut Vec<u8>, outer: &[u8], inner: &[u8]) {
    copy_fields_except(out, outer, |k| field_keys(inner).any(|i| i == k));
    out.extend_from_slice(inner);
}

/// Appends the encoded fields of `from` whose key `skip` does not select.
pub(crate) fn copy_fields_except(out: &mut Vec<u8>, from: &[u8], skip: impl Fn(&str) -> bool) {
    let mut reader = Reader::new(from);
    loop {
        let start = reader.bytes;
        let Some((key, _)) = reader.field() else {
            return;
        };
        if !skip(key) {
            let used = start.len() - reader.bytes.len();
            out.extend_from_slice(&start[..used]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut buf = Vec::new();
        buf.push(tag::U64);
        put_u64(&mut buf, 42);
        buf.push(tag::STR);
        put_str(&mut buf, "héllo");
        let start = open(&mut buf, tag::SEQ);
        buf.push(tag::TRUE);
        buf.push(tag::NULL);
        close(&mut buf, start);
        buf.push(tag::F64);
        put_u64(&mut buf, 12.5f64.to_bits());
        let mut r = Reader::new(&buf);
        assert_eq!(r.value(), Some(Val::U64(42)));
        assert_eq!(r.value(), Some(Val::Str("héllo")));
        let Some(Val::Seq(items)) = r.value() else {
            panic!("a sequence")
        };
        let mut items = Reader::new(items);
        assert_eq!(items.value(), Some(Val::Bool(true)));
        assert_eq!(items.value(), Some(Val::Null));
        assert!(items.rest().is_empty());
        assert_eq!(r.value(), Some(Val::F64(12.5)));
        assert!(r.rest().is_empty());
    }

    #[test]
    fn malformed_bytes_end_decoding() {
        for bytes in [
            &[tag::U64, 1, 2][..],
            &[99],
            &[tag::STR, 255, 255, 255, 255, b'x'],
        ] {
            assert_eq!(Reader::new(bytes).value(), None, "{bytes:?}");
        }
    }

    #[test]
    fn fields_are_copied_except_skipped_keys() {
        let mut fields = Vec::new();
        for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
            put_str(&mut fields, k);
            fields.push(tag::U64);
            put_u64(&mut fields, v);
        }
        let mut out = Vec::new();
        copy_fields_except(&mut out, &fields, |k| k == "b");
        assert_eq!(field_keys(&out).collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn has_key_skips_every_kind_of_value() {
        let mut fields = Vec::new();
        let mut add = |key: &str, value: &[u8]| {
            put_str(&mut fields, key);
            fields.extend_from_slice(value);
        };
        add("t", &[tag::TRUE]);
        add("f32", &[tag::F32, 0, 0, 0, 0]);
        add("u", &[tag::U64, 1, 0, 0, 0, 0, 0, 0, 0]);
        add("time", &[tag::TIME, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        add("big", &[[tag::U128].as_slice(), &[0; 16]].concat());
        add("s", &[tag::STR, 2, 0, 0, 0, b'h', b'i']);
        add("seq", &[tag::SEQ, 1, 0, 0, 0, tag::NULL]);
        add("last", &[tag::NULL]);
        for key in ["t", "f32", "u", "time", "big", "s", "seq", "last"] {
            assert!(has_key(&fields, key), "{key}");
        }
        for key in ["", "hi", "las", "lastx"] {
            assert!(!has_key(&fields, key), "{key}");
        }
        // A malformed value ends the search.
        let mut bad = Vec::new();
        put_str(&mut bad, "a");
        bad.push(99);
        put_str(&mut bad, "b");
        bad.push(tag::NULL);
        assert!(has_key(&bad, "a"));
        assert!(!has_key(&bad, "b"));
        assert!(!has_key(&[9, 0, 0, 0, b'x'], "x"));
    }
}
