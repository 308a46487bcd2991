//! [`Builder`]: configures and builds a [`Logger`].

use crate::core::Core;
use crate::error::{Error, ErrorKind};
use crate::fields::Fields;
use crate::filter::Filter;
use crate::level::{Level, LevelFilter};
use crate::logger::Logger;
use crate::options::{Config, Format, Overflow, Schema, Style, DEFAULT_BUFFER_SIZE};
use crate::output::{self, Output, Rolling, Stream};
use crate::stdio::Stdio;
use crate::timestamp::Timestamp;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

enum Target {
    Stderr,
    Stdout,
    /// A writer, and whether it is one of the standard library's handles
    /// on a terminal (see [`writes_to_terminal`]).
    Writer(Box<dyn Write + Send>, bool),
    Test,
    /// Any other output (a file, rolling files, journald, syslog, OTLP):
    /// opened by a closure its builder method made, so that a program
    /// links the code of the outputs it uses only.
    Open(Opener),
}

/// An output's opening, deferred to [`Builder::build`].
type Open = Box<dyn FnOnce(&Opening) -> Result<Box<dyn Output>, Error> + Send>;

/// Opens an output when the logger is built; see [`Target::Open`].
struct Opener {
    /// What `Debug` shows of it: `File("app.log")`, `Syslog(..)`.
    shown: String,
    /// What velo's messages call it: `file app.log`.
    named: String,
    open: Open,
    /// The output writes lines into records of a protocol (syslog's MSG),
    /// where terminal colours have no place, whatever `color` says.
    colorless: bool,
    /// The file it opens, when it opens one (`Builder::file`): a terminal
    /// device (`/dev/tty`) counts as a terminal.
    file: Option<PathBuf>,
    /// The output writes records of its own protocol (journald's fields,
    /// OTLP's), not lines: the line format's settings (the schema) do not
    /// apply to it.
    recordwise: bool,
    /// The output runs the user's code (an appender), which may panic.
    user_code: bool,
}

/// What an output may need from the rest of the builder when it opens.
struct Opening {
    /// `app_name`, or the program's name.
    app_name: String,
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    caller: bool,
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    targets: bool,
}

impl Target {
    /// Whether the output runs the user's code: a writer or an appender.
    fn runs_user_code(&self) -> bool {
        match self {
            Target::Writer(..) => true,
            Target::Open(opener) => opener.user_code,
            Target::Stderr | Target::Stdout | Target::Test => false,
        }
    }

    /// An output shown as `shown` (`Name(detail)`, as a tuple variant
    /// is) and named `named` in messages, opened by `open`.
    fn opened_by(
        shown: String,
        named: String,
        open: impl FnOnce(&Opening) -> Result<Box<dyn Output>, Error> + Send + 'static,
    ) -> Target {
        Target::Open(Opener {
            shown,
            named,
            open: Box::new(open),
            colorless: false,
            file: None,
            recordwise: false,
            user_code: false,
        })
    }

    /// The same output with `set` applied to its opener (an output
    /// [`Target::opened_by`] made; any other is returned as it is): for the
    /// facts about it that only some outputs have, such as
    /// `Opener::colorless`.
    fn with_opener(mut self, set: impl FnOnce(&mut Opener)) -> Target {
        if let Target::Open(opener) = &mut self {
            set(opener);
        }
        self
    }

