//! The [`Value`] trait and its implementations.
//!
//! A value encodes itself through an [`Encoder`], which records it as it is
//! (a number, a string, a sequence); the logger formats it later in its own
//! format. So one `impl Value` serves JSON, text and every output alike,
//! and users can make their own types loggable without `%` or `?`.

use crate::record::{self, tag};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A type that can be logged as a field value: `velo!(info, "m", key = value)`.
///
/// Implement it for your own types by calling one method of the [`Encoder`].
///
/// # Examples
///
/// ```
/// struct UserId(u64);
///
/// impl velo::Value for UserId {
///     fn encode(&self, e: &mut velo::Encoder<'_>) {
///         e.u64(self.0);
///     }
/// }
///
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// velo::velo!(logger: &logger, info, "user logged in", user = UserId(42));
/// ```
///
/// Types that only implement `Display` or `Debug` can be logged with
/// `key = %value` or `key = ?value`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be logged as a velo value",
    label = "this value does not implement `velo::Value`",
    note = "write it with `%` for Display or `?` for Debug, e.g. `key = %value` (a variable a placeholder names: list it after the message as `%name`), or implement `velo::Value` for it",
    note = "an error type: `key = velo::Chain(&err)` writes it with its whole source chain (`velo::Chain(&*err)` for an `anyhow::Error`)"
)]
pub trait Value {
    /// Writes this value through `e`.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Value;
    ///
    /// struct Meters(f64);
    ///
    /// impl Value for Meters {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         self.0.encode(e); // written as the f64 is
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "moved", distance = Meters(12.5));
    /// // "distance":12.5
    /// ```
    fn encode(&self, e: &mut Encoder<'_>);

    /// Not part of the API: writes this value straight into its record's
    /// room in the thread's ring, as [`Value::encode`] would encode it, or
    /// returns `false` having written nothing (the value does not fit, or
    /// its type does not say how: the record then moves to a buffer and
    /// `encode` writes the value there). Only types whose encoding runs no
    /// code of the user's implement it.
    #[doc(hidden)]
    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        let _ = slot;
        false
    }
}

/// Writes one value into an entry.
///
/// Each method writes exactly one complete value; call one of them once per
/// [`Value::encode`]. The encoder records the value as it is (numbers as
/// numbers, text as text); the logger formats it later, in its own format,
/// on its worker thread.
///
/// An `encode` that writes nothing writes `null`; one that calls the
/// encoder more than once writes its first value (the others are ignored,
/// so that they cannot take the place of the entry's other fields).
///
/// A method that runs your code (a `Display` or `Debug` impl, the items of
/// a sequence or map, an error's sources) and sees it panic writes nothing
/// at all before the panic goes on: an `encode` that catches the panic
/// may write another value in its place, and the entry's other fields
/// keep theirs. (A panic `encode` lets through loses its entry, counted in
/// `stats().dropped`.)
///
/// # Examples
///
/// ```
/// enum Limit {
///     Unlimited,
///     Bytes(u64),
/// }
///
/// impl velo::Value for Limit {
///     fn encode(&self, e: &mut velo::Encoder<'_>) {
///         match self {
///             Limit::Unlimited => e.str("unlimited"),
///             Limit::Bytes(n) => e.u64(*n),
///         }
///     }
/// }
///
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// velo::velo!(logger: &logger, info, "quota", limit = Limit::Bytes(1 << 20)); // "limit":1048576
/// velo::velo!(logger: &logger, info, "quota", limit = Limit::Unlimited); // "limit":"unlimited"
/// ```
#[derive(Debug)]
pub struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
    /// How many containers the serde bridge has open around what is
    /// written now (`Encoder::open`): inside one, every value counts.
    /// (`seq` and `map` encode each item as a value of its own instead.)
    depth: u32,
    /// The encoder's one value has been written (or begun).
    done: bool,
    /// Containers open around what is written now, of either kind: past
    /// [`MAX_NESTING`], a container is written as [`TOO_DEEP`] instead.
    nested: u32,
    /// Inside a serde container cut at [`MAX_NESTING`]: how many are open
    /// in it; everything written is left out.
    skip: u32,
}

