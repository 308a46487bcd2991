//! The spans of the `tracing` bridge: their fields, encoded once, and which
//! of them each thread is inside.
//!
//! A span's fields are encoded when the span is created (and again when
//! `record` adds some), as a field list in the layout of a logger's context
//! (`record.rs`). Beside its own fields a span keeps its *scope*: its
//! parent's scope followed by its own fields, each key once, the inner value
//! winning. So an event inside the span copies one ready-made list, its
//! spans outermost first, and no span is visited on the event's path.
//!
//! # The store
//!
//! Spans live in a slab: pages of slots that are allocated on first use and
//! never move or shrink, so a lookup is an index computation and one
//! `OnceLock` load, without a global lock. Page `p` holds `BASE << p` slots,
//! so 26 pages cover every index a span id can name. Each slot has its own
//! `RwLock` around its span and a *generation*, bumped whenever the slot is
//! freed: a span id is `generation << 32 | (index + 1)`, so an id that
//! outlived its span names nothing, even after the slot is reused. Free
//! indices go to one of [`SHARDS`] lists, the freeing thread's own, and a
//! new span takes from its thread's list first, so threads that create and
//! close spans do not meet on one lock.
//!
//! A span counts its references (`clone_span`, `try_close`, and one per
//! child, since a child's scope names its ancestors); at zero its data is
//! dropped, its slot freed, and its parent released in turn.
//!
//! # Entered spans
//!
//! Each thread keeps a stack of the spans it has entered, innermost last,
//! each with a copy (a shared `Arc`) of its scope taken when it was
//! entered. An event inside spans reads the top of this stack: no lock, no
//! lookup. A `record` that changes a span's fields bumps the store's
//! *epoch*; a stack entry taken at an older epoch is refreshed from the
//! store before use, and a span's scope computed at an older epoch is
//! recomputed from its parent's. Exiting a span pops its entry, so nothing
//! of a span is seen after it is exited.

use crate::fields;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockWriteGuard};
use tracing_core::span::Id;
use tracing_core::Metadata;

/// Slots in the first page; page `p` has `BASE << p`.
const BASE: usize = 64;
/// Pages: `BASE * (2^PAGES - 1)` slots, every index below `u32::MAX`.
const PAGES: usize = 26;
/// Lists of free indices.
const SHARDS: usize = 8;
/// The epoch of a span whose scope must be recomputed.
const STALE: u64 = u64::MAX;

/// The spans of one subscriber.
pub(crate) struct Spans {
    /// Unique among stores: tells this store's entries apart in each
    /// thread's stack.
    id: u64,
    pages: [OnceLock<Box<[Slot]>>; PAGES],
    /// The first index never handed out.
    next: AtomicU32,
    free: [Mutex<Vec<u32>>; SHARDS],
    /// Indices in the free lists (a hint: whether to look there at all).
    free_count: AtomicUsize,
    /// Bumped by every `record` that changes a span's fields.
    epoch: AtomicU64,
}

impl std::fmt::Debug for Spans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spans")
            .field("id", &self.id)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Slot(RwLock<State>);

#[derive(Default)]
struct State {
    /// Bumped when the slot is freed; the high half of its spans' ids.
    generation: u32,
    span: Option<Span>,
}

struct Span {
    /// `clone_span` calls, the creating handle, and one per live child.
    refs: usize,
    meta: &'static Metadata<'static>,
    parent: Option<u64>,
    /// This span's fields.
    own: Vec<u8>,
    /// The parent's scope, then `own`, each key once.
    scope: Arc<[u8]>,
    /// The store's epoch `scope` was computed at, or [`STALE`].
    epoch: u64,
}

/// A span this thread has entered.
struct Entered {
    store: u64,
    id: u64,
    meta: &'static Metadata<'static>,
    scope: Arc<[u8]>,
    /// The store's epoch when `scope` was read.
    epoch: u64,
}

thread_local! {
    /// The spans this thread is inside, innermost last, of every store.
    static STACK: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
    /// This thread's free list, plus one (0: not yet chosen).
    static SHARD: Cell<usize> = const { Cell::new(0) };
}

