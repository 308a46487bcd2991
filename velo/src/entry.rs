//! Building one entry: the static head, the fields, the end of line.
//!
//! Generated code creates an [`Entry`] for an enabled call site, calls one
//! method per field with the field's pre-escaped [`Key`], and finishes it.
//! Only timestamps and values are formatted at run time; everything else is
//! a copy of bytes the macro prepared.

use crate::buffer;
use crate::callsite::{Callsite, Site};
use crate::level::Level;
use crate::logger::Logger;
use crate::text::color;
use crate::time::{self, Timestamp};
use crate::value::{Encoder, Value};
use crate::worker::Core;
use std::fmt;

/// A field key, pre-escaped for each format by the macro.
#[doc(hidden)]
#[derive(Debug)]
pub struct Key {
    /// `,"key":`
    json: &'static [u8],
    /// `key`, quoted if needed.
    text: &'static [u8],
}

impl Key {
    /// A key from its two encodings.
    #[must_use]
    pub const fn new(json: &'static [u8], text: &'static [u8]) -> Key {
        Key { json, text }
    }
}

/// The `caller` key, for the text format's colours and dynamic callers.
const CALLER_KEY: Key = Key::new(b",\"caller\":", b"caller");

/// Level labels of the text format, padded to one width.
const TEXT_LEVELS: [&[u8]; 6] = [b"TRACE", b"DEBUG", b"INFO ", b"WARN ", b"ERROR", b"FATAL"];
const LEVEL_COLORS: [&[u8]; 6] = [
    b"\x1b[35m",
    b"\x1b[34m",
    b"\x1b[32m",
    b"\x1b[33m",
    b"\x1b[31m",
    b"\x1b[1;31m",
];

/// An entry being encoded. Dropping it unfinished (a panic in a value's
/// `Display`) returns its buffer to its thread and writes nothing.
#[doc(hidden)]
#[derive(Debug)]
pub struct Entry<'a> {
    // Three words and a buffer: a call site builds it in place and passes
    // it on cheaply.
    core: &'a Core,
    buf: Vec<u8>,
    site: &'static Site,
}

