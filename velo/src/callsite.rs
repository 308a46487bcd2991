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
#[cfg(any(feature = "log", feature = "tracing"))]
use crate::stats::{Counters, Reason};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

/// What the macro knows about a call site at compile time, with the static
/// parts of its line pre-escaped for each format.
///
/// Every string of the site lives in one `strs` (the macro stores a string
/// that another one contains only once, so a key's text form is found
/// inside its JSON form, and a message that needs no escaping is there
/// once for all three of its forms), and `parts` says where each part is:
/// a descriptor of two references and a few integers, where one reference
/// per string would cost the program a relocation each (24 bytes in a
/// position-independent executable) and 16 bytes of data.
///
/// `parts[i]` is the `[start, end)` of part `i` in `strs`, in this order:
/// [`MESSAGE`](part::MESSAGE), [`TARGET`](part::TARGET) (`[NONE, _]`
/// without one), [`MODULE`](part::MODULE) (`[start, NONE]`: the module path
/// ends `strs`, which `concat!` completes with `module_path!()`); then each
/// key's JSON form (`,"key":`) and text form; then the message: its JSON and
/// text forms, or, for a template of `pieces` pieces, per piece its two
/// forms (a literal) or `[NONE, i]` twice (the value of field `i`).
/// velo-macros' `expand.rs` writes this layout; the two are kept in step by
/// every test that logs. [`Site::new`] checks it, at compile time.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    /// The call's level.
    pub(crate) level: Level,
    /// The line of the call (`line!()`).
    pub(crate) line: u32,
    /// The source file of the call (`file!()`: both name the outermost
    /// macro call, the user's own when a macro of theirs wraps `velo!`).
    file: &'static str,
    /// The number of pieces of a template message; 0 for a plain one.
    pieces: u16,
    /// The site's strings, the module path last.
    strs: &'static str,
    /// Where each part is in `strs`; see above.
    parts: &'static [[u16; 2]],
    /// The call's keys as written, in call order.
    pub(crate) names: &'static [&'static str],
    /// A `velo::enabled!` query's site, which logs nothing: it has no
    /// message for a filter's text to match.
    query: bool,
}

/// The indices of a site's fixed parts, and the marker of a missing bound;
/// see [`Site`].
#[doc(hidden)]
pub mod part {
    /// The message as written.
    pub const MESSAGE: usize = 0;
    /// `target:`.
    pub const TARGET: usize = 1;
    /// `module_path!()`.
    pub const MODULE: usize = 2;
    /// The first key's JSON form.
    pub const KEYS: usize = 3;
    /// A bound that is not an offset.
    pub const NONE: u16 = u16::MAX;
}