    /// What velo's messages call this output: `the writer`, `stdout`,
    /// `file logs/app.log`.
    fn named(&self) -> String {
        match self {
            Target::Stderr => "stderr".to_owned(),
            Target::Stdout => "stdout".to_owned(),
            Target::Writer(..) => "the writer".to_owned(),
            Target::Test => "the test output".to_owned(),
            Target::Open(opener) => opener.named.clone(),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Stderr => f.write_str("Stderr"),
            Target::Stdout => f.write_str("Stdout"),
            Target::Writer(..) => f.write_str("Writer(..)"),
            Target::Test => f.write_str("Test"),
            Target::Open(opener) => f.write_str(&opener.shown),
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
    output: Target,
    buffer_size: usize,
    overflow: Overflow,
    timestamp: Timestamp,
    caller: bool,
    targets: bool,
    fields: Fields,
    asynchronous: bool,
    schema: Schema,
    local_time: Option<crate::timestamp::ZoneMaker>,
    backtrace: Option<Level>,
    thread_names: bool,
    span_names: bool,
    app_name: Option<String>,
    /// Colours in the text format, when set; else by the output and the
    /// environment.
    color: Option<bool>,
    /// Whether `filter` was set (`level`, `filter`, `from_env`): an output
    /// given to [`Builder::also`] without one takes every entry.
    filter_set: bool,
    /// Further outputs ([`Builder::also`]).
    also: Vec<Builder>,
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
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().writer(std::io::sink()).build()?;
    /// assert!(logger.filter().enabled(velo::Level::Info, "my_app"));
    /// assert!(!logger.filter().enabled(velo::Level::Debug, "my_app"));
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn new() -> Builder {
        Builder {
            filter: Ok(Filter::default()),
            format: Format::Auto,
            output: Target::Stderr,
            buffer_size: DEFAULT_BUFFER_SIZE,
            overflow: Overflow::Sync,
            timestamp: Timestamp::Micros,
            caller: true,
            targets: false,
            fields: Fields::new(),
            asynchronous: true,
            schema: Schema::Velo,
            local_time: None,
            backtrace: None,
            thread_names: false,
            span_names: false,
            app_name: None,
            color: None,
            filter_set: false,
            also: Vec::new(),
        }
    }

    /// A builder configured from the environment, as the default logger is:
    /// filter from `VELO_LOG`, else `RUST_LOG`, else `info` (a directive
    /// velo cannot read is left out with a warning on stderr, and a bare
    /// word that looks like a misspelt level, such as `inf`, is kept as
    /// the module it names, with a warning that says so); format from
    /// `VELO_FORMAT` (`json` or `text`; anything else is ignored with a
    /// warning on stderr), else [`Format::Auto`].
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::from_env().writer(std::io::sink()).build();
    /// # drop(logger);
    /// ```
    #[must_use]
    pub fn from_env() -> Builder {
        Builder::from_env_filter(env_filter().as_deref())
    }

    /// [`from_env`](Builder::from_env) with `spec` as the environment's
    /// filter.
    fn from_env_filter(spec: Option<&str>) -> Builder {
        let mut builder = Builder::new();
        if let Some(spec) = spec {
            // One directive velo cannot read (a span filter written for
            // another logger) costs only itself, as with env_logger.
            let (filter, errors) = Filter::parse_lenient(spec);
            for e in errors {
                crate::stdio::say(format_args!(
                    "{}",
                    crate::escape::for_stderr(&e.to_string())
                ));
            }
            if let Some(filter) = filter {
                builder.filter = Ok(filter);
                builder.filter_set = true;
            }
        }
        if let Some(format) = env_var("VELO_FORMAT") {
            match format.to_ascii_lowercase().as_str() {
                "json" => builder.format = Format::Json,
                "text" => builder.format = Format::Text,
                _ => crate::stdio::say(format_args!(
                    "VELO_FORMAT={format:?} is neither `json` nor `text`; ignored"
                )),
            }
        }
        builder
    }

    /// [`from_env`](Builder::from_env), with `directives` (as
    /// [`filter`](Builder::filter) takes them) in place of `info` when
    /// neither `VELO_LOG` nor `RUST_LOG` sets a filter: the program's own
    /// default, which the environment overrides. (A
    /// [`filter`](Builder::filter) after `from_env` replaces the
    /// environment's.) A bad directive in `directives` makes
    /// [`build`](Builder::build) fail whether or not the environment sets a
    /// filter, so that a typo in the program's default shows wherever the
    /// program runs, not only where the variables are unset.
    ///
    /// # Examples
    ///
    /// ```
    /// // `debug` for this program, unless VELO_LOG or RUST_LOG says otherwise.
    /// let logger = velo::Builder::from_env_or("info,my_app=debug")
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// // A bad default fails, whatever the environment says.
    /// let typo = velo::Builder::from_env_or("info,my_app=loud").build();
    /// assert_eq!(typo.unwrap_err().kind(), velo::ErrorKind::Filter);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn from_env_or(directives: &str) -> Builder {
        let spec = env_filter();
        let builder = Builder::from_env_filter(spec.as_deref());
        match directives.parse::<Filter>() {
            // The environment gave a message text alone (`RUST_LOG=/slow`):
            // the program's default directives, with that text.
            Ok(default)
                if builder.filter_set && spec.as_deref().is_some_and(Filter::is_text_only) =>
            {
                let text = builder.filter.as_ref().ok().and_then(Filter::message);
                Builder {
                    filter: Ok(default.with_message(text)),
                    ..builder
                }
            }
            Ok(_) if builder.filter_set => builder,
            default => Builder {
                filter: default,
                filter_set: true,
                ..builder
            },
        }
    }

    /// Sets filter directives in the syntax of `RUST_LOG`, such as
    /// `warn,my_app=debug`. A bad directive makes [`build`](Builder::build)
    /// fail with an error naming it; so does, in a filter with no default
    /// level, a bare word that looks like a misspelt level (`inf`), which
    /// `RUST_LOG` would take for a module and so turn off everything else
    /// (a module of that name takes its level, `inf=trace`, or goes beside
    /// a default level, `info,inf`). As with `env_logger`, `/text` after
    /// the directives keeps only entries whose message holds `text`
    /// (`warn,my_app=debug/timed out`; see [`Filter::message_matches`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Builder, ErrorKind, Level};
    ///
    /// let logger = Builder::new()
    ///     .filter("warn,my_app::db=debug")
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// assert!(logger.filter().enabled(Level::Debug, "my_app::db::pool"));
    /// assert!(!logger.filter().enabled(Level::Info, "my_app::http"));
    ///
    /// let err = Builder::new().filter("my_app=loud").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Filter);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn filter(mut self, directives: &str) -> Builder {
        self.filter = directives.parse();
        self.filter_set = true;
        self
    }

    /// Passes `level` and above everywhere.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Builder, Level, LevelFilter};
    ///
    /// let logger = Builder::new().level(Level::Debug).writer(std::io::sink()).build()?;
    /// assert!(logger.filter().enabled(Level::Debug, "any::module"));
    /// assert!(!logger.filter().enabled(Level::Trace, "any::module"));
    ///
    /// let silent = Builder::new().level(LevelFilter::Off).writer(std::io::sink()).build()?;
    /// assert!(!silent.filter().enabled(Level::Fatal, "any::module"));
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Builder {
        self.filter = Ok(Filter::level(level.into()));
        self.filter_set = true;
        self
    }

