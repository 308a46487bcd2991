//! Records from the `log` facade, written by the default logger (cargo
//! feature `log`).
//!
//! A bridged record has no call site the macro prepared, so its level,
//! message and caller are encoded at run time; filtering uses the default
//! logger's filter with the record's target as the module path.

use crate::entry::{Entry, Key};
use crate::error::{Error, ErrorKind};
use crate::level::Level;

struct Bridge;

static BRIDGE: Bridge = Bridge;

const TARGET: Key = Key::new(b",\"target\":", b"target");

fn level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        crate::logger()
            .filter_cell()
            .enabled_for(level(metadata.level()), metadata.target())
    }

    fn log(&self, record: &log::Record<'_>) {
        let logger = crate::logger();
        let level = level(record.level());
        if !logger.filter_cell().enabled_for(level, record.target()) {
            return;
        }
        let caller = record.file().zip(record.line());
        let mut entry = Entry::start_dynamic(
            logger.core(),
            logger.context(),
            level,
            *record.args(),
            caller,
        );
        if record.module_path() != Some(record.target()) {
            entry.value(&TARGET, record.target());
        }
        entry.finish_dynamic(caller);
    }

    fn flush(&self) {
        let _ = crate::logger().sync();
    }
}

/// Sends records of the `log` facade through the default logger
/// ([`logger`](crate::logger)), filtered by its filter with the record's
/// target as the module path. Call it after [`Builder::install`](crate::Builder::install)
/// if you install one.
///
/// # Errors
///
/// [`ErrorKind::AlreadyInstalled`] when another `log` logger is set.
///
/// # Examples
///
/// ```
/// velo::bridge_log()?;
/// log::info!("from the log facade");
/// # Ok::<(), velo::Error>(())
/// ```
pub fn bridge_log() -> Result<(), Error> {
    log::set_logger(&BRIDGE).map_err(|_| {
        Error::new(
            ErrorKind::AlreadyInstalled,
            "another logger is already set for the `log` facade",
        )
    })?;
    log::set_max_level(log::LevelFilter::Trace);
    Ok(())
}
