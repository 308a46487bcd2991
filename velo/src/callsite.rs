//! Call sites and the cached filter decision beside each of them.
//!
//! Every `velo!` call site owns a `static` [`CallSite`]: what the macro knew
//! at compile time ([`Site`]) and an atomic *interest* word, the set of live
//! loggers whose filter accepts the site. Each logger's filter holds one bit
//! of that word (62 slots; more loggers share an overflow bit and check their
//! filter exactly). So a call site no logger wants costs one relaxed load and
//! a comparison with zero, and a site enabled for some other logger costs one
//! more `and` with the logger's bit.
//!
//! The word starts as [`UNKNOWN`]: every bit set, [`STALE`] among them, so
//! the first call passes the zero test, finds `STALE` set, registers the site and computes its interest under the registry lock.
//! Creating or dropping a logger or changing a filter takes the same lock and
//! marks every registered site stale again, so decisions are recomputed
//! lazily and never outlive the filters they came from.

use crate::filter::Filter;
use crate::fork;
use crate::level::Level;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

/// What the macro knows about a call site at compile time, with the static
/// parts of its line pre-escaped for each format.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    /// The call's level.
    pub level: Level,
    /// The message as written (a template's placeholders included).
    pub message: &'static str,
    /// The message, pre-escaped.
    pub msg: Msg,
    /// `module_path!()` of the call.
    pub module_path: &'static str,
    /// `target:`, which replaces the module path for filtering.
    pub target: Option<&'static str>,
    /// The source file of the call.
    pub file: &'static str,
    /// The line of the call.
    pub line: u32,
    /// The file, escaped for JSON (without quotes).
    pub file_json: &'static [u8],
    /// `file:line`, escaped for JSON (without quotes).
    pub caller_json: &'static [u8],
    /// `file:line` as a text-format value (quoted if it must be).
    pub caller_text: &'static [u8],
    /// The call's keys, pre-escaped, in call order.
    pub keys: &'static [Key],
    /// The call's keys as written, in call order.
    pub names: &'static [&'static str],
}

impl Site {
    /// The path filters match: the target, else the module path.
    pub(crate) fn filter_path(&self) -> &'static str {
        self.target.unwrap_or(self.module_path)
    }
}

/// A field key, pre-escaped for each format by the macro.
#[doc(hidden)]
#[derive(Debug)]
pub struct Key {
    /// `,"key":`
    pub json: &'static [u8],
    /// `key`, quoted if needed.
    pub text: &'static [u8],
}

/// A call site's message, pre-escaped for each format.
#[doc(hidden)]
#[derive(Debug)]
pub enum Msg {
    /// A message without placeholders.
    Plain {
        /// Escaped for JSON, without quotes.
        json: &'static [u8],
        /// Escaped for the text format.
        text: &'static [u8],
    },
    /// A template: literal pieces and the fields whose values fill the
    /// placeholders.
    Template(&'static [Piece]),
}

/// One piece of a message template.
#[doc(hidden)]
#[derive(Debug)]
pub enum Piece {
    /// Literal text, pre-escaped like [`Msg::Plain`].
    Lit {
        /// Escaped for JSON, without quotes.
        json: &'static [u8],
        /// Escaped for the text format.
        text: &'static [u8],
    },
    /// The value of the call's field at this index.
    Field(usize),
}

/// A `velo!` call site: what the compiler knows about it, and its cached
/// filter decision. `velo::catalog()` lists them all.
///
/// # Examples
///
/// ```
/// for site in velo::catalog() {
///     println!("{}:{} {} {:?}", site.file(), site.line(), site.message(), site.keys());
/// }
/// ```
#[derive(Debug)]
pub struct CallSite {
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
/// The word of a site not yet seen, or of every site after a filter
/// changed: [`STALE`] and every logger's bit, so the zero test lets the
/// call through to the recomputation.
const UNKNOWN: u64 = u64::MAX;
/// The bit shared by loggers beyond the first [`SLOTS`].
pub(crate) const OVERFLOW: u64 = 1 << 62;
/// Number of loggers with a bit of their own.
const SLOTS: usize = 62;

impl CallSite {
    /// A call site whose interest is not yet known.
    #[doc(hidden)]
    #[must_use]
    pub const fn new(site: Site) -> CallSite {
        CallSite {
            site,
            interest: AtomicU64::new(UNKNOWN),
            registered: AtomicBool::new(false),
        }
    }