    /// Sets the output format.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::Read;
    /// let (mut reader, writer) = std::io::pipe()?;
    /// let logger = velo::Builder::new()
    ///     .format(velo::Format::Json)
    ///     .writer(writer)
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "ready", port = 8080);
    /// logger.sync()?;
    /// # let mut line = [0; 1024];
    /// # let n = reader.read(&mut line)?;
    /// let line = std::str::from_utf8(&line[..n])?;
    /// // {"time":"2026-11-27T17:03:12.123456Z","level":"info","msg":"ready","caller":"src/main.rs:5","port":8080}
    /// assert!(line.starts_with(r#"{"time":""#));
    /// assert!(line.contains(r#""level":"info","msg":"ready","caller":"#));
    /// assert!(line.ends_with(",\"port\":8080}\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn format(mut self, format: Format) -> Builder {
        self.format = format;
        self
    }

    /// Colours in the text format, on or off whatever the output is (a
    /// pager that shows them, a CI log that does not). By default they go
    /// to a terminal only, and never when `NO_COLOR` is set (to anything
    /// but the empty string), `CLICOLOR` is `0` or `TERM` is `dumb`;
    /// `CLICOLOR_FORCE` set (to anything but `0`, and without `NO_COLOR`)
    /// gives them to any output. env_logger's `RUST_LOG_STYLE=always` or
    /// `never` comes before `CLICOLOR_FORCE` and `CLICOLOR` (and after
    /// `NO_COLOR`). The JSON format has none
    /// either way, and neither has a syslog output's MSG.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .format(velo::Format::Text)
    ///     .color(true)
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn color(mut self, on: bool) -> Builder {
        self.color = Some(on);
        self
    }

    /// Writes to `writer`. For [`Format::Auto`] and colours it is a
    /// terminal when it is `std::io::stdout()`, `std::io::stderr()` or a
    /// `File` open on a terminal, and that stream is one; any other writer
    /// is not (use [`Builder::format`] and [`Builder::color`] for one that
    /// leads to a terminal).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// let (mut reader, writer) = std::io::pipe()?;
    /// let logger = velo::Builder::new().writer(writer).build()?;
    /// velo::velo!(logger: &logger, info, "ready", port = 8080);
    /// logger.sync()?;
    /// let mut line = [0; 512];
    /// let n = reader.read(&mut line)?;
    /// assert!(line[..n].ends_with(b",\"port\":8080}\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn writer(mut self, writer: impl Write + Send + 'static) -> Builder {
        let terminal = writes_to_terminal(&writer);
        self.output = Target::Writer(Box::new(writer), terminal);
        self
    }

    /// Writes to standard output.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().stdout().build()?;
    /// velo::velo!(logger: &logger, info, "on standard output");
    /// logger.sync()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn stdout(mut self) -> Builder {
        self.output = Target::Stdout;
        self
    }

    /// Writes to standard error (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// let to_stdout = false; // from a command-line flag, say
    /// let builder = velo::Builder::new();
    /// let builder = if to_stdout { builder.stdout() } else { builder.stderr() };
    /// let logger = builder.build()?;
    /// velo::velo!(logger: &logger, warn, "on standard error");
    /// logger.sync()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn stderr(mut self) -> Builder {
        self.output = Target::Stderr;
        self
    }

    /// Appends to the file at `path`, creating it (and its directory) if
    /// needed. [`Logger::reopen`] opens it again (after logrotate moved
    /// it). A relative path is taken from the current directory when the
    /// logger is built: a program that changes directory later goes on
    /// writing to the same file. A file that ends inside a line (a crash)
    /// gets a newline before the first entry; a FIFO nobody reads makes
    /// `build` fail at once rather than wait for a reader.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("velo-doc-{}.log", std::process::id()));
    /// let logger = velo::Builder::new().file(&path).build()?;
    /// velo::velo!(logger: &logger, info, "written to the file");
    /// logger.sync()?;
    /// assert!(std::fs::read_to_string(&path)?.contains(r#""msg":"written to the file""#));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Builder {
        let path = path.into();
        self.output = Target::opened_by(
            format!("File({path:?})"),
            format!("file {}", path.display()),
            {
                let path = path.clone();
                move |_| Ok(Box::new(output::File::open(path)?) as Box<dyn Output>)
            },
        )
        .with_opener(|o| o.file = Some(path));
        self
    }

    /// Writes to a file that is rotated by size and/or time, deleting the
    /// oldest rotated files; see [`Rolling`]. The live file is opened (and
    /// created, with its directory) by [`build`](Builder::build);
    /// [`Logger::reopen`] opens it again.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let logger = velo::Builder::new()
    ///     .rolling(velo::Rolling::new("logs/app.log").max_bytes(64 << 20).keep(7))
    ///     .build()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn rolling(mut self, rolling: Rolling) -> Builder {
        self.output = Target::opened_by(
            format!("Rolling({rolling:?})"),
            format!("rolling file {}", rolling.live().display()),
            move |_| Ok(Box::new(output::RollingFile::open(rolling)?) as Box<dyn Output>),
        );
        self
    }

    /// Writes through the test harness's captured output, as `print!`
    /// does: a passing test prints nothing, a failing one shows its logs.
    ///
    /// Entries are written on the thread that logs them (as with
    /// [`asynchronous(false)`](Builder::asynchronous)), because the test
    /// harness captures each test thread's output separately; threads a
    /// test spawns share its capture.
    ///
    /// # Examples
    ///
    /// In a test:
    ///
    /// ```
    /// let log = velo::Builder::new().test_writer().level(velo::Level::Debug).build().unwrap();
    /// velo::velo!(logger: &log, debug, "parsing", path = "app.toml");
    /// // shown only if the test fails
    /// ```
    #[must_use]
    pub fn test_writer(mut self) -> Builder {
        self.output = Target::Test;
        self
    }

    /// Hands every entry to an [`Appender`](crate::Appender) of your own, as
    /// a [`Record`](crate::Record): its level, message, caller and typed
    /// fields, where a writer would run (the logger's worker thread, or the
    /// logging thread in the cases README's "When things go wrong" lists:
    /// an appender must not take a lock a thread holds while it logs).
    /// The format settings do not apply; [`timestamp`](Builder::timestamp) decides whether records
    /// carry a time. `stats().bytes` counts nothing for it.
    ///
    /// # Examples
    ///
    /// Counting entries by level:
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use velo::{velo, Builder, Level, Record};
    ///
    /// let errors = Arc::new(AtomicU64::new(0));
    /// let count = Arc::clone(&errors);
    /// let logger = Builder::new()
    ///     .appender(move |record: &Record<'_>| {
    ///         if record.level() >= Level::Error {
    ///             count.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// velo!(logger: &logger, error, "disk full", free = 0);
    /// velo!(logger: &logger, info, "retrying");
    /// logger.sync()?;
    /// assert_eq!(errors.load(Ordering::Relaxed), 1);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn appender(mut self, appender: impl crate::Appender) -> Builder {
        self.output = Target::opened_by(
            "Appender(..)".to_owned(),
            "the appender".to_owned(),
            move |_| Ok(Box::new(output::Custom::new(Box::new(appender)))),
        )
        .with_opener(|o| {
            o.recordwise = true;
            o.user_code = true;
        });
        self
    }

    /// Writes to systemd's journal through its native protocol: the message
    /// as `MESSAGE`, the level as `PRIORITY`, the caller as `CODE_FILE`,
    /// `CODE_LINE` and `CODE_MODULE`, the program as `SYSLOG_IDENTIFIER`
    /// (see [`app_name`](Builder::app_name)), and each field as an
    /// upper-cased journal field (`http.status` becomes `HTTP_STATUS`).
    /// Entries too large for a datagram go through a sealed memory file,
    /// as journald expects. Unix only.
    ///
    /// The socket is connected on the first entry; while journald is not
    /// there, entries are counted as write errors. While it is there but
    /// reads nothing (stopped, hung), a send waits at most a second for
    /// room, and those in the second after fail at once (in the two
    /// seconds after the next vain wait, and so on up to 30 s, until a send
    /// gets through): written off as write errors too, never holding up
    /// the worker or, without a queue, the caller.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// velo::Builder::new().journald().install()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[cfg(unix)]
    #[must_use]
    pub fn journald(self) -> Builder {
        self.journald_at(output::JOURNALD_SOCKET)
    }

    /// [`journald`](Builder::journald) on another socket than systemd's
    /// (`/run/systemd/journal/socket`): a journal in a container, or a
    /// test's own listener.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let logger = velo::Builder::new()
    ///     .journald_at("/run/host/journal/socket")
    ///     .app_name("api")
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "ready"); // MESSAGE=ready, SYSLOG_IDENTIFIER=api
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[cfg(unix)]
    #[must_use]
    pub fn journald_at(mut self, socket: impl Into<PathBuf>) -> Builder {
        let path = socket.into();
        self.output = Target::opened_by(
            format!("Journald({path:?})"),
            output::journald_named(&path),
            move |o| {
                Ok(Box::new(output::Journald::new(path, o.app_name.clone())?) as Box<dyn Output>)
            },
        )
        .with_opener(|o| o.recordwise = true);
        self
    }

    /// Sends entries to a syslog receiver (rsyslog, syslog-ng, a local
    /// `/dev/log`) as RFC 5424 messages over UDP, TCP or a unix socket; see
    /// [`Syslog`](crate::Syslog) for the transports. Each message carries
    /// facility `user`, the level as severity (trace and debug `debug`,
    /// info `info`, warn `warning`, error `err`, fatal `crit`), the entry's
    /// time in UTC (the nil value `-` with [`Timestamp::Off`]), the host
    /// name, [`app_name`](Builder::app_name) and the process id, and the
    /// entry's line in the logger's format as MSG. Unix only.
    ///
    /// Sending never blocks the worker or a caller but for `sync` and
    /// `close`: while the receiver is away, entries wait in a bounded
    /// backlog and the link is retried with backoff; entries that find the
    /// backlog full are counted in [`Stats::dropped`](crate::Stats::dropped).
    /// [`Logger::sync`] returns once entries are on their way (handed to
    /// the socket, or waiting in the backlog while the receiver is away),
    /// with a failed connection or send as its error; a receiver that is
    /// connected but takes nothing makes it wait for the socket, 3 s at
    /// most, and the worker waits with it (a caller whose queue fills
    /// meanwhile under [`Overflow::Sync`] too).
    ///
    /// # Errors
    ///
    /// [`build`](Builder::build) fails with [`ErrorKind::Output`] when the
    /// address does not parse or resolve.
    ///
    /// # Examples
    ///
    /// ```
    /// // A receiver of our own stands in for the syslog daemon.
    /// let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let logger = velo::Builder::new()
    ///     .app_name("api")
    ///     .syslog(velo::Syslog::udp(receiver.local_addr()?.to_string()))
    ///     .build()?;
    /// velo::velo!(logger: &logger, warn, "disk almost full", free_mb = 120);
    /// logger.sync()?;
    /// let mut datagram = [0; 2048];
    /// let n = receiver.recv(&mut datagram)?;
    /// // <user.warning>1 2026-11-27T17:03:12.123456Z HOST api PID - - {"time":..
    /// assert!(datagram[..n].starts_with(b"<12>1 "));
    ///
    /// let err = velo::Builder::new().syslog(velo::Syslog::tcp("no port")).build().unwrap_err();
    /// assert_eq!(err.kind(), velo::ErrorKind::Output);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[must_use]
    pub fn syslog(mut self, syslog: output::Syslog) -> Builder {
        self.output = Target::opened_by(format!("Syslog({syslog:?})"), syslog.named(), move |o| {
            Ok(Box::new(syslog.open(&o.app_name)?) as Box<dyn Output>)
        })
        .with_opener(|o| o.colorless = true);
        self
    }

    /// The program's name for outputs that carry one: syslog's APP-NAME,
    /// journald's `SYSLOG_IDENTIFIER` and OTLP's `service.name`. Defaults
    /// to the executable's file name.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// // A receiver of our own stands in for the syslog daemon.
    /// let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let logger = velo::Builder::new()
    ///     .app_name("billing")
    ///     .syslog(velo::Syslog::udp(receiver.local_addr()?.to_string()))
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "invoice sent");
    /// logger.sync()?;
    /// let mut datagram = [0; 2048];
    /// let n = receiver.recv(&mut datagram)?;
    /// assert!(String::from_utf8_lossy(&datagram[..n]).contains(" billing "));
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn app_name(mut self, name: impl Into<String>) -> Builder {
        self.app_name = Some(name.into());
        self
    }

    /// Sends entries to an OpenTelemetry collector as OTLP/HTTP log
    /// records (protobuf), to `{endpoint}/v1/logs`; `endpoint` is
    /// `http://host:port[/path]`, such as `http://127.0.0.1:4318` (a path
    /// that already ends in `/v1/logs` is used as it is). Needs the cargo
    /// feature `otlp`, which adds no dependency.
    ///
    /// Each record has a severity number and text (`INFO` is 9), the
    /// message as its body (a template's placeholders filled in), the
    /// entry's time and the time it was encoded, `code.file.path` and
    /// `code.line.number` (unless [`caller(false)`](Builder::caller)),
    /// `target` when it is set, and every field as an attribute of its
    /// type: integers, floats, booleans, strings, arrays and maps. OTLP has
    /// no integers wider than `i64`: a `u64` above `i64::MAX` and every
    /// `u128` and `i128` is sent as a string of its decimal digits. A
    /// `SystemTime` is an RFC 3339 string, `None` an empty value. The
    /// resource's `service.name` is [`app_name`](Builder::app_name).
    ///
    /// Records are sent in batches of up to 512 (or 1 MiB; a larger record
    /// alone), by a thread of
    /// the output's own, so neither callers nor the worker wait on the
    /// network (but for [`Logger::sync`] and `close`, which wait for the
    /// collector's answers, 3 s at most, and the worker with them): a
    /// batch goes when it is full, or about a second after its
    /// first record. Answers 429, 502, 503 and 504 and connection failures
    /// are retried with backoff (honouring `Retry-After`, up to 30 s) for
    /// up to a minute; other statuses drop the batch. At most 64 batches
    /// or 16 MiB of records wait for the sender: when the collector is
    /// away longer, or slower than the program logs, further batches are
    /// dropped and counted in [`Stats::dropped`](crate::Stats::dropped),
    /// and so are batches given up on, with the reason returned by the
    /// next [`Logger::sync`].
    ///
    /// [`Logger::sync`] and [`close`](Logger::close) hand over the pending
    /// batch and wait until the collector has answered for everything
    /// handed over, for at most 3 seconds; past that, `sync` returns a
    /// [`Write`](ErrorKind::Write) error and the records stay queued, and
    /// until the sender gets through again later calls wait only for one
    /// immediate retry. Only `http://` is spoken: for TLS, send to a local
    /// collector.
    ///
    /// # Errors
    ///
    /// [`build`](Builder::build) fails with [`ErrorKind::Output`] when
    /// `endpoint` is not `http://host:port[/path]`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let logger = velo::Builder::new()
    ///     .otlp("http://127.0.0.1:4318")
    ///     .app_name("checkout")
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "order placed", order_id = 42u64, total = 9.5);
    /// logger.sync()?; // delivered, if the collector is up
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[cfg(feature = "otlp")]
    #[must_use]
    pub fn otlp(mut self, endpoint: impl AsRef<str>) -> Builder {
        let endpoint = endpoint.as_ref().to_owned();
        self.output = Target::opened_by(
            format!("Otlp({endpoint:?})"),
            format!("OTLP {endpoint}"),
            move |o| {
                Ok(Box::new(output::Otlp::new(
                    &endpoint,
                    &o.app_name,
                    o.caller,
                    o.targets,
                )?) as Box<dyn Output>)
            },
        )
        .with_opener(|o| o.recordwise = true);
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
    /// thread plus 8 MiB. Besides its queues, each logging thread keeps a
    /// buffer for entries encoded outside them (256 bytes; up to 64 KiB
    /// after a large entry) and, for each logger whose worker fell behind
    /// while the thread logged to it, a formatter of about 5 KiB (callers
    /// then format their lines themselves). The worker's buffers (64 KiB
    /// for a file or a stream) grow with a large entry and give the memory
    /// back once the logger has been idle for 10 ms, or after 256 uses
    /// that need a quarter of it at most.
    /// An entry larger than the largest ring is written by the caller.
    ///
    /// A small queue fills between the worker's looks for work (it looks
    /// every 50 us while idle): its callers then wake the worker and wait
    /// for it, under [`Overflow::Sync`] and [`Overflow::Block`] alike
    /// (`benches/src/bin/small_queue.rs`: with `buffer_size(1)`, about
    /// 10 us an entry on a virtual machine, the worker's wake-up, against
    /// 0.1 us with the default).
    ///
    /// Each thread's entries are written in the order it logged them, and
    /// the entries of different threads in the order of their timestamps:
    /// an entry is dated as it enters its thread's queue, and the worker
    /// merges the queues by time. What can still come out of order is an
    /// entry whose thread was preempted in the few nanoseconds between
    /// reading the clock and publishing it: it is written with the worker's
    /// next pass, after other threads' entries of up to that preemption
    /// later (none in a run of two threads taking turns; a few hundred
    /// microseconds, rarely milliseconds, with two threads logging flat out
    /// on two busy cores).
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
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .overflow(velo::Overflow::Drop) // callers never wait
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "queued or dropped, never waited for");
    /// logger.sync()?;
    /// assert_eq!(logger.stats().dropped, 0); // the queue had room
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> Builder {
        self.overflow = overflow;
        self
    }

    /// Sets the timestamp format.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::Read;
    /// let (mut reader, writer) = std::io::pipe()?;
    /// let logger = velo::Builder::new()
    ///     .timestamp(velo::Timestamp::UnixNanos)
    ///     .writer(writer)
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "ready"); // {"time":1796053721543012757,"level":"info",..}
    /// logger.sync()?;
    /// # let mut line = [0; 1024];
    /// # let n = reader.read(&mut line)?;
    /// let line = std::str::from_utf8(&line[..n])?;
    /// let nanos = line["{\"time\":".len()..].split(',').next().unwrap_or("");
    /// assert!(nanos.parse::<u64>()? > 1_700_000_000_000_000_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn timestamp(mut self, timestamp: Timestamp) -> Builder {
        self.timestamp = timestamp;
        self
    }

    /// Whether to write the call site's `file:line`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::Read;
    /// let (mut reader, writer) = std::io::pipe()?;
    /// let logger = velo::Builder::new()
    ///     .caller(false)
    ///     .writer(writer)
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "ready"); // {"time":..,"level":"info","msg":"ready"}
    /// logger.sync()?;
    /// # let mut line = [0; 1024];
    /// # let n = reader.read(&mut line)?;
    /// let line = std::str::from_utf8(&line[..n])?;
    /// assert!(line.ends_with("\"level\":\"info\",\"msg\":\"ready\"}\n"));
    /// assert!(!line.contains("caller"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn caller(mut self, caller: bool) -> Builder {
        self.caller = caller;
        self
    }

    /// Writes every entry's target, as `tracing-subscriber`'s and
    /// `env_logger`'s lines show it: the call's `target:`, else the module
    /// path of the call site (of a bridged record: its target). Off by
    /// default: a line then carries `"target"` only when it is not the
    /// module path (a call's `target:`, a `log` or `tracing` record's own
    /// target). JSON lines write it after the caller, text lines as
    /// `target=..` after the message; OTLP records as their `target`
    /// attribute (journald records always carry `CODE_MODULE`). A call's
    /// own field named `target` then goes beside it as `fields.target`,
    /// as every key velo writes itself does. It is a setting of this
    /// builder's output: a further output ([`also`](Builder::also))
    /// writes targets when its own builder says so.
    ///
    /// Costs the worker a few instructions an entry (its fields are
    /// checked against the key); the caller nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::Read;
    /// let (mut reader, writer) = std::io::pipe()?;
    /// let logger = velo::Builder::new()
    ///     .targets(true)
    ///     .writer(writer)
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "ready"); // {..,"msg":"ready","caller":..,"target":"my_app::server"}
    /// logger.sync()?;
    /// # let mut line = [0; 1024];
    /// # let n = reader.read(&mut line)?;
    /// let line = std::str::from_utf8(&line[..n])?;
    /// assert!(line.ends_with(&format!(",\"target\":\"{}\"}}\n", module_path!())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn targets(mut self, on: bool) -> Builder {
        self.targets = on;
        self
    }

    /// Picks the names of the keys velo writes itself (time, level,
    /// message, caller); see [`Schema`]. It costs nothing per entry.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::io::Read;
    /// let (mut reader, writer) = std::io::pipe()?;
    /// let logger = velo::Builder::new()
    ///     .schema(velo::Schema::Ecs)
    ///     .writer(writer)
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "indexed"); // {"@timestamp":..,"log.level":"info","message":"indexed",..}
    /// logger.sync()?;
    /// # let mut line = [0; 1024];
    /// # let n = reader.read(&mut line)?;
    /// let line = std::str::from_utf8(&line[..n])?;
    /// assert!(line.starts_with(r#"{"@timestamp":""#));
    /// assert!(line.contains(r#""log.level":"info","message":"indexed""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn schema(mut self, schema: Schema) -> Builder {
        self.schema = schema;
        self
    }

    /// With `true`, timestamps are in the system's time zone with its
    /// offset (`2026-11-27T18:03:12.123456+01:00`) instead of UTC. The zone
    /// comes from `TZ`, else the system's configuration (through `jiff`);
    /// one that cannot be found (`TZ=Nowhere/City`) is UTC, said once on
    /// stderr. The offset is looked up once per second of timestamps. A program
    /// that never asks for local time links no time zone code (nor, for
    /// the outputs, the code of one it does not choose).
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .local_time(true)
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn local_time(mut self, local: bool) -> Builder {
        // A function named here only: a program that never asks for local
        // time links no time zone code.
        self.local_time = local.then_some(crate::timestamp::system_zone as _);
        self
    }

    /// Entries at `level` and above carry `"backtrace"`: the caller's stack,
    /// one frame per line. It is captured on the calling thread (which costs
    /// microseconds to milliseconds), so keep it to rare levels; entries
    /// below `level` capture nothing. The first backtrace in a process
    /// loads the program's debug information (tens of milliseconds); the
    /// first logger built with backtraces does that on a short-lived thread
    /// of its own, so that it does not fall on the first caller. A signal handler that
    /// interrupts velo on its thread never captures one (capturing
    /// allocates and takes std's lock, which the interrupted code may
    /// hold).
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .backtrace(velo::Level::Error)
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// velo::velo!(logger: &logger, error, "invariant broken"); // with "backtrace"
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn backtrace(mut self, level: Level) -> Builder {
        self.backtrace = Some(level);
        self
    }

    /// Entries carry the name of the thread that logged them: `"thread":"..."`
    /// after the caller (and target) in JSON, `thread=...` after the message
    /// in text (`process.thread.name` in [`Schema::Ecs`], a `THREAD_NAME`
    /// field in journald, a `thread.name` attribute in OTLP). The name is
    /// the one the thread was given (`std::thread::Builder::name`, tokio's
    /// `thread_name`); the main thread is `main`; a thread without a name
    /// is `<unnamed>`, as in a panic message. Off by default.
    ///
    /// The name is copied into each entry on the caller's thread (it may
    /// differ between entries of one call site), so entries that carry it
    /// are encoded in the thread's buffer rather than in place in its
    /// queue: a few nanoseconds more per call.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .thread_names(true)
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// std::thread::Builder::new()
    ///     .name("ingest-1".into())
    ///     .spawn(move || {
    ///         velo::velo!(logger: &logger, info, "batch read"); // with "thread":"ingest-1"
    ///     })?
    ///     .join()
    ///     .expect("logged");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn thread_names(mut self, on: bool) -> Builder {
        self.thread_names = on;
        self
    }

    /// A `tracing` span (through `velo::bridge_tracing()` or
    /// `velo::TracingLayer`, features `tracing` and `tracing-subscriber`)
    /// gives the entries inside it its name as well as its fields: the
    /// field `span.name`, the innermost span's where spans nest (as every
    /// key, once), as tracing-subscriber's JSON lines carry
    /// `"span":{"name":..}`. Off by default: a span gives its fields only.
    /// Decided as each span is made, by the logger the bridge or layer
    /// writes through.
    ///
    /// # Examples
    ///
    /// ```
    /// velo::Builder::new()
    ///     .span_names(true)
    ///     .writer(std::io::sink())
    ///     .install()?;
    /// // With feature `tracing`, after `velo::bridge_tracing()?`:
    /// // let _g = tracing::info_span!("request", id = 7).entered();
    /// // tracing::info!("handled"); // {..,"msg":"handled",..,"span.name":"request","id":7}
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn span_names(mut self, on: bool) -> Builder {
        self.span_names = on;
        self
    }

    /// Also writes entries to the output `output` names, in its own format:
    /// a file in JSON beside a terminal in text, journald beside a file.
    /// `output` is a builder of its own, of which only the output and how
    /// its lines look count (the output method, [`format`](Builder::format),
    /// [`schema`](Builder::schema), [`timestamp`](Builder::timestamp),
    /// [`caller`](Builder::caller), [`targets`](Builder::targets),
    /// [`local_time`](Builder::local_time), [`color`](Builder::color),
    /// [`app_name`](Builder::app_name): each output writes a caller or a
    /// target only as its own builder says) and,
    /// when set, its [`level`](Builder::level) or
    /// [`filter`](Builder::filter): it narrows what reaches that output,
    /// within what the logger takes (this builder's filter, which decides
    /// at each call site, so make it the widest one). Call `also` again for
    /// more outputs.
    ///
    /// One queue and one worker serve them all; each entry is decoded once
    /// and written to each output in turn, this builder's first. The
    /// logger's entry counts (`written`, `dropped`, `bytes`) are its first
    /// output's; every output's write errors count in `write_errors`. A
    /// further output that
    /// fails does not hold up the others: its error names it, is reported
    /// once on stderr and returned by the next `sync`. One that blocks
    /// does, as the worker writes them in turn (the bounds on a stuck
    /// output apply to them all). Lines go through the
    /// general path then (neither the plain-line path nor callers
    /// formatting), which costs the worker some tens of nanoseconds a line
    /// more.
    ///
    /// # Errors
    ///
    /// [`build`](Builder::build) fails as it would for `output` alone (a
    /// file that cannot be opened, a bad filter), and with
    /// [`ErrorKind::Output`] when `output` has outputs of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Builder, Format, Level};
    ///
    /// let dir = std::env::temp_dir().join(format!("velo-also-doc-{}", std::process::id()));
    /// let logger = Builder::new()
    ///     .level(Level::Debug) // what the logger takes: the widest
    ///     .file(dir.join("app.log")) // every entry, in JSON
    ///     .format(Format::Json)
    ///     .also(Builder::new().stderr().format(Format::Text).level(Level::Warn))
    ///     .build()?;
    /// velo::velo!(logger: &logger, debug, "cache warmed"); // the file only
    /// velo::velo!(logger: &logger, warn, "disk almost full"); // both
    /// logger.sync()?;
    /// let file = std::fs::read_to_string(dir.join("app.log"))?;
    /// assert_eq!(file.lines().count(), 2);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn also(mut self, output: Builder) -> Builder {
        self.also.push(output);
        self
    }

    /// Adds fields to every entry; see [`fields!`](crate::fields!).
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .fields(velo::fields!(service = "api", region = "eu-west-1"))
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "ready", port = 8080);
    /// // {..,"msg":"ready",..,"service":"api","region":"eu-west-1","port":8080}
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn fields(mut self, fields: Fields) -> Builder {
        self.fields.extend(&fields);
        self
    }

    /// With `false`, entries are written on the caller's thread and there is
    /// no worker. The panic hook of [`install`](Builder::install) then runs
    /// the writer too, inside the hook: a writer that panics there aborts
    /// the process, as any panic inside a panic hook does. (With a queue,
    /// the hook never runs a writer or appender of yours: with the queue
    /// full its entry waits for the worker, and after `close` it is
    /// dropped, counted.)
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new()
    ///     .asynchronous(false)
    ///     .writer(std::io::sink())
    ///     .build()?;
    /// velo::velo!(logger: &logger, info, "written before velo! returns");
    /// assert_eq!(logger.stats().written, 1); // no sync needed
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn asynchronous(mut self, asynchronous: bool) -> Builder {
        self.asynchronous = asynchronous;
        self
    }

    /// Refuses `Timestamp::UnixNanos` under a schema whose readers take
    /// their time key for an RFC 3339 string (see its docs), for an output
    /// of JSON lines (journald and OTLP records carry the time their own
    /// way).
    fn check_time_key(&self) -> Result<(), Error> {
        let reader = match self.schema {
            Schema::Ecs => "Elasticsearch reads a number in `@timestamp` as milliseconds",
            Schema::Gcp => "Cloud Logging does not read a number in `time`",
            Schema::Velo => return Ok(()),
        };
        let recordwise = matches!(&self.output, Target::Open(o) if o.recordwise);
        if self.timestamp != Timestamp::UnixNanos || self.format == Format::Text || recordwise {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Output,
            format!(
                "Timestamp::UnixNanos writes the time as a number, and {reader}: use Timestamp::Nanos with Schema::{:?} (or Format::Text; Format::Auto writes JSON off a terminal)",
                self.schema
            ),
        ))
    }

    /// Builds the logger.
    ///
    /// # Errors
    ///
    /// A buffer size that is not a power of two, a bad filter directive, a
    /// file that cannot be opened, an output address that is not valid
    /// ([`ErrorKind::Output`]), [`Timestamp::UnixNanos`] in JSON lines of
    /// [`Schema::Ecs`] or [`Schema::Gcp`] (also [`ErrorKind::Output`]:
    /// their readers would misread the number; [`Format::Auto`] counts as
    /// JSON, which it writes off a terminal), or a thread that cannot
    /// start.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Builder, ErrorKind, Schema, Timestamp};
    ///
    /// let logger = Builder::new().writer(std::io::sink()).build()?;
    /// velo::velo!(logger: &logger, info, "built");
    ///
    /// let err = Builder::new().buffer_size(1000).build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::BufferSize);
    ///
    /// let ecs = Builder::new().schema(Schema::Ecs).timestamp(Timestamp::UnixNanos);
    /// assert_eq!(ecs.build().unwrap_err().kind(), ErrorKind::Output);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn build(mut self) -> Result<Logger, Error> {
        let filter = std::mem::replace(&mut self.filter, Ok(Filter::default()))?;
        if !self.buffer_size.is_power_of_two() {
            return Err(Error::new(
                ErrorKind::BufferSize,
                format!(
                    "buffer_size must be a power of two (such as {}), got {}",
                    // 0 gets the default rather than a queue of one.
                    match self.buffer_size {
                        0 => DEFAULT_BUFFER_SIZE,
                        n => n
                            .checked_next_power_of_two()
                            .unwrap_or(1 << (usize::BITS - 1)),
                    },
                    self.buffer_size
                ),
            ));
        }
        self.check_time_key()?;
        for branch in &self.also {
            branch.check_time_key()?;
        }
        let mut asynchronous = self.asynchronous;
        // Entries are dated when any output shows the time.
        let timed = self.timestamp != Timestamp::Off
            || self.also.iter().any(|b| b.timestamp != Timestamp::Off);
        let user_code =
            self.output.runs_user_code() || self.also.iter().any(|b| b.output.runs_user_code());
        let mut branches = Vec::with_capacity(self.also.len());
        for mut branch in std::mem::take(&mut self.also) {
            if !branch.also.is_empty() {
                return Err(Error::new(
                    ErrorKind::Output,
                    "an output given to `also` cannot have outputs of its own: give each to the logger's builder",
                ));
            }
            let filter = std::mem::replace(&mut branch.filter, Ok(Filter::default()))?;
            // The logger's own output is the first.
            let place = format!("output {}", branches.len() + 2);
            let what = branch.output.named();
            let opened = branch.open()?;
            asynchronous &= !opened.synchronous;
            branches.push(output::Branch {
                output: opened.output,
                format: crate::line::LineFormat::new(opened.style),
                filter: branch.filter_set.then_some(filter),
                place,
                what,
            });
        }
        let opened = self.open()?;
        asynchronous &= !opened.synchronous;
        let style = opened.style;
        let output: Box<dyn Output> = if branches.is_empty() {
            opened.output
        } else {
            Box::new(output::Tee::new(opened.output, branches))
        };
        let mut config = Config::new(self.overflow, timed, self.thread_names, self.backtrace);
        config.span_names = self.span_names;
        config.user_code = user_code;
        let capacity = asynchronous.then_some(self.buffer_size);
        let context = crate::record::context_block(self.fields.as_bytes());
        let core = Core::start(config, style, output, &context, capacity)
            .map_err(|e| Error::io(ErrorKind::Write, "cannot start the velo worker thread", e))?;
        // Every logger, synchronous ones too: the close at exit also keeps
        // other threads from starting a write the end of the process
        // would cut (see `sink::exit_begins`).
        crate::logger::close_at_exit();
        crate::panic::flush_on_abort();
        Ok(Logger::new(core, filter, context))
    }

    /// Builds the logger and makes it the default that `velo!` uses. Also
    /// sets a panic hook, chained to the previous one, that logs panics at
    /// error level (message, location, thread) and flushes every logger.
    /// (Under `panic = "abort"`, where nothing runs after the hook, the
    /// first logger a program builds, installed or not, chains a hook that
    /// flushes every logger.)
    ///
    /// # Errors
    ///
    /// As [`build`](Builder::build), and [`ErrorKind::AlreadyInstalled`] when
    /// a default logger is already in use.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().writer(std::io::sink()).install()?;
    /// velo::velo!(info, "through the installed logger");
    /// assert!(std::ptr::eq(logger, velo::logger()));
    ///
    /// let again = velo::Builder::new().install().unwrap_err();
    /// assert_eq!(again.kind(), velo::ErrorKind::AlreadyInstalled);
    /// # Ok::<(), velo::Error>(())
    /// ```
    pub fn install(self) -> Result<&'static Logger, Error> {
        crate::logger::check_installable()?;
        let installed = crate::logger::install(self.build()?)?;
        crate::panic::install_hook(installed);
        Ok(installed)
    }
}

