//! The line of an entry, in JSON or text: what every entry starts and ends
//! with, for call sites, bridged records and velo's own entries alike.
//!
//! JSON (the key names depend on the [`Schema`]):
//!
//! ```text
//! {"time":"...","level":"info","msg":"...","caller":"file:line","target":"..","thread":"..",CONTEXT,SCOPE,CALL,"suppressed":N,"backtrace":".."}
//! ```
//!
//! Text: `TIME LEVEL message target=.. thread=.. k=v ... suppressed=N backtrace=.. caller=file:line`.
//!
//! The static parts of a call site's line (its message, keys and caller)
//! were escaped by the macro; everything else is escaped here.
//!
//! A key appears once per line. The fields give each key once (the
//! innermost layer wins); a field whose key is one velo writes itself in
//! this line (the schema's names, or `target`, `suppressed` and `backtrace`
//! when the entry has them) is written as `fields.KEY` instead, as logrus
//! does, so neither value is lost and no consumer sees a key twice. The
//! macro already rejects velo's own names (`time`, `level`, `msg`,
//! `caller`) in calls and in `fields!`, so under the default schema only
//! the optional keys and the fields of bridged records need the check.

use crate::buffer::Shrink;
use crate::callsite::{Key, Msg, Piece, Pieces, Site};
use crate::escape;
use crate::event::{Event, Head, Layer, ScopeIndex};
use crate::number;
use crate::options::{Schema, Style};
use crate::record::{self, tag, Reader, Val};
use crate::timestamp::{self, Clockface, Timestamp};

/// ANSI colours used on terminals.
mod color {
    /// Resets every attribute.
    pub(super) const RESET: &[u8] = b"\x1b[0m";
    /// Dim, for the time and keys.
    pub(super) const DIM: &[u8] = b"\x1b[2m";
    /// Per level, least severe first.
    pub(super) const LEVELS: [&[u8]; 6] = [
        b"\x1b[35m",
        b"\x1b[34m",
        b"\x1b[32m",
        b"\x1b[33m",
        b"\x1b[31m",
        b"\x1b[1;31m",
    ];
}

/// Level labels of the text format, padded to one width.
const TEXT_LEVELS: [&[u8]; 6] = [b"TRACE", b"DEBUG", b"INFO ", b"WARN ", b"ERROR", b"FATAL"];

/// Google Cloud Logging's severities, per level.
const GCP_SEVERITIES: [&[u8]; 6] = [
    b"DEBUG",
    b"DEBUG",
    b"INFO",
    b"WARNING",
    b"ERROR",
    b"CRITICAL",
];

/// The version of the Elastic Common Schema the `Ecs` names follow.
const ECS_VERSION: &[u8] = b",\"ecs.version\":\"8.11.0\"";

/// The key of the thread's name (`Builder::thread_names`) in `schema`, or
/// in the text format.
fn thread_key(schema: Schema, text: bool) -> &'static str {
    match schema {
        Schema::Ecs if !text => "process.thread.name",
        _ => "thread",
    }
}

/// The keys each schema writes (the time's and the caller's when the entry
/// shows them), besides the optional `target`, `suppressed` and
/// `backtrace`: the time's first, the caller's last (see [`fixed_keys`]).
/// Statics, so that each list, and each part of one, has an address of its
/// own (see `Builtins`' `PartialEq`).
static VELO_KEYS: [&str; 4] = ["time", "level", "msg", "caller"];
static ECS_KEYS: [&str; 6] = [
    "@timestamp",
    "log.level",
    "message",
    "ecs.version",
    "log.origin.file.name",
    "log.origin.file.line",
];
static GCP_KEYS: [&str; 4] = [
    "time",
    "severity",
    "message",
    "logging.googleapis.com/sourceLocation",
];
/// The text format's only fixed `key=value` pair; time, level and message
/// have no key.
static TEXT_KEYS: [&str; 1] = ["caller"];

/// The part of `keys` (a schema's list, its time's key first if
/// `time_keyed`, its `caller_keys` caller's keys last) an entry writes:
/// with its time's key if `time`, with its caller's if `caller`.
fn fixed_keys(
    keys: &'static [&'static str],
    time_keyed: bool,
    caller_keys: usize,
    time: bool,
    caller: bool,
) -> &'static [&'static str] {
    let start = usize::from(time_keyed && !time);
    let end = keys.len() - if caller { 0 } else { caller_keys };
    &keys[start..end]
}

/// The prefix of a field whose key velo writes itself in the same line.
pub(crate) const RENAMED: &str = "fields.";

/// The keys velo writes itself in one line (or one record of another
/// output), which fields must not repeat.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Builtins {
    fixed: &'static [&'static str],
    target: bool,
    suppressed: bool,
    backtrace: bool,
    /// The key the thread's name is written under, when the entry has one.
    thread: Option<&'static str>,
    /// The call's keys, for velo's own entries (a drop warning's count,
    /// the panic hook's message, location and thread): velo writes them,
    /// so a context's or scope's field of the same name is renamed.
    own: Option<&'static Site>,
}

/// The same keys: the fixed ones are one of the constant lists (compared
/// by address), the thread's key one of the constant names.
impl PartialEq for Builtins {
    fn eq(&self, other: &Builtins) -> bool {
        std::ptr::eq(self.fixed, other.fixed)
            && self.target == other.target
            && self.suppressed == other.suppressed
            && self.backtrace == other.backtrace
            && self.thread.map(str::as_ptr) == other.thread.map(str::as_ptr)
            && self.own.map(std::ptr::from_ref) == other.own.map(std::ptr::from_ref)
    }
}