/// Most containers (sequences and maps) nested in one value. The worker
/// formats nested values recursively on a thread of its own: a value
/// nested deeper (a long linked list, a degenerate tree) must not be able
/// to exhaust its stack. 64 also keeps every line within the nesting that
/// JSON readers accept by default (128 for serde_json, the line's own
/// object included).
pub(crate) const MAX_NESTING: u32 = 64;

/// The most sources of an error [`Encoder::error`] follows: a chain longer
/// than any real one, the bound of one that loops.
const MAX_SOURCES: usize = 65_536;

/// What is written in place of a container nested deeper than
/// [`MAX_NESTING`].
pub(crate) const TOO_DEEP: &str = "(nested too deep)";

/// Where an [`Encoder`] was, to go back to (see [`Encoder::rewind`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    len: usize,
    done: bool,
    depth: u32,
    nested: u32,
    skip: u32,
}

/// Puts an encoder back where it was when dropped, unless kept: see
/// [`Encoder::guarded`].
struct Rollback<'r, 'a> {
    e: &'r mut Encoder<'a>,
    mark: Mark,
}

impl<'r, 'a> Rollback<'r, 'a> {
    #[inline]
    fn new(e: &'r mut Encoder<'a>) -> Rollback<'r, 'a> {
        Rollback { mark: e.mark(), e }
    }

    /// Keeps what was written.
    #[inline]
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Rollback<'_, '_> {
    fn drop(&mut self) {
        self.e.rewind(self.mark);
    }
}

impl<'a> Encoder<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> Encoder<'a> {
        Encoder {
            buf,
            depth: 0,
            done: false,
            nested: 0,
            skip: 0,
        }
    }

    /// Encodes `value` as this encoder's one value: `null` when it writes
    /// nothing. Inlined: `Entry::bufferedN` encodes each value through it,
    /// and a call per value costs as much as a number's encoding.
    #[inline(always)]
    pub(crate) fn one<V: Value + ?Sized>(&mut self, value: &V) {
        value.encode(self);
        self.fill();
    }

    /// Writes `null` unless the encoder's one value is written.
    #[inline]
    pub(crate) fn fill(&mut self) {
        if !self.done {
            self.null();
        }
    }

    /// Whether a value may be written now: always inside a container, and
    /// once at the top.
    #[inline(always)]
    fn begin(&mut self) -> bool {
        if self.depth != 0 {
            return self.skip == 0;
        }
        !std::mem::replace(&mut self.done, true)
    }

    /// Whether a value written now would be kept (see [`Encoder::begin`]),
    /// without claiming the place: for an encoder of nested data (the serde
    /// bridge) to write nothing at all otherwise.
    #[cfg(feature = "serde")]
    pub(crate) fn is_open(&self) -> bool {
        if self.depth != 0 {
            return self.skip == 0;
        }
        !self.done
    }

    /// Encodes one item of a container as exactly one value, as at the
    /// top: `null` when it writes nothing, its first value when it writes
    /// more (a map's keys and values stay paired).
    #[inline]
    fn item<V: Value + ?Sized>(&mut self, value: &V) {
        let outer = (std::mem::replace(&mut self.depth, 0), self.done);
        self.done = false;
        value.encode(self);
        self.fill();
        (self.depth, self.done) = outer;
    }