/// Whether `writer` is one of the standard library's handles on a
/// terminal: standard output or error, or a `File`
/// open on a terminal device. `Format::Auto` and colours take it for the
/// terminal it is, as they take `stdout()` and `stderr()`; any other
/// writer is not one.
fn writes_to_terminal(writer: &dyn std::any::Any) -> bool {
    if let Some(w) = writer.downcast_ref::<std::io::Stdout>() {
        w.is_terminal()
    } else if let Some(w) = writer.downcast_ref::<std::io::Stderr>() {
        w.is_terminal()
    } else if let Some(w) = writer.downcast_ref::<std::fs::File>() {
        w.is_terminal()
    } else {
        false
    }
}

/// Whether the file a `Builder::file` output opened at `path` is a
/// terminal (`/dev/tty`): looked at only for a character device, which
/// is opened again for the look; a FIFO or a regular file is not one.
fn is_terminal_file(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device())
            && std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .is_ok_and(|f| f.is_terminal())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// The filter the environment sets: `VELO_LOG`, else `RUST_LOG` (only when
/// `VELO_LOG` is not set at all: one set but unreadable, not UTF-8, is
/// said, not replaced).
fn env_filter() -> Option<String> {
    match std::env::var_os("VELO_LOG") {
        Some(v) if !v.is_empty() => env_var("VELO_LOG"),
        _ => env_var("RUST_LOG"),
    }
}