impl Builtins {
    /// The built-in keys of `ev`'s line in `schema` (JSON) or text, for a
    /// line that writes the time if `time` and the caller if `caller` (each
    /// when the entry has one).
    fn of(ev: &Event<'_>, style: &Style, time: bool) -> Builtins {
        let (schema, text, caller) = (style.schema, style.text, style.caller);
        let time = time && ev.time.is_some();
        let caller = caller && ev.caller().is_some();
        let fixed = match (text, schema) {
            // A call site's keys and a context's are checked by the macro
            // against velo's own names; a bridged record's fields, and a
            // scope (which holds the fields of the `tracing` spans the
            // thread is in), can hold them.
            (true, _) | (false, Schema::Velo) if ev.site().is_some() && ev.scope().is_empty() => {
                &[]
            }
            (true, _) => fixed_keys(&TEXT_KEYS, false, 1, time, caller),
            (false, Schema::Velo) => fixed_keys(&VELO_KEYS, true, 1, time, caller),
            (false, Schema::Ecs) => fixed_keys(&ECS_KEYS, true, 2, time, caller),
            (false, Schema::Gcp) => fixed_keys(&GCP_KEYS, true, 1, time, caller),
        };
        let builtins = Builtins::new(fixed, ev, thread_key(schema, text));
        // `new` counts the target every line writes; only this setting
        // adds one.
        if style.targets {
            builtins.with_target(ev.written_target(true))
        } else {
            builtins
        }
    }

    /// These keys, with `target` when `target` is written (an output that
    /// writes the module path as the target, see `Builder::targets`).
    pub(crate) fn with_target(mut self, target: Option<&str>) -> Builtins {
        self.target = target.is_some();
        self
    }

    /// The keys `fixed`, and `target`, `suppressed` and `backtrace` when
    /// `ev` has them, and `thread_key` when it has a thread name: the
    /// built-in keys of an output that writes those three under their own
    /// names.
    pub(crate) fn new(
        fixed: &'static [&'static str],
        ev: &Event<'_>,
        thread_key: &'static str,
    ) -> Builtins {
        Builtins {
            fixed,
            target: ev.target().is_some(),
            suppressed: ev.suppressed.is_some(),
            backtrace: ev.backtrace.is_some(),
            thread: ev.thread.map(|_| thread_key),
            own: ev.site().filter(|site| site.is_velos()),
        }
    }

    /// Whether no field can collide (the common case: nothing to check).
    #[inline]
    fn is_empty(self) -> bool {
        self.fixed.is_empty()
            && !self.target
            && !self.suppressed
            && !self.backtrace
            && self.thread.is_none()
            && self.own.is_none()
    }

    fn contains(self, key: &str) -> bool {
        self.fixed.contains(&key)
            || self.own.is_some_and(|site| site.names.contains(&key))
            || (self.target && key == "target")
            || (self.suppressed && key == "suppressed")
            || (self.backtrace && key == "backtrace")
            || self.thread == Some(key)
    }
}

/// How a field's key is written.
pub(crate) enum Written {
    /// As it is.
    Plain,
    /// As `fields.KEY`: KEY is a built-in key of the line.
    Renamed,
    /// Not at all: the key it would be written under is taken by a field
    /// of an inner layer (or of the same one, for an explicit
    /// `fields.KEY`), which wins.
    Dropped,
}

/// How to write the key `name` of one of `ev`'s fields, of `layer`, given
/// the line's built-in keys; `later` is the rest of a context's or scope's
/// block after the field (fields of the same layer that are inner to it:
/// a child logger's after its parent's, an inner scope's after an outer
/// one's; see `record::merge_fields`).
#[inline]
pub(crate) fn written(
    ev: &Event<'_>,
    builtins: Builtins,
    name: &str,
    layer: Layer,
    later: &[u8],
) -> Written {
    if builtins.is_empty() {
        Written::Plain
    } else if builtins.contains(name) {
        if layer == Layer::Call && builtins.own.is_some_and(|site| site.names.contains(&name)) {
            // velo's own entry's own field.
            return Written::Plain;
        }
        renamed(ev, name, layer, later)
    } else if layer != Layer::Call && name.starts_with(RENAMED) {
        explicit(ev, builtins, name, layer, later)
    } else {
        Written::Plain
    }
}

/// How to write a field whose key `name` is built in: as `fields.KEY`,
/// unless a field named so is inner to it (later in its context or scope,
/// or in an inner layer; anywhere in the call, for a call's field).
#[cold]
fn renamed(ev: &Event<'_>, name: &str, layer: Layer, later: &[u8]) -> Written {
    let is = |k: &str| k.strip_prefix(RENAMED) == Some(name);
    let taken = match layer {
        Layer::Call => ev.any_key_within(Layer::Call, is),
        Layer::Context | Layer::Scope => {
            record::field_keys(later).any(is) || ev.any_key_within(layer.inner(), is)
        }
    };
    if taken {
        Written::Dropped
    } else {
        Written::Renamed
    }
}

/// How to write a context's or scope's field named `fields.KEY`: not at
/// all when KEY is built in and a field KEY is inner to it (later in its
/// context or scope, or in an inner layer), which is written under this
/// name (the innermost wins).
#[cold]
fn explicit(ev: &Event<'_>, builtins: Builtins, name: &str, layer: Layer, later: &[u8]) -> Written {
    let inner = &name[RENAMED.len()..];
    let shadowed = ev.shadowed(inner, layer == Layer::Context)
        || record::field_keys(later).any(|k| k == inner);
    if builtins.contains(inner) && shadowed {
        Written::Dropped
    } else {
        Written::Plain
    }
}

/// Formats entries in one logger's style.
#[derive(Debug)]
pub(crate) struct LineFormat {
    style: Style,
    face: Clockface,
    /// Reused for the values of a message template.
    scratch: Vec<u8>,
    /// When `scratch` gives back what large values made it grow.
    scratch_shrink: Shrink,
    /// Where the current entry's message template wrote each of the
    /// call's first [`REUSE_MAX`] values, for its field to copy (see
    /// [`Placed`]); entry `i` is meaningful when bit `i` of `placed_set`
    /// is.
    placed: [Placed; REUSE_MAX],
    placed_set: u16,
    /// Context and scope blocks formatted before (see [`Rendered`]).
    rendered: Vec<Option<Rendered>>,
    /// The current entry's scope keys, for checking its context's against
    /// them (see [`ScopeIndex`]).
    scope_index: ScopeIndex,
    /// JSON heads of call sites formatted before.
    heads: Heads,
    /// The text format's ` caller=file:line` of call sites formatted
    /// before.
    tails: Heads,
}