    /// Runs `write`, which writes one value through the user's code (a
    /// `Display`, an iterator, an item's `Value`): should that code panic,
    /// the encoder goes back to where it was, the value unwritten, before
    /// the panic leaves. A `Value` that catches the panic and writes
    /// something else then leaves a whole record; without that, an open
    /// container or string would have no length, and every later byte of
    /// the record would be read in the wrong place.
    #[inline]
    fn guarded(&mut self, write: impl FnOnce(&mut Encoder<'a>)) {
        let _ = self.attempt(|e| {
            write(e);
            Ok::<(), std::convert::Infallible>(())
        });
    }

    /// Runs `write`, which writes one value and may fail: on an error or a
    /// panic the encoder goes back to where it was (see
    /// [`Encoder::guarded`]), so that a caller that goes on after the
    /// failure (a `Serialize` impl that ignores an element's error) finds
    /// the record whole.
    #[inline]
    pub(crate) fn attempt<T, E>(
        &mut self,
        write: impl FnOnce(&mut Encoder<'a>) -> Result<T, E>,
    ) -> Result<T, E> {
        let rollback = Rollback::new(self);
        let result = write(rollback.e);
        if result.is_ok() {
            rollback.keep();
        }
        result
    }

    /// Writes an unsigned integer.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Port(u16);
    ///
    /// impl velo::Value for Port {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.u64(u64::from(self.0));
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "listening", port = Port(8080));
    /// // "port":8080
    /// ```
    #[inline]
    pub fn u64(&mut self, v: u64) {
        if !self.begin() {
            return;
        }
        self.buf.extend_from_slice(&record::number(tag::U64, v));
    }

    /// Writes a signed integer.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Celsius(i32);
    ///
    /// impl velo::Value for Celsius {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.i64(i64::from(self.0));
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, warn, "freezer too warm", temp = Celsius(-5));
    /// // "temp":-5
    /// ```
    #[inline]
    pub fn i64(&mut self, v: i64) {
        if !self.begin() {
            return;
        }
        self.buf
            .extend_from_slice(&record::number(tag::I64, v as u64));
    }

    /// Writes a 128-bit unsigned integer.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Nanos(std::time::Duration);
    ///
    /// impl velo::Value for Nanos {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.u128(self.0.as_nanos());
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// let uptime = Nanos(std::time::Duration::from_secs(90));
    /// velo::velo!(logger: &logger, info, "healthy", uptime_ns = uptime);
    /// // "uptime_ns":90000000000
    /// ```
    #[inline]
    pub fn u128(&mut self, v: u128) {
        if !self.begin() {
            return;
        }
        self.buf.push(tag::U128);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Writes a 128-bit signed integer.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Drift(i128); // nanoseconds, either way
    ///
    /// impl velo::Value for Drift {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.i128(self.0);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, warn, "clock drift", drift_ns = Drift(-1_500));
    /// // "drift_ns":-1500
    /// ```
    #[inline]
    pub fn i128(&mut self, v: i128) {
        if !self.begin() {
            return;
        }
        self.buf.push(tag::I128);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Writes a float; NaN and the infinities are written as `"NaN"`,
    /// `"inf"` and `"-inf"` (strings in JSON, bare in text).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Ratio {
    ///     hits: u32,
    ///     total: u32,
    /// }
    ///
    /// impl velo::Value for Ratio {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.f64(f64::from(self.hits) / f64::from(self.total));
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "cache", hit_rate = Ratio { hits: 1, total: 4 });
    /// // "hit_rate":0.25
    /// ```
    #[inline]
    pub fn f64(&mut self, v: f64) {
        if !self.begin() {
            return;
        }
        self.buf
            .extend_from_slice(&record::number(tag::F64, v.to_bits()));
    }

    /// Writes an `f32` in its own shortest form.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Volume(f32);
    ///
    /// impl velo::Value for Volume {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.f32(self.0);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "volume set", volume = Volume(0.1));
    /// // "volume":0.1 (not 0.10000000149011612)
    /// ```
    #[inline]
    pub fn f32(&mut self, v: f32) {
        if !self.begin() {
            return;
        }
        self.buf
            .extend_from_slice(&record::number32(tag::F32, v.to_bits()));
    }

    /// Writes `true` or `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Health {
    ///     failures: u32,
    /// }
    ///
    /// impl velo::Value for Health {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.bool(self.failures == 0);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "probe", healthy = Health { failures: 0 });
    /// // "healthy":true
    /// ```
    #[inline]
    pub fn bool(&mut self, v: bool) {
        if !self.begin() {
            return;
        }
        self.buf.push(if v { tag::TRUE } else { tag::FALSE });
    }

    /// Writes a null: `null` in both formats.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Password(String);
    ///
    /// impl velo::Value for Password {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.null(); // never logged
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "login", password = Password("hunter2".into()));
    /// // "password":null
    /// ```
    #[inline]
    pub fn null(&mut self) {
        if !self.begin() {
            return;
        }
        self.buf.push(tag::NULL);
    }

