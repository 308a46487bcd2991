//! An entry as the worker sees it: a record decoded into its level, time,
//! message, caller and fields, for the line formats and the outputs.
//!
//! The fields of an entry come in three layers, outermost first: the
//! logger's context (from [`Logger::with`](crate::Logger::with) and
//! [`Builder::fields`](crate::Builder::fields)), the thread's scopes
//! ([`scope`](crate::scope)), and the call's own. A key appears once per
//! entry: the innermost value wins, so [`Event::fields`] skips a context
//! field whose key the scope or the call also sets, and a scope field whose
//! key the call sets. (Each layer is free of duplicates already: the macro
//! rejects them in a call, and `with` and nested scopes merge at build
//! time; a bridged record's own repeated keys are skipped but for the
//! last.)

use crate::callsite::Site;
use crate::clock::Converter;
use crate::level::Level;
use crate::record::{self, Header, Reader, Val};

/// What an entry says about where it comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Head<'a> {
    /// A `velo!` call site (or one of velo's own entries).
    Site(&'static Site),
    /// An entry whose level, message and caller were known only at run time
    /// (a bridged `log` record or `tracing` event).
    Dynamic(DynamicHead<'a>),
}

/// The message, caller, module and target of a bridged entry, as recorded:
/// read when asked for. Bridged entries are the rare ones; kept raw, they
/// keep every `Event` small, and an `Event` is built for every entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DynamicHead<'a>(&'a [u8]);

impl<'a> DynamicHead<'a> {
    /// Reads past a dynamic head, checking it; `None` if it is malformed.
    fn read(r: &mut Reader<'a>) -> Option<DynamicHead<'a>> {
        let start = r.rest();
        r.str()?;
        r.str()?;
        r.u32()?;
        r.str()?;
        r.str()?;
        Some(DynamicHead(&start[..start.len() - r.rest().len()]))
    }

    /// Message, file, line, module and target.
    fn parts(self) -> (&'a str, &'a str, u32, &'a str, &'a str) {
        // Checked by `read`: nothing here falls back.
        let mut r = Reader::new(self.0);
        (
            r.str().unwrap_or_default(),
            r.str().unwrap_or_default(),
            r.u32().unwrap_or_default(),
            r.str().unwrap_or_default(),
            r.str().unwrap_or_default(),
        )
    }

    /// The message.
    pub(crate) fn message(self) -> &'a str {
        self.parts().0
    }
}

/// A decoded entry.
#[derive(Clone, Debug)]
pub(crate) struct Event<'a> {
    pub(crate) level: Level,
    /// Nanoseconds since the Unix epoch, unless the logger writes no time.
    pub(crate) time: Option<u64>,
    pub(crate) head: Head<'a>,
    /// Calls an `every:` limit skipped before this one.
    pub(crate) suppressed: Option<u64>,
    /// The name of the thread that logged it, for a logger that writes it.
    pub(crate) thread: Option<&'a str>,
    pub(crate) backtrace: Option<&'a str>,
    /// The context's id (see `record::context_block`), 0 for none.
    context_id: u64,
    context: &'a [u8],
    /// The scope's id (see `record::new_block_id`), 0 for none.
    scope_id: u64,
    scope: &'a [u8],
    /// The call's values (one per site key), or for a dynamic entry its
    /// fields.
    values: &'a [u8],
}

impl<'a> Event<'a> {
    /// Decodes a whole record (`bytes` holds exactly one); `None` if it is
    /// malformed.
    #[inline]
    pub(crate) fn decode(bytes: &'a [u8], clock: &Converter) -> Option<Event<'a>> {
        let mut r = Reader::new(bytes);
        let h: Header = r.header()?;
        let time = clock.shown(h.flags, h.time);
        let suppressed = if h.flags & record::SUPPRESSED != 0 {
            Some(r.u64()?)
        } else {
            None
        };
        let head = match h.site() {
            Some(site) => Head::Site(site),
            None => Head::Dynamic(DynamicHead::read(&mut r)?),
        };
        let thread = if h.flags & record::THREAD != 0 {
            Some(r.str()?)
        } else {
            None
        };
        let (context_id, context) = if h.flags & record::CONTEXT != 0 {
            record::split_block(r.block()?.rest())
        } else {
            (0, &[][..])
        };
        let (scope_id, scope) = if h.flags & record::SCOPE != 0 {
            record::split_block(r.block()?.rest())
        } else {
            (0, &[][..])
        };
        let backtrace = if h.flags & record::BACKTRACE != 0 {
            match r.value()? {
                Val::Str(s) => Some(s),
                _ => None,
            }
        } else {
            None
        };
        Some(Event {
            level: h.level,
            time,
            head,
            suppressed,
            thread,
            backtrace,
            context_id,
            context,
            scope_id,
            scope,
            values: r.rest(),
        })
    }

    /// The call site, for entries of one.
    #[inline]
    pub(crate) fn site(&self) -> Option<&'static Site> {
        match self.head {
            Head::Site(site) => Some(site),
            Head::Dynamic(_) => None,
        }
    }