/// The heads of call sites' lines (JSON: level, message, caller, target;
/// text: level, message, target; all static), by the site's address: a
/// direct-mapped cache, since a program logs from a few hot sites. One
/// copy instead of ten small appends (callgrind, hotpath: W0 664 -> 566
/// instructions an entry on the worker, W3 1,364 -> 1,292).
///
/// A site that takes the slot of another keeps the slot's buffer: sites
/// that collide cost a head formatted again, never an allocation once the
/// buffer has the room (a program of many sites, called in turn).
#[derive(Debug)]
struct Heads {
    slots: Vec<(usize, Vec<u8>)>,
}

/// Slots of the heads cache.
const HEAD_SLOTS: usize = 1024;

impl Heads {
    /// An empty cache, whose slots are made as the first head is put (a
    /// format that never uses it, as the text format its JSON heads, costs
    /// nothing).
    fn new() -> Heads {
        Heads { slots: Vec::new() }
    }

    #[inline]
    fn slot(&self, site: &'static crate::callsite::Site) -> usize {
        // Fibonacci hashing: sites are statics laid out one after the
        // other, a few dozen bytes apart, which the address's low bits
        // alone would crowd into a few slots.
        let addr = site as *const crate::callsite::Site as u64;
        (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - HEAD_SLOTS.trailing_zeros())) as usize
    }

    #[inline]
    fn get(&self, slot: usize, site: &'static crate::callsite::Site) -> Option<&[u8]> {
        let (addr, head) = self.slots.get(slot)?;
        (*addr == site as *const crate::callsite::Site as usize).then_some(head.as_slice())
    }

    fn put(&mut self, slot: usize, site: &'static crate::callsite::Site, head: &[u8]) {
        if self.slots.is_empty() {
            self.slots = (0..HEAD_SLOTS).map(|_| (0, Vec::new())).collect();
        }
        let (addr, buf) = &mut self.slots[slot];
        *addr = site as *const crate::callsite::Site as usize;
        buf.clear();
        buf.extend_from_slice(head);
    }
}

/// Call values a template's placeholders may pass on to their fields (the
/// bits of `LineFormat::placed_set`).
const REUSE_MAX: usize = 16;

/// A call value as a message template wrote it into the line, so that the
/// value's field copies those bytes instead of formatting the number (or
/// escaping the string) a second time: a template names its fields, so
/// each such value appears twice in the line.
#[derive(Clone, Copy, Debug, Default)]
enum Placed {
    /// Not written by the message (or not the same bytes as its field).
    #[default]
    No,
    /// `start..end` of the line holds the value exactly as its field
    /// writes it (a number, `true`, `false`, `null`).
    Same(u32, u32),
    /// `start..end` holds the JSON string's body: the field adds quotes.
    Quoted(u32, u32),
}

/// A block of fields (a logger's context, a thread's scope) as formatted
/// before, found again by its bytes: every entry of a child logger carries
/// the same context bytes, and formatting ten fields costs the worker more
/// than the rest of the line (callgrind, Wctx: 4,400 instructions an entry
/// before, about 1,000 with the cache).
#[derive(Debug, Default)]
struct Rendered {
    /// The context's id when it was found by it (see
    /// `record::context_block`), else 0: found by its bytes.
    id: u64,
    source: Vec<u8>,
    line: Vec<u8>,
    /// The keys, one after the other, to test for shadowing and clashes.
    names: String,
    /// Where each key ends in `names`.
    ends: Vec<u32>,
    /// The built-in keys last checked against the keys, and whether one
    /// clashed: the same for most entries, so checked once.
    clash: Option<(Builtins, bool)>,
}

impl Rendered {
    /// The block's keys.
    fn keys(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let key = &self.names[start..end as usize];
            start = end as usize;
            key
        })
    }
}

/// Slots of the rendered-block cache (direct-mapped by id, else by hash):
/// as many contexts and scopes as a busy server's requests in flight.
const RENDERED_SLOTS: usize = 256;
/// Blocks larger than this are formatted every time.
const RENDERED_MAX: usize = 4096;

/// A fast hash of a block's bytes, for the cache slot.
fn block_hash(bytes: &[u8]) -> usize {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = (h ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    }
    (h ^ (h >> 32)) as usize
}

/// The clockface of lines of `style`: for JSON, one that writes the
/// line's opening and the time's key before the time (`{"time":"`), and
/// what follows it (`",`), in the same copy (see [`json_time`]).
fn clockface(style: &Style) -> Clockface {
    if style.text || style.timestamp == Timestamp::Off {
        return Clockface::new(style.timestamp, style.local_time);
    }
    let key: &[u8] = match style.schema {
        Schema::Ecs => b"{\"@timestamp\":",
        Schema::Velo | Schema::Gcp => b"{\"time\":",
    };
    // A number (`UnixNanos`) is not quoted.
    let (quote, after): (&[u8], &[u8]) = if style.timestamp == Timestamp::UnixNanos {
        (b"", b",")
    } else {
        (b"\"", b"\",")
    };
    Clockface::framed(
        style.timestamp,
        style.local_time,
        &[key, quote].concat(),
        after,
    )
}

impl LineFormat {
    /// Gives back what a large nested value made the scratch buffer grow
    /// to (see `buffer::Shrink::idle`).
    pub(crate) fn idle(&mut self) {
        self.scratch_shrink.idle(&mut self.scratch, 64 << 10);
    }

    pub(crate) fn new(style: Style) -> LineFormat {
        LineFormat {
            face: clockface(&style),
            style,
            scratch: Vec::new(),
            scratch_shrink: Shrink::default(),
            placed: [Placed::No; REUSE_MAX],
            placed_set: 0,
            rendered: (0..RENDERED_SLOTS).map(|_| None).collect(),
            scope_index: ScopeIndex::default(),
            heads: Heads::new(),
            tails: Heads::new(),
        }
    }

    /// Whether lines show a time (not `Timestamp::Off`).
    pub(crate) fn shows_time(&self) -> bool {
        self.face.mode() != Timestamp::Off
    }

    /// Appends `ev`'s line, ending in `\n`.
    pub(crate) fn write(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        if self.style.text {
            self.text(ev, out);
        } else {
            self.json(ev, out);
        }
    }

