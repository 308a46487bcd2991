//! Call sites and the cached filter decision beside each of them.
//!
//! Every `velo!` call site owns a `static` [`Callsite`]: what the macro knew
//! at compile time ([`Site`]) and an atomic *interest* word, the set of live
//! loggers whose filter accepts the site. Each logger's filter holds one bit
//! of that word (62 slots; more loggers share an overflow bit and check their
//! filter exactly). So a call site no logger wants costs one relaxed load and
//! a comparison with zero, and a site enabled for some other logger costs one
//! more `and` with the logger's bit.
//!
//! The word starts as [`STALE`] (all bits set). The first call finds the bit
//! set, registers the site and computes its interest under the registry lock.
//! Creating or dropping a logger or changing a filter takes the same lock and
//! marks every registered site stale again, so decisions are recomputed
//! lazily and never outlive the filters they came from.

use crate::filter::Filter;
use crate::level::Level;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

/// What the macro knows about a call site at compile time, with the static
/// parts of its line pre-escaped for each format.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    /// The call's level.
    pub level: Level,
    /// `module_path!()` of the call.
    pub module_path: &'static str,
    /// The source file of the call.
    pub file: &'static str,
    /// The line of the call.
    pub line: u32,
    /// `"level":"info","msg":"..."`.
    pub json_head: &'static [u8],
    /// The message, escaped for the text format.
    pub text_msg: &'static [u8],
    /// `,"caller":"file:line"`.
    pub json_caller: &'static [u8],
    /// ` caller=file:line`.
    pub text_caller: &'static [u8],
}

/// A call site's static description and cached filter decision.
#[doc(hidden)]
#[derive(Debug)]
pub struct Callsite {
    site: Site,
    /// Bit `i` (for `i < 62`) is set when the logger filter in slot `i`
    /// accepts this site; [`OVERFLOW`] when some logger without a slot might;
    /// [`STALE`] when the word must be recomputed.
    interest: AtomicU64,
    /// Whether the site is in the registry's list, so it is marked stale on
    /// every filter change.
    registered: AtomicBool,
}

/// Set in an interest word that must be recomputed.
pub(crate) const STALE: u64 = 1 << 63;
/// The bit shared by loggers beyond the first [`SLOTS`].
pub(crate) const OVERFLOW: u64 = 1 << 62;
/// Number of loggers with a bit of their own.
const SLOTS: usize = 62;

impl Callsite {
    /// A call site whose interest is not yet known.
    #[must_use]
    pub const fn new(site: Site) -> Callsite {
        Callsite {
            site,
            interest: AtomicU64::new(u64::MAX),
            registered: AtomicBool::new(false),
        }
    }

    /// The cached interest word: zero when no live logger accepts the site.
    #[inline(always)]
    pub fn interest(&self) -> u64 {
        // Relaxed: a decision that is briefly out of date while a filter
        // changes on another thread is acceptable; nothing is published
        // through this word.
        self.interest.load(Relaxed)
    }

    /// The compile-time description.
    #[inline(always)]
    pub fn site(&self) -> &Site {
        &self.site
    }
}

/// A logger's filter and its bit in every interest word.
#[derive(Debug)]
pub(crate) struct FilterCell {
    filter: RwLock<Filter>,
    /// One slot bit, or [`OVERFLOW`].
    pub(crate) mask: u64,
}

impl FilterCell {
    /// Whether the filter accepts `site`, checked exactly.
    pub(crate) fn enabled(&self, site: &Site) -> bool {
        self.filter
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .enabled(site.level, site.module_path)
    }

    /// Whether the filter accepts `level` from `module_path`.
    #[cfg_attr(
        not(feature = "log"),
        allow(dead_code, reason = "used by the log bridge")
    )]
    pub(crate) fn enabled_for(&self, level: Level, module_path: &str) -> bool {
        self.filter
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .enabled(level, module_path)
    }

    pub(crate) fn get(&self) -> Filter {
        self.filter
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

struct Registry {
    callsites: Vec<&'static Callsite>,
    slots: [Option<Arc<FilterCell>>; SLOTS],
    overflow: Vec<Arc<FilterCell>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    callsites: Vec::new(),
    slots: [const { None }; SLOTS],
    overflow: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    fn invalidate(&self) {
        for cs in &self.callsites {
            cs.interest.store(u64::MAX, Relaxed);
        }
    }
}

/// Registers a new logger filter, giving it a slot bit when one is free.
pub(crate) fn register_filter(filter: Filter) -> Arc<FilterCell> {
    let mut reg = registry();
    let free = reg.slots.iter().position(Option::is_none);
    let cell = Arc::new(FilterCell {
        filter: RwLock::new(filter),
        mask: free.map_or(OVERFLOW, |i| 1 << i),
    });
    match free {
        Some(i) => reg.slots[i] = Some(Arc::clone(&cell)),
        None => reg.overflow.push(Arc::clone(&cell)),
    }
    reg.invalidate();
    cell
}

/// Removes a logger's filter when its last handle goes.
pub(crate) fn unregister_filter(cell: &Arc<FilterCell>) {
    let mut reg = registry();
    if cell.mask == OVERFLOW {
        reg.overflow.retain(|c| !Arc::ptr_eq(c, cell));
    } else {
        let i = cell.mask.trailing_zeros() as usize;
        reg.slots[i] = None;
    }
    reg.invalidate();
}

/// Replaces a filter and invalidates every cached decision.
pub(crate) fn set_filter(cell: &FilterCell, filter: Filter) {
    *cell.filter.write().unwrap_or_else(PoisonError::into_inner) = filter;
    registry().invalidate();
}

/// Registers `cs` if needed and computes its interest word.
#[cold]
#[inline(never)]
pub(crate) fn recompute(cs: &'static Callsite) -> u64 {
    let mut reg = registry();
    if !cs.registered.swap(true, Relaxed) {
        reg.callsites.push(cs);
    }
    let mut interest = 0;
    for cell in reg.slots.iter().flatten() {
        if cell.enabled(&cs.site) {
            interest |= cell.mask;
        }
    }
    if reg.overflow.iter().any(|cell| cell.enabled(&cs.site)) {
        interest |= OVERFLOW;
    }
    cs.interest.store(interest, Relaxed);
    interest
}