impl Site {
    /// A site of `pieces` template pieces (0: a plain message), its strings
    /// and their parts, laid out as the type's docs say.
    ///
    /// # Panics
    ///
    /// When the parts do not fit that layout: fewer parts than the keys and
    /// pieces need, or a part that is not a range of `strs` on character
    /// boundaries. The macro calls this in a `static`'s initializer, so a
    /// layout the runtime would misread is a compile error, and reading a
    /// part needs no check at run time.
    #[must_use]
    pub const fn new(
        level: Level,
        line: u32,
        file: &'static str,
        pieces: u16,
        strs: &'static str,
        parts: &'static [[u16; 2]],
        names: &'static [&'static str],
    ) -> Site {
        let msg = part::KEYS + 2 * names.len();
        let end = msg + if pieces == 0 { 2 } else { 2 * pieces as usize };
        assert!(parts.len() >= end, "velo: a call site has too few parts");
        let bytes = strs.as_bytes();
        let mut i = 0;
        while i < end {
            let [start, stop] = parts[i];
            let ok = if i == part::TARGET && start == part::NONE {
                true
            } else if i == part::MODULE {
                stop == part::NONE && boundary(bytes, start as usize)
            } else if i >= msg && pieces != 0 && start == part::NONE {
                // A placeholder: both forms say so.
                let partner = if (i - msg).is_multiple_of(2) {
                    i + 1
                } else {
                    i - 1
                };
                parts[partner][0] == part::NONE
            } else {
                start <= stop && boundary(bytes, start as usize) && boundary(bytes, stop as usize)
            };
            assert!(ok, "velo: a call site's part is not a range of its strings");
            i += 1;
        }
        Site {
            level,
            line,
            file: tidy(file),
            pieces,
            strs,
            parts,
            names,
            query: false,
        }
    }

    /// This site as a `velo::enabled!` query's, which logs nothing: the
    /// filter decides it by level and module path or target, as no message
    /// of its own is there for a filter's text to match.
    #[doc(hidden)]
    #[must_use]
    pub const fn query(mut self) -> Site {
        self.query = true;
        self
    }

    /// The message a filter's text matches: none for a query's site.
    pub(crate) fn filter_message(&self) -> Option<&'static str> {
        (!self.query).then(|| self.message())
    }

    /// Part `i`'s bounds.
    #[inline(always)]
    fn bounds(&self, i: usize) -> [u16; 2] {
        debug_assert!(i < part::KEYS + 2 * self.names.len() + 2 * usize::from(self.pieces.max(1)));
        // SAFETY: every `i` passed here is below the number of parts
        // `Site::new` checked the slice has.
        unsafe { *self.parts.get_unchecked(i) }
    }

    /// The bytes of `strs` within `bounds`, a part `Site::new` checked.
    #[inline(always)]
    fn range(&self, [start, end]: [u16; 2]) -> &'static [u8] {
        let strs: &'static [u8] = self.strs.as_bytes();
        // SAFETY: `Site::new` checked that every part read through here
        // (not a missing target, the module path or a placeholder, which
        // the callers tell apart first) is a range of `strs`.
        unsafe { strs.get_unchecked(usize::from(start)..usize::from(end)) }
    }

    /// Part `i` of the site's strings.
    #[inline]
    fn part(&self, i: usize) -> &'static str {
        let bytes = self.range(self.bounds(i));
        // SAFETY: `Site::new` checked that the part starts and ends on
        // character boundaries of a `str`.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Part `i` as bytes, for the formats' pre-escaped forms.
    #[inline]
    fn bytes(&self, i: usize) -> &'static [u8] {
        self.range(self.bounds(i))
    }

    /// Whether the message is a template.
    #[inline]
    pub(crate) fn is_template(&self) -> bool {
        self.pieces != 0
    }

    /// The message as written (a template's placeholders included).
    #[inline]
    pub(crate) fn message(&self) -> &'static str {
        self.part(part::MESSAGE)
    }

    /// The source file of the call; empty for velo's own entries. Leading
    /// `dir/..` pairs are left out (by `Site::new`, at compile time):
    /// `file!()` names a file outside its package
    /// (`velo/../examples/quickstart.rs`) that way.
    #[inline]
    pub(crate) fn file(&self) -> &'static str {
        self.file
    }

    /// Whether this is one of velo's own sites (see `internal_site!`),
    /// which have no file: every `velo!` call has one.
    #[inline]
    pub(crate) fn is_velos(&self) -> bool {
        self.file.is_empty()
    }

    /// `target:`, which replaces the module path for filtering.
    #[inline]
    pub(crate) fn target(&self) -> Option<&'static str> {
        match self.bounds(part::TARGET) {
            [part::NONE, _] => None,
            _ => Some(self.part(part::TARGET)),
        }
    }

    /// `module_path!()` of the call.
    #[inline]
    pub(crate) fn module_path(&self) -> &'static str {
        let strs: &'static str = self.strs;
        let start = usize::from(self.bounds(part::MODULE)[0]);
        // SAFETY: `Site::new` checked that the module path starts on a
        // character boundary of `strs`.
        unsafe { strs.get_unchecked(start..) }
    }

    /// The path filters match: the target, else the module path.
    pub(crate) fn filter_path(&self) -> &'static str {
        self.target().unwrap_or_else(|| self.module_path())
    }

    /// The call's keys, pre-escaped, in call order.
    #[inline]
    pub(crate) fn keys(&'static self) -> impl ExactSizeIterator<Item = Key> {
        (0..self.names.len()).map(move |k| Key {
            site: self,
            at: part::KEYS + 2 * k,
        })
    }

    /// The message, pre-escaped.
    #[inline]
    pub(crate) fn msg(&'static self) -> Msg {
        let at = part::KEYS + 2 * self.names.len();
        if self.pieces == 0 {
            Msg::Plain {
                json: self.bytes(at),
                text: self.bytes(at + 1),
            }
        } else {
            Msg::Template(Pieces {
                site: self,
                at,
                end: at + 2 * usize::from(self.pieces),
            })
        }
    }
}