    /// The source file and line, if known (velo's own entries have
    /// none; a bridged record may have a file without its line).
    #[inline]
    pub(crate) fn caller(&self) -> Option<(&'a str, Option<u32>)> {
        match self.head {
            Head::Site(site) => (!site.is_velos()).then(|| (site.file(), Some(site.line))),
            Head::Dynamic(d) => match d.parts() {
                (_, "", ..) => None,
                // 0: the bridge's record had no line.
                (_, file, line, ..) => Some((file, (line != 0).then_some(line))),
            },
        }
    }

    /// The message as the filters match it: a call's as written, a
    /// bridged record's as formatted.
    pub(crate) fn filter_message(&self) -> &'a str {
        match self.head {
            Head::Site(site) => site.message(),
            Head::Dynamic(d) => d.message(),
        }
    }

    /// The module path of the code that logged.
    #[inline]
    pub(crate) fn module_path(&self) -> &'a str {
        match self.head {
            Head::Site(site) => site.module_path(),
            Head::Dynamic(d) => d.parts().3,
        }
    }

    /// The target to write, when it is not the module path.
    #[inline]
    pub(crate) fn target(&self) -> Option<&'a str> {
        match self.head {
            Head::Site(site) => site.target(),
            Head::Dynamic(d) => {
                let (.., module, target) = d.parts();
                (!target.is_empty() && target != module).then_some(target)
            }
        }
    }

    /// The target a line or record writes: [`Event::target`], else, when
    /// every target is written (`Builder::targets`), the module path.
    #[inline]
    pub(crate) fn written_target(&self, every: bool) -> Option<&'a str> {
        self.target().or_else(|| {
            let module = self.module_path();
            (every && !module.is_empty()).then_some(module)
        })
    }

    /// The call's values, in key order (for template placeholders).
    pub(crate) fn call_value(&self, index: usize) -> Option<Val<'a>> {
        let mut r = Reader::new(self.values);
        for _ in 0..index {
            r.value()?;
        }
        r.value()
    }

    /// Whether the call itself sets `key`, shadowing the outer layers'
    /// fields of that name. velo's own entries shadow none: their keys are
    /// velo's, and such a field is renamed instead (see `line::Builtins`).
    #[inline]
    fn call_has(&self, key: &str) -> bool {
        match self.head {
            // The name first: it rarely matches.
            Head::Site(site) => site.names.contains(&key) && !site.is_velos(),
            Head::Dynamic(_) => record::has_key(self.values, key),
        }
    }

    /// The logger's context fields, encoded.
    #[inline]
    pub(crate) fn context(&self) -> &'a [u8] {
        self.context
    }

    /// The id of the thread's scope fields: the same for every entry the
    /// thread logs until its scope changes, never for other fields; 0
    /// when unknown.
    #[inline]
    pub(crate) fn scope_id(&self) -> u64 {
        self.scope_id
    }

    /// The id of the logger's context (see `record::context_block`): the
    /// same for every entry with these fields from one logger, never for
    /// other fields; 0 when unknown.
    #[inline]
    pub(crate) fn context_id(&self) -> u64 {
        self.context_id
    }

    /// The thread's scope fields, encoded.
    #[inline]
    pub(crate) fn scope(&self) -> &'a [u8] {
        self.scope
    }

    /// Whether a field of the context (`in_context`) or the scope with this
    /// key is shadowed by an inner layer's.
    #[inline]
    pub(crate) fn shadowed(&self, key: &str, in_context: bool) -> bool {
        self.call_has(key) || (in_context && record::has_key(self.scope, key))
    }

    /// Whether a layer at `from` or inside it has a field whose key
    /// satisfies `pred` (shadowed or not).
    pub(crate) fn any_key_within(&self, from: Layer, pred: impl Fn(&str) -> bool) -> bool {
        (from <= Layer::Context && record::field_keys(self.context).any(&pred))
            || (from <= Layer::Scope && record::field_keys(self.scope).any(&pred))
            || match self.head {
                Head::Site(site) => site.names.iter().any(|k| pred(k)),
                Head::Dynamic(_) => record::field_keys(self.values).any(&pred),
            }
    }

    /// Whether the call sets any field at all.
    #[inline]
    pub(crate) fn call_has_fields(&self) -> bool {
        !self.values.is_empty()
    }

    /// The call's encoded values (a static site's, one per key) or fields
    /// (a dynamic entry's).
    #[inline]
    pub(crate) fn values(&self) -> &'a [u8] {
        self.values
    }

    /// Every field of the entry, context first, each key once (the
    /// innermost wins); the context's keys are checked against the scope
    /// through `index`, prepared for this entry (see [`ScopeIndex`]).
    #[inline]
    pub(crate) fn fields<'e>(&'e self, index: &'e ScopeIndex) -> Fields<'e, 'a> {
        // Most entries have neither context nor scope: start at the call.
        let (layer, bytes) = if !self.context.is_empty() {
            (Layer::Context, self.context)
        } else if !self.scope.is_empty() {
            (Layer::Scope, self.scope)
        } else {
            (Layer::Call, self.values)
        };
        Fields {
            event: self,
            scope_index: index,
            layer,
            reader: Reader::new(bytes),
            index: 0,
        }
    }
}

