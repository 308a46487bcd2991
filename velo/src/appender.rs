//! Outputs of the user's own: an [`Appender`] receives each entry as a
//! [`Record`], its level, message, caller and typed fields, where a writer
//! would run: on the logger's worker thread.
//!
//! For what the built-in outputs do not cover: forwarding errors to an
//! alerting service, counting entries by level, keeping entries in memory
//! for a test's assertions. The caller's side is unchanged (the entry is
//! queued as for any output); the appender runs where a writer would, on
//! the worker (or on the logging thread in the cases a writer would: a
//! full queue under `Overflow::Sync`, after `close`, a logger built with
//! `asynchronous(false)`), one entry at a time, in each thread's order.
//! An entry it refuses (an error, a panic) is a write error, counted in
//! `stats().write_errors`, and in neither `written` nor `dropped`.

use crate::event::{Event, Fields as EventFields, ScopeIndex};
use crate::level::Level;
use crate::line;
use crate::record::{Reader, Val};
use crate::timestamp;
use std::fmt;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An output of your own, given to [`Builder::appender`](crate::Builder::appender).
///
/// The worker calls [`append`](Appender::append) for every entry the
/// logger's filter lets through, in order, and [`flush`](Appender::flush)
/// whenever its queue runs empty, at [`sync`](crate::Logger::sync) and at
/// [`close`](crate::Logger::close). An error from either is counted in
/// `stats().write_errors`, reported once on stderr and returned by the
/// next `sync`, as a writer's is; a panic is caught and turned into such
/// an error. Logging goes on either way.
///
/// A closure `FnMut(&Record<'_>) -> io::Result<()>` is an appender too.
///
/// # Examples
///
/// Entries at `warn` and above, kept for a test to look at:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use velo::{velo, Builder, FieldValue, Level, Record};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let keep = Arc::clone(&seen);
/// let logger = Builder::new()
///     .level(Level::Warn)
///     .appender(move |record: &Record<'_>| {
///         let attempt = match record.field("attempt") {
///             Some(FieldValue::U64(n)) => n,
///             _ => 0,
///         };
///         keep.lock().unwrap().push((record.level(), record.message().to_owned(), attempt));
///         Ok(())
///     })
///     .build()?;
///
/// velo!(logger: &logger, info, "not kept");
/// velo!(logger: &logger, warn, "retrying {attempt}", attempt = 2_u64);
/// logger.sync()?;
/// assert_eq!(*seen.lock().unwrap(), [(Level::Warn, "retrying 2".to_owned(), 2)]);
/// # Ok::<(), velo::Error>(())
/// ```
pub trait Appender: Send + 'static {
    /// Takes one entry.
    ///
    /// # Errors
    ///
    /// Whatever the appender could not do: counted in
    /// `stats().write_errors` (the entry is not counted as written), reported
    /// once on stderr and returned by the next `sync`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use velo::{Appender, Record};
    ///
    /// /// Refuses entries without a `user` field.
    /// struct Audit;
    ///
    /// impl Appender for Audit {
    ///     fn append(&mut self, record: &Record<'_>) -> io::Result<()> {
    ///         match record.field("user") {
    ///             Some(_) => Ok(()),
    ///             None => Err(io::Error::other("an audit entry without a user")),
    ///         }
    ///     }
    /// }
    ///
    /// let logger = velo::Builder::new().appender(Audit).build()?;
    /// velo::velo!(logger: &logger, info, "login", user = "ada");
    /// assert!(logger.sync().is_ok());
    /// velo::velo!(logger: &logger, info, "login");
    /// assert!(logger.sync().is_err());
    /// assert_eq!(logger.stats().write_errors, 1);
    /// # Ok::<(), velo::Error>(())
    /// ```
    fn append(&mut self, record: &Record<'_>) -> io::Result<()>;

    /// Hands on what [`append`](Appender::append) kept back, if anything:
    /// called when the worker has written what was queued, and by `sync`
    /// and `close`.
    ///
    /// # Errors
    ///
    /// Whatever could not be handed on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use std::sync::{Arc, Mutex};
    /// use velo::{Appender, Record};
    ///
    /// /// Sends messages on in batches.
    /// struct Batches {
    ///     batch: Vec<String>,
    ///     sent: Arc<Mutex<Vec<Vec<String>>>>,
    /// }
    ///
    /// impl Appender for Batches {
    ///     fn append(&mut self, record: &Record<'_>) -> io::Result<()> {
    ///         self.batch.push(record.message().to_owned());
    ///         Ok(())
    ///     }
    ///
    ///     fn flush(&mut self) -> io::Result<()> {
    ///         if !self.batch.is_empty() {
    ///             self.sent.lock().unwrap().push(std::mem::take(&mut self.batch));
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let sent = Arc::new(Mutex::new(Vec::new()));
    /// let logger = velo::Builder::new()
    ///     .appender(Batches { batch: Vec::new(), sent: Arc::clone(&sent) })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "one");
    /// velo::velo!(logger: &logger, info, "two");
    /// logger.sync()?;
    /// let sent = sent.lock().unwrap();
    /// assert_eq!(sent.concat(), ["one", "two"]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<F> Appender for F
where
    F: FnMut(&Record<'_>) -> io::Result<()> + Send + 'static,
{
    fn append(&mut self, record: &Record<'_>) -> io::Result<()> {
        self(record)
    }
}

/// One entry, as an [`Appender`] receives it: borrowed from the worker's
/// buffers for the length of the call.
///
/// # Examples
///
/// An appender that writes entries in a layout of its own:
///
/// ```
/// use std::io::Write;
/// use velo::{velo, Builder, Record};
///
/// let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let into = out.clone();
/// let logger = Builder::new()
///     .appender(move |r: &Record<'_>| {
///         let mut out = into.lock().unwrap();
///         write!(out, "[{}] {}", r.level(), r.message())?;
///         for (key, value) in r.fields() {
///             write!(out, " {key}={value}")?;
///         }
///         writeln!(out)
///     })
///     .build()?;
/// velo!(logger: &logger, warn, "disk low", free_mb = 512, mount = "/var");
/// logger.sync()?;
/// assert_eq!(out.lock().unwrap().as_slice(), b"[warn] disk low free_mb=512 mount=/var\n");
/// # Ok::<(), velo::Error>(())
/// ```
pub struct Record<'a> {
    event: &'a Event<'a>,
    message: &'a str,
    index: &'a ScopeIndex,
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("level", &self.level())
            .field("message", &self.message)
            .field("target", &self.target())
            .field("fields", &DebugFields(self))
            .finish_non_exhaustive()
    }
}