impl<'a> Entry<'a> {
    /// Starts an entry for `logger` at call site `cs`: takes a buffer and
    /// writes everything up to the first field.
    #[inline]
    pub fn new(logger: &'a Logger, cs: &'static Callsite) -> Entry<'a> {
        Entry::start(logger.core(), logger.context(), cs.site())
    }

    // Not `#[inline]`: this is the bulk of an entry's code, and keeping it
    // out of line keeps every call site small.
    pub(crate) fn start(core: &'a Core, context: &[u8], site: &'static Site) -> Entry<'a> {
        let config = &core.config;
        let mut buf = buffer::take();
        write_time(&mut buf, config);
        if config.text {
            write_text_level(&mut buf, site.level, config.color);
            buf.extend_from_slice(site.text_msg);
        } else {
            buf.extend_from_slice(site.json_head);
            if config.caller {
                buf.extend_from_slice(site.json_caller);
            }
        }
        buf.extend_from_slice(context);
        Entry { core, buf, site }
    }

    /// Starts an entry whose level, message and caller are known only at
    /// run time (records bridged from the `log` crate).
    #[cfg(feature = "log")]
    pub(crate) fn start_dynamic(
        core: &'a Core,
        context: &[u8],
        level: Level,
        message: fmt::Arguments<'_>,
        caller: Option<(&str, u32)>,
    ) -> Entry<'a> {
        let config = &core.config;
        let mut buf = buffer::take();
        write_time(&mut buf, config);
        if config.text {
            write_text_level(&mut buf, level, config.color);
            let _ = fmt::Write::write_fmt(&mut crate::json::MessageEscaper(&mut buf), message);
        } else {
            buf.extend_from_slice(b"\"level\":\"");
            buf.extend_from_slice(level.as_str().as_bytes());
            buf.extend_from_slice(b"\",\"msg\":\"");
            let _ = fmt::Write::write_fmt(&mut crate::json::Escaper(&mut buf), message);
            buf.push(b'"');
            if let (true, Some((file, line))) = (config.caller, caller) {
                buf.extend_from_slice(b",\"caller\":\"");
                crate::json::write_str_body(&mut buf, file);
                buf.push(b':');
                buf.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
                buf.push(b'"');
            }
        }
        buf.extend_from_slice(context);
        Entry {
            core,
            buf,
            site: &DYNAMIC_SITE,
        }
    }

    /// Whether the entry is in the text format.
    #[inline]
    fn text(&self) -> bool {
        self.core.config.text
    }

    #[inline]
    fn key(&mut self, key: &Key) {
        if self.text() {
            self.buf.push(b' ');
            if self.core.config.color {
                self.buf.extend_from_slice(color::DIM);
                self.buf.extend_from_slice(key.text);
                self.buf.extend_from_slice(color::RESET);
            } else {
                self.buf.extend_from_slice(key.text);
            }
            self.buf.push(b'=');
        } else {
            self.buf.extend_from_slice(key.json);
        }
    }

    /// Writes a field through [`Value`].
    ///
    /// Out of line, like every field writer: one copy per value type, shared
    /// by all call sites, keeps each call site to one call per field.
    #[inline(never)]
    pub fn value<V: Value + ?Sized>(&mut self, key: &Key, value: &V) {
        self.key(key);
        let text = self.text();
        value.encode(&mut Encoder::new(&mut self.buf, text));
    }

    /// Writes a field through `Display` (`key = %value`).
    #[inline]
    pub fn display<V: fmt::Display + ?Sized>(&mut self, key: &Key, value: &V) {
        self.display_dyn(key, &value);
    }

    #[inline(never)]
    fn display_dyn(&mut self, key: &Key, value: &dyn fmt::Display) {
        self.key(key);
        let text = self.text();
        Encoder::new(&mut self.buf, text).display(value);
    }

    /// Writes a field through `Debug` (`key = ?value`).
    #[inline]
    pub fn debug<V: fmt::Debug + ?Sized>(&mut self, key: &Key, value: &V) {
        self.debug_dyn(key, &value);
    }

    #[inline(never)]
    fn debug_dyn(&mut self, key: &Key, value: &dyn fmt::Debug) {
        self.key(key);
        let text = self.text();
        Encoder::new(&mut self.buf, text).debug(value);
    }

    /// Ends the line and hands the entry to the logger.
    pub fn finish(mut self) {
        let buf = self.end(None);
        self.core.submit(buf);
    }

    /// Ends the line of an entry from [`Entry::start_dynamic`], whose caller
    /// the text format writes last, and hands it to the logger.
    #[cfg(feature = "log")]
    pub(crate) fn finish_dynamic(mut self, caller: Option<(&str, u32)>) {
        let buf = self.end(caller);
        self.core.submit(buf);
    }

    fn end(&mut self, caller: Option<(&str, u32)>) -> Vec<u8> {
        if self.text() {
            if self.core.config.caller {
                match caller {
                    None if self.site.text_caller.is_empty() => {}
                    None if self.core.config.color => {
                        // The constant is ` caller=file:line`; colour its key.
                        self.key(&CALLER_KEY);
                        let value = &self.site.text_caller[b" caller=".len()..];
                        self.buf.extend_from_slice(value);
                    }
                    None => self.buf.extend_from_slice(self.site.text_caller),
                    Some((file, line)) => {
                        self.key(&CALLER_KEY);
                        Encoder::new(&mut self.buf, true).fmt(format_args!("{file}:{line}"));
                    }
                }
            }
            self.buf.push(b'\n');
        } else {
            self.buf.extend_from_slice(b"}\n");
        }
        std::mem::take(&mut self.buf)
    }
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if self.buf.capacity() != 0 {
            buffer::give(std::mem::take(&mut self.buf));
        }
    }
}

/// Writes the timestamp that opens a line: `TIME ` in text, `{"time":...,`
/// in JSON (just `{` without a timestamp).
#[inline]
fn write_time(buf: &mut Vec<u8>, config: &crate::worker::Config) {
    let mode = config.timestamp;
    let (secs, nanos) = if mode == Timestamp::Off {
        (0, 0)
    } else {
        time::now()
    };
    if config.text {
        if mode != Timestamp::Off {
            if config.color {
                buf.extend_from_slice(color::DIM);
            }
            time::write(buf, mode, secs, nanos);
            if config.color {
                buf.extend_from_slice(color::RESET);
            }
            buf.push(b' ');
        }
        return;
    }
    match mode {
        Timestamp::Off => buf.push(b'{'),
        Timestamp::UnixNanos => {
            buf.extend_from_slice(b"{\"time\":");
            time::write(buf, mode, secs, nanos);
            buf.push(b',');
        }
        _ => {
            buf.extend_from_slice(b"{\"time\":\"");
            time::write(buf, mode, secs, nanos);
            buf.extend_from_slice(b"\",");
        }
    }
}