    fn json(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        json_time(&mut self.face, ev.time, out);
        self.json_head(ev, out);
        if let Some(thread) = ev.thread {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(thread_key(self.style.schema, false).as_bytes());
            out.extend_from_slice(b"\":");
            escape::json_str(out, thread);
        }
        self.fields(ev, out);
        if let Some(n) = ev.suppressed {
            out.extend_from_slice(b",\"suppressed\":");
            number::int(out, n);
        }
        if let Some(bt) = ev.backtrace {
            out.extend_from_slice(b",\"backtrace\":");
            escape::json_str(out, bt);
        }
        out.extend_from_slice(b"}\n");
    }

    /// Appends the JSON line of a record of `site` that holds the call's
    /// values and nothing else (a `record::Plain`), from its time and
    /// values, without an `Event`: byte for byte what [`LineFormat::write`]
    /// writes for it, with less to decode and check on the way. `false`,
    /// with nothing written, when the line is not that simple (the text
    /// format, a schema, a message template, a target) or the site's head
    /// is not cached yet (its first entry): `write` then writes it.
    #[inline(always)]
    pub(crate) fn plain_json(
        &mut self,
        site: &'static Site,
        time: Option<u64>,
        values: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(head) = plain_head(&self.style, &self.heads, site) else {
            return false;
        };
        json_time(&mut self.face, time, out);
        plain_rest(head, site, values, out);
        true
    }

    /// Whether this format writes any line by [`LineFormat::plain_json`].
    #[inline]
    pub(crate) fn has_plain_lines(&self) -> bool {
        plain_style(&self.style)
    }

    /// [`LineFormat::plain_json`] without the line's opening and time:
    /// appends the site's head, its values and the line's end. `false`,
    /// with nothing written, for the same lines as `plain_json`. With
    /// [`LineFormat::json_open`] written before it, the same line.
    #[inline]
    pub(crate) fn plain_json_rest(
        &mut self,
        site: &'static Site,
        values: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(head) = plain_head(&self.style, &self.heads, site) else {
            return false;
        };
        plain_rest(head, site, values, out);
        true
    }

    /// Appends a JSON line's opening: `{` and, unless `time` is `None`, its
    /// time (see [`LineFormat::plain_json_rest`]).
    #[inline]
    pub(crate) fn json_open(&mut self, time: Option<u64>, out: &mut Vec<u8>) {
        json_time(&mut self.face, time, out);
    }

    /// Appends what comes between a JSON line's time and its fields: the
    /// level, the message, the caller, the target. For a call site with a
    /// plain message it depends on the site alone, so it is formatted once
    /// per site and copied after that (see [`Heads`]); for a template, what
    /// follows the message is.
    #[inline]
    fn json_head(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        if let Head::Site(site) = ev.head {
            let slot = self.heads.slot(site);
            if site.is_template() {
                // The message depends on the values; what follows it is
                // the site's own, and cached in its place.
                self.json_head_open(ev, out);
                self.message(ev, out, false);
                if let Some(close) = self.heads.get(slot, site) {
                    out.extend_from_slice(close);
                    return;
                }
                let start = out.len();
                self.json_head_close(ev, out);
                self.heads.put(slot, site, &out[start..]);
                return;
            }
            if let Some(head) = self.heads.get(slot, site) {
                out.extend_from_slice(head);
                return;
            }
            let start = out.len();
            self.json_head_slow(ev, out);
            self.heads.put(slot, site, &out[start..]);
            return;
        }
        self.json_head_slow(ev, out);
    }

    /// The text format's [`LineFormat::json_head`]: the level, the
    /// message and the target, once per site with a plain message.
    #[inline]
    fn text_head(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        if let Head::Site(site) = ev.head {
            if !site.is_template() {
                let slot = self.heads.slot(site);
                if let Some(head) = self.heads.get(slot, site) {
                    out.extend_from_slice(head);
                    return;
                }
                let start = out.len();
                self.text_head_slow(ev, out);
                self.heads.put(slot, site, &out[start..]);
                return;
            }
        }
        self.text_head_slow(ev, out);
    }

    fn text_head_slow(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        let colored = self.style.color;
        let level = ev.level as usize;
        if colored {
            out.extend_from_slice(color::LEVELS[level]);
            out.extend_from_slice(TEXT_LEVELS[level]);
            out.extend_from_slice(color::RESET);
        } else {
            out.extend_from_slice(TEXT_LEVELS[level]);
        }
        out.push(b' ');
        self.message(ev, out, true);
        if let Some(target) = ev.written_target(self.style.targets) {
            text_key(out, b"target", colored);
            escape::text_value(out, target);
        }
    }

    fn json_head_slow(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        self.json_head_open(ev, out);
        self.message(ev, out, false);
        self.json_head_close(ev, out);
    }

    /// The level and the message's key.
    fn json_head_open(&self, ev: &Event<'_>, out: &mut Vec<u8>) {
        let level = ev.level;
        match self.style.schema {
            Schema::Velo => {
                out.extend_from_slice(b"\"level\":\"");
                out.extend_from_slice(level.as_str().as_bytes());
                out.extend_from_slice(b"\",\"msg\":\"");
            }
            Schema::Ecs => {
                out.extend_from_slice(b"\"log.level\":\"");
                out.extend_from_slice(level.as_str().as_bytes());
                out.extend_from_slice(b"\",\"message\":\"");
            }
            Schema::Gcp => {
                out.extend_from_slice(b"\"severity\":\"");
                out.extend_from_slice(GCP_SEVERITIES[level as usize]);
                out.extend_from_slice(b"\",\"message\":\"");
            }
        }
    }

    /// What follows the message: the caller, the target.
    fn json_head_close(&self, ev: &Event<'_>, out: &mut Vec<u8>) {
        let schema = self.style.schema;
        out.push(b'"');
        if self.style.caller {
            json_caller(ev, schema, out);
        }
        if schema == Schema::Ecs {
            out.extend_from_slice(ECS_VERSION);
        }
        if let Some(target) = ev.written_target(self.style.targets) {
            out.extend_from_slice(b",\"target\":");
            escape::json_str(out, target);
        }
    }