    /// Writes a string. It is escaped when the line is formatted (and in
    /// the text format, quoted when needed).
    ///
    /// # Examples
    ///
    /// ```
    /// struct Email(String);
    ///
    /// impl velo::Value for Email {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         // Only the domain: the address is personal data.
    ///         e.str(self.0.split_once('@').map_or("", |(_, domain)| domain));
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// let email = Email("ada@example.com".into());
    /// velo::velo!(logger: &logger, info, "signup", email);
    /// // "email":"example.com"
    /// ```
    #[inline]
    pub fn str(&mut self, v: &str) {
        if self.begin() {
            self.put_str(v);
        }
    }

    #[inline]
    fn put_str(&mut self, v: &str) {
        record::put_str_value(self.buf, v);
    }

    /// Writes a character as a one-character string.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Grade(u8);
    ///
    /// impl velo::Value for Grade {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.char(char::from(b'A' + self.0));
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "graded", grade = Grade(1));
    /// // "grade":"B"
    /// ```
    #[inline]
    pub fn char(&mut self, v: char) {
        if self.begin() {
            self.put_str(v.encode_utf8(&mut [0; 4]));
        }
    }

    /// Writes a value's `Display` output as a string, without an
    /// intermediate `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Version(u32, u32);
    ///
    /// impl std::fmt::Display for Version {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "v{}.{}", self.0, self.1)
    ///     }
    /// }
    ///
    /// impl velo::Value for Version {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.display(self);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "deployed", version = Version(1, 4));
    /// // "version":"v1.4"
    /// ```
    #[inline]
    pub fn display<T: fmt::Display + ?Sized>(&mut self, v: &T) {
        self.fmt(format_args!("{v}"));
    }

    /// Writes a value's `Debug` output as a string, like [`Encoder::display`].
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Debug)]
    /// enum State {
    ///     Running { pid: u32 },
    /// }
    ///
    /// impl velo::Value for State {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.debug(self);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "worker", state = State::Running { pid: 7 });
    /// // "state":"Running { pid: 7 }"
    /// ```
    #[inline]
    pub fn debug<T: fmt::Debug + ?Sized>(&mut self, v: &T) {
        self.fmt(format_args!("{v:?}"));
    }

    /// Writes formatted text as a string.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Mebibytes(u64);
    ///
    /// impl velo::Value for Mebibytes {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.fmt(format_args!("{} MiB", self.0));
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "cache sized", size = Mebibytes(512));
    /// // "size":"512 MiB"
    /// ```
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) {
        self.guarded(|e| e.write_fmt_value(args));
    }

    fn write_fmt_value(&mut self, args: fmt::Arguments<'_>) {
        if !self.begin() {
            return;
        }
        if let Some(s) = args.as_str() {
            return self.put_str(s);
        }
        let start = record::open(self.buf, tag::STR);
        // A formatting error comes from the value's own impl; what it wrote
        // so far is kept.
        let _ = record::StrWriter {
            buf: self.buf,
            start,
        }
        .write_fmt(args);
        record::close(self.buf, start);
    }

    /// Writes a sequence of values as an array: `[1,2,3]` in both formats.
    /// An array nested more than 64 containers deep (a recursive `Value`)
    /// is the string `"(nested too deep)"` instead, and its items are not
    /// visited: the worker formats nested values recursively, and the line
    /// stays within what JSON readers accept.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Tags(Vec<&'static str>);
    ///
    /// impl velo::Value for Tags {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.seq(&self.0);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "tagged", tags = Tags(vec!["blue", "large"]));
    /// // "tags":["blue","large"]
    /// ```
    pub fn seq<I>(&mut self, items: I)
    where
        I: IntoIterator,
        I::Item: Value,
    {
        self.guarded(|e| e.write_seq(items));
    }

    fn write_seq<I>(&mut self, items: I)
    where
        I: IntoIterator,
        I::Item: Value,
    {
        if !self.begin() {
            return;
        }
        if self.nested >= MAX_NESTING {
            return self.put_str(TOO_DEEP);
        }
        self.nested += 1;
        let start = record::open(self.buf, tag::SEQ);
        for item in items {
            self.item(&item);
        }
        record::close(self.buf, start);
        self.nested -= 1;
    }

    /// Writes key-value pairs as an object: `{"a":1,"b":2}` (the same,
    /// compact, in the text format). As for [`Encoder::seq`], a map nested
    /// more than 64 containers deep is the string `"(nested too deep)"`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Point { x: i32, y: i32 }
    ///
    /// impl velo::Value for Point {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.map([("x", self.x), ("y", self.y)]);
    ///     }
    /// }
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// velo::velo!(logger: &logger, info, "moved", to = Point { x: 1, y: 2 });
    /// ```
    pub fn map<K, V, I>(&mut self, entries: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Value,
    {
        self.guarded(|e| e.write_map(entries));
    }

    fn write_map<K, V, I>(&mut self, entries: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Value,
    {
        if !self.begin() {
            return;
        }
        if self.nested >= MAX_NESTING {
            return self.put_str(TOO_DEEP);
        }
        self.nested += 1;
        let start = record::open(self.buf, tag::MAP);
        for (key, value) in entries {
            record::put_str(self.buf, key.as_ref());
            self.item(&value);
        }
        record::close(self.buf, start);
        self.nested -= 1;
    }

    /// Starts a map whose entries are written one by one; for encoders of
    /// nested data (the serde bridge).
    #[cfg(feature = "serde")]
    pub(crate) fn open(&mut self, tag: u8) -> usize {
        // Trusted code: the one value, or a container inside another.
        if self.skip != 0 {
            self.skip += 1;
            self.depth += 1;
            return usize::MAX;
        }
        let _ = self.begin();
        self.depth += 1;
        if self.nested >= MAX_NESTING {
            // The container is this string; what goes in it is left out.
            self.put_str(TOO_DEEP);
            self.skip = 1;
            return usize::MAX;
        }
        self.nested += 1;
        record::open(self.buf, tag)
    }

    /// Ends what [`Encoder::open`] started.
    #[cfg(feature = "serde")]
    pub(crate) fn close(&mut self, start: usize) {
        // An encoder may close what another one opened on the same buffer.
        self.depth = self.depth.saturating_sub(1);
        if self.skip != 0 {
            self.skip -= 1;
            return;
        }
        self.nested = self.nested.saturating_sub(1);
        record::close(self.buf, start);
    }

    /// Writes a map key (between [`Encoder::open`] and [`Encoder::close`]
    /// of a map).
    #[cfg(feature = "serde")]
    pub(crate) fn key(&mut self, key: &str) {
        if self.skip == 0 {
            record::put_str(self.buf, key);
        }
    }

    /// Writes a map key from formatted text (between [`Encoder::open`] and
    /// [`Encoder::close`] of a map).
    #[cfg(feature = "serde")]
    pub(crate) fn key_fmt(&mut self, args: fmt::Arguments<'_>) {
        if self.skip != 0 {
            return;
        }
        if let Some(s) = args.as_str() {
            return self.key(s);
        }
        let start = record::open_untagged(self.buf);
        let _ = record::StrWriter {
            buf: self.buf,
            start,
        }
        .write_fmt(args);
        record::close(self.buf, start);
    }

    /// Where the next value starts, for [`Encoder::rewind`].
    #[inline]
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            len: self.buf.len(),
            done: self.done,
            depth: self.depth,
            nested: self.nested,
            skip: self.skip,
        }
    }

    /// Forgets everything written since `mark` (a value that failed half
    /// way).
    pub(crate) fn rewind(&mut self, mark: Mark) {
        self.buf.truncate(mark.len);
        self.done = mark.done;
        self.depth = mark.depth;
        self.nested = mark.nested;
        self.skip = mark.skip;
    }

    /// Writes an error with its whole source chain, as one string:
    /// `outer: middle: root`. A source whose message the error's own
    /// message already shows is not repeated: the same message (a wrapper
    /// that shows its source's), or one the error's message ends with
    /// after a separator (`read config: timeout`, then `timeout`). A
    /// message that merely ends with the same words (`connection timeout`,
    /// then `timeout`) is another error's, and is written.
    ///
    /// # Examples
    ///
    /// ```
    /// enum Outcome {
    ///     Done,
    ///     Failed(std::io::Error),
    /// }
    ///
    /// impl velo::Value for Outcome {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         match self {
    ///             Outcome::Done => e.str("done"),
    ///             Outcome::Failed(err) => e.error(err),
    ///         }
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// let outcome = Outcome::Failed(std::io::Error::other("disk full"));
    /// velo::velo!(logger: &logger, error, "job finished", outcome);
    /// // "outcome":"disk full"
    /// ```
    pub fn error(&mut self, err: &(dyn std::error::Error + '_)) {
        self.error_chain(err, err.source());
    }

    /// An error's message, `head`, and those of its sources from `source`
    /// on (see [`Encoder::error`]).
    fn error_chain(
        &mut self,
        head: &dyn fmt::Display,
        source: Option<&(dyn std::error::Error + 'static)>,
    ) {
        self.guarded(|e| e.write_error_chain(head, source));
    }

    fn write_error_chain(
        &mut self,
        head: &dyn fmt::Display,
        mut source: Option<&(dyn std::error::Error + 'static)>,
    ) {
        if !self.begin() {
            return;
        }
        let start = record::open(self.buf, tag::STR);
        let mut w = record::StrWriter {
            buf: self.buf,
            start,
        };
        let _ = write!(w, "{head}");
        // Where the message of the error whose source comes next starts.
        let mut outer = start;
        // A chain that loops (an error that is its own source, or two that
        // are each other's) ends when a source comes round again: Brent's
        // cycle finding keeps one source to compare each next one with,
        // and moves it on at powers of two, so the loop is written about
        // once more at most. The objects are compared, not their messages:
        // two errors may say the same thing. A chain that never comes
        // round and never ends (each error making a new source) is cut at
        // `MAX_SOURCES`.
        let mut links = 0;
        let (mut kept, mut since_kept, mut power) = (None, 0_usize, 1_usize);
        while let Some(cause) = source {
            links += 1;
            if links > MAX_SOURCES
                || kept.is_some_and(|k: &(dyn std::error::Error + 'static)| std::ptr::eq(k, cause))
            {
                break;
            }
            since_kept += 1;
            if since_kept == power {
                (kept, since_kept, power) = (Some(cause), 0, power.saturating_mul(2));
            }
            let before = w.buf.len();
            // No separator before the first message that says anything.
            let sep = if before == start { "" } else { ": " };
            let _ = write!(w, "{sep}{cause}");
            let Some(written) = w.buf.get(before + sep.len()..) else {
                // The string is full (see `record::put_str`): the chain is
                // cut here.
                w.buf.truncate(before);
                break;
            };
            if repeats(&w.buf[outer..before], written) {
                w.buf.truncate(before);
            } else {
                outer = before + sep.len();
            }
            source = cause.source();
        }
        record::close(self.buf, start);
    }

    /// Writes a `SystemTime` as an RFC 3339 UTC string with nanoseconds.
    /// An instant outside the years 0000 to 9999, which RFC 3339 cannot
    /// write, is written as the nearest one it can:
    /// `0000-01-01T00:00:00.000000000Z` or `9999-12-31T23:59:59.999999999Z`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// struct Expiry(SystemTime);
    ///
    /// impl velo::Value for Expiry {
    ///     fn encode(&self, e: &mut velo::Encoder<'_>) {
    ///         e.system_time(self.0);
    ///     }
    /// }
    ///
    /// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    /// let at = Expiry(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    /// velo::velo!(logger: &logger, info, "token issued", expires = at);
    /// // "expires":"2027-01-15T08:00:00.000000000Z"
    /// ```
    pub fn system_time(&mut self, v: SystemTime) {
        if !self.begin() {
            return;
        }
        let (secs, nanos) = crate::timestamp::epoch_parts(v);
        self.buf.push(tag::TIME);
        record::put_u64(self.buf, secs as u64);
        record::put_u32(self.buf, nanos);
    }
}

macro_rules! impl_int {
    ($method:ident as $wide:ty: $($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn encode(&self, e: &mut Encoder<'_>) {
                e.$method(<$wide>::from(*self));
            }
        }
    )*};
}

/// Integers that fit a word, with their tag in a record.
macro_rules! impl_word {
    ($tag:ident as $wide:ty: $($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn encode(&self, e: &mut Encoder<'_>) {
                e.$tag(*self as $wide);
            }

            #[inline(always)]
            fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
                slot.put(&record::number(word_tag!($tag), *self as $wide as u64))
            }
        }
    )*};
}

macro_rules! word_tag {
    (u64) => {
        tag::U64
    };
    (i64) => {
        tag::I64
    };
}

impl_word!(u64 as u64: u8, u16, u32, u64, usize);
impl_word!(i64 as i64: i8, i16, i32, i64, isize);
impl_int!(u128 as u128: u128);
impl_int!(i128 as i128: i128);

macro_rules! impl_nonzero {
    ($($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn encode(&self, e: &mut Encoder<'_>) {
                self.get().encode(e);
            }

            #[inline(always)]
            fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
                self.get().encode_in_place(slot)
            }
        }
    )*};
}