struct DebugFields<'r, 'a>(&'r Record<'a>);

impl fmt::Debug for DebugFields<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.fields()).finish()
    }
}

impl<'a> Record<'a> {
    pub(crate) fn new(event: &'a Event<'a>, message: &'a str, index: &'a ScopeIndex) -> Record<'a> {
        Record {
            event,
            message,
            index,
        }
    }

    /// The entry's level.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<velo::Level>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.level());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, warn, "disk almost full");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [velo::Level::Warn]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn level(&self) -> Level {
        self.event.level
    }

    /// The message, with a template's placeholders filled in as the line
    /// writes them (strings without quotes).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.message().to_owned());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "user {name} logged in", name = "ada");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), ["user ada logged in"]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn message(&self) -> &str {
        self.message
    }

    /// When the entry was logged; `None` for a logger built with
    /// [`Timestamp::Off`](crate::Timestamp::Off).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let before = std::time::SystemTime::now();
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.time().is_some_and(|t| t >= before - std::time::Duration::from_millis(5)));
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "dated");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [true]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn time(&self) -> Option<SystemTime> {
        self.event
            .time
            .map(|nanos| UNIX_EPOCH + Duration::from_nanos(nanos))
    }

    /// What filters match: the call's `target:`, else its module path.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.target().to_owned());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, target: "audit", info, "login");
    /// velo::velo!(logger: &logger, info, "plain");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), ["audit".to_owned(), module_path!().to_owned()]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn target(&self) -> &str {
        self.event
            .target()
            .unwrap_or_else(|| self.event.module_path())
    }

    /// The module path of the code that logged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.module_path().to_owned());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, target: "audit", info, "login");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [module_path!()]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn module_path(&self) -> &str {
        self.event.module_path()
    }

    /// The source file of the call; `None` for velo's own entries (a
    /// warning that entries were dropped) and bridged records without one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.file().map(str::to_owned));
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "here");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [Some(file!().to_owned())]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn file(&self) -> Option<&str> {
        self.event.caller().map(|(file, _)| file)
    }

    /// The source line of the call; `None` where [`Record::file`] is, and
    /// for a bridged record with a file but no line.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<Option<u32>>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.line());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// let line = line!() + 1;
    /// velo::velo!(logger: &logger, info, "here");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [Some(line)]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn line(&self) -> Option<u32> {
        self.event.caller().and_then(|(_, line)| line)
    }

    /// The name of the thread that logged, for a logger built with
    /// [`thread_names(true)`](crate::Builder::thread_names).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .thread_names(true)
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.thread_name().map(str::to_owned));
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// std::thread::Builder::new()
    ///     .name("ingest".into())
    ///     .spawn({ let logger = logger.clone(); move || velo::velo!(logger: &logger, info, "read") })
    ///     .expect("spawned")
    ///     .join()
    ///     .expect("joined");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [Some("ingest".to_owned())]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn thread_name(&self) -> Option<&str> {
        self.event.thread
    }

    /// The calls an `every:` limit skipped before this one, when any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<Option<u64>>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .timestamp(velo::Timestamp::Off)
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.suppressed());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// for round in 0..2 {
    ///     for _ in 0..3 {
    ///         velo::velo!(logger: &logger, every: 20ms, warn, "busy");
    ///     }
    ///     std::thread::sleep(std::time::Duration::from_millis(60));
    /// }
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [None, Some(2)]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn suppressed(&self) -> Option<u64> {
        self.event.suppressed
    }

    /// The caller's stack, for an entry at or above the level given to
    /// [`Builder::backtrace`](crate::Builder::backtrace).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .backtrace(velo::Level::Error)
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.backtrace().is_some());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, warn, "no stack");
    /// velo::velo!(logger: &logger, error, "with its stack");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [false, true]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn backtrace(&self) -> Option<&str> {
        self.event.backtrace
    }

    /// Every field, as the line has them: the logger's context first, then
    /// the thread's scopes, then the call's own, each key once (the
    /// innermost wins).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.fields().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>());
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// let child = logger.with(velo::fields!(request_id = 7, user = "ada"));
    /// velo::velo!(logger: &child, info, "served", user = "bob");
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [vec!["request_id=7", "user=bob"]]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn fields(&self) -> RecordFields<'_> {
        RecordFields(self.event.fields(self.index))
    }

    /// The value of the field `key`, as [`Record::fields`] has it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    /// # let keep = Arc::clone(&seen);
    /// let logger = velo::Builder::new()
    ///     .appender(move |r: &velo::Record<'_>| {
    ///         keep.lock().unwrap().push(r.field("attempt").map(|v| v.to_string()));
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "retrying", attempt = 3_u64);
    /// logger.sync()?;
    /// assert_eq!(*seen.lock().unwrap(), [Some("3".to_owned())]);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn field(&self, key: &str) -> Option<FieldValue<'_>> {
        self.fields().find(|&(k, _)| k == key).map(|(_, v)| v)
    }
}