/// This thread's free list.
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SHARD
        .try_with(|s| {
            if s.get() == 0 {
                s.set(NEXT.fetch_add(1, Relaxed) % SHARDS + 1);
            }
            s.get() - 1
        })
        .unwrap_or(0)
}

/// The page and the offset in it of slot `index`.
fn locate(index: u32) -> (usize, usize) {
    let index = index as usize;
    let q = index / BASE + 1;
    let page = (usize::BITS - 1 - q.leading_zeros()) as usize;
    (page, index - BASE * ((1 << page) - 1))
}

fn split(id: u64) -> Option<(u32, u32)> {
    let index = (id as u32).checked_sub(1)?;
    Some((index, (id >> 32) as u32))
}

fn join(index: u32, generation: u32) -> u64 {
    u64::from(generation) << 32 | u64::from(index + 1)
}

/// An id that names no span: given when the store is full.
const NO_SPAN: u64 = u64::MAX;

/// A number unique among span stores and layers: tells whose spans a
/// thread's entries (and a span's extensions) hold.
pub(crate) fn next_owner_id() -> u64 {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    NEXT_ID.fetch_add(1, Relaxed)
}

impl Spans {
    pub(crate) fn new() -> Spans {
        Spans {
            id: next_owner_id(),
            pages: [const { OnceLock::new() }; PAGES],
            next: AtomicU32::new(0),
            free: [const { Mutex::new(Vec::new()) }; SHARDS],
            free_count: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    fn slot(&self, index: u32) -> Option<&Slot> {
        let (page, offset) = locate(index);
        self.pages.get(page)?.get()?.get(offset)
    }

    /// The locked state of the live span `id`.
    fn write(&self, id: u64) -> Option<RwLockWriteGuard<'_, State>> {
        let (index, generation) = split(id)?;
        let state = self
            .slot(index)?
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        (state.generation == generation && state.span.is_some()).then_some(state)
    }

    fn alloc(&self) -> Option<u32> {
        if self.free_count.load(Relaxed) > 0 {
            let home = shard();
            for k in 0..SHARDS {
                let list = &self.free[(home + k) % SHARDS];
                let popped = list.lock().unwrap_or_else(PoisonError::into_inner).pop();
                if let Some(index) = popped {
                    self.free_count.fetch_sub(1, Relaxed);
                    return Some(index);
                }
            }
        }
        let index = self.next.fetch_add(1, Relaxed);
        let (page, _) = locate(index);
        let slots = self.pages.get(page)?;
        slots.get_or_init(|| (0..BASE << page).map(|_| Slot::default()).collect());
        Some(index)
    }

    fn release(&self, index: u32) {
        self.free[shard()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(index);
        self.free_count.fetch_add(1, Relaxed);
    }

    /// A new span with `own` fields, inside `parent`; its id.
    pub(crate) fn create(
        &self,
        meta: &'static Metadata<'static>,
        parent: Option<&Id>,
        own: Vec<u8>,
    ) -> Id {
        let epoch = self.epoch.load(Relaxed);
        // The parent gains a reference: the child's scope names it.
        let parent = parent.and_then(|p| {
            let mut state = self.write(p.into_u64())?;
            state.span.as_mut()?.refs += 1;
            Some(p.into_u64())
        });
        let outer = parent.and_then(|p| self.scope_at(p, epoch));
        let scope = scope_of(outer.as_deref(), &own);
        let Some(index) = self.alloc() else {
            if let Some(p) = parent {
                self.close(p);
            }
            return Id::from_u64(NO_SPAN);
        };
        let slot = self.slot(index).expect("allocated slots exist");
        let mut state = slot.0.write().unwrap_or_else(PoisonError::into_inner);
        state.span = Some(Span {
            refs: 1,
            meta,
            parent,
            own,
            scope,
            epoch,
        });
        Id::from_u64(join(index, state.generation))
    }

    /// Adds or replaces fields of span `id` with `values` (encoded fields).
    pub(crate) fn record(&self, id: &Id, values: &[u8]) {
        if values.is_empty() {
            return;
        }
        let Some(mut state) = self.write(id.into_u64()) else {
            return;
        };
        let Some(span) = state.span.as_mut() else {
            return;
        };
        span.own = fields::merge(&span.own, values);
        span.epoch = STALE;
        drop(state);
        // Relaxed: the epoch only tells readers to look again; what they
        // read then is under the span's lock.
        self.epoch.fetch_add(1, Relaxed);
    }

    /// One more reference to `id`.
    pub(crate) fn clone_span(&self, id: &Id) {
        if let Some(mut state) = self.write(id.into_u64()) {
            if let Some(span) = state.span.as_mut() {
                span.refs += 1;
            }
        }
    }

    /// Drops a reference to `id`; `true` when it was the last, and the span
    /// is gone. Its parent loses the reference the span held.
    pub(crate) fn close(&self, id: u64) -> bool {
        let mut next = Some(id);
        let mut closed = false;
        let mut first = true;
        while let Some(id) = next.take() {
            let Some(mut state) = self.write(id) else {
                break;
            };
            let Some(span) = state.span.as_mut() else {
                break;
            };
            span.refs -= 1;
            if span.refs > 0 {
                break;
            }
            let span = state.span.take();
            state.generation = state.generation.wrapping_add(1);
            drop(state);
            if let Some((index, _)) = split(id) {
                self.release(index);
            }
            closed |= first;
            first = false;
            next = span.and_then(|s| s.parent);
        }
        closed
    }

    /// The scope of span `id`, as of epoch `epoch` or later.
    ///
    /// A scope older than `epoch` is recomputed from its parent's, and so
    /// on up: the spans with an older scope are found going up (each lock
    /// taken on its own), then recomputed going down, in a loop, since
    /// spans may nest tens of thousands deep.
    fn scope_at(&self, id: u64, epoch: u64) -> Option<Arc<[u8]>> {
        // The spans whose scope is older than `epoch`, innermost first,
        // and the scope they are inside.
        let mut stale = Vec::new();
        let mut outer = None;
        let mut next = Some(id);
        while let Some(current) = next.take() {
            let found = self.read_scope(current, epoch);
            match found {
                // Gone (closed meanwhile): nothing around it.
                None if current == id => return None,
                None => {}
                Some(Ok(scope)) => outer = Some(scope),
                Some(Err(parent)) => {
                    stale.push(current);
                    next = parent;
                }
            }
        }
        for &span_id in stale.iter().rev() {
            let Some(mut state) = self.write(span_id) else {
                if span_id == id {
                    return None;
                }
                outer = None;
                continue;
            };
            let Some(span) = state.span.as_mut() else {
                outer = None;
                continue;
            };
            span.scope = scope_of(outer.as_deref(), &span.own);
            span.epoch = epoch;
            outer = Some(Arc::clone(&span.scope));
        }
        outer
    }

    /// `f` of the live span `id`, under its slot's read lock; `None` when
    /// the span is gone.
    fn read<R>(&self, id: u64, f: impl FnOnce(&Span) -> R) -> Option<R> {
        let (index, generation) = split(id)?;
        let state = self
            .slot(index)?
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let span = state
            .span
            .as_ref()
            .filter(|_| state.generation == generation)?;
        Some(f(span))
    }

    /// Span `id`'s scope if it is as of `epoch`, else its parent; `None`
    /// when the span is gone.
    fn read_scope(&self, id: u64, epoch: u64) -> Option<Result<Arc<[u8]>, Option<u64>>> {
        self.read(id, |span| {
            if span.epoch == epoch {
                Ok(Arc::clone(&span.scope))
            } else {
                Err(span.parent)
            }
        })
    }

    /// The fields of span `id` and of the spans it is inside, outermost
    /// first (an event with an explicit parent).
    pub(crate) fn scope(&self, id: &Id) -> Option<Arc<[u8]>> {
        self.scope_at(id.into_u64(), self.epoch.load(Relaxed))
    }

    /// This thread enters span `id`.
    pub(crate) fn enter(&self, id: &Id) {
        let epoch = self.epoch.load(Relaxed);
        let id = id.into_u64();
        let Some((meta, fresh)) = self.meta(id, epoch) else {
            return;
        };
        let Some(scope) = fresh.or_else(|| self.scope_at(id, epoch)) else {
            return;
        };
        let _ = STACK.try_with(|stack| {
            if let Ok(mut stack) = stack.try_borrow_mut() {
                stack.push(Entered {
                    store: self.id,
                    id,
                    meta,
                    scope,
                    epoch,
                });
            }
        });
    }

    /// The store's id (see [`next_owner_id`]).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// This thread exits span `id`: its innermost entry goes.
    pub(crate) fn exit(&self, id: &Id) {
        let id = id.into_u64();
        let _ = STACK.try_with(|stack| {
            if let Ok(mut stack) = stack.try_borrow_mut() {
                if let Some(i) = stack.iter().rposition(|e| e.store == self.id && e.id == id) {
                    stack.remove(i);
                }
            }
        });
    }

    /// The metadata of span `id`, and its scope if it is current at
    /// `epoch`: what entering it needs, under one lock.
    fn meta(&self, id: u64, epoch: u64) -> Option<(&'static Metadata<'static>, Option<Arc<[u8]>>)> {
        self.read(id, |span| {
            let scope = (span.epoch == epoch).then(|| Arc::clone(&span.scope));
            (span.meta, scope)
        })
    }

    /// The span this thread is in, innermost.
    pub(crate) fn current(&self) -> Option<(Id, &'static Metadata<'static>)> {
        STACK
            .try_with(|stack| {
                let stack = stack.try_borrow().ok()?;
                let top = stack.iter().rev().find(|e| e.store == self.id)?;
                Some((Id::from_u64(top.id), top.meta))
            })
            .ok()
            .flatten()
    }

    /// The fields of the spans this thread is in, outermost first, each key
    /// once: what an event here carries.
    pub(crate) fn current_scope(&self) -> Option<Arc<[u8]>> {
        let epoch = self.epoch.load(Relaxed);
        let (id, scope, fresh) = STACK
            .try_with(|stack| {
                let stack = stack.try_borrow().ok()?;
                let top = stack.iter().rev().find(|e| e.store == self.id)?;
                Some((top.id, Arc::clone(&top.scope), top.epoch == epoch))
            })
            .ok()
            .flatten()?;
        if fresh {
            return Some(scope);
        }
        let scope = self.scope_at(id, epoch)?;
        let _ = STACK.try_with(|stack| {
            if let Ok(mut stack) = stack.try_borrow_mut() {
                if let Some(top) = stack
                    .iter_mut()
                    .rev()
                    .find(|e| e.store == self.id && e.id == id)
                {
                    top.scope = Arc::clone(&scope);
                    top.epoch = epoch;
                }
            }
        });
        Some(scope)
    }

    /// Live spans (tests).
    #[cfg(test)]
    pub(crate) fn live(&self) -> usize {
        let mut live = 0;
        for page in self.pages.iter().filter_map(OnceLock::get) {
            for slot in page.iter() {
                let state = slot.0.read().unwrap_or_else(PoisonError::into_inner);
                live += usize::from(state.span.is_some());
            }
        }
        live
    }
}

/// A span's scope: the scope it is inside (`outer`) followed by its `own`
/// fields, each key once, its own value winning.
fn scope_of(outer: Option<&[u8]>, own: &[u8]) -> Arc<[u8]> {
    match outer {
        Some(outer) if !outer.is_empty() => fields::merge(outer, own).into(),
        _ => own.into(),
    }
}

impl Drop for Spans {
    fn drop(&mut self) {
        // This store's entries in this thread's stack name spans that are
        // gone (a scoped subscriber dropped while inside its spans).
        let _ = STACK.try_with(|stack| {
            if let Ok(mut stack) = stack.try_borrow_mut() {
                stack.retain(|e| e.store != self.id);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_map_to_pages() {
        // (index, page, offset)
        let cases = [
            (0, 0, 0),
            (63, 0, 63),
            (64, 1, 0),
            (191, 1, 127),
            (192, 2, 0),
            (
                u32::MAX - 1,
                PAGES,
                (u32::MAX - 1) as usize - BASE * ((1 << PAGES) - 1),
            ),
        ];
        for (index, page, offset) in cases {
            assert_eq!(locate(index), (page, offset), "{index}");
        }
        assert_eq!(split(join(5, 9)), Some((5, 9)));
        assert_eq!(split(0), None);
    }
}