/// `path` without its leading `dir/..` pairs (and `./`s): a suffix of it,
/// so that a `'static` path stays `'static`. A `const fn`: [`Site::new`]
/// runs it at compile time; the bridges, on the paths of the records they
/// take, so that a caller reads the same as a `velo!` site's.
pub(crate) const fn tidy(path: &str) -> &str {
    let bytes = path.as_bytes();
    let mut at = 0;
    loop {
        let rest = bytes.split_at(at).1;
        if rest.len() >= 2 && rest[0] == b'.' && rest[1] == b'/' {
            at += 2;
            continue;
        }
        // The first segment, then `/../`.
        let mut slash = 0;
        while slash < rest.len() && rest[slash] != b'/' {
            slash += 1;
        }
        let dots =
            slash == 1 && rest[0] == b'.' || slash == 2 && rest[0] == b'.' && rest[1] == b'.';
        let up = slash + 3 < rest.len()
            && rest[slash + 1] == b'.'
            && rest[slash + 2] == b'.'
            && rest[slash + 3] == b'/';
        if slash == 0 || dots || !up {
            break;
        }
        at += slash + 4;
    }
    // At a `/` boundary, so at a character boundary.
    match std::str::from_utf8(bytes.split_at(at).1) {
        Ok(tidy) => tidy,
        Err(_) => path,
    }
}

/// Whether `i` is a character boundary of the UTF-8 `bytes`.
const fn boundary(bytes: &[u8], i: usize) -> bool {
    i == bytes.len() || (i < bytes.len() && (bytes[i] as i8) >= -0x40)
}

/// A field key, pre-escaped for each format by the macro: where its two
/// forms are in its site's strings (each found when asked for: a line needs
/// one of them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key {
    site: &'static Site,
    at: usize,
}

impl Key {
    /// `,"key":`
    #[inline(always)]
    pub(crate) fn json(&self) -> &'static [u8] {
        self.site.bytes(self.at)
    }

    /// `key`, quoted if needed.
    #[inline(always)]
    pub(crate) fn text(&self) -> &'static [u8] {
        self.site.bytes(self.at + 1)
    }

    /// [`Key::json`] as the first bytes of the [`PADDED`] bytes of the
    /// site's strings that start with it, and its length: for a copy of
    /// constant size (see `timestamp::put_padded`). `None` for a key
    /// longer than that or too near the strings' end.
    #[inline(always)]
    pub(crate) fn json_padded(&self) -> Option<(&'static [u8; PADDED], usize)> {
        let [start, end] = self.site.bounds(self.at);
        let (start, len) = (usize::from(start), usize::from(end - start));
        let padded = self.site.strs.as_bytes().get(start..)?.first_chunk()?;
        (len <= PADDED).then_some((padded, len))
    }
}

/// The bytes [`Key::json_padded`] copies.
pub(crate) const PADDED: usize = 16;

/// A call site's message, pre-escaped for each format.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Msg {
    /// A message without placeholders.
    Plain {
        /// Escaped for JSON, without quotes.
        json: &'static [u8],
        /// Escaped for the text format.
        text: &'static [u8],
    },
    /// A template: literal pieces and the fields whose values fill the
    /// placeholders.
    Template(Pieces),
}

/// The pieces of a template message, in order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pieces {
    site: &'static Site,
    at: usize,
    end: usize,
}

impl Iterator for Pieces {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        if self.at >= self.end {
            return None;
        }
        let i = self.at;
        self.at += 2;
        Some(match self.site.bounds(i) {
            [part::NONE, field] => Piece::Field(usize::from(field)),
            _ => Piece::Lit {
                json: self.site.bytes(i),
                text: self.site.bytes(i + 1),
            },
        })
    }
}