/// The iterator of [`Record::fields`]: each field's key and value.
///
/// # Examples
///
/// ```
/// use velo::{FieldValue, Record};
///
/// let logger = velo::Builder::new()
///     .appender(|r: &Record<'_>| {
///         let numbers: Vec<(&str, u64)> = r
///             .fields()
///             .filter_map(|(k, v)| match v {
///                 FieldValue::U64(n) => Some((k, n)),
///                 _ => None,
///             })
///             .collect();
///         assert_eq!(numbers, [("status", 200), ("bytes", 512)]);
///         Ok(())
///     })
///     .build()?;
/// velo::velo!(logger: &logger, info, "served", status = 200_u64, path = "/", bytes = 512_u64);
/// logger.sync()?;
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Debug)]
pub struct RecordFields<'r>(EventFields<'r, 'r>);

impl<'r> Iterator for RecordFields<'r> {
    type Item = (&'r str, FieldValue<'r>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|(key, value)| (key, FieldValue::from(value)))
    }
}

/// A field's value, with the type it was logged with.
///
/// Its `Display` writes it as the text format does without the quotes:
/// strings as they are, numbers as digits, a time in RFC 3339, a sequence
/// or map as JSON.
///
/// # Examples
///
/// ```
/// use velo::{velo, Builder, FieldValue, Record};
///
/// let logger = Builder::new()
///     .appender(|r: &Record<'_>| {
///         match r.field("latency_ms") {
///             Some(FieldValue::F64(ms)) => assert_eq!(ms, 12.5),
///             other => panic!("{other:?}"),
///         }
///         assert_eq!(r.field("peer").map(|v| v.to_string()).as_deref(), Some("10.0.0.7:80"));
///         assert_eq!(r.field("ids").map(|v| v.to_string()).as_deref(), Some("[1,2]"));
///         Ok(())
///     })
///     .build()?;
/// let peer: std::net::SocketAddr = "10.0.0.7:80".parse().unwrap();
/// velo!(logger: &logger, info, "served", latency_ms = 12.5, peer, ids = [1, 2]);
/// logger.sync()?;
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// An unsigned integer up to `u64`.
    U64(u64),
    /// A signed integer up to `i64`.
    I64(i64),
    /// A `u128`.
    U128(u128),
    /// An `i128`.
    I128(i128),
    /// An `f64`.
    F64(f64),
    /// An `f32`.
    F32(f32),
    /// A `bool`.
    Bool(bool),
    /// `None`, or a unit.
    Null,
    /// A string, a `char`, or a value written through `Display` or `Debug`
    /// (`%value`, `?value`), a `Duration`, an address or a path.
    Str(&'a str),
    /// A `SystemTime`.
    Time(SystemTime),
    /// An array or a slice (or a nested sequence).
    Seq(Seq<'a>),
    /// A map or struct (a nested value).
    Map(Map<'a>),
}

impl<'a> From<Val<'a>> for FieldValue<'a> {
    fn from(v: Val<'a>) -> FieldValue<'a> {
        match v {
            Val::U64(n) => FieldValue::U64(n),
            Val::I64(n) => FieldValue::I64(n),
            Val::U128(n) => FieldValue::U128(n),
            Val::I128(n) => FieldValue::I128(n),
            Val::F64(f) => FieldValue::F64(f),
            Val::F32(f) => FieldValue::F32(f),
            Val::Bool(b) => FieldValue::Bool(b),
            Val::Null => FieldValue::Null,
            Val::Str(s) => FieldValue::Str(s),
            Val::Time(secs, nanos) => FieldValue::Time(timestamp::from_epoch_parts(secs, nanos)),
            Val::Seq(bytes) => FieldValue::Seq(Seq(bytes)),
            Val::Map(bytes) => FieldValue::Map(Map(bytes)),
        }
    }
}

impl FieldValue<'_> {
    fn val(&self) -> Val<'_> {
        match *self {
            FieldValue::U64(n) => Val::U64(n),
            FieldValue::I64(n) => Val::I64(n),
            FieldValue::U128(n) => Val::U128(n),
            FieldValue::I128(n) => Val::I128(n),
            FieldValue::F64(f) => Val::F64(f),
            FieldValue::F32(f) => Val::F32(f),
            FieldValue::Bool(b) => Val::Bool(b),
            FieldValue::Null => Val::Null,
            FieldValue::Str(s) => Val::Str(s),
            FieldValue::Time(t) => {
                let (secs, nanos) = timestamp::epoch_parts(t);
                Val::Time(secs, nanos)
            }
            FieldValue::Seq(Seq(bytes)) => Val::Seq(bytes),
            FieldValue::Map(Map(bytes)) => Val::Map(bytes),
        }
    }
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let FieldValue::Str(s) = self {
            return f.write_str(s);
        }
        let mut out = Vec::new();
        line::plain_value(&mut out, self.val());
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// A sequence's items: [`Seq::iter`]. `Display` writes it as JSON.
///
/// # Examples
///
/// ```
/// use velo::{velo, Builder, FieldValue, Record};
///
/// let logger = Builder::new()
///     .appender(|r: &Record<'_>| {
///         let Some(FieldValue::Seq(tags)) = r.field("tags") else { panic!() };
///         let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
///         assert_eq!(tags, ["a", "b"]);
///         assert_eq!(tags.len(), 2);
///         Ok(())
///     })
///     .build()?;
/// velo!(logger: &logger, info, "tagged", tags = ["a", "b"]);
/// logger.sync()?;
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Seq<'a>(&'a [u8]);

