//! `tracing` events and spans, written by the default logger (cargo
//! feature `tracing`).
//!
//! [`bridge_tracing`] makes velo the global `tracing` subscriber. An event
//! becomes a dynamic record (as a bridged `log` record does, see
//! `log_bridge.rs`): its level, its message (the `message` field, formatted
//! straight into the record), its target and its file and line travel in
//! the record, and every other field is recorded with its type. The fields
//! of the spans the event is inside come after the logger's context,
//! outermost span first, from the span store (`tracing_spans.rs`), where
//! they were encoded once, when each span was created or recorded.
//!
//! Filtering happens once per call site: `register_callsite` asks the
//! default logger's filter (the target matched as a module path) and
//! answers "always" or "never", which `tracing` caches beside the call
//! site, so a disabled event costs its call site one load. When the default
//! logger's filter changes, the bridge has `tracing` ask again (a hook run
//! by `callsite::set_filter`).

use crate::callsite::{self, FilterCell, Text};
use crate::entry::{Dynamic, Entry};
use crate::error::{Error, ErrorKind};
use crate::level::{Level, LevelFilter};
use crate::local;
use crate::logger::Logger;
use crate::record;
use crate::tracing_spans::Spans;
use crate::value::Encoder;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{self, Attributes, Current, Id};
use tracing_core::subscriber::{Interest, Subscriber};
use tracing_core::{Dispatch, Event, Metadata};

/// velo's level for a `tracing` level (`tracing` has no fatal).
pub(crate) fn level(level: &tracing_core::Level) -> Level {
    if *level == tracing_core::Level::ERROR {
        Level::Error
    } else if *level == tracing_core::Level::WARN {
        Level::Warn
    } else if *level == tracing_core::Level::INFO {
        Level::Info
    } else if *level == tracing_core::Level::DEBUG {
        Level::Debug
    } else {
        Level::Trace
    }
}

/// `tracing`'s levels convert to velo's, so a program moving from
/// `tracing` keeps its level settings as they are.
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new()
///     .level(tracing::Level::WARN)
///     .writer(std::io::sink())
///     .build()?;
/// assert_eq!(velo::Level::from(tracing::Level::DEBUG), velo::Level::Debug);
/// # Ok::<(), velo::Error>(())
/// ```
impl From<tracing_core::Level> for Level {
    fn from(l: tracing_core::Level) -> Level {
        level(&l)
    }
}

/// As [`Level`]'s conversion; see there.
impl From<tracing_core::Level> for LevelFilter {
    fn from(l: tracing_core::Level) -> LevelFilter {
        level(&l).into()
    }
}

/// `tracing`'s level filter, `OFF` included, as velo's.
///
/// # Examples
///
/// ```
/// use tracing::level_filters::LevelFilter;
///
/// let logger = velo::Builder::new()
///     .level(LevelFilter::INFO)
///     .writer(std::io::sink())
///     .build()?;
/// assert_eq!(velo::LevelFilter::from(LevelFilter::OFF), velo::LevelFilter::Off);
/// # Ok::<(), velo::Error>(())
/// ```
impl From<tracing_core::LevelFilter> for LevelFilter {
    fn from(filter: tracing_core::LevelFilter) -> LevelFilter {
        filter
            .into_level()
            .map_or(LevelFilter::Off, |l| level(&l).into())
    }
}

/// The `tracing` level filter passing what `filter` passes of `tracing`'s
/// levels.
pub(crate) fn level_filter(filter: LevelFilter) -> tracing_core::LevelFilter {
    match filter {
        LevelFilter::Trace => tracing_core::LevelFilter::TRACE,
        LevelFilter::Debug => tracing_core::LevelFilter::DEBUG,
        LevelFilter::Info => tracing_core::LevelFilter::INFO,
        LevelFilter::Warn => tracing_core::LevelFilter::WARN,
        LevelFilter::Error => tracing_core::LevelFilter::ERROR,
        LevelFilter::Fatal | LevelFilter::Off => tracing_core::LevelFilter::OFF,
    }
}

/// Whether `logger`'s filter passes events or spans of `meta`, its target
/// matched as a module path.
pub(crate) fn accepts(logger: &Logger, meta: &Metadata<'_>) -> bool {
    logger
        .filter_cell()
        .enabled_for(level(meta.level()), meta.target())
}

/// The cached decision for a call site of `meta`.
pub(crate) fn interest(logger: &Logger, meta: &Metadata<'_>) -> Interest {
    if accepts(logger, meta) {
        Interest::always()
    } else {
        Interest::never()
    }
}