/// One piece of a message template.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Piece {
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
    ///
    /// # Examples
    ///
    /// ```
    /// fn on_timeout() {
    ///     velo::velo!(warn, "request timed out");
    /// }
    ///
    /// let site = velo::catalog().find(|s| s.message() == "request timed out").unwrap();
    /// assert_eq!(site.level(), velo::Level::Warn);
    /// ```
    #[must_use]
    pub fn level(&self) -> Level {
        self.site.level
    }

    /// The message as written, a template's placeholders included.
    ///
    /// # Examples
    ///
    /// ```
    /// fn greet(user: &str) {
    ///     velo::velo!(info, "hello {user}");
    /// }
    ///
    /// let site = velo::catalog().find(|s| s.message().starts_with("hello")).unwrap();
    /// assert_eq!(site.message(), "hello {user}");
    /// ```
    #[must_use]
    pub fn message(&self) -> &'static str {
        self.site.message()
    }

    /// The module the call is in (`module_path!()`).
    ///
    /// # Examples
    ///
    /// ```
    /// mod billing {
    ///     pub fn charge() {
    ///         velo::velo!(info, "card charged");
    ///     }
    /// }
    ///
    /// let site = velo::catalog().find(|s| s.message() == "card charged").unwrap();
    /// assert!(site.module_path().ends_with("::billing"));
    /// ```
    #[must_use]
    pub fn module_path(&self) -> &'static str {
        self.site.module_path()
    }

    /// The `target:` of the call, if it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// fn login(user: &str) {
    ///     velo::velo!(target: "audit", info, "login", user);
    ///     velo::velo!(info, "session started", user);
    /// }
    ///
    /// let audit = velo::catalog().find(|s| s.message() == "login").unwrap();
    /// assert_eq!(audit.target(), Some("audit"));
    /// let plain = velo::catalog().find(|s| s.message() == "session started").unwrap();
    /// assert_eq!(plain.target(), None);
    /// ```
    #[must_use]
    pub fn target(&self) -> Option<&'static str> {
        self.site.target()
    }

    /// The source file of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// fn start() {
    ///     velo::velo!(info, "started");
    /// }
    ///
    /// let site = velo::catalog().find(|s| s.message() == "started").unwrap();
    /// assert_eq!(site.file(), file!());
    /// ```
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.site.file()
    }

    /// The line of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// fn start() {
    ///     velo::velo!(info, "started");
    /// }
    ///
    /// let site = velo::catalog().find(|s| s.message() == "started").unwrap();
    /// assert_eq!(site.line(), line!() - 4);
    /// ```
    #[must_use]
    pub fn line(&self) -> u32 {
        self.site.line
    }

    /// The call's keys, in call order.
    ///
    /// # Examples
    ///
    /// ```
    /// fn place(order_id: u64) {
    ///     velo::velo!(info, "order {order_id} placed", http.status = 201, total = 9.5);
    /// }
    ///
    /// let site = velo::catalog().find(|s| s.message().starts_with("order")).unwrap();
    /// // A template's captured variables come after the call's own keys.
    /// assert_eq!(site.keys(), ["http.status", "total", "order_id"]);
    /// ```
    #[must_use]
    pub fn keys(&self) -> &'static [&'static str] {
        self.site.names
    }
}

/// What a filter's message text says of a bridged record (see
/// [`FilterCell::match_text`]).
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) enum Text {
    /// The filter has no text (or the record is `fatal`): written.
    Unfiltered,
    /// The message, formatted, holds the text: written with it.
    Matches(String),
    /// It does not: not written.
    Fails,
}

/// A logger's filter and its bit in every interest word.
#[derive(Debug)]
pub(crate) struct FilterCell {
    filter: RwLock<Filter>,
    /// One slot bit, or [`OVERFLOW`].
    pub(crate) mask: u64,
}

impl FilterCell {
    /// Whether the filter accepts `site`, checked exactly: its level and
    /// module path or target, and its message as written.
    pub(crate) fn enabled(&self, site: &Site) -> bool {
        fork::short(|| {
            self.filter
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .passes(site.level, site.filter_path(), site.filter_message())
        })
    }

