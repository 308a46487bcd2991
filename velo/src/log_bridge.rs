//! Records from the `log` facade, written by the default logger (cargo
//! feature `log`).
//!
//! A bridged record has no call site the macro prepared, so its level,
//! message and caller travel in the record itself; filtering uses the
//! default logger's filter with the record's target as the module path.
//! Key-values (`log::info!(user_id = 7; "hello")`) become typed fields.

use crate::callsite::{self, FilterCell, Text};
use crate::entry::{Dynamic, Entry};
use crate::error::{Error, ErrorKind};
use crate::level::{Level, LevelFilter};
use crate::value::Encoder;
use std::sync::atomic::{AtomicBool, Ordering};

struct Bridge;

static BRIDGE: Bridge = Bridge;

fn level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

/// `log`'s levels convert to velo's, so a program moving from `log` keeps
/// its level settings as they are.
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new()
///     .level(log::Level::Warn)
///     .writer(std::io::sink())
///     .build()?;
/// assert_eq!(velo::Level::from(log::Level::Trace), velo::Level::Trace);
/// # Ok::<(), velo::Error>(())
/// ```
impl From<log::Level> for Level {
    fn from(l: log::Level) -> Level {
        level(l)
    }
}

/// As [`Level`]'s conversion; see there.
impl From<log::Level> for LevelFilter {
    fn from(l: log::Level) -> LevelFilter {
        level(l).into()
    }
}

/// `log`'s level filter, `Off` included, as velo's.
///
/// # Examples
///
/// ```
/// let logger = velo::Builder::new()
///     .level(log::LevelFilter::Off)
///     .writer(std::io::sink())
///     .build()?;
/// assert_eq!(velo::LevelFilter::from(log::LevelFilter::Off), velo::LevelFilter::Off);
/// # Ok::<(), velo::Error>(())
/// ```
impl From<log::LevelFilter> for LevelFilter {
    fn from(filter: log::LevelFilter) -> LevelFilter {
        filter
            .to_level()
            .map_or(LevelFilter::Off, LevelFilter::from)
    }
}

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        crate::logger::for_bridge()
            .filter_cell()
            .enabled_for(level(metadata.level()), metadata.target())
    }

    fn log(&self, record: &log::Record<'_>) {
        let logger = crate::logger::for_bridge();
        if !MAX_LEVEL_SET.load(Ordering::Relaxed) {
            // The default logger is made now: the facade's maximum follows
            // its filter from here on.
            MAX_LEVEL_SET.store(true, Ordering::Relaxed);
            callsite::refreshing(|| set_max_level(logger.filter_cell()));
        }
        let level = level(record.level());
        let filter = logger.filter_cell();
        if !filter.enabled_for(level, record.target()) {
            return;
        }
        let stats = &logger.core().stats;
        match filter.match_text(level, stats, || record.args().to_string()) {
            Text::Unfiltered => write(logger, record, level, *record.args()),
            Text::Matches(text) => write(logger, record, level, format_args!("{text}")),
            Text::Fails => {}
        }
    }

    fn flush(&self) {
        let _ = crate::logger::for_bridge().sync();
    }
}

/// Writes `record` through `logger` at `level`, with `message`.
fn write(
    logger: &crate::Logger,
    record: &log::Record<'_>,
    level: Level,
    message: std::fmt::Arguments<'_>,
) {
    let head = Dynamic {
        level,
        message,
        file: record.file().unwrap_or_default(),
        line: record.line().unwrap_or(0),
        module: record.module_path().unwrap_or_default(),
        target: record.target(),
    };
    let mut entry = Entry::dynamic(logger.core(), logger.context(), &head, None);
    let _ = record.key_values().visit(&mut Fields(&mut entry));
    entry.finish();
}

/// Writes each key-value of a record as a typed field.
struct Fields<'e, 'a>(&'e mut Entry<'a>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_, '_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let mut e = self.0.field(key.as_str());
        let _ = value.visit(Typed(&mut e));
        e.fill();
        Ok(())
    }
}

/// Records a `log` value with its type.
struct Typed<'e, 'b>(&'e mut Encoder<'b>);

impl<'v> log::kv::VisitValue<'v> for Typed<'_, '_> {
    fn visit_any(&mut self, value: log::kv::Value<'_>) -> Result<(), log::kv::Error> {
        // An error (`err:err = e`) with its source chain; anything else
        // through its Display.
        match value.to_borrowed_error() {
            Some(err) => self.0.error(err),
            // With the `serde` feature, through `Serialize`: a value
            // captured with `:serde` nests as `velo::Serde` would write it,
            // and one captured with `:%` or `:?` is its text, as below.
            #[cfg(feature = "serde")]
            None => crate::Value::encode(&crate::Serde(&value), self.0),
            #[cfg(not(feature = "serde"))]
            None => self.0.display(&value),
        }
        Ok(())
    }

    fn visit_null(&mut self) -> Result<(), log::kv::Error> {
        self.0.null();
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), log::kv::Error> {
        self.0.u64(value);
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), log::kv::Error> {
        self.0.i64(value);
        Ok(())
    }

    fn visit_u128(&mut self, value: u128) -> Result<(), log::kv::Error> {
        self.0.u128(value);
        Ok(())
    }

    fn visit_i128(&mut self, value: i128) -> Result<(), log::kv::Error> {
        self.0.i128(value);
        Ok(())
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), log::kv::Error> {
        self.0.f64(value);
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), log::kv::Error> {
        self.0.bool(value);
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), log::kv::Error> {
        self.0.str(value);
        Ok(())
    }