    fn text(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        let colored = self.style.color;
        if let (Some(nanos), true) = (ev.time, self.face.mode() != Timestamp::Off) {
            if colored {
                out.extend_from_slice(color::DIM);
            }
            self.face.write(out, nanos);
            if colored {
                out.extend_from_slice(color::RESET);
            }
            out.push(b' ');
        }
        self.text_head(ev, out);
        if let Some(thread) = ev.thread {
            text_key(out, b"thread", colored);
            escape::text_value(out, thread);
        }
        self.fields(ev, out);
        if let Some(n) = ev.suppressed {
            text_key(out, b"suppressed", colored);
            number::int(out, n);
        }
        if let Some(bt) = ev.backtrace {
            text_key(out, b"backtrace", colored);
            escape::text_value(out, bt);
        }
        if self.style.caller {
            match ev.head {
                // A site's caller is its own: formatted once, then copied.
                Head::Site(site) => {
                    let slot = self.tails.slot(site);
                    if let Some(tail) = self.tails.get(slot, site) {
                        out.extend_from_slice(tail);
                    } else {
                        let start = out.len();
                        text_caller(ev, colored, out);
                        self.tails.put(slot, site, &out[start..]);
                    }
                }
                Head::Dynamic(_) => text_caller(ev, colored, out),
            }
        }
        out.push(b'\n');
    }

    /// Appends every field of `ev`, each key once: the context, the scope
    /// (each from the cache when it was formatted before), the call's.
    #[inline(always)]
    fn fields(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        if ev.context().is_empty() && ev.scope().is_empty() && ev.values().is_empty() {
            // A message alone: nothing to check or write.
            return;
        }
        self.some_fields(ev, out);
    }

    fn some_fields(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        let builtins = Builtins::of(ev, &self.style, self.shows_time());
        if let Head::Site(site) = ev.head {
            // The common line: a call's own fields in JSON, no other layer,
            // and no built-in key a field could take: nothing to rename or
            // shadow, so no per-field checks.
            let plain = !self.style.text
                && builtins.is_empty()
                && !site.is_template()
                && ev.context().is_empty()
                && ev.scope().is_empty();
            if plain {
                plain_fields(site, ev.values(), out);
                return;
            }
        }
        self.scope_index.prepare(ev);
        if !ev.context().is_empty() {
            self.block(ev, ev.context(), true, builtins, out);
        }
        if !ev.scope().is_empty() {
            self.block(ev, ev.scope(), false, builtins, out);
        }
        let mut r = Reader::new(ev.values());
        match ev.head {
            Head::Site(site) if site.is_template() => {
                for (i, (key, name)) in site.keys().zip(site.names).enumerate() {
                    let Some(value) = r.value() else { break };
                    let placed = if i < REUSE_MAX && self.placed_set & (1 << i) != 0 {
                        self.placed[i]
                    } else {
                        Placed::No
                    };
                    match (placed, written(ev, builtins, name, Layer::Call, &[])) {
                        (Placed::Same(start, end), Written::Plain) => {
                            self.field_key(&key, out);
                            out.extend_from_within(start as usize..end as usize);
                        }
                        (Placed::Quoted(start, end), Written::Plain) if !self.style.text => {
                            out.extend_from_slice(key.json());
                            out.push(b'"');
                            out.extend_from_within(start as usize..end as usize);
                            out.push(b'"');
                        }
                        _ => self.checked_field(
                            ev,
                            builtins,
                            (Some(&key), Layer::Call),
                            name,
                            value,
                            out,
                        ),
                    }
                }
            }
            Head::Site(site) => {
                for (key, name) in site.keys().zip(site.names) {
                    let Some(value) = r.value() else { break };
                    self.checked_field(ev, builtins, (Some(&key), Layer::Call), name, value, out);
                }
            }
            Head::Dynamic(_) => {
                while let Some((name, value)) = r.field() {
                    // A bridged record may repeat a key (`log`'s key-values
                    // are a plain list): the last one wins.
                    if record::field_keys(r.rest()).any(|k| k == name) {
                        continue;
                    }
                    self.checked_field(ev, builtins, (None, Layer::Call), name, value, out);
                }
            }
        }
    }

    /// Appends one field of `layer`, under `fields.KEY` when its key is
    /// built in.
    #[inline]
    fn checked_field(
        &self,
        ev: &Event<'_>,
        builtins: Builtins,
        (pre, layer): (Option<&Key>, Layer),
        name: &str,
        value: Val<'_>,
        out: &mut Vec<u8>,
    ) {
        match written(ev, builtins, name, layer, &[]) {
            Written::Plain => self.field(pre, name, value, out),
            Written::Renamed => self.renamed_field(name, value, out),
            Written::Dropped => {}
        }
    }

    /// Appends a field whose key `name` is built in, as `fields.KEY`.
    #[cold]
    fn renamed_field(&self, name: &str, value: Val<'_>, out: &mut Vec<u8>) {
        if self.style.text {
            // Built-in keys need no quotes, nor with the prefix.
            text_key_with(out, self.style.color, |out| {
                out.extend_from_slice(RENAMED.as_bytes());
                out.extend_from_slice(name.as_bytes());
            });
            text_value(out, value);
        } else {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(RENAMED.as_bytes());
            escape::json_body(out, name);
            out.extend_from_slice(b"\":");
            json_value(out, value);
        }
    }

    /// Appends a call site's pre-escaped key, in the line's format.
    #[inline]
    fn field_key(&self, key: &Key, out: &mut Vec<u8>) {
        if self.style.text {
            text_key(out, key.text(), self.style.color);
        } else {
            out.extend_from_slice(key.json());
        }
    }

    /// Appends one field.
    #[inline]
    fn field(&self, pre: Option<&Key>, name: &str, value: Val<'_>, out: &mut Vec<u8>) {
        if self.style.text {
            match pre {
                Some(pre) => text_key(out, pre.text(), self.style.color),
                None => text_key_with(out, self.style.color, |out| escape::text_key(out, name)),
            }
            text_value(out, value);
        } else {
            match pre {
                Some(pre) => out.extend_from_slice(pre.json()),
                None => {
                    out.extend_from_slice(b",\"");
                    escape::json_body(out, name);
                    out.extend_from_slice(b"\":");
                }
            }
            json_value(out, value);
        }
    }