/// A layer of an entry's fields, outermost first: the order is the
/// nesting, so `Layer::Scope < Layer::Call`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Layer {
    Context,
    Scope,
    Call,
}

impl Layer {
    /// The layer inside this one (the call is innermost).
    pub(crate) fn inner(self) -> Layer {
        match self {
            Layer::Context => Layer::Scope,
            Layer::Scope | Layer::Call => Layer::Call,
        }
    }
}

/// The iterator of [`Event::fields`].
#[derive(Debug)]
pub(crate) struct Fields<'e, 'a> {
    event: &'e Event<'a>,
    /// The scope's keys, indexed when large.
    scope_index: &'e ScopeIndex,
    layer: Layer,
    reader: Reader<'a>,
    /// Index of the next call value among the site's keys.
    index: usize,
}

#[cfg(feature = "otlp")]
impl Fields<'_, '_> {
    /// The layer of the field `next` returned last.
    pub(crate) fn layer(&self) -> Layer {
        self.layer
    }

    /// The fields after the one `next` returned last in its context or
    /// scope (see `line::written`).
    pub(crate) fn later(&self) -> &[u8] {
        self.reader.rest()
    }
}

impl<'a> Iterator for Fields<'_, 'a> {
    type Item = (&'a str, Val<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.layer {
                Layer::Context | Layer::Scope => {
                    let Some((name, value)) = self.reader.field() else {
                        if self.layer == Layer::Context {
                            self.layer = Layer::Scope;
                            self.reader = Reader::new(self.event.scope);
                        } else {
                            self.layer = Layer::Call;
                            self.reader = Reader::new(self.event.values);
                        }
                        continue;
                    };
                    let in_context = self.layer == Layer::Context;
                    if !self.scope_index.shadowed(self.event, name, in_context) {
                        return Some((name, value));
                    }
                }
                Layer::Call => {
                    return match self.event.head {
                        Head::Site(site) => {
                            let name = site.names.get(self.index)?;
                            let value = self.reader.value()?;
                            self.index += 1;
                            Some((name, value))
                        }
                        // A bridged record may repeat a key (`log`'s
                        // key-values are a plain list): the last one wins.
                        Head::Dynamic(_) => loop {
                            let (name, value) = self.reader.field()?;
                            if !record::field_keys(self.reader.rest()).any(|k| k == name) {
                                return Some((name, value));
                            }
                        },
                    };
                }
            }
        }
    }
}

/// The scope size, in bytes, from which a context's keys are checked
/// against an index of the scope's keys rather than by a scan of the
/// scope: about thirty fields.
const SCOPE_INDEX_MIN: usize = 512;

/// An entry's scope keys, hashed and sorted, when its scope is large and
/// it has a context too: checking each context key against the scope by a
/// scan would cost the product of their sizes on every entry. Kept by a
/// line format or an output and reused from entry to entry; offsets into
/// the scope's bytes.
#[derive(Debug, Default)]
pub(crate) struct ScopeIndex {
    keys: Vec<(u64, u32, u32)>,
    /// `keys` is the current entry's.
    built: bool,
}

impl ScopeIndex {
    /// Indexes `ev`'s scope if it is large and `ev` has a context.
    pub(crate) fn prepare(&mut self, ev: &Event<'_>) {
        self.built = !ev.context.is_empty() && ev.scope.len() >= SCOPE_INDEX_MIN;
        if !self.built {
            return;
        }
        self.keys.clear();
        let mut r = Reader::new(ev.scope);
        while let Some((name, _)) = r.field() {
            let start = name.as_ptr() as usize - ev.scope.as_ptr() as usize;
            self.keys.push((
                key_hash(name.as_bytes()),
                start as u32,
                (start + name.len()) as u32,
            ));
        }
        self.keys.sort_unstable_by_key(|&(hash, ..)| hash);
    }

    /// [`Event::shadowed`], through the index when [`ScopeIndex::prepare`]
    /// built one for `ev`.
    #[inline]
    pub(crate) fn shadowed(&self, ev: &Event<'_>, key: &str, in_context: bool) -> bool {
        if !(in_context && self.built) {
            return ev.shadowed(key, in_context);
        }
        if ev.call_has(key) {
            return true;
        }
        let hash = key_hash(key.as_bytes());
        let from = self.keys.partition_point(|&(h, ..)| h < hash);
        self.keys[from..]
            .iter()
            .take_while(|&&(h, ..)| h == hash)
            .any(|&(_, s, e)| &ev.scope[s as usize..e as usize] == key.as_bytes())
    }
}

/// A key's hash for [`ScopeIndex`] (FNV-1a).
fn key_hash(key: &[u8]) -> u64 {
    key.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