/// Whether the text format gets colours when `color` does not say, on a
/// terminal if `terminal`: `NO_COLOR` set to anything but the empty string
/// turns them off (no-color.org); else env_logger's `RUST_LOG_STYLE`
/// decides when it is `always` or `never`; else `CLICOLOR_FORCE` set to
/// anything but `0` turns them on, terminal or not, and `CLICOLOR=0` off
/// (the bixense.com/clicolors convention); else a terminal has them
/// unless `TERM` is `dumb`.
fn colors_by_env(terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    match set("RUST_LOG_STYLE").as_ref().and_then(|v| v.to_str()) {
        Some("always") => return true,
        Some("never") => return false,
        _ => {}
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    terminal
        && set("CLICOLOR").is_none_or(|v| v != "0")
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// An output opened by [`Builder::build`], with its style.
struct Opened {
    output: Box<dyn Output>,
    style: Style,
    /// The output is the test harness's, which only the logging thread
    /// can write to: the logger writes synchronously.
    synchronous: bool,
}

impl Builder {
    /// Opens this builder's output (left `Stderr` in its place), and works
    /// out the style of its lines from its settings (the text format and
    /// colours on a terminal, for `Format::Auto`).
    fn open(&mut self) -> Result<Opened, Error> {
        let mut synchronous = false;
        let colorless = matches!(&self.output, Target::Open(opener) if opener.colorless);
        let (output, terminal): (Box<dyn Output>, bool) =
            match std::mem::replace(&mut self.output, Target::Stderr) {
                Target::Stderr => (
                    Box::new(Stream::new(Box::new(Stdio::Stderr))),
                    std::io::stderr().is_terminal(),
                ),
                Target::Stdout => (
                    Box::new(Stream::new(Box::new(Stdio::Stdout))),
                    std::io::stdout().is_terminal(),
                ),
                Target::Writer(w, terminal) => (Box::new(Stream::new(w)), terminal),
                Target::Test => {
                    synchronous = true;
                    (Box::new(Stream::new(Box::new(output::TestWriter))), false)
                }
                Target::Open(opener) => {
                    let opening = Opening {
                        app_name: app_name(self.app_name.clone()),
                        caller: self.caller,
                        targets: self.targets,
                    };
                    let output = (opener.open)(&opening)?;
                    (output, opener.file.as_deref().is_some_and(is_terminal_file))
                }
            };
        let text = match self.format {
            Format::Json => false,
            Format::Text => true,
            Format::Auto => terminal,
        };
        let style = Style {
            text,
            color: text && !colorless && self.color.unwrap_or_else(|| colors_by_env(terminal)),
            timestamp: self.timestamp,
            local_time: self.local_time,
            caller: self.caller,
            targets: self.targets,
            schema: self.schema,
        };
        Ok(Opened {
            output,
            style,
            synchronous,
        })
    }
}

/// The program's name: `name`, else the executable's file name.
fn app_name(name: Option<String>) -> String {
    name.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "velo".to_owned())
    })
}