    /// For a bridged record at `level` whose message `format` makes: what
    /// the filter's message text (`/text`, see [`Filter::message_matches`])
    /// says. `format` runs only when the filter has such a text, outside
    /// the filter's lock (it may log), and the record is then written with
    /// the text it made, so that the message is formatted once (a
    /// `Display` that panics panics once: the record is counted in
    /// `stats` as dropped for a value that panicked, and the panic goes on
    /// out, as it does from a record formatted without a text to match).
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn match_text(
        &self,
        level: Level,
        stats: &Counters,
        format: impl FnOnce() -> String,
    ) -> Text {
        let read = |check: &dyn Fn(&Filter) -> bool| {
            fork::short(|| check(&self.filter.read().unwrap_or_else(PoisonError::into_inner)))
        };
        if level == Level::Fatal || read(&|f| f.message().is_none()) {
            return Text::Unfiltered;
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(format)) {
            Ok(text) if read(&|f| f.message_matches(&text)) => Text::Matches(text),
            Ok(_) => Text::Fails,
            Err(payload) => {
                stats.drop_for(Reason::Panicked);
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// Whether the filter accepts `level` from `module_path`.
    #[cfg(any(feature = "log", feature = "tracing"))]
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
    // After every other lock is released: the hooks recompute decisions
    // that read this filter.
    run_filter_hooks(cell);
}

/// Runs the bridges' hooks for `cell`: after a change to it, or once it
/// is the default logger's (an `install()` after `bridge_log()`).
pub(crate) fn run_filter_hooks(cell: &FilterCell) {
    refreshing(|| {
        for hook in FILTER_HOOKS.iter().filter_map(OnceLock::get) {
            hook(cell);
        }
    });
}

/// Runs `f`, which reads a filter and stores what a facade caches from it
/// (the bridges' hooks, the `log` facade's first record), one at a time.
/// A facade's cache is filled after the filter is read, so of two changes
/// racing, the earlier one's could otherwise store last and leave the
/// older filter's decisions in place (the facade dropping what the filter
/// passes) until the next change. Each change refreshes after its own
/// write, so the last refresh reads the filter as it stays.
pub(crate) fn refreshing<R>(f: impl FnOnce() -> R) -> R {
    static REFRESHING: Mutex<()> = Mutex::new(());
    let _one = fork::lock(&REFRESHING);
    f()
}

/// Run after a filter changes, with its cell: the bridges whose facades
/// cache decisions of their own (the `tracing` bridge's callsite
/// interests, the `log` facade's maximum level) set one each, in their
/// slot ([`Hook`]).
static FILTER_HOOKS: [OnceLock<fn(&FilterCell)>; 2] = [OnceLock::new(), OnceLock::new()];

/// A bridge's slot in [`FILTER_HOOKS`].
#[cfg(any(feature = "log", feature = "tracing"))]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hook {
    #[cfg(feature = "tracing")]
    Tracing = 0,
    #[cfg(feature = "log")]
    Log = 1,
}

/// Sets a bridge's hook, run after every filter change (once; later calls
/// do nothing).
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn on_filter_change(slot: Hook, hook: fn(&FilterCell)) {
    let _ = FILTER_HOOKS[slot as usize].set(hook);
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
/// and file need no escaping (`tests::internal_sites_need_no_escaping`
/// checks that they do not). It has no caller: its line would name velo,
/// not the program.
macro_rules! internal_site {
    ($level:ident, $msg:literal, [$($key:literal),*]) => {{
        const NAMES: &[&str] = &[$($key),*];
        const PARTS: &[[u16; 2]] = &$crate::callsite::internal_parts($msg, NAMES);
        $crate::callsite::CallSite::new($crate::callsite::Site::new(
            $crate::level::Level::$level,
            0,
            "",
            0,
            concat!($msg, $(",\"", $key, "\":",)* module_path!()),
            PARTS.split_at($crate::callsite::part::KEYS + 2 * NAMES.len() + 2).0,
            NAMES,
        ))
    }};
}
pub(crate) use internal_site;

/// The most keys an [`internal_site!`] may have.
const INTERNAL_KEYS: usize = 4;

/// The parts of an [`internal_site!`] (room for [`INTERNAL_KEYS`] keys;
/// the site takes the ones it uses): its `strs` is the message, each key
/// as `,"key":`, then the module path.
pub(crate) const fn internal_parts(
    msg: &str,
    names: &[&str],
) -> [[u16; 2]; part::KEYS + 2 * INTERNAL_KEYS + 2] {
    assert!(names.len() <= INTERNAL_KEYS);
    let mut parts = [[0; 2]; part::KEYS + 2 * INTERNAL_KEYS + 2];
    let len = msg.len() as u16;
    parts[part::MESSAGE] = [0, len];
    parts[part::TARGET] = [part::NONE, 0];
    let mut at = len;
    let mut k = 0;
    while k < names.len() {
        let n = names[k].len() as u16;
        parts[part::KEYS + 2 * k] = [at, at + n + 4];
        parts[part::KEYS + 2 * k + 1] = [at + 2, at + 2 + n];
        at += n + 4;
        k += 1;
    }
    parts[part::MODULE] = [at, part::NONE];
    parts[part::KEYS + 2 * k] = [0, len];
    parts[part::KEYS + 2 * k + 1] = [0, len];
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    static SITE: CallSite = internal_site!(Warn, "a message", ["first", "second_key"]);

    #[test]
    fn internal_sites_read_back_their_parts() {
        let site = SITE.site();
        assert_eq!(site.message(), "a message");
        assert_eq!(site.file(), "");
        assert_eq!(site.target(), None);
        assert_eq!(site.module_path(), module_path!());
        let keys: Vec<(&[u8], &[u8])> = site.keys().map(|k| (k.json(), k.text())).collect();
        assert_eq!(
            keys,
            [
                (&b",\"first\":"[..], &b"first"[..]),
                (b",\"second_key\":", b"second_key")
            ]
        );
        assert!(matches!(
            site.msg(),
            Msg::Plain {
                json: b"a message",
                text: b"a message"
            }
        ));
        assert_eq!(SITE.keys(), ["first", "second_key"]);
    }

    #[test]
    fn a_layout_the_runtime_would_misread_is_refused() {
        const N: [u16; 2] = [part::NONE, 0];
        let make = |parts: [[u16; 2]; 7], n: usize, pieces: u16| {
            let parts: &'static [[u16; 2]] = Box::leak(Box::new(parts));
            std::panic::catch_unwind(|| {
                let _ = Site::new(
                    Level::Info,
                    1,
                    "f.rs",
                    pieces,
                    "ab\u{e9}m",
                    &parts[..n],
                    &["k"],
                );
            })
            .is_ok()
        };
        // message, no target, module, key JSON and text, message JSON and
        // text.
        let good: [[u16; 2]; 7] = [[0, 1], N, [4, part::NONE], [0, 2], [1, 2], [0, 1], [0, 1]];
        assert!(make(good, 7, 0));
        // Too few parts for the key and the message.
        assert!(!make(good, 6, 0));
        // Past the end, inside a character, backwards, a module path that
        // starts inside a character.
        for (i, bad) in [(3, [0, 9]), (4, [1, 3]), (5, [2, 1]), (2, [3, part::NONE])] {
            let mut parts = good;
            parts[i] = bad;
            assert!(!make(parts, 7, 0), "{bad:?} at {i}");
        }
        // A placeholder where a key belongs, or with one form a literal.
        let mut parts = good;
        parts[3] = N;
        assert!(!make(parts, 7, 0));
        let mut parts = good;
        parts[5] = N;
        assert!(!make(parts, 7, 1));
        parts[6] = N;
        assert!(make(parts, 7, 1));
    }

    #[test]
    fn file_paths_lose_leading_dir_dot_dot_pairs() {
        for (path, tidy_path) in [
            ("src/main.rs", "src/main.rs"),
            ("velo/../examples/quickstart.rs", "examples/quickstart.rs"),
            ("./a/../b/../c.rs", "c.rs"),
            ("../up.rs", "../up.rs"),
            ("a/b/../c.rs", "a/b/../c.rs"),
            ("", ""),
        ] {
            assert_eq!(tidy(path), tidy_path, "{path}");
        }
    }

    #[test]
    fn internal_sites_need_no_escaping() {
        for cs in [
            &crate::panic::PANIC,
            &crate::sink::DROPPED,
            &crate::sink::LOST,
            &crate::sink::INSIDE,
            &crate::sink::AT_EXIT,
            &SITE,
        ] {
            let site = cs.site();
            let plain = |s: &str| {
                s.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ')
            };
            assert!(plain(site.message()), "{}", site.message());
            for name in cs.keys() {
                assert!(plain(name) && !name.contains(' '), "{name}");
            }
        }
    }
}