impl_nonzero!(
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroU128,
    std::num::NonZeroUsize,
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroI128,
    std::num::NonZeroIsize
);

impl Value for f64 {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.f64(*self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put(&record::number(tag::F64, self.to_bits()))
    }
}

impl Value for f32 {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.f32(*self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put(&record::number32(tag::F32, self.to_bits()))
    }
}

impl Value for bool {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.bool(*self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put(&[if *self { tag::TRUE } else { tag::FALSE }])
    }
}

impl Value for char {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.char(*self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put_str_value(self.encode_utf8(&mut [0; 4]))
    }
}

impl Value for str {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put_str_value(self)
    }
}

impl Value for String {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put_str_value(self)
    }
}

impl Value for Cow<'_, str> {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(self);
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        slot.put_str_value(self)
    }
}

impl Value for () {
    /// The unit value is `null`.
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.null();
    }
}

impl<T: Value> Value for Option<T> {
    /// `None` is `null`.
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        match self {
            Some(v) => v.encode(e),
            None => e.null(),
        }
    }

    #[inline(always)]
    fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
        match self {
            Some(v) => v.encode_in_place(slot),
            None => slot.put(&[tag::NULL]),
        }
    }
}

/// `Value` for the pointers and references to a value: the value's own
/// encoding.
macro_rules! impl_deref {
    ($($ptr:ty),*) => {$(
        impl<T: Value + ?Sized> Value for $ptr {
            #[inline]
            fn encode(&self, e: &mut Encoder<'_>) {
                (**self).encode(e);
            }

            #[inline(always)]
            fn encode_in_place(&self, slot: &mut record::Slot) -> bool {
                (**self).encode_in_place(slot)
            }
        }
    )*};
}

