//! Items used by the code that `velo!` and `fields!` generate.
//!
//! Not public API: nothing here is covered by semver, and it may change in
//! any release. The macros bind this module to `__velo` and name nothing
//! else, so a renamed `velo` dependency and a user crate named `core` both
//! still work.

pub use crate::callsite::{Callsite, Site};
pub use crate::entry::{Entry, FieldsBuilder, Key};
pub use crate::level::Level;
pub use crate::logger::{logger, Logger};
pub use core::{concat, line, module_path};
pub use velo_macros::{fields_impl, velo_impl};

/// Borrows a logger given as `logger: EXPR`: a `Logger`, a reference, an
/// `Arc<Logger>`, ...
#[inline(always)]
pub fn as_logger<L: core::borrow::Borrow<Logger> + ?Sized>(logger: &L) -> &Logger {
    logger.borrow()
}

/// After a `fatal` entry: flush every logger and exit with status 1.
#[cold]
pub fn fatal_exit() -> ! {
    crate::close();
    std::process::exit(1)
}
