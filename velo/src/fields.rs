//! Fields encoded once and added to many entries: a logger's context
//! ([`Logger::with`](crate::Logger::with),
//! [`Builder::fields`](crate::Builder::fields)) and a thread's scopes
//! ([`scope`], [`scoped`]).
//!
//! [`fields!`](crate::fields!) records each value once, as a call site
//! would; an entry then copies the encoded bytes into its record, and the
//! worker formats them with the entry. A key appears once per entry: when
//! field lists are combined, the inner one's value wins.

use crate::local;
use crate::record;
use crate::value::{Encoder, Value};
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Pre-encoded fields, made by [`fields!`](crate::fields!) and bound with
/// [`Logger::with`](crate::Logger::with),
/// [`Builder::fields`](crate::Builder::fields) or [`scope`].
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
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// `key value` pairs, encoded as in a record.
    bytes: Vec<u8>,
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(record::field_keys(&self.bytes))
            .finish()
    }
}

impl Fields {
    /// No fields.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut fields = velo::Fields::new();
    /// assert!(fields.is_empty());
    /// fields.extend(&velo::fields!(region = "eu-west-1"));
    /// assert_eq!(fields.keys().collect::<Vec<_>>(), ["region"]);
    /// ```
    #[must_use]
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Whether there are no fields.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(velo::Fields::new().is_empty());
    /// assert!(!velo::fields!(attempt = 1).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The keys, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let fields = velo::fields!(a = 1, b = 2);
    /// assert_eq!(fields.keys().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        record::field_keys(&self.bytes)
    }

    /// Adds `other`'s fields after these; a key both have takes `other`'s
    /// value (and `other`'s place).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut fields = velo::fields!(a = 1, b = 2);
    /// fields.extend(&velo::fields!(a = 3));
    /// assert_eq!(fields.keys().collect::<Vec<_>>(), ["b", "a"]);
    /// ```
    pub fn extend(&mut self, other: &Fields) {
        self.bytes = merge(&self.bytes, &other.bytes);
    }

    /// The encoded bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// `outer`'s fields whose keys `inner` does not set, then `inner`'s.
pub(crate) fn merge(outer: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(outer.len() + inner.len());
    record::merge_fields(&mut out, outer, inner);
    out
}

/// Builds [`Fields`]; used by the code `fields!` generates.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct FieldsBuilder {
    bytes: Vec<u8>,
    /// The key of the field being written.
    names: &'static [&'static str],
    next: usize,
}

impl FieldsBuilder {
    /// A builder for fields with these keys, written in this order.
    #[must_use]
    pub fn new(names: &'static [&'static str]) -> FieldsBuilder {
        // Room for the keys and a short value each: one allocation for
        // most lists of fields, instead of one per doubling.
        let room: usize = names.iter().map(|name| name.len() + 16).sum();
        FieldsBuilder {
            bytes: Vec::with_capacity(room),
            names,
            next: 0,
        }
    }

    fn key(&mut self) -> Encoder<'_> {
        let name = self.names.get(self.next).copied().unwrap_or_default();
        self.next += 1;
        record::put_str(&mut self.bytes, name);
        Encoder::new(&mut self.bytes)
    }

    pub fn value<V: Value + ?Sized>(&mut self, value: &V) {
        self.key().one(value);
    }

    pub fn display<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        self.key().display(value);
    }

    pub fn debug<V: fmt::Debug + ?Sized>(&mut self, value: &V) {
        self.key().debug(value);
    }

    #[must_use]
    pub fn build(self) -> Fields {
        Fields { bytes: self.bytes }
    }
}

/// Runs `f` with `fields` added to every entry this thread logs inside it,
/// to any logger: after the logger's context, before the call's fields.
/// Scopes nest, outer first; an inner scope's key replaces an outer one's.
///
/// # Examples
///
/// ```
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// let trace_id = "4bf92f3577b34da6";
/// velo::scope(velo::fields!(trace_id), || {
///     velo::velo!(logger: &logger, info, "handling request"); // carries trace_id
/// });
/// ```
pub fn scope<R>(fields: Fields, f: impl FnOnce() -> R) -> R {
    let _restore = enter(&fields);
    f()
}