impl_deref!(&T, &mut T, Box<T>, Arc<T>, Rc<T>);

impl<T: Value> Value for [T] {
    /// A slice is an array.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.seq(self);
    }
}

impl<T: Value, const N: usize> Value for [T; N] {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.seq(self);
    }
}

impl<T: Value> Value for Vec<T> {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.seq(self);
    }
}

impl Value for Duration {
    /// A duration is a string in `Debug` form: `"1.5ms"`, `"2s"`.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.debug(self);
    }
}

impl Value for SystemTime {
    /// An RFC 3339 UTC string with nanoseconds.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.system_time(*self);
    }
}

macro_rules! impl_display {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn encode(&self, e: &mut Encoder<'_>) {
                e.display(self);
            }
        }
    )*};
}

impl_display!(
    IpAddr,
    Ipv4Addr,
    Ipv6Addr,
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    crate::Level
);

impl Value for Path {
    /// A path is a string; invalid UTF-8 is replaced, without allocating.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.display(&self.display());
    }
}

impl Value for PathBuf {
    fn encode(&self, e: &mut Encoder<'_>) {
        self.as_path().encode(e);
    }
}

impl Value for fmt::Arguments<'_> {
    /// `format_args!(...)` is a string.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.fmt(*self);
    }
}

/// Writes any error with its whole source chain: `outer: middle: root`.
///
/// Errors of the standard library and `dyn Error` trait objects are
/// loggable as they are; `Chain` makes any other error type loggable the
/// same way. A type that is not an error itself but dereferences to one
/// (`anyhow::Error`, `eyre::Report`) goes in as `Chain(&*err)`.
///
/// # Examples
///
/// ```
/// #[derive(Debug)]
/// struct Outer(std::io::Error);
/// impl std::fmt::Display for Outer {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("config unreadable")
///     }
/// }
/// impl std::error::Error for Outer {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let err = Outer(std::io::Error::other("disk on fire"));
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// velo::velo!(logger: &logger, error, "startup failed", err = velo::Chain(&err));
/// // "err":"config unreadable: disk on fire"
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Chain<'a, E: ?Sized>(pub &'a E);

