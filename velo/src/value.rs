//! The [`Value`] trait and its implementations.
//!
//! A value encodes itself through an [`Encoder`], which knows the output
//! format; so one `impl Value` serves JSON and text alike, and users can make
//! their own types loggable without `%` or `?`.

use crate::{json, text, time};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A type that can be logged as a field value: `velo!(info, "m", key = value)`.
///
/// Implement it for your own types by calling one method of the [`Encoder`]:
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
    note = "write it with `%` for Display or `?` for Debug, e.g. `key = %value`, or implement `velo::Value` for it"
)]
pub trait Value {
    /// Writes this value through `e`.
    fn encode(&self, e: &mut Encoder<'_>);
}

/// Writes one value into an entry, in the entry's format.
///
/// Each method writes exactly one complete value; call one of them once per
/// [`Value::encode`].
#[derive(Debug)]
pub struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
    text: bool,
}

impl<'a> Encoder<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a mut Vec<u8>, text: bool) -> Encoder<'a> {
        Encoder { buf, text }
    }

    /// Writes an unsigned integer.
    #[inline]
    pub fn u64(&mut self, v: u64) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// Writes a signed integer.
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// Writes a 128-bit unsigned integer.
    #[inline]
    pub fn u128(&mut self, v: u128) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// Writes a 128-bit signed integer.
    #[inline]
    pub fn i128(&mut self, v: i128) {
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// Writes a float; NaN and the infinities become `"NaN"`, `"inf"` and
    /// `"-inf"` (strings in JSON, bare in text).
    #[inline]
    pub fn f64(&mut self, v: f64) {
        if self.text && !v.is_finite() {
            self.buf
                .extend_from_slice(json::non_finite(v.is_nan(), v > 0.0, false));
        } else {
            json::write_f64(self.buf, v);
        }
    }

    /// Writes an `f32` in its own shortest form.
    #[inline]
    pub fn f32(&mut self, v: f32) {
        if self.text && !v.is_finite() {
            self.buf
                .extend_from_slice(json::non_finite(v.is_nan(), v > 0.0, false));
        } else {
            json::write_f32(self.buf, v);
        }
    }

    /// Writes `true` or `false`.
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// Writes a null: `null` in both formats.
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    /// Writes a string, escaped (and in text, quoted when needed).
    #[inline]
    pub fn str(&mut self, v: &str) {
        if self.text {
            text::write_value(self.buf, v);
        } else {
            json::write_str(self.buf, v);
        }
    }

    /// Writes a character as a one-character string.
    #[inline]
    pub fn char(&mut self, v: char) {
        self.str(v.encode_utf8(&mut [0; 4]));
    }

    /// Writes a value's `Display` output as a string, escaped while it is
    /// written, without an intermediate `String`.
    #[inline]
    pub fn display<T: fmt::Display + ?Sized>(&mut self, v: &T) {
        self.fmt(format_args!("{v}"));
    }

    /// Writes a value's `Debug` output as a string, like [`Encoder::display`].
    #[inline]
    pub fn debug<T: fmt::Debug + ?Sized>(&mut self, v: &T) {
        self.fmt(format_args!("{v:?}"));
    }

    /// Writes formatted text as a string.
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) {
        if let Some(s) = args.as_str() {
            return self.str(s);
        }
        // A formatting error comes from the value's own impl; what it wrote
        // so far is kept, still escaped, so the line stays well formed.
        if self.text {
            let mut e = text::Escaper::new(self.buf);
            let _ = e.write_fmt(args);
            e.finish();
        } else {
            self.buf.push(b'"');
            let _ = json::Escaper(self.buf).write_fmt(args);
            self.buf.push(b'"');
        }
    }

    /// Writes a sequence of values as an array: `[1,2,3]` in both formats.
    pub fn seq<I>(&mut self, items: I)
    where
        I: IntoIterator,
        I::Item: Value,
    {
        self.buf.push(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            item.encode(self);
        }
        self.buf.push(b']');
    }

    /// Writes a `SystemTime` as an RFC 3339 UTC string with nanoseconds.
    pub fn system_time(&mut self, v: SystemTime) {
        if !self.text {
            self.buf.push(b'"');
        }
        time::write_system_time(self.buf, v);
        if !self.text {
            self.buf.push(b'"');
        }
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

impl_int!(u64 as u64: u8, u16, u32, u64);
impl_int!(i64 as i64: i8, i16, i32, i64);
impl_int!(u128 as u128: u128);
impl_int!(i128 as i128: i128);

impl Value for usize {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.u64(*self as u64);
    }
}

impl Value for isize {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.i64(*self as i64);
    }
}

macro_rules! impl_nonzero {
    ($($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn encode(&self, e: &mut Encoder<'_>) {
                self.get().encode(e);
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
}

impl Value for f32 {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.f32(*self);
    }
}

impl Value for bool {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.bool(*self);
    }
}

impl Value for char {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.char(*self);
    }
}

impl Value for str {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(self);
    }
}

impl Value for String {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(self);
    }
}

impl Value for Cow<'_, str> {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        e.str(self);
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
}

impl<T: Value + ?Sized> Value for &T {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        (**self).encode(e);
    }
}

impl<T: Value + ?Sized> Value for &mut T {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        (**self).encode(e);
    }
}

impl<T: Value + ?Sized> Value for Box<T> {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        (**self).encode(e);
    }
}

impl<T: Value + ?Sized> Value for Arc<T> {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        (**self).encode(e);
    }
}

impl<T: Value + ?Sized> Value for Rc<T> {
    #[inline]
    fn encode(&self, e: &mut Encoder<'_>) {
        (**self).encode(e);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &dyn Fn(&mut Encoder<'_>), text: bool) -> String {
        let mut buf = Vec::new();
        v(&mut Encoder::new(&mut buf, text));
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn both_formats() {
        type Case<'a> = (&'a dyn Fn(&mut Encoder<'_>), &'a str, &'a str);
        let cases: [Case<'_>; 9] = [
            (&|e| 42u8.encode(e), "42", "42"),
            (&|e| (-7i64).encode(e), "-7", "-7"),
            (&|e| "a b".encode(e), "\"a b\"", "\"a b\""),
            (&|e| "ab".encode(e), "\"ab\"", "ab"),
            (&|e| None::<u8>.encode(e), "null", "null"),
            (&|e| [1, 2].encode(e), "[1,2]", "[1,2]"),
            (&|e| f64::NAN.encode(e), "\"NaN\"", "NaN"),
            (
                &|e| Duration::from_millis(1500).encode(e),
                "\"1.5s\"",
                "1.5s",
            ),
            (&|e| e.display(&"x\ny"), "\"x\\ny\"", "\"x\\ny\""),
        ];
        for (f, json, txt) in cases {
            assert_eq!(enc(f, false), json);
            assert_eq!(enc(f, true), txt);
        }
    }
}