/// A non-empty environment variable.
/// The environment variable `name`, unless unset or empty. One that is not
/// UTF-8 is said on stderr and taken as empty: it could not be read as any
/// setting, and silently taking another variable instead (`RUST_LOG` for
/// `VELO_LOG`) would hide the mistake.
fn env_var(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) => Some(v).filter(|v| !v.is_empty()),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(v)) => {
            let shown = crate::escape::for_stderr(&v.to_string_lossy()).into_owned();
            crate::stdio::say(format_args!("{name}=\"{shown}\" is not UTF-8; ignored"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Builder;

    #[test]
    fn debug_names_the_output_and_its_settings() {
        let shown = |b: Builder| format!("{b:?}");
        assert!(shown(Builder::new()).contains("output: Stderr"));
        assert!(
            shown(Builder::new().file("logs/app.log")).contains(r#"output: File("logs/app.log")"#)
        );
        let rolling = shown(Builder::new().rolling(crate::Rolling::new("app.log").keep(3)));
        assert!(rolling.contains("output: Rolling(Rolling {"), "{rolling}");
        #[cfg(unix)]
        assert!(shown(Builder::new().journald_at("/tmp/j.sock"))
            .contains(r#"output: Journald("/tmp/j.sock")"#));
    }

    #[test]
    fn an_output_that_cannot_open_fails_the_build() {
        let dir = std::env::temp_dir().join(format!("velo-builder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A directory is not a file to append to.
        let err = Builder::new().file(&dir).build().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::File, "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