/// Any error, `dyn Error` included (a `&dyn Error` only coerces from a
/// sized one): the message through `Display`, the chain through `source`.
impl<E: std::error::Error + ?Sized> Value for Chain<'_, E> {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.error_chain(&format_args!("{}", self.0), self.0.source());
    }
}

macro_rules! impl_error {
    ($($t:ty),*) => {$(
        impl Value for $t {
            /// The error's message and its sources: `outer: middle: root`.
            fn encode(&self, e: &mut Encoder<'_>) {
                e.error(self);
            }
        }
    )*};
}

// Trait objects of any lifetime: a `&dyn Error` borrowed from the
// caller's arguments is loggable as it is.
impl Value for dyn std::error::Error + '_ {
    /// The error's message and its sources: `outer: middle: root`.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.error(self);
    }
}

impl Value for dyn std::error::Error + Send + '_ {
    /// The error's message and its sources: `outer: middle: root`.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.error(self);
    }
}

impl Value for dyn std::error::Error + Send + Sync + '_ {
    /// The error's message and its sources: `outer: middle: root`.
    fn encode(&self, e: &mut Encoder<'_>) {
        e.error(self);
    }
}

/// `Value` for the standard library's generic errors, whatever they hold.
macro_rules! impl_generic_error {
    ($($($seg:ident)::+ <$p:ident>),*) => {$(
        impl<$p> Value for $($seg)::+<$p>
        where
            $($seg)::+<$p>: std::error::Error,
        {
            /// The error's message and its sources: `outer: middle: root`.
            fn encode(&self, e: &mut Encoder<'_>) {
                e.error(self);
            }
        }
    )*};
}