    /// Appends the fields of a context (`in_context`) or scope block that
    /// no inner layer shadows.
    fn block(
        &mut self,
        ev: &Event<'_>,
        bytes: &[u8],
        in_context: bool,
        builtins: Builtins,
        out: &mut Vec<u8>,
    ) {
        let may_shadow = ev.call_has_fields() || (in_context && !ev.scope().is_empty());
        if bytes.len() > RENDERED_MAX {
            return self.block_slow(ev, bytes, in_context, may_shadow, builtins, out);
        }
        // A logger's context, a thread's scope by its id: no hashing or
        // comparing of its bytes (callgrind, Wctx: 130 instructions an
        // entry).
        let id = if in_context {
            ev.context_id()
        } else {
            ev.scope_id()
        };
        let slot = if id != 0 {
            id as usize % RENDERED_SLOTS
        } else {
            block_hash(bytes) % RENDERED_SLOTS
        };
        let hit = self.rendered[slot].as_ref().is_some_and(|r| {
            if id != 0 {
                r.id == id
            } else {
                r.id == 0 && r.source == bytes
            }
        });
        if !hit {
            // The buffers of the block this one replaces, if any: blocks
            // that take each other's slot (more contexts and scopes in
            // turn than slots) cost a rendering, not an allocation.
            let mut r = self.rendered[slot].take().unwrap_or_default();
            r.id = id;
            r.source.clear();
            // Compared only for a block without an id.
            if id == 0 {
                r.source.extend_from_slice(bytes);
            }
            r.line.clear();
            r.line.reserve(bytes.len() * 2);
            r.names.clear();
            r.ends.clear();
            r.clash = None;
            let mut fields = Reader::new(bytes);
            while let Some((name, value)) = fields.field() {
                r.names.push_str(name);
                r.ends.push(r.names.len() as u32);
                self.field(None, name, value, &mut r.line);
            }
            self.rendered[slot] = Some(r);
        }
        let rendered = self.rendered[slot].as_ref().expect("filled above");
        let shadowed = may_shadow
            && rendered
                .keys()
                .any(|k| self.scope_index.shadowed(ev, k, in_context));
        // The cached line has every key as written: one that is built in
        // here must be renamed, and a `fields.KEY` may give way to an
        // inner layer's KEY. Checked again only when the built-in keys
        // change (callgrind, W0scope: 960 instructions an entry).
        let clash = !builtins.is_empty() && {
            let rendered = self.rendered[slot].as_mut().expect("filled above");
            match rendered.clash {
                Some((seen, clash)) if seen == builtins => clash,
                _ => {
                    let clash = rendered
                        .keys()
                        .any(|k| builtins.contains(k) || k.starts_with(RENAMED));
                    rendered.clash = Some((builtins, clash));
                    clash
                }
            }
        };
        if shadowed || clash {
            self.block_slow(ev, bytes, in_context, may_shadow, builtins, out);
        } else if let Some(rendered) = &self.rendered[slot] {
            out.extend_from_slice(&rendered.line);
        }
    }

    /// [`LineFormat::block`] without the cache.
    #[cold]
    fn block_slow(
        &self,
        ev: &Event<'_>,
        bytes: &[u8],
        in_context: bool,
        may_shadow: bool,
        builtins: Builtins,
        out: &mut Vec<u8>,
    ) {
        let layer = if in_context {
            Layer::Context
        } else {
            Layer::Scope
        };
        let mut r = Reader::new(bytes);
        while let Some((name, value)) = r.field() {
            if !(may_shadow && self.scope_index.shadowed(ev, name, in_context)) {
                // The later fields of this block are inner to this one
                // (see `written`).
                match written(ev, builtins, name, layer, r.rest()) {
                    Written::Plain => self.field(None, name, value, out),
                    Written::Renamed => self.renamed_field(name, value, out),
                    Written::Dropped => {}
                }
            }
        }
    }

    /// Appends the message, escaped for the format (`text`) without quotes,
    /// with a template's placeholders filled in.
    fn message(&mut self, ev: &Event<'_>, out: &mut Vec<u8>, text: bool) {
        match ev.head {
            Head::Site(site) => match site.msg() {
                Msg::Plain { json, text: t } => out.extend_from_slice(if text { t } else { json }),
                Msg::Template(pieces) => self.template(ev, pieces, out, text),
            },
            Head::Dynamic(d) => {
                let message = d.message();
                if text {
                    escape::text_message(out, message);
                } else {
                    escape::json_body(out, message);
                }
            }
        }
    }