/// The level hint of `logger`'s filter.
pub(crate) fn max_level(logger: &Logger) -> tracing_core::LevelFilter {
    level_filter(logger.filter().max_level())
}

/// Has `tracing` recompute its cached decisions when the default logger's
/// filter is the one that changed.
/// `tracing` reads the level hint as a recomputation starts and stores it
/// as it ends: run one at a time (`callsite::refreshing`).
fn filter_changed(cell: &FilterCell) {
    if std::ptr::eq(cell, crate::logger::for_bridge().filter_cell()) {
        tracing_core::callsite::rebuild_interest_cache();
    }
}

/// Encodes the fields of a span (every field, `message` included).
pub(crate) fn encode_fields(values: &dyn RecordFields) -> Vec<u8> {
    let mut own = Vec::new();
    values.record_into(&mut Typed(&mut own));
    own
}

/// Encodes the fields of a new span, after its name as `span.name` when
/// `logger` writes span names (`Builder::span_names`) and the span has no
/// field of that name (which then wins, as the innermost key).
pub(crate) fn encode_span(logger: &Logger, attrs: &Attributes<'_>) -> Vec<u8> {
    const KEY: &str = "span.name";
    let mut own = Vec::new();
    let meta = attrs.metadata();
    if logger.core().config.span_names && meta.fields().field(KEY).is_none() {
        list_field(&mut own, KEY).str(meta.name());
    }
    attrs.record(&mut Typed(&mut own));
    own
}

/// The values of a span, new or recorded.
pub(crate) trait RecordFields {
    fn record_into(&self, visitor: &mut dyn Visit);
}

impl RecordFields for Attributes<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

impl RecordFields for span::Record<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor);
    }
}

/// Writes `event` through `logger`, with `spans` (encoded fields, the
/// outermost span's first) after the logger's context.
///
/// One visit of the event's fields: the record starts at the `message`
/// field (its text formatted straight into the record), which `tracing`'s
/// macros put first; fields met before it wait in a side buffer.
/// `from_log` is [`FromLog::of`] the event.
pub(crate) fn write_event(
    logger: &Logger,
    event: &Event<'_>,
    from_log: Option<&FromLog>,
    spans: &[u8],
) {
    let meta = event.metadata();
    let stats = &logger.core().stats;
    let text = match logger
        .filter_cell()
        .match_text(level(meta.level()), stats, || message_of(event))
    {
        Text::Unfiltered => None,
        Text::Matches(text) => Some(text),
        Text::Fails => return,
    };
    let (module, target, file, line) = match from_log {
        Some(log) => (&*log.module, &*log.target, &*log.file, log.line),
        None => (
            meta.module_path().unwrap_or_default(),
            meta.target(),
            meta.file().unwrap_or_default(),
            meta.line().unwrap_or(0),
        ),
    };
    let mut writer = EventWriter {
        logger,
        level: level(meta.level()),
        file,
        line,
        module,
        // The usual target, the module path, is not written: not copied.
        target: if target == module { "" } else { target },
        spans,
        from_log: from_log.is_some(),
        text,
        entry: None,
        early: Vec::new(),
    };
    event.record(&mut writer);
    match writer.entry.take() {
        Some(mut entry) => entry.finish(),
        None => writer.start(format_args!("")).finish(),
    }
}

/// The text of `event`'s message (its first `message` field), as its
/// record writes it (see `EventWriter`'s `Visit`), for a filter's message
/// text.
fn message_of(event: &Event<'_>) -> String {
    struct Message(Option<String>);
    impl Message {
        fn take(&mut self, field: &Field, text: impl FnOnce() -> String) {
            if self.0.is_none() && field.name() == "message" {
                self.0 = Some(text());
            }
        }
    }
    impl Visit for Message {
        fn record_f64(&mut self, field: &Field, value: f64) {
            self.take(field, || value.to_string());
        }

        fn record_i64(&mut self, field: &Field, value: i64) {
            self.take(field, || value.to_string());
        }

        fn record_u64(&mut self, field: &Field, value: u64) {
            self.take(field, || value.to_string());
        }

        fn record_bool(&mut self, field: &Field, value: bool) {
            self.take(field, || value.to_string());
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            self.take(field, || value.to_owned());
        }

        fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
            self.take(field, || value.to_string());
        }

        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.take(field, || format!("{value:?}"));
        }
    }
    let mut message = Message(None);
    event.record(&mut message);
    message.0.unwrap_or_default()
}

