//! [`Builder`] and the options it takes.

use crate::entry::Fields;
use crate::error::{Error, ErrorKind};
use crate::filter::Filter;
use crate::level::LevelFilter;
use crate::logger::Logger;
use crate::time::Timestamp;
use crate::worker::Config;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// `TIME LEVEL message key=value ...`, coloured on a terminal unless
    /// `NO_COLOR` is set.
    Text,
    /// Text when writing to a terminal, JSON otherwise (the default).
    #[default]
    Auto,
}

/// What a call does when the queue is full: when the calling thread's
/// queue holds [`Builder::buffer_size`] entries, or the most bytes it may
/// hold (see there).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Overflow {
    /// The caller writes: under the writer's lock it drains what is queued,
    /// then writes its own entry. Nothing is lost and order is kept (the
    /// default).
    #[default]
    Sync,
    /// The entry is discarded and counted; the worker later writes one
    /// warning entry with the count. A caller never waits for the writer's
    /// lock; while its queue may still grow (a handful of times per
    /// thread, see [`Builder::buffer_size`]) and the lock is free, it
    /// writes out what is queued itself and grows the queue instead of
    /// discarding.
    Drop,
    /// The caller waits for room in its queue (while the queue may still
    /// grow, it writes out what is queued itself and grows it instead).
    Block,
}

/// The default queue capacity, in entries per logging thread.
pub const DEFAULT_BUFFER_SIZE: usize = 8192;

enum Output {
    Stderr,
    Stdout,
    File(PathBuf),
    Writer(Box<dyn Write + Send>),
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Stderr => f.write_str("Stderr"),
            Output::Stdout => f.write_str("Stdout"),
            Output::File(path) => f.debug_tuple("File").field(path).finish(),
            Output::Writer(_) => f.write_str("Writer(..)"),
        }
    }
}

/// Configures and builds a [`Logger`].
///
/// # Examples
///
/// ```
/// use velo::{Builder, Format, Overflow, Timestamp};
///
/// let logger = Builder::new()
///     .filter("info,my_app::db=debug")
///     .format(Format::Json)
///     .writer(std::io::sink())
///     .buffer_size(1024)
///     .overflow(Overflow::Block)
///     .timestamp(Timestamp::Millis)
///     .caller(false)
///     .fields(velo::fields!(service = "api"))
///     .build()?;
/// velo::velo!(logger: &logger, info, "ready");
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Debug)]
pub struct Builder {
    filter: Result<Filter, Error>,
    format: Format,
    output: Output,
    buffer_size: usize,
    overflow: Overflow,
    timestamp: Timestamp,
    caller: bool,
    fields: Fields,
    asynchronous: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: level `info`, [`Format::Auto`], stderr,
    /// [`DEFAULT_BUFFER_SIZE`], [`Overflow::Sync`], [`Timestamp::Micros`],
    /// caller on, asynchronous.
    #[must_use]
    pub fn new() -> Builder {
        Builder {
            filter: Ok(Filter::default()),
            format: Format::Auto,
            output: Output::Stderr,
            buffer_size: DEFAULT_BUFFER_SIZE,
            overflow: Overflow::Sync,
            timestamp: Timestamp::Micros,
            caller: true,
            fields: Fields::new(),
            asynchronous: true,
        }
    }

    /// A builder configured from the environment, as the default logger is:
    /// filter from `VELO_LOG`, else `RUST_LOG`, else `info`; format from
    /// `VELO_FORMAT` (`json` or `text`), else [`Format::Auto`].
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::from_env().writer(std::io::sink()).build();
    /// # drop(logger);
    /// ```
    #[must_use]
    pub fn from_env() -> Builder {
        let mut builder = Builder::new();
        if let Some(spec) = env_var("VELO_LOG").or_else(|| env_var("RUST_LOG")) {
            builder = builder.filter(&spec);
        }
        match env_var("VELO_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => builder.format = Format::Json,
            Some("text") => builder.format = Format::Text,
            _ => {}
        }
        builder
    }

    /// Sets filter directives in the syntax of `RUST_LOG`, such as
    /// `warn,my_app=debug`. A bad directive makes [`build`](Builder::build)
    /// fail with an error naming it.
    #[must_use]
    pub fn filter(mut self, directives: &str) -> Builder {
        self.filter = directives.parse();
        self
    }

    /// Passes `level` and above everywhere.
    #[must_use]
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Builder {
        self.filter = Ok(Filter::level(level.into()));
        self
    }

    /// Sets the output format.
    #[must_use]
    pub fn format(mut self, format: Format) -> Builder {
        self.format = format;
        self
    }

    /// Writes to `writer`.
    #[must_use]
    pub fn writer(mut self, writer: impl Write + Send + 'static) -> Builder {
        self.output = Output::Writer(Box::new(writer));
        self
    }