    /// Appends a message template with the call's values, escaped for the
    /// format; notes in [`LineFormat::placed`] which values its fields can
    /// copy from here.
    fn template(&mut self, ev: &Event<'_>, pieces: Pieces, out: &mut Vec<u8>, text: bool) {
        // The call's values, decoded once and as far as needed: placeholders
        // name them in any order, and a value may be named twice.
        let mut values = [Val::Null; REUSE_MAX];
        let mut decoded = 0;
        let mut r = Reader::new(ev.values());
        self.placed_set = 0;
        for piece in pieces {
            let i = match piece {
                Piece::Lit { json, text: t } => {
                    out.extend_from_slice(if text { t } else { json });
                    continue;
                }
                Piece::Field(i) => i,
            };
            let value = if i < REUSE_MAX {
                while decoded <= i {
                    let Some(v) = r.value() else { break };
                    values[decoded] = v;
                    decoded += 1;
                }
                (i < decoded).then(|| values[i])
            } else {
                ev.call_value(i)
            };
            let start = out.len() as u32;
            let placed = match value {
                None => Placed::No,
                Some(Val::Str(s)) if text => {
                    escape::text_message(out, s);
                    Placed::No
                }
                Some(Val::Str(s)) => {
                    escape::json_body(out, s);
                    Placed::Quoted(start, out.len() as u32)
                }
                // Plain ASCII that needs no escape, and the same bytes as
                // the value's field in either format.
                Some(
                    v @ (Val::U64(_)
                    | Val::I64(_)
                    | Val::U128(_)
                    | Val::I128(_)
                    | Val::Bool(_)
                    | Val::Null),
                ) => {
                    json_value(out, v);
                    Placed::Same(start, out.len() as u32)
                }
                Some(Val::F64(f)) if f.is_finite() => {
                    number::write_f64(out, f);
                    Placed::Same(start, out.len() as u32)
                }
                Some(Val::F32(f)) if f.is_finite() => {
                    number::write_f32(out, f);
                    Placed::Same(start, out.len() as u32)
                }
                // Non-finite floats and times are plain ASCII too, but
                // written otherwise as fields.
                Some(v @ (Val::F64(_) | Val::F32(_) | Val::Time(..))) => {
                    plain_value(out, v);
                    Placed::No
                }
                // Arrays and maps hold quotes: escape them.
                Some(v) => {
                    // Its last value was this buffer's last use.
                    let used = self.scratch.len();
                    self.scratch.clear();
                    self.scratch_shrink
                        .after_use(&mut self.scratch, used, 64 << 10);
                    plain_value(&mut self.scratch, v);
                    let s = std::str::from_utf8(&self.scratch).unwrap_or_default();
                    if text {
                        escape::text_message(out, s);
                    } else {
                        escape::json_body(out, s);
                    }
                    Placed::No
                }
            };
            // The first placement of a value is the one its field copies.
            // (A line longer than 4 GiB is not made: records are truncated
            // long before, so the positions fit.)
            if i < REUSE_MAX && self.placed_set & (1 << i) == 0 && !matches!(placed, Placed::No) {
                self.placed[i] = placed;
                self.placed_set |= 1 << i;
            }
        }
    }

    /// Appends the message as plain text, unescaped, a template's
    /// placeholders filled in: for outputs with a message field of their
    /// own (journald's `MESSAGE`, an OTLP body).
    pub(crate) fn plain_message(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        match ev.head {
            Head::Site(site) if !site.is_template() => {
                out.extend_from_slice(site.message().as_bytes());
            }
            // The literal pieces are stored escaped; render the template as
            // written instead.
            Head::Site(site) => render_template(site.message(), ev, out),
            Head::Dynamic(d) => out.extend_from_slice(d.message().as_bytes()),
        }
    }
}

/// Renders a template as written (`{name}`, `{{`, `}}`) with the call's
/// values, as plain text.
fn render_template(template: &str, ev: &Event<'_>, out: &mut Vec<u8>) {
    let names = ev.site().map_or(&[][..], |s| s.names);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(tail.as_bytes()[0]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{') {
            if let Some(end) = tail.find('}') {
                let name = tail[1..end].trim();
                if let Some(v) = names
                    .iter()
                    .position(|n| *n == name)
                    .and_then(|i| ev.call_value(i))
                {
                    plain_value(out, v);
                }
                rest = &tail[end + 1..];
                continue;
            }
        }
        out.push(tail.as_bytes()[0]);
        rest = &tail[1..];
    }
    out.extend_from_slice(rest.as_bytes());
}

/// Appends the caller's keys, its file escaped (once per site: the head
/// that holds it is cached).
fn json_caller(ev: &Event<'_>, schema: Schema, out: &mut Vec<u8>) {
    let Some((file, line)) = ev.caller() else {
        return;
    };
    match schema {
        Schema::Velo => {
            out.extend_from_slice(b",\"caller\":\"");
            escape::json_body(out, file);
            if let Some(line) = line {
                out.push(b':');
                number::int(out, line);
            }
            out.push(b'"');
        }
        Schema::Ecs => {
            out.extend_from_slice(b",\"log.origin.file.name\":\"");
            escape::json_body(out, file);
            out.push(b'"');
            if let Some(line) = line {
                out.extend_from_slice(b",\"log.origin.file.line\":");
                number::int(out, line);
            }
        }
        Schema::Gcp => {
            out.extend_from_slice(b",\"logging.googleapis.com/sourceLocation\":{\"file\":\"");
            escape::json_body(out, file);
            out.push(b'"');
            if let Some(line) = line {
                out.extend_from_slice(b",\"line\":\"");
                number::int(out, line);
                out.push(b'"');
            }
            out.push(b'}');
        }
    }
}

/// Appends the text format's ` caller=file:line`, if the entry has a
/// caller.
fn text_caller(ev: &Event<'_>, colored: bool, out: &mut Vec<u8>) {
    let Some((file, line)) = ev.caller() else {
        return;
    };
    text_key(out, b"caller", colored);
    // `:` and digits never need quoting: the file decides.
    let quoted = escape::text_needs_quotes(file);
    if quoted {
        out.push(b'"');
        escape::json_body(out, file);
    } else {
        out.extend_from_slice(file.as_bytes());
    }
    if let Some(line) = line {
        out.push(b':');
        number::int(out, line);
    }
    if quoted {
        out.push(b'"');
    }
}

fn text_key(out: &mut Vec<u8>, key: &[u8], colored: bool) {
    text_key_with(out, colored, |out| out.extend_from_slice(key));
}

/// ` key=`, with the key written by `key` (dim on a terminal).
fn text_key_with(out: &mut Vec<u8>, colored: bool, key: impl FnOnce(&mut Vec<u8>)) {
    out.push(b' ');
    if colored {
        out.extend_from_slice(color::DIM);
        key(out);
        out.extend_from_slice(color::RESET);
    } else {
        key(out);
    }
    out.push(b'=');
}

/// Appends a JSON line's start: `{`, and its time with the `,` after it
/// unless it has none (`face` writes them in one, see [`clockface`]).
#[inline(always)]
fn json_time(face: &mut Clockface, time: Option<u64>, out: &mut Vec<u8>) {
    match time {
        Some(nanos) if face.mode() != Timestamp::Off => face.write(out, nanos),
        _ => out.push(b'{'),
    }
}

/// Whether lines of `style` may be plain JSON lines (see
/// [`LineFormat::plain_json`]): JSON in velo's own schema.
#[inline(always)]
fn plain_style(style: &Style) -> bool {
    !style.text && style.schema == Schema::Velo
}