impl<'a> Seq<'a> {
    /// The items, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{FieldValue, Record};
    ///
    /// let logger = velo::Builder::new()
    ///     .appender(|r: &Record<'_>| {
    ///         let Some(FieldValue::Seq(ports)) = r.field("ports") else { panic!() };
    ///         let ports: Vec<u64> = ports
    ///             .iter()
    ///             .filter_map(|p| if let FieldValue::U64(n) = p { Some(n) } else { None })
    ///             .collect();
    ///         assert_eq!(ports, [80, 443]);
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "listening", ports = [80_u64, 443]);
    /// logger.sync()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = FieldValue<'a>> + 'a {
        let mut r = Reader::new(self.0);
        std::iter::from_fn(move || r.value().map(FieldValue::from))
    }
}

impl fmt::Debug for Seq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for Seq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&FieldValue::Seq(*self), f)
    }
}

/// A map's entries: [`Map::iter`]. `Display` writes it as JSON.
///
/// # Examples
///
/// A user's [`Value`](crate::Value) written as an object arrives as a map:
///
/// ```
/// use velo::{velo, Builder, Encoder, FieldValue, Record, Value};
///
/// struct Point(i64, i64);
/// impl Value for Point {
///     fn encode(&self, e: &mut Encoder<'_>) {
///         e.map([("x", self.0), ("y", self.1)]);
///     }
/// }
///
/// let logger = Builder::new()
///     .appender(|r: &Record<'_>| {
///         let Some(FieldValue::Map(at)) = r.field("at") else { panic!() };
///         let keys: Vec<&str> = at.iter().map(|(k, _)| k).collect();
///         assert_eq!(keys, ["x", "y"]);
///         assert_eq!(at.to_string(), r#"{"x":3,"y":-4}"#);
///         Ok(())
///     })
///     .build()?;
/// velo!(logger: &logger, info, "moved", at = Point(3, -4));
/// logger.sync()?;
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Map<'a>(&'a [u8]);

impl<'a> Map<'a> {
    /// The entries, keys and values, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Encoder, FieldValue, Record, Value};
    ///
    /// struct Limits { soft: u64, hard: u64 }
    /// impl Value for Limits {
    ///     fn encode(&self, e: &mut Encoder<'_>) {
    ///         e.map([("soft", self.soft), ("hard", self.hard)]);
    ///     }
    /// }
    ///
    /// let logger = velo::Builder::new()
    ///     .appender(|r: &Record<'_>| {
    ///         let Some(FieldValue::Map(limits)) = r.field("limits") else { panic!() };
    ///         let entries: Vec<String> = limits.iter().map(|(k, v)| format!("{k}={v}")).collect();
    ///         assert_eq!(entries, ["soft=1024", "hard=4096"]);
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "limits read", limits = Limits { soft: 1024, hard: 4096 });
    /// logger.sync()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, FieldValue<'a>)> + 'a {
        let mut r = Reader::new(self.0);
        std::iter::from_fn(move || r.field().map(|(k, v)| (k, FieldValue::from(v))))
    }
}

impl fmt::Debug for Map<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Display for Map<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&FieldValue::Map(*self), f)
    }
}