    /// Writes to standard output.
    #[must_use]
    pub fn stdout(mut self) -> Builder {
        self.output = Output::Stdout;
        self
    }

    /// Writes to standard error (the default).
    #[must_use]
    pub fn stderr(mut self) -> Builder {
        self.output = Output::Stderr;
        self
    }

    /// Appends to the file at `path`, creating it if needed.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Builder {
        self.output = Output::File(path.into());
        self
    }

    /// Sets the queue capacity in entries; it must be a power of two.
    ///
    /// Each thread that logs has a queue of its own (a ring of encoded
    /// bytes the worker drains), so threads never contend with each other.
    /// The capacity applies to each of them, in entries and in bytes: a
    /// ring starts at 16 KiB (less for a small capacity) and, when its
    /// thread fills it, grows by doubling up to `entries` × 128 bytes,
    /// between 4 KiB and 1 MiB. A thread that logs a little keeps 16 KiB,
    /// and at most eight rings of one logger are grown to the largest size
    /// at once (a burst on hundreds of threads does not grow them all: a
    /// full ring that may not grow applies the overflow strategy). With the
    /// default size, a logger's queues take at most 16 KiB per logging
    /// thread plus 8 MiB.
    /// An entry larger than the largest ring is written by the caller.
    ///
    /// Each thread's entries are written in the order it logged them. The
    /// worker writes the queues one after the other, so entries of
    /// different threads logged within the same few tens of microseconds
    /// may be written out of time order: their timestamps tell the order.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .buffer_size(1024)
    ///     .writer(std::io::sink())
    ///     .build()
    ///     .unwrap();
    /// # drop(logger);
    /// ```
    #[must_use]
    pub fn buffer_size(mut self, entries: usize) -> Builder {
        self.buffer_size = entries;
        self
    }

    /// Sets what happens when the queue is full.
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> Builder {
        self.overflow = overflow;
        self
    }

    /// Sets the timestamp format.
    #[must_use]
    pub fn timestamp(mut self, timestamp: Timestamp) -> Builder {
        self.timestamp = timestamp;
        self
    }

    /// Whether to write the call site's `file:line`.
    #[must_use]
    pub fn caller(mut self, caller: bool) -> Builder {
        self.caller = caller;
        self
    }

    /// Adds fields to every entry; see [`fields!`](crate::fields!).
    #[must_use]
    pub fn fields(mut self, fields: Fields) -> Builder {
        self.fields.extend(&fields);
        self
    }

    /// With `false`, entries are written on the caller's thread and there is
    /// no worker.
    #[must_use]
    pub fn asynchronous(mut self, asynchronous: bool) -> Builder {
        self.asynchronous = asynchronous;
        self
    }

    /// Builds the logger.
    ///
    /// # Errors
    ///
    /// A buffer size that is not a power of two, a bad filter directive, a
    /// file that cannot be opened, or a worker thread that cannot start.
    pub fn build(self) -> Result<Logger, Error> {
        let filter = self.filter?;
        if !self.buffer_size.is_power_of_two() {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "buffer_size must be a power of two (such as {}), got {}",
                    self.buffer_size.max(1).next_power_of_two(),
                    self.buffer_size
                ),
            ));
        }
        let (writer, terminal): (Box<dyn Write + Send>, bool) = match self.output {
            Output::Stderr => (Box::new(std::io::stderr()), std::io::stderr().is_terminal()),
            Output::Stdout => (Box::new(std::io::stdout()), std::io::stdout().is_terminal()),
            Output::File(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| {
                        Error::io(
                            ErrorKind::File,
                            format!("cannot open log file `{}`", path.display()),
                            e,
                        )
                    })?;
                (Box::new(file), false)
            }
            Output::Writer(w) => (w, false),
        };
        let text = match self.format {
            Format::Json => false,
            Format::Text => true,
            Format::Auto => terminal,
        };
        let config = Config {
            text,
            color: text && terminal && env_var("NO_COLOR").is_none(),
            timestamp: self.timestamp,
            caller: self.caller,
            overflow: self.overflow,
        };
        let capacity = self.asynchronous.then_some(self.buffer_size);
        Logger::start(config, writer, capacity, filter, &self.fields)
    }

    /// Builds the logger and makes it the default that `velo!` uses. Also
    /// sets a panic hook, chained to the previous one, that logs panics at
    /// error level (message, location, thread) and flushes.
    ///
    /// # Errors
    ///
    /// As [`build`](Builder::build), and [`ErrorKind::AlreadyInstalled`] when
    /// a default logger is already in use.
    pub fn install(self) -> Result<&'static Logger, Error> {
        crate::logger::install(self.build()?)
    }
}

/// A non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