/// Writes the text format's padded level label and the space after it.
#[inline]
fn write_text_level(buf: &mut Vec<u8>, level: Level, colored: bool) {
    let level = level as usize;
    if colored {
        buf.extend_from_slice(LEVEL_COLORS[level]);
        buf.extend_from_slice(TEXT_LEVELS[level]);
        buf.extend_from_slice(color::RESET);
    } else {
        buf.extend_from_slice(TEXT_LEVELS[level]);
    }
    buf.push(b' ');
}

/// Stands in for the site of dynamic entries; only its empty callers are read.
#[cfg(feature = "log")]
static DYNAMIC_SITE: Site = Site {
    level: Level::Info,
    module_path: "velo",
    file: file!(),
    line: line!(),
    json_head: b"",
    text_msg: b"",
    json_caller: b"",
    text_caller: b"",
};

static DROPPED_SITE: Site = Site {
    level: Level::Warn,
    module_path: "velo",
    file: file!(),
    line: line!(),
    json_head: b"\"level\":\"warn\",\"msg\":\"velo dropped entries: the queue was full\"",
    text_msg: b"velo dropped entries: the queue was full",
    json_caller: b"",
    text_caller: b"",
};

const DROPPED_KEY: Key = Key::new(b",\"dropped\":", b"dropped");

/// The warning entry announcing `count` dropped entries, in `core`'s format.
pub(crate) fn dropped_warning(core: &Core, count: u64) -> Vec<u8> {
    let mut entry = Entry::start(core, &[], &DROPPED_SITE);
    entry.value(&DROPPED_KEY, &count);
    entry.end(None)
}

/// Pre-encoded context fields, made by [`fields!`](crate::fields!) and
/// bound with [`Logger::with`] or [`Builder::fields`](crate::Builder::fields).
///
/// # Examples
///
/// ```
/// let fields = velo::fields!(service = "api", version = 3);
/// let logger = velo::Builder::new()
///     .fields(fields)
///     .writer(std::io::sink())
///     .build()
///     .unwrap();
/// # drop(logger);
/// ```
#[derive(Clone, Default)]
pub struct Fields {
    /// `,"k":v` for each field.
    json: Vec<u8>,
    /// (key, value) encoded for the text format.
    text: Vec<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields")
            .field("json", &String::from_utf8_lossy(&self.json))
            .finish()
    }
}

impl Fields {
    /// No fields.
    #[must_use]
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends `other`'s fields after these.
    pub fn extend(&mut self, other: &Fields) {
        self.json.extend_from_slice(&other.json);
        self.text.extend(other.text.iter().cloned());
    }

    /// The fields as bytes in a logger's format.
    pub(crate) fn render(&self, text: bool, colored: bool) -> Vec<u8> {
        if !text {
            return self.json.clone();
        }
        let mut out = Vec::new();
        for (key, value) in &self.text {
            out.push(b' ');
            if colored {
                out.extend_from_slice(color::DIM);
            }
            out.extend_from_slice(key);
            if colored {
                out.extend_from_slice(color::RESET);
            }
            out.push(b'=');
            out.extend_from_slice(value);
        }
        out
    }
}

/// Builds [`Fields`]; used by the code `fields!` generates.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct FieldsBuilder {
    fields: Fields,
}

impl FieldsBuilder {
    #[must_use]
    pub fn new() -> FieldsBuilder {
        FieldsBuilder::default()
    }

    fn push(&mut self, key: &Key, encode: impl Fn(&mut Encoder<'_>)) {
        self.fields.json.extend_from_slice(key.json);
        encode(&mut Encoder::new(&mut self.fields.json, false));
        let mut text = Vec::new();
        encode(&mut Encoder::new(&mut text, true));
        self.fields.text.push((key.text.to_vec(), text));
    }

    pub fn value<V: Value + ?Sized>(&mut self, key: &Key, value: &V) {
        self.push(key, |e| value.encode(e));
    }

    pub fn display<V: fmt::Display + ?Sized>(&mut self, key: &Key, value: &V) {
        self.formatted(key, format_args!("{value}"));
    }

    pub fn debug<V: fmt::Debug + ?Sized>(&mut self, key: &Key, value: &V) {
        self.formatted(key, format_args!("{value:?}"));
    }

    /// Formats once, so a `Display` with side effects runs once; an error
    /// from the value's impl keeps what it wrote, as `velo!` does.
    fn formatted(&mut self, key: &Key, args: fmt::Arguments<'_>) {
        let mut s = String::new();
        let _ = fmt::Write::write_fmt(&mut s, args);
        self.push(key, |e| e.str(&s));
    }

    #[must_use]
    pub fn build(self) -> Fields {
        self.fields
    }
}