impl_generic_error!(
    std::sync::mpsc::SendError<T>,
    std::sync::mpsc::TrySendError<T>,
    std::sync::PoisonError<T>,
    std::sync::TryLockError<T>,
    std::io::IntoInnerError<W>
);

impl_error!(
    std::string::FromUtf16Error,
    std::env::JoinPathsError,
    std::time::TryFromFloatSecsError,
    std::char::TryFromCharError,
    std::char::DecodeUtf16Error,
    std::ffi::FromVecWithNulError,
    std::io::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::num::TryFromIntError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::str::ParseBoolError,
    std::net::AddrParseError,
    std::time::SystemTimeError,
    std::env::VarError,
    std::array::TryFromSliceError,
    std::char::ParseCharError,
    std::char::CharTryFromError,
    std::ffi::NulError,
    std::ffi::FromBytesWithNulError,
    std::ffi::IntoStringError,
    std::path::StripPrefixError,
    std::sync::mpsc::RecvError,
    std::sync::mpsc::TryRecvError,
    std::sync::mpsc::RecvTimeoutError,
    std::cell::BorrowError,
    std::cell::BorrowMutError,
    std::collections::TryReserveError,
    std::alloc::LayoutError,
    std::thread::AccessError
);

/// Whether an error's message `outer` already shows its source's message
/// `inner` (see [`Encoder::error`]).
fn repeats(outer: &[u8], inner: &[u8]) -> bool {
    if inner.is_empty() || outer == inner {
        return true;
    }
    match outer.strip_suffix(inner) {
        Some(rest) => rest
            .trim_ascii_end()
            .last()
            .is_some_and(|b| matches!(b, b':' | b'-' | b';' | b',' | b'|' | b'>')),
        None => false,
    }
}