/// Restores the previous scope, and its id, when dropped, even by a panic.
struct Restore(Option<(Vec<u8>, u64)>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some((previous, id)) = self.0.take() {
            local::swap_scope(previous, id);
        }
    }
}

fn enter(fields: &Fields) -> Restore {
    let mut merged = Vec::new();
    local::with_own_scope(|current| merged = merge(current, fields.as_bytes()));
    Restore(Some(local::swap_scope(merged, record::new_block_id())))
}

/// Wraps `future` so that `fields` are in scope (see [`scope`]) while it
/// runs: around each of its polls, on whatever thread polls it, and while
/// it is dropped (a cancelled task's guards log with its fields). Code that
/// runs between polls does not see them.
///
/// # Examples
///
/// ```
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// let request_id = 7;
/// let task = velo::scoped(velo::fields!(request_id), async move {
///     velo::velo!(logger: &logger, info, "step one"); // carries request_id
/// });
/// # drop(task);
/// ```
pub fn scoped<F: Future>(fields: Fields, future: F) -> Scoped<F> {
    Scoped {
        fields,
        future: ManuallyDrop::new(future),
        merged: Vec::new(),
        ids: (0, 0),
    }
}

/// The future returned by [`scoped`].
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll, Waker};
///
/// # let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
/// let task = velo::scoped(velo::fields!(job = "reindex"), async {
///     velo::velo!(logger: &logger, info, "started"); // carries "job":"reindex"
///     42
/// });
/// // Any executor runs it; here, a single poll.
/// let mut task = std::pin::pin!(task);
/// let poll = task.as_mut().poll(&mut Context::from_waker(Waker::noop()));
/// assert_eq!(poll, Poll::Ready(42));
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Scoped<F> {
    fields: Fields,
    /// Dropped by `Scoped`'s own `drop`, inside its scope.
    future: ManuallyDrop<F>,
    /// The polling thread's scope with `fields` merged in, built anew for
    /// each poll (the thread's scope may differ) in the same buffer, so
    /// that polls after the first allocate nothing.
    merged: Vec<u8>,
    /// The id of the scope `merged` was last built on, and the id given
    /// to `merged` then: polled again in the same scope, the future's
    /// fields keep their id, which the worker knows their text by.
    ids: (u64, u64),
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `self` or otherwise exposed unpinned; `fields` and `merged` are
        // not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let mut merged = std::mem::take(&mut this.merged);
        merged.clear();
        let mut outer = 0;
        local::with_own_scope_and_id(|id, current| {
            outer = id;
            record::merge_fields(&mut merged, current, this.fields.as_bytes());
        });
        let id = match this.ids {
            (was, id) if was == outer && id != 0 => id,
            _ => {
                let id = record::new_block_id();
                this.ids = (outer, id);
                id
            }
        };
        let restore = Restore(Some(local::swap_scope(merged, id)));
        // Puts the merged buffer back for the next poll, even after a panic.
        let restore = ReturnTo {
            restore,
            buf: &mut this.merged,
        };
        // SAFETY: see above.
        let poll = unsafe { Pin::new_unchecked(&mut *this.future) }.poll(cx);
        drop(restore);
        poll
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        let _restore = enter(&self.fields);
        // SAFETY: `future` is dropped once, here, and never used after;
        // dropping it in place keeps the pinning guarantee (it is not moved
        // first).
        unsafe { ManuallyDrop::drop(&mut self.future) };
    }
}

/// [`Restore`], keeping the scope it takes back in `buf`.
struct ReturnTo<'b> {
    restore: Restore,
    buf: &'b mut Vec<u8>,
}

impl Drop for ReturnTo<'_> {
    fn drop(&mut self) {
        if let Some((previous, id)) = self.restore.0.take() {
            *self.buf = local::swap_scope(previous, id).0;
        }
    }
}