    /// The cached interest word: zero when no live logger accepts the site.
    #[doc(hidden)]
    #[inline(always)]
    pub fn interest(&self) -> u64 {
        // Relaxed: a decision that is briefly out of date while a filter
        // changes on another thread is acceptable; nothing is published
        // through this word.
        self.interest.load(Relaxed)
    }

    /// The compile-time description.
    #[doc(hidden)]
    #[inline(always)]
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The call's level.
    #[must_use]
    pub fn level(&self) -> Level {
        self.site.level
    }

    /// The message as written, a template's placeholders included.
    #[must_use]
    pub fn message(&self) -> &'static str {
        self.site.message
    }

    /// The module the call is in (`module_path!()`).
    #[must_use]
    pub fn module_path(&self) -> &'static str {
        self.site.module_path
    }

    /// The `target:` of the call, if it has one.
    #[must_use]
    pub fn target(&self) -> Option<&'static str> {
        self.site.target
    }

    /// The source file of the call.
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.site.file
    }

    /// The line of the call.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.site.line
    }

    /// The call's keys, in call order.
    #[must_use]
    pub fn keys(&self) -> &'static [&'static str] {
        self.site.names
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
        self.enabled_for(site.level, site.filter_path())
    }

    /// Whether the filter accepts `level` from `module_path`.
    pub(crate) fn enabled_for(&self, level: Level, module_path: &str) -> bool {
        fork::short(|| {
            self.filter
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .enabled(level, module_path)
        })
    }

    pub(crate) fn get(&self) -> Filter {
        fork::short(|| {
            self.filter
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
    }
}

struct Registry {
    callsites: Vec<&'static CallSite>,
    slots: [Option<Arc<FilterCell>>; SLOTS],
    overflow: Vec<Arc<FilterCell>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    callsites: Vec::new(),
    slots: [const { None }; SLOTS],
    overflow: Vec::new(),
});

/// The registry, locked as every lock a forked child may need is (see
/// `fork.rs`).
fn registry() -> fork::Locked<'static, Registry> {
    fork::lock(&REGISTRY)
}

impl Registry {
    fn invalidate(&self) {
        for cs in &self.callsites {
            cs.interest.store(UNKNOWN, Relaxed);
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
    fork::short(|| *cell.filter.write().unwrap_or_else(PoisonError::into_inner) = filter);
    registry().invalidate();
    // After every lock is released: the hook recomputes decisions that
    // read this filter.
    if let Some(hook) = FILTER_HOOK.get() {
        hook(cell);
    }
}

/// Run after a filter changes, with its cell: a bridge whose facade caches
/// decisions of its own (the `tracing` bridge's callsite interests) sets it.
static FILTER_HOOK: OnceLock<fn(&FilterCell)> = OnceLock::new();

/// Sets the hook run after every filter change (once; later calls do
/// nothing).
#[cfg(feature = "tracing")]
pub(crate) fn on_filter_change(hook: fn(&FilterCell)) {
    let _ = FILTER_HOOK.set(hook);
}

/// Registers `cs` if needed and computes its interest word.
#[cold]
#[inline(never)]
pub(crate) fn recompute(cs: &'static CallSite) -> u64 {
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

/// A call site of velo's own (a drop report, a panic), whose message, keys
/// and file need no escaping; `callsite::tests` checks that they do not.
/// It has no caller: its line would name velo, not the program.
macro_rules! internal_site {
    ($level:ident, $msg:literal, [$($key:literal),*]) => {
        $crate::callsite::CallSite::new($crate::callsite::Site {
            level: $crate::level::Level::$level,
            message: $msg,
            msg: $crate::callsite::Msg::Plain {
                json: $msg.as_bytes(),
                text: $msg.as_bytes(),
            },
            module_path: module_path!(),
            target: None,
            file: "",
            line: 0,
            file_json: b"",
            caller_json: b"",
            caller_text: b"",
            keys: &[$($crate::callsite::Key {
                json: concat!(",\"", $key, "\":").as_bytes(),
                text: $key.as_bytes(),
            }),*],
            names: &[$($key),*],
        })
    };
}
pub(crate) use internal_site;