/// The cached head of `site`'s line when it is a plain JSON line (see
/// [`LineFormat::plain_json`]): velo's schema, no template, no target,
/// and, when the line writes the module path as the target, no field of
/// the call that the `target` key would rename.
#[inline(always)]
fn plain_head<'h>(style: &Style, heads: &'h Heads, site: &'static Site) -> Option<&'h [u8]> {
    if !plain_style(style)
        || site.is_template()
        || site.target().is_some()
        || (style.targets && site.names.contains(&"target"))
    {
        return None;
    }
    heads.get(heads.slot(site), site)
}

/// Appends what follows a plain JSON line's time: `head`, the values as
/// fields, the line's end.
#[inline(always)]
fn plain_rest(head: &[u8], site: &'static Site, values: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(head);
    plain_fields(site, values, out);
    out.extend_from_slice(b"}\n");
}

/// Appends a call's values as JSON fields, each after its site's key,
/// with nothing to check: the fields of a JSON line in velo's own schema
/// that has no other fields and no built-in key a field could take.
#[inline(always)]
fn plain_fields(site: &'static Site, values: &[u8], out: &mut Vec<u8>) {
    let mut r = Reader::new(values);
    for key in site.keys() {
        let key = |out: &mut Vec<u8>| match key.json_padded() {
            Some((padded, len)) => timestamp::put_padded(out, padded, len),
            None => out.extend_from_slice(key.json()),
        };
        // The usual values straight from their tag, the others through a
        // decoded `Val`: one dispatch per value instead of two. Each is
        // read whole before its key is written.
        match r.peek_tag() {
            Some(tag::U64) => {
                let Some(n) = r.tagged_u64() else { break };
                key(out);
                number::int(out, n);
            }
            Some(tag::F64) => {
                let Some(bits) = r.tagged_u64() else { break };
                key(out);
                number::write_f64(out, f64::from_bits(bits));
            }
            Some(tag::STR) => {
                let Some(text) = r.tagged_str() else { break };
                key(out);
                escape::json_str(out, text);
            }
            _ => {
                let Some(value) = r.value() else { break };
                key(out);
                json_scalar(out, value);
            }
        }
    }
}

/// [`json_value`], with the values a call site's field usually has written
/// inline: for the loop over a plain line's fields, where a call per value
/// costs as much as writing it.
#[inline(always)]
fn json_scalar(out: &mut Vec<u8>, v: Val<'_>) {
    match v {
        Val::U64(n) => number::int(out, n),
        Val::I64(n) => number::int(out, n),
        Val::F64(f) => number::write_f64(out, f),
        Val::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Val::Str(s) => escape::json_str(out, s),
        other => json_value(out, other),
    }
}

/// Appends a value as JSON.
pub(crate) fn json_value(out: &mut Vec<u8>, v: Val<'_>) {
    match v {
        Val::U64(n) => number::int(out, n),
        Val::I64(n) => number::int(out, n),
        Val::U128(n) => number::int(out, n),
        Val::I128(n) => number::int(out, n),
        Val::F64(f) => number::write_f64(out, f),
        Val::F32(f) => number::write_f32(out, f),
        Val::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Val::Null => out.extend_from_slice(b"null"),
        Val::Str(s) => escape::json_str(out, s),
        Val::Time(secs, nanos) => {
            out.push(b'"');
            timestamp::write_system_time(out, secs, nanos);
            out.push(b'"');
        }
        Val::Seq(items) => seq(out, items, json_value),
        Val::Map(entries) => {
            out.push(b'{');
            let mut r = Reader::new(entries);
            let mut first = true;
            while let Some((key, value)) = r.field() {
                if !first {
                    out.push(b',');
                }
                first = false;
                escape::json_str(out, key);
                out.push(b':');
                json_value(out, value);
            }
            out.push(b'}');
        }
    }
}

/// Appends `[item,item]`, each item written by `item`.
fn seq(out: &mut Vec<u8>, items: &[u8], item: fn(&mut Vec<u8>, Val<'_>)) {
    out.push(b'[');
    let mut r = Reader::new(items);
    let mut first = true;
    while let Some(value) = r.value() {
        if !first {
            out.push(b',');
        }
        first = false;
        item(out, value);
    }
    out.push(b']');
}

/// Appends a non-finite float bare (`NaN`, `inf`, `-inf`); `false` for a
/// finite one.
fn bare_non_finite(out: &mut Vec<u8>, v: Val<'_>) -> bool {
    let (nan, positive) = match v {
        Val::F64(f) if !f.is_finite() => (f.is_nan(), f > 0.0),
        Val::F32(f) if !f.is_finite() => (f.is_nan(), f > 0.0),
        _ => return false,
    };
    out.extend_from_slice(number::non_finite(nan, positive, false));
    true
}

/// Appends a value as the text format writes it: strings bare unless they
/// must be quoted, sequences and maps as compact JSON (strings in them
/// quoted, so that `["123"]` does not read as `[123]`), itself quoted as a
/// string when it holds a blank or `=`: bare, `tags=["a b=c"]` would read
/// as a pair `b="c"]`.
pub(crate) fn text_value(out: &mut Vec<u8>, v: Val<'_>) {
    if bare_non_finite(out, v) {
        return;
    }
    match v {
        Val::Str(s) => escape::text_value(out, s),
        Val::Time(secs, nanos) => timestamp::write_system_time(out, secs, nanos),
        Val::Seq(_) | Val::Map(_) => {
            let start = out.len();
            json_value(out, v);
            if escape::compound_needs_quotes(&out[start..]) {
                // Rare: such a value costs an allocation.
                let json = out.split_off(start);
                escape::json_str(out, &String::from_utf8_lossy(&json));
            }
        }
        other => json_value(out, other),
    }
}

/// Appends a value as plain text: strings as they are, non-finite floats
/// bare, everything else as JSON.
pub(crate) fn plain_value(out: &mut Vec<u8>, v: Val<'_>) {
    if bare_non_finite(out, v) {
        return;
    }
    match v {
        Val::Str(s) => out.extend_from_slice(s.as_bytes()),
        Val::Time(secs, nanos) => timestamp::write_system_time(out, secs, nanos),
        other => json_value(out, other),
    }
}