/// Whether `logger` writes `event`, by its target, as `tracing`'s own
/// filters are asked: for an event `tracing-log` made from a `log` record
/// (`from_log`, [`FromLog::of`] the event), the record's own target.
#[cfg(feature = "tracing-subscriber")]
pub(crate) fn accepts_event(
    logger: &Logger,
    event: &Event<'_>,
    from_log: Option<&FromLog>,
) -> bool {
    let meta = event.metadata();
    match from_log {
        Some(log) => logger
            .filter_cell()
            .enabled_for(level(meta.level()), &log.target),
        None => accepts(logger, meta),
    }
}

/// The names of the fields in which `tracing-log`'s `LogTracer` carries a
/// `log` record's own metadata: its events all have the target `log` and
/// no file, line or module of their own.
const LOG_FIELDS: [&str; 4] = ["log.target", "log.module_path", "log.file", "log.line"];

/// A `log` record's metadata, out of the fields of the event
/// `tracing-log` made from it, so that the entry is the one `bridge_log`
/// would write: the record's target, module path, file and line, not
/// `log` and four fields. (tracing-subscriber's formatters do the same.)
/// Its strings are copied out of the event, as `Visit` lends them for the
/// call only: up to three allocations per record, on this detour only;
/// `bridge_log` reads the record's own metadata, with no copy.
#[derive(Default)]
pub(crate) struct FromLog {
    target: String,
    module: String,
    file: String,
    line: u32,
}

impl FromLog {
    /// The metadata of `event`, if `tracing-log` made it from a `log`
    /// record.
    pub(crate) fn of(event: &Event<'_>) -> Option<FromLog> {
        let meta = event.metadata();
        // `tracing-log`'s call sites: named `log event`, with target `log`
        // and no file of their own; not a `tracing` event that happens to
        // have a `log.target` field.
        if meta.name() != "log event"
            || meta.target() != "log"
            || meta.file().is_some()
            || meta.fields().field(LOG_FIELDS[0]).is_none()
        {
            return None;
        }
        let mut log = FromLog::default();
        event.record(&mut log);
        Some(log)
    }
}

impl Visit for FromLog {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "log.target" => &mut self.target,
            "log.module_path" => &mut self.module,
            "log.file" => &mut self.file,
            _ => return,
        };
        value.clone_into(slot);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "log.line" {
            self.line = u32::try_from(value).unwrap_or(u32::MAX);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
}

/// Builds the record of one event as its fields are visited.
struct EventWriter<'a> {
    logger: &'a Logger,
    level: Level,
    file: &'a str,
    line: u32,
    module: &'a str,
    target: &'a str,
    spans: &'a [u8],
    /// The event carries a `log` record's metadata in fields
    /// ([`LOG_FIELDS`]), taken out before: they are not written again.
    from_log: bool,
    /// The message, formatted already (for a filter's message text):
    /// written instead of formatting it again.
    text: Option<String>,
    /// The record, from the message on.
    entry: Option<Entry<'a>>,
    /// Fields met before the message, encoded.
    early: Vec<u8>,
}

impl<'a> EventWriter<'a> {
    /// Starts the record with `message`.
    fn start(&mut self, message: fmt::Arguments<'_>) -> Entry<'a> {
        let logger = self.logger;
        let mut entry = Entry::dynamic(
            logger.core(),
            logger.context(),
            &Dynamic {
                level: self.level,
                message,
                file: self.file,
                line: self.line,
                module: self.module,
                target: self.target,
            },
            Some(self.spans),
        );
        entry.encoded_fields(&self.early);
        entry
    }

    /// Whether `field` is the message, while none has been met.
    fn is_message(&self, field: &Field) -> bool {
        self.entry.is_none() && field.name() == "message"
    }

    /// Starts the record with `value`'s text as its message if `field` is
    /// the message; whether it was.
    fn take_message(&mut self, field: &Field, value: &dyn fmt::Display) -> bool {
        if !self.is_message(field) {
            return false;
        }
        self.entry = Some(match self.text.take() {
            Some(text) => self.start(format_args!("{text}")),
            None => self.start(format_args!("{value}")),
        });
        true
    }

    /// Whether `field` is one of the `log` record's metadata, written as
    /// the entry's own.
    fn is_log_metadata(&self, field: &Field) -> bool {
        self.from_log && LOG_FIELDS.contains(&field.name())
    }

    /// The encoder of `field`'s value.
    fn field(&mut self, field: &Field) -> Encoder<'_> {
        match &mut self.entry {
            Some(entry) => entry.field(field.name()),
            None => list_field(&mut self.early, field.name()),
        }
    }
}