    fn visit_borrowed_str(&mut self, value: &'v str) -> Result<(), log::kv::Error> {
        self.0.str(value);
        Ok(())
    }

    fn visit_char(&mut self, value: char) -> Result<(), log::kv::Error> {
        self.0.char(value);
        Ok(())
    }
}

/// Sends records of the `log` facade through the default logger
/// ([`logger`](crate::logger)), filtered by its filter with the record's
/// target as the module path. Key-values become typed fields. Call it after
/// [`Builder::install`](crate::Builder::install) if you install one.
///
/// Available with the cargo feature `log`.
///
/// # Errors
///
/// [`ErrorKind::AlreadyInstalled`] when another `log` logger is set.
///
/// # Examples
///
/// ```
/// velo::bridge_log()?;
/// log::info!(user_id = 7; "hello from the log facade");
/// # Ok::<(), velo::Error>(())
/// ```
pub fn bridge_log() -> Result<(), Error> {
    log::set_logger(&BRIDGE).map_err(|_| {
        // `log` keeps the first logger set for good: velo's own, from an
        // earlier call, or another crate's.
        let ours = std::ptr::addr_eq(log::logger(), &BRIDGE);
        Error::new(
            ErrorKind::AlreadyInstalled,
            if ours {
                "velo's bridge is already the `log` facade's logger (`bridge_log` was called before)"
            } else {
                "another logger is already set for the `log` facade"
            },
        )
    })?;
    callsite::on_filter_change(callsite::Hook::Log, filter_changed);
    match crate::logger::default_if_made() {
        Some(logger) => {
            MAX_LEVEL_SET.store(true, Ordering::Relaxed);
            callsite::refreshing(|| set_max_level(logger.filter_cell()));
        }
        // Not made yet (an `install()` may come): everything reaches the
        // bridge until the first record makes it.
        None => log::set_max_level(log::LevelFilter::Trace),
    }
    Ok(())
}

/// Whether `log::max_level()` follows the default logger's filter yet.
static MAX_LEVEL_SET: AtomicBool = AtomicBool::new(false);

/// Sets the `log` facade's maximum level to the most verbose level the
/// filter passes anywhere, so that a disabled `log::debug!` costs the
/// facade's own check, not a record and a filter lookup. Runs inside
/// `callsite::refreshing`, as a filter change's hook or the first record.
fn set_max_level(cell: &FilterCell) {
    let max = match cell.get().max_level() {
        LevelFilter::Trace => log::LevelFilter::Trace,
        LevelFilter::Debug => log::LevelFilter::Debug,
        LevelFilter::Info => log::LevelFilter::Info,
        LevelFilter::Warn => log::LevelFilter::Warn,
        LevelFilter::Error => log::LevelFilter::Error,
        // `log` has no level above error.
        LevelFilter::Fatal | LevelFilter::Off => log::LevelFilter::Off,
    };
    #[cfg(test)]
    tests::between_read_and_store();
    log::set_max_level(max);
}

/// After a filter change: the default logger's moves the facade's maximum.
fn filter_changed(cell: &FilterCell) {
    if crate::logger::default_if_made().is_some_and(|l| std::ptr::eq(cell, l.filter_cell())) {
        set_max_level(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;
    use std::cell::Cell;
    use std::sync::{Arc, Mutex, OnceLock};
    use std::thread::JoinHandle;
    use std::time::Duration;

    thread_local! {
        /// Run once by this thread's next `set_max_level`, between its
        /// read of the filter and its store.
        static BETWEEN: Cell<Option<fn()>> = const { Cell::new(None) };
    }

    pub(super) fn between_read_and_store() {
        if let Some(f) = BETWEEN.with(Cell::take) {
            f();
        }
    }

    static CELL: OnceLock<Arc<FilterCell>> = OnceLock::new();
    static OTHER: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

    /// A change to `debug` made and stored while a change to `warn` is
    /// between its read and its store: the facade ends at `debug`.
    #[test]
    fn the_later_of_two_racing_filter_changes_sets_the_facades_maximum() {
        let cell = CELL.get_or_init(|| callsite::register_filter(Filter::level(LevelFilter::Warn)));
        BETWEEN.with(|b| {
            b.set(Some(|| {
                let other = std::thread::spawn(|| {
                    let cell = CELL.get().expect("set");
                    // As a change of the default logger's filter does,
                    // through its hook.
                    callsite::set_filter(cell, Filter::level(LevelFilter::Debug));
                    callsite::refreshing(|| set_max_level(cell));
                });
                // Time for the other change to store its maximum, were it
                // not made to wait for this one's.
                std::thread::sleep(Duration::from_millis(100));
                *OTHER.lock().unwrap() = Some(other);
            }));
        });
        callsite::refreshing(|| set_max_level(cell));
        OTHER
            .lock()
            .unwrap()
            .take()
            .expect("spawned")
            .join()
            .unwrap();
        assert_eq!(log::max_level(), log::LevelFilter::Debug);
    }

    #[test]
    fn log_levels_and_filters_convert_to_the_same_names() {
        for l in [
            log::Level::Error,
            log::Level::Warn,
            log::Level::Info,
            log::Level::Debug,
            log::Level::Trace,
        ] {
            let name = l.as_str().to_ascii_lowercase();
            assert_eq!(Level::from(l).as_str(), name);
            assert_eq!(LevelFilter::from(l).as_str(), name);
            assert_eq!(LevelFilter::from(l.to_level_filter()).as_str(), name);
        }
        assert_eq!(LevelFilter::from(log::LevelFilter::Off), LevelFilter::Off);
    }
}