// A `message` of any type is the message (`info!(message = 5)`), written
// as its text, as `tracing`'s own formatters write it.
impl Visit for EventWriter<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.take_message(field, &value) {
            self.field(field).f64(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.take_message(field, &value) {
            self.field(field).i64(value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.is_log_metadata(field) && !self.take_message(field, &value) {
            self.field(field).u64(value);
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if !self.take_message(field, &value) {
            self.field(field).i128(value);
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if !self.take_message(field, &value) {
            self.field(field).u128(value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.take_message(field, &value) {
            self.field(field).bool(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.is_log_metadata(field) && !self.take_message(field, &value) {
            self.field(field).str(value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.take_message(field, &value) {
            self.field(field).error(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.is_message(field) {
            // `format_args!` messages print their text through `Debug`.
            self.entry = Some(match self.text.take() {
                Some(text) => self.start(format_args!("{text}")),
                None => self.start(format_args!("{value:?}")),
            });
        } else {
            self.field(field).debug(value);
        }
    }
}

/// Starts a field in a field list: its key, then an encoder for its value.
fn list_field<'b>(list: &'b mut Vec<u8>, key: &str) -> Encoder<'b> {
    record::put_str(list, key);
    Encoder::new(list)
}

/// Records each field of a span with its type into a field list.
struct Typed<'o>(&'o mut Vec<u8>);

impl Visit for Typed<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        list_field(self.0, field.name()).f64(value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        list_field(self.0, field.name()).i64(value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        list_field(self.0, field.name()).u64(value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        list_field(self.0, field.name()).i128(value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        list_field(self.0, field.name()).u128(value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        list_field(self.0, field.name()).bool(value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        list_field(self.0, field.name()).str(value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        list_field(self.0, field.name()).error(value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        list_field(self.0, field.name()).debug(value);
    }
}

/// The subscriber: events through a logger (the default one, for the
/// global subscriber), spans in a store of its own.
struct Bridge {
    spans: Spans,
    /// `None`: the default logger.
    logger: Option<Logger>,
    /// Whether the bridge may look at its logger to answer `tracing`'s
    /// questions about call sites. `Dispatch::new` asks them at once, and
    /// for a bridge that may yet fail to become the global subscriber
    /// that must not fix the default logger (see [`bridge_tracing`]).
    live: AtomicBool,
}

impl Bridge {
    fn logger(&self) -> &Logger {
        self.logger
            .as_ref()
            .unwrap_or_else(|| crate::logger::for_bridge())
    }
}

impl Subscriber for Bridge {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if !self.live.load(Ordering::Acquire) {
            // Asked again once live (`rebuild_interest_cache`).
            return Interest::sometimes();
        }
        interest(self.logger(), meta)
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        accepts(self.logger(), meta)
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        self.live
            .load(Ordering::Acquire)
            .then(|| max_level(self.logger()))
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let parent = if attrs.is_contextual() {
            self.spans.current().map(|(id, _)| id)
        } else {
            attrs.parent().cloned()
        };
        self.spans.create(
            attrs.metadata(),
            parent.as_ref(),
            encode_span(self.logger(), attrs),
        )
    }

    fn record(&self, id: &Id, values: &span::Record<'_>) {
        self.spans.record(id, &encode_fields(values));
        // The span this thread is in may be the one recorded into, or
        // inside it.
        local::set_span_scope(self.spans.id(), self.spans.current_scope());
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        // The decision was made for the call site (`register_callsite`).
        let scope = if event.is_contextual() {
            self.spans.current_scope()
        } else {
            event.parent().and_then(|id| self.spans.scope(id))
        };
        let from_log = FromLog::of(event);
        write_event(
            self.logger(),
            event,
            from_log.as_ref(),
            scope.as_deref().unwrap_or_default(),
        );
    }

    fn enter(&self, id: &Id) {
        self.spans.enter(id);
        local::set_span_scope(self.spans.id(), self.spans.current_scope());
    }

    fn exit(&self, id: &Id) {
        self.spans.exit(id);
        local::set_span_scope(self.spans.id(), self.spans.current_scope());
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.spans.clone_span(id);
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
        self.spans.close(id.into_u64())
    }

    fn current_span(&self) -> Current {
        match self.spans.current() {
            Some((id, meta)) => Current::new(id, meta),
            None => Current::none(),
        }
    }
}

/// Makes velo the global `tracing` subscriber: events of crates that use
/// `tracing` are written by the default logger ([`logger`](crate::logger)).
/// Available with the cargo feature `tracing`.
///
/// - Each event keeps its level (`tracing` has no fatal), its message (the
///   `message` field), its file and line as the caller, and every other
///   field with its type: integers, floats, booleans and strings as such,
///   errors with their source chain, other values through `Debug`.
/// - The event's target is what the logger's filter matches, as a module
///   path; it is written as `target` when it is not the module path.
/// - The fields of the spans the event is inside follow the logger's
///   context, outermost span first; a key set twice (by two spans, or by a
///   span and the event) appears once, with the innermost value.
/// - An event `tracing-log`'s `LogTracer` made from a `log` record is
///   written as `velo::bridge_log()` would write the record:
///   its own target, module, file and line, which `LogTracer` passes in
///   `log.*` fields, not as fields and not `log` as the target. Prefer
///   `bridge_log` (feature `log`): it writes records without the detour.
/// - A disabled event costs what `tracing` spends on a call site it has
///   cached as never enabled; the cache is rebuilt when the default
///   logger's filter changes
///   ([`Logger::set_filter`](crate::Logger::set_filter)).
///
/// The default logger is fixed by this call: call it after
/// [`Builder::install`](crate::Builder::install) if you install one (an
/// `install()` afterwards fails, as it does after the first `velo!`).
///
/// # Errors
///
/// [`ErrorKind::AlreadyInstalled`] when a global `tracing` subscriber is
/// already set; the default logger is then left as it was.
///
/// # Examples
///
/// ```
/// velo::bridge_tracing()?;
/// let span = tracing::info_span!("request", request_id = 7);
/// let _inside = span.enter();
/// tracing::info!(status = 200, "request handled"); // carries request_id
/// # Ok::<(), velo::Error>(())
/// ```
pub fn bridge_tracing() -> Result<(), Error> {
    // A call that fails changes nothing: the default logger stays free.
    // So the bridge answers `Dispatch::new`'s questions without its
    // logger, and looks at it only once it is the global subscriber.
    let dispatch = Dispatch::new(Bridge {
        spans: Spans::new(),
        logger: None,
        live: AtomicBool::new(false),
    });
    if let Some(bridge) = dispatch.downcast_ref::<Bridge>() {
        bridge.live.store(true, Ordering::Release);
    }
    tracing_core::dispatcher::set_global_default(dispatch).map_err(|_| {
        Error::new(
            ErrorKind::AlreadyInstalled,
            "a global `tracing` subscriber is already set",
        )
    })?;
    // Interests and the level hint come from the default logger, fixed
    // now; a filter change from here on rebuilds them, and this rebuild
    // takes in any change before.
    let _ = crate::logger::for_bridge();
    callsite::on_filter_change(callsite::Hook::Tracing, filter_changed);
    tracing_core::callsite::rebuild_interest_cache();
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The bridge as a scoped subscriber with a logger of its own, so each
    //! test sees its own entries and its own span store.

    use super::*;

    use crate::captured::Captured as Lines;
    use crate::Builder;
    use serde_json::{Map, Value};

    /// Every line of `lines` as a JSON object, with the line itself under
    /// `__line`.
    fn entries(lines: &Lines) -> Vec<Map<String, Value>> {
        lines
            .lines()
            .into_iter()
            .map(|l| match serde_json::from_str(&l) {
                Ok(Value::Object(mut map)) => {
                    map.insert("__line".into(), l.into());
                    map
                }
                _ => panic!("not a JSON object: {l}"),
            })
            .collect()
    }

    /// A dispatch writing JSON lines (no time, no caller) into `Lines`.
    fn bridge(filter: &str) -> (Dispatch, Lines) {
        let lines = Lines::default();
        let logger = Builder::new()
            .format(crate::Format::Json)
            .timestamp(crate::Timestamp::Off)
            .caller(false)
            .filter(filter)
            .fields(crate::fields!(service = "api", shared = "context"))
            .asynchronous(false)
            .writer(lines.clone())
            .build()
            .unwrap();
        let bridge = Bridge {
            spans: Spans::new(),
            logger: Some(logger),
            live: AtomicBool::new(true),
        };
        (Dispatch::new(bridge), lines)
    }

    /// A `tracing` event with target `log` and a `log.target` field is the
    /// user's own, not one `tracing-log` made from a `log` record: written
    /// as it is.
    #[test]
    fn an_event_that_looks_like_a_log_record_is_written_as_it_is() {
        let (dispatch, lines) = bridge("trace");
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(target: "log", { log.target = "fake" }, "look-alike");
        });
        let entries = entries(&lines);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["target"], "log");
        assert_eq!(entries[0]["log.target"], "fake");
    }

    fn live(dispatch: &Dispatch) -> usize {
        dispatch.downcast_ref::<Bridge>().unwrap().spans.live()
    }

    /// The keys of `entry`, in the order its line has them (the map itself
    /// is sorted), each checked to appear once.
    fn keys(entry: &Map<String, Value>) -> Vec<&str> {
        let line = entry["__line"].as_str().unwrap();
        let mut found: Vec<(usize, &str)> = entry
            .keys()
            .filter(|k| *k != "__line")
            .map(|k| {
                let quoted = format!("\"{k}\":");
                assert_eq!(line.matches(&quoted).count(), 1, "{k} once in {line}");
                (line.find(&quoted).unwrap(), k.as_str())
            })
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(_, k)| k).collect()
    }

    #[test]
    fn nested_spans_come_outermost_first_each_key_once() {
        let (dispatch, lines) = bridge("trace");
        tracing::dispatcher::with_default(&dispatch, || {
            let outer = tracing::info_span!("outer", a = 1, shared = "outer", b = "outer");
            let _o = outer.enter();
            let inner = tracing::info_span!("inner", c = 3, shared = "inner");
            let _i = inner.enter();
            tracing::info!(b = "event", d = true, "inside");
        });
        let entries = entries(&lines);
        let e = &entries[0];
        assert_eq!(
            keys(e),
            ["level", "msg", "service", "a", "c", "shared", "b", "d"]
        );
        assert_eq!(e["msg"], "inside");
        assert_eq!(e["shared"], "inner");
        assert_eq!(e["b"], "event");
        assert_eq!(live(&dispatch), 0, "every span is freed");
    }

    #[test]
    fn velo_scopes_come_after_spans() {
        let (dispatch, lines) = bridge("trace");
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("s", a = 1, trace_id = "span");
            let _s = span.enter();
            crate::scope(crate::fields!(trace_id = "scope", b = 2), || {
                tracing::info!(c = 3, "inside both");
            });
        });
        let entries = entries(&lines);
        let e = &entries[0];
        assert_eq!(
            keys(e),
            ["level", "msg", "service", "shared", "a", "trace_id", "b", "c"]
        );
        assert_eq!(e["trace_id"], "scope", "the scope is inside the span");
    }

    #[test]
    fn nothing_of_a_span_is_seen_after_it_is_exited() {
        let (dispatch, lines) = bridge("trace");
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("s", a = 1);
            span.in_scope(|| tracing::info!("in"));
            tracing::info!("after exit");
            assert_eq!(live(&dispatch), 1, "the span lives while its handle does");
            drop(span);
            tracing::info!("after close");
        });
        let entries = entries(&lines);
        assert_eq!(entries[0]["a"], 1);
        for e in &entries[1..] {
            assert_eq!(keys(e), ["level", "msg", "service", "shared"], "{e:?}");
        }
        assert_eq!(live(&dispatch), 0);
    }

    #[test]
    fn clones_and_children_keep_a_span_alive() {
        let (dispatch, lines) = bridge("trace");
        tracing::dispatcher::with_default(&dispatch, || {
            let parent = tracing::info_span!("parent", p = 1);
            let clone = parent.clone();
            let child = tracing::info_span!(parent: &parent, "child", c = 2);
            drop(parent);
            drop(clone);
            assert_eq!(live(&dispatch), 2, "the child holds its parent");
            // An explicit parent: the event carries the chain without
            // entering anything.
            tracing::info!(parent: &child, "explicit");
            tracing::info!(parent: None, "root");
            drop(child);
            assert_eq!(live(&dispatch), 0);
        });
        let entries = entries(&lines);
        assert_eq!(entries[0]["p"], 1);
        assert_eq!(entries[0]["c"], 2);
        assert_eq!(keys(&entries[1]), ["level", "msg", "service", "shared"]);
    }

    #[test]
    fn recorded_fields_reach_later_events_of_every_child() {
        let (dispatch, lines) = bridge("trace");
        tracing::dispatcher::with_default(&dispatch, || {
            let outer = tracing::info_span!("outer", status = tracing::field::Empty, a = 1);
            let _o = outer.enter();
            let inner = tracing::info_span!("inner", b = 2);
            let _i = inner.enter();
            tracing::info!("before");
            outer.record("status", 200);
            outer.record("a", "changed");
            tracing::info!("after");
        });
        let entries = entries(&lines);
        assert!(!entries[0].contains_key("status"));
        assert_eq!(entries[1]["status"], 200);
        assert_eq!(entries[1]["a"], "changed");
        assert_eq!(entries[1]["b"], 2);
    }

    #[test]
    fn a_span_entered_on_another_thread_brings_its_parents() {
        let (dispatch, lines) = bridge("trace");
        let child = tracing::dispatcher::with_default(&dispatch, || {
            let request = tracing::info_span!("request", request_id = 7);
            let _r = request.enter();
            tracing::info_span!("task", step = 1)
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    child.in_scope(|| tracing::info!("on another thread"));
                });
            });
        });
        drop(child);
        let entries = entries(&lines);
        assert_eq!(entries[0]["request_id"], 7);
        assert_eq!(entries[0]["step"], 1);
        assert_eq!(live(&dispatch), 0);
    }

    #[test]
    fn freed_slots_are_reused_and_stale_ids_name_nothing() {
        let (dispatch, _lines) = bridge("trace");
        let bridge = dispatch.downcast_ref::<Bridge>().unwrap();
        tracing::dispatcher::with_default(&dispatch, || {
            let first = tracing::info_span!("s");
            let id = first.id().unwrap();
            drop(first);
            let second = tracing::info_span!("s");
            let id2 = second.id().unwrap();
            assert_eq!(id.into_u64() as u32, id2.into_u64() as u32, "same slot");
            assert_ne!(id, id2, "another generation");
            assert!(bridge.spans.scope(&id).is_none());
            assert!(!bridge.spans.close(id.into_u64()));
            assert_eq!(live(&dispatch), 1);
        });
        // Many spans at once fill several pages and are all freed.
        tracing::dispatcher::with_default(&dispatch, || {
            let spans: Vec<_> = (0..1000).map(|i| tracing::info_span!("s", i)).collect();
            assert_eq!(live(&dispatch), 1000);
            drop(spans);
        });
        assert_eq!(live(&dispatch), 0);
    }

    #[test]
    fn threads_creating_and_closing_spans_see_only_their_own() {
        let (dispatch, lines) = bridge("trace");
        let threads = 4u64;
        let rounds = 500u64;
        std::thread::scope(|s| {
            for t in 0..threads {
                let dispatch = &dispatch;
                s.spawn(move || {
                    tracing::dispatcher::with_default(dispatch, || {
                        for r in 0..rounds {
                            let outer = tracing::info_span!("outer", t, r);
                            let _o = outer.enter();
                            let inner = tracing::info_span!("inner", step = r * 2);
                            // A second handle: the span closes with the last.
                            let clone = inner.clone();
                            inner.in_scope(|| tracing::info!(check = t * rounds + r, "e"));
                            drop(clone);
                        }
                    });
                });
            }
        });
        let entries = entries(&lines);
        assert_eq!(entries.len() as u64, threads * rounds);
        for e in &entries {
            let (t, r) = (e["t"].as_u64().unwrap(), e["r"].as_u64().unwrap());
            assert_eq!(e["check"].as_u64().unwrap(), t * rounds + r, "{e:?}");
            assert_eq!(e["step"].as_u64().unwrap(), r * 2, "{e:?}");
        }
        assert_eq!(live(&dispatch), 0, "every span is freed");
    }

    #[test]
    fn fields_keep_their_types_and_filters_see_targets() {
        let (dispatch, lines) = bridge("info,noisy=error");
        let err = std::io::Error::other("disk on fire");
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(
                u = 7u64,
                i = -3i64,
                f = 1.5,
                t = true,
                s = "str",
                shown = %"disp",
                debugged = ?Some(1),
                err = &err as &(dyn std::error::Error + 'static),
                "typed {}",
                42
            );
            tracing::info!(early = 1, message = "after a field", late = 2);
            tracing::info!(no_message = true);
            tracing::warn!(target: "noisy", "dropped");
            tracing::error!(target: "noisy::sub", "kept");
            tracing::debug!("below the level");
        });
        let entries = entries(&lines);
        assert_eq!(entries.len(), 4, "{entries:?}");
        assert_eq!(
            keys(&entries[1]),
            ["level", "msg", "service", "shared", "early", "late"]
        );
        assert_eq!(entries[1]["msg"], "after a field");
        assert_eq!(entries[1]["early"], 1);
        assert_eq!(entries[2]["msg"], "");
        assert_eq!(entries[2]["no_message"], true);
        assert_eq!(
            keys(&entries[0]),
            [
                "level", "msg", "service", "shared", "u", "i", "f", "t", "s", "shown", "debugged",
                "err"
            ]
        );
        let e = &entries[0];
        assert_eq!(e["msg"], "typed 42");
        assert_eq!(e["u"], 7);
        assert_eq!(e["i"], -3);
        assert_eq!(e["f"], 1.5);
        assert_eq!(e["t"], true);
        assert_eq!(e["s"], "str");
        assert_eq!(e["shown"], "disp");
        assert_eq!(e["debugged"], "Some(1)");
        assert_eq!(e["err"], "disk on fire");
        assert!(!e.contains_key("target"));
        assert_eq!(entries[3]["target"], "noisy::sub");
        assert_eq!(entries[3]["level"], "error");
    }

    #[test]
    fn span_fields_named_as_built_in_keys_are_renamed_in_velo_entries() {
        let (dispatch, lines) = bridge("trace");
        let logger = logger_of(&dispatch);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("send", msg = "hello", level = 3, caller = "c", x = 1);
            let _s = span.enter();
            crate::velo!(logger: &logger, info, "sending");
            tracing::info!("sending (tracing)");
        });
        let entries = entries(&lines);
        assert_eq!(entries.len(), 2);
        for e in &entries {
            // `keys` checks that each appears once. These lines show no
            // caller of velo's (`caller(false)`): the span's `caller` is
            // the user's.
            assert_eq!(
                keys(e),
                [
                    "level",
                    "msg",
                    "service",
                    "shared",
                    "fields.msg",
                    "fields.level",
                    "caller",
                    "x"
                ],
                "{e:?}"
            );
            assert_eq!(e["level"], "info");
            assert_eq!(e["fields.msg"], "hello");
        }
    }

    /// The bridge's own logger, for `velo!` calls beside its events.
    fn logger_of(dispatch: &Dispatch) -> Logger {
        dispatch.downcast_ref::<Bridge>().unwrap().logger().clone()
    }

    #[test]
    fn velo_entries_carry_the_fields_of_the_span_they_are_in() {
        let (dispatch, lines) = bridge("trace");
        let logger = logger_of(&dispatch);
        tracing::dispatcher::with_default(&dispatch, || {
            crate::velo!(logger: &logger, info, "before");
            let outer = tracing::info_span!("outer", a = 1, trace_id = "span");
            let o = outer.enter();
            crate::velo!(logger: &logger, info, "in outer", x = 1);
            let inner = tracing::info_span!("inner", b = 2, late = tracing::field::Empty);
            let i = inner.enter();
            inner.record("late", 5);
            crate::velo!(logger: &logger, info, "in inner");
            crate::scope(crate::fields!(trace_id = "scope"), || {
                crate::velo!(logger: &logger, info, "in a scope");
                tracing::info!("event in a scope");
            });
            // Out of order: the outer guard first; the inner span (with its
            // parent's fields) is still entered.
            drop(o);
            crate::velo!(logger: &logger, info, "outer exited");
            drop(i);
            crate::velo!(logger: &logger, info, "after");
        });
        let entries = entries(&lines);
        let by_msg = |msg: &str| {
            entries
                .iter()
                .find(|e| e["msg"] == msg)
                .unwrap_or_else(|| panic!("{msg} in {entries:?}"))
        };
        assert_eq!(
            keys(by_msg("before")),
            ["level", "msg", "service", "shared"]
        );
        let e = by_msg("in outer");
        assert_eq!(
            keys(e),
            ["level", "msg", "service", "shared", "a", "trace_id", "x"]
        );
        assert_eq!(e["trace_id"], "span");
        let e = by_msg("in inner");
        assert_eq!(
            keys(e),
            ["level", "msg", "service", "shared", "a", "trace_id", "b", "late"]
        );
        assert_eq!(e["late"], 5, "recorded after the span was entered");
        for msg in ["in a scope", "event in a scope"] {
            let e = by_msg(msg);
            assert_eq!(
                e["trace_id"], "scope",
                "the scope is inside the span: {e:?}"
            );
            assert_eq!((&e["a"], &e["b"]), (&1.into(), &2.into()), "{e:?}");
        }
        let e = by_msg("outer exited");
        assert_eq!((&e["a"], &e["b"]), (&1.into(), &2.into()), "{e:?}");
        assert_eq!(keys(by_msg("after")), ["level", "msg", "service", "shared"]);
    }

    #[test]
    fn tracing_levels_and_filters_convert_to_the_same_names() {
        for l in [
            tracing_core::Level::ERROR,
            tracing_core::Level::WARN,
            tracing_core::Level::INFO,
            tracing_core::Level::DEBUG,
            tracing_core::Level::TRACE,
        ] {
            let name = l.as_str().to_ascii_lowercase();
            assert_eq!(Level::from(l).as_str(), name);
            assert_eq!(LevelFilter::from(l).as_str(), name);
            let filter = tracing_core::LevelFilter::from_level(l);
            assert_eq!(LevelFilter::from(filter).as_str(), name);
        }
        assert_eq!(
            LevelFilter::from(tracing_core::LevelFilter::OFF),
            LevelFilter::Off
        );
    }
}
