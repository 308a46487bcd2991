//! Per-thread state: the buffer records are encoded into, the thread's
//! ring for each asynchronous logger it logs to, its scope fields, and
//! which loggers' outputs it is writing to right now.
//!
//! A call site writes its record straight into this thread's ring when the
//! ring has room before its end and the record's values run none of the
//! user's code ([`reserve`], [`commit`]). Otherwise it takes this thread's
//! encoding buffer, writes its record into it (or moves what it wrote in
//! place there, [`spill`]), hands the bytes to the logger (which copies
//! them into this thread's ring) and puts the buffer back. In steady state
//! nothing is allocated and no other thread is touched. A buffer that grew past [`MAX_RETAINED`]
//! (one huge entry) is replaced by a small one, so the memory a thread
//! keeps is bounded: this buffer plus one ring of at most
//! [`ring::MAX_BYTES`](crate::ring::MAX_BYTES) per logger it logs to (rings
//! start small and grow only for threads that fill them).
//!
//! When the thread exits, its rings are marked orphaned; the logger writes
//! what they hold and then frees them, so nothing logged is lost.
//!
//! A signal handler that logs can interrupt its thread anywhere, in the
//! middle of velo too, and then runs on the same thread-local state. So
//! velo marks the thread *busy* ([`Local::busy`], one byte, set and
//! restored around each use) while it works on that state (the encoding
//! buffer, the rings; a record written in place, from its start to its
//! publication) or in a cold path that allocates or takes a lock
//! (registering or growing a ring, waking the worker). An entry started
//! while the thread is busy comes from such a handler: it touches none of
//! that state, allocates nothing (it is encoded into a spare buffer kept
//! for it) and is dropped and counted.

use crate::caller_format;
use crate::clock;
use crate::options::Style;
use crate::record::Slot;
use crate::ring::Ring;
use crate::thread::SignalsBlocked;
use std::cell::{Cell, OnceCell, RefCell};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Capacity of a fresh buffer: room for a typical record.
pub(crate) const INITIAL_CAPACITY: usize = 256;

/// The largest capacity a kept buffer may have.
pub(crate) const MAX_RETAINED: usize = 64 * 1024;

struct Local {
    /// The encoding buffer; empty (capacity 0) while an entry uses it.
    scratch: Cell<Vec<u8>>,
    /// The buffer an entry started while the thread is busy is encoded
    /// into (see the module docs); allocated with the thread's first
    /// buffer, so such an entry allocates nothing.
    spare: Cell<Vec<u8>>,
    /// The spare buffer's address, to recognise it when it comes back.
    spare_ptr: Cell<*const u8>,
    /// Set while an entry uses the spare buffer (or it is being made).
    spare_out: Cell<bool>,
    /// This thread's rings, by the id of their logger's core.
    rings: RefCell<Vec<(u64, Arc<Ring>)>>,
    /// The ring in `rings` that an entry was last written into in place,
    /// with its logger's core id; null when none. Every change to `rings`
    /// clears it (only this thread changes them), so the ring it points
    /// to is alive and this thread's current one for that logger.
    last: Cell<(u64, *const Ring)>,
    /// Set while velo works on this thread's state or in a cold path that
    /// allocates or locks; see the module docs.
    busy: Cell<bool>,
    /// This thread's name, for loggers that write it (see
    /// [`put_thread_name`]); read at the first such entry.
    name: OnceCell<Box<str>>,
    /// The fields of the scopes this thread is in, merged, encoded as a
    /// field list: the `tracing` spans' (`spans`), then velo's scopes'; its
    /// length, to test without borrowing.
    scope: RefCell<Vec<u8>>,
    scope_len: Cell<usize>,
    /// `scope`'s id, new whenever it changes (see
    /// `record::new_block_id`), that entries carry with it.
    scope_id: Cell<u64>,
    /// `own`'s id, the same way.
    own_id: Cell<u64>,
    /// The fields of the `tracing` span this thread is in (with its
    /// parents'), when it has any (see [`set_span_scope`]).
    spans: RefCell<Vec<(u64, Arc<[u8]>)>>,
    /// While `spans` is set: velo's scopes' fields alone, which `scope`
    /// merges after the spans'. (Without spans, `scope` holds them.)
    own: RefCell<Vec<u8>>,
    /// What `scope` was last merged from, with the merged fields' id (see
    /// [`merged_id`]).
    merged: RefCell<Option<Merged>>,
    /// The cores whose output lock this thread holds, innermost last.
    writing: RefCell<Vec<u64>>,
    /// The progress counter of the innermost output this thread holds
    /// (see [`wrote_some`]).
    beat: RefCell<Option<Arc<AtomicU64>>>,
    /// An earlier logger's core whose output lock this thread gave up
    /// waiting for while it holds the ones in `writing` (see
    /// [`holds_output_after`]).
    gave_up: Cell<Option<u64>>,
    /// The logger's core whose output this thread holds and whose writer
    /// queued an entry for it since the thread last looked (see
    /// [`take_reentrant`]).
    reentrant: Cell<Option<u64>>,
    /// The loggers' cores whose writers' entries are dropped rather than
    /// queued while this thread ends their writes (see [`drop_reentrant`]):
    /// one per write in the last of its rounds, nested (a writer of one
    /// logger writing to another); [`NO_CORE`] in the free slots.
    dropping: Cell<[u64; DROP_MARKS]>,
    /// The logger's core whose output lock this thread is taking or
    /// letting go of (see [`acquiring`]).
    acquiring: Cell<Option<u64>>,
    /// This thread runs velo's panic hook (see [`as_panic_hook`]).
    in_panic_hook: Cell<bool>,
    /// This thread runs the user's code inside an output (see
    /// [`as_output_user_code`]).
    in_user_output: Cell<bool>,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.last.set((0, std::ptr::null()));
        for (_, ring) in self.rings.get_mut().drain(..) {
            ring.orphan();
        }
    }
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            scratch: Cell::new(Vec::new()),
            spare: Cell::new(Vec::new()),
            spare_ptr: Cell::new(std::ptr::null()),
            spare_out: Cell::new(false),
            rings: RefCell::new(Vec::new()),
            last: Cell::new((0, std::ptr::null())),
            busy: Cell::new(false),
            name: OnceCell::new(),
            scope: RefCell::new(Vec::new()),
            scope_len: Cell::new(0),
            scope_id: Cell::new(0),
            own_id: Cell::new(0),
            spans: RefCell::new(Vec::new()),
            own: RefCell::new(Vec::new()),
            merged: RefCell::new(None),
            writing: RefCell::new(Vec::new()),
            beat: RefCell::new(None),
            gave_up: Cell::new(None),
            reentrant: Cell::new(None),
            dropping: Cell::new([NO_CORE; DROP_MARKS]),
            acquiring: Cell::new(None),
            in_panic_hook: Cell::new(false),
            in_user_output: Cell::new(false),
        }
    };
}

/// Size of the spare buffer: room for an entry logged from a signal
/// handler.
const SPARE_CAPACITY: usize = 1024;

/// An empty buffer to encode a record into, and whether this thread is in
/// a scope (see [`append_scope`]): this thread's buffer, unless it is in
/// use (an entry logged while encoding another), the thread is busy (see
/// the module docs: the spare buffer then, outside any scope) or gone (the
/// thread is exiting).
#[inline]
pub(crate) fn take() -> (Vec<u8>, bool) {
    let taken = LOCAL.try_with(|l| {
        if l.busy.replace(true) {
            // Leaves `busy` set: the interrupted code set it.
            return (l.take_spare(), false);
        }
        let buf = l.take_scratch();
        let scoped = l.scope_len.get() != 0;
        l.busy.set(false);
        (buf, scoped)
    });
    taken.unwrap_or_else(|_| (fresh(), false))
}

/// Appends this thread's name to a record (see `record::THREAD`): the
/// name it was given, `main` for the main thread, `<unnamed>` for a thread
/// without one. Read once per thread, as the thread's first entry that
/// carries it is encoded (which allocates, unless `std` has the name at
/// hand); a signal handler that interrupted velo before that writes
/// `<unknown>`, since reading the name may allocate.
pub(crate) fn put_thread_name(buf: &mut Vec<u8>) {
    let written = LOCAL.try_with(|l| {
        if let Some(name) = l.name.get() {
            return crate::record::put_str(buf, name);
        }
        if l.busy.replace(true) {
            // Leaves `busy` set: the interrupted code set it.
            return crate::record::put_str(buf, "<unknown>");
        }
        let name = l.name.get_or_init(thread_name);
        l.busy.set(false);
        crate::record::put_str(buf, name);
    });
    if written.is_err() {
        // The thread is exiting and its state is gone: read it again.
        crate::record::put_str(buf, &thread_name());
    }
}

/// The name `std` has for this thread.
fn thread_name() -> Box<str> {
    std::thread::current().name().unwrap_or("<unnamed>").into()
}

/// An entry being written in place in this thread's ring (see
/// [`reserve`]). The thread is busy while it lives: no code but velo's may
/// run until it is committed ([`commit`]), moved to a buffer ([`spill`])
/// or abandoned ([`abandon`]: nothing is published), each of which ends
/// the busy section. (Not a `Drop`: its owner's drop glue, at every call
/// site, stays as small as before.)
#[derive(Debug)]
pub(crate) struct Reserved {
    /// The entry's room in the ring.
    pub(crate) slot: Slot,
    /// The ring, kept alive by this thread's list: only this thread
    /// changes the list, and not while it is busy.
    ring: *const Ring,
    /// This thread's busy flag, which this clears when dropped; this
    /// thread's state outlives it (a `Reserved` is not `Send`, and lives
    /// within one call of `velo!`).
    busy: *const Cell<bool>,
}

impl Reserved {
    /// Whether the worker was behind this ring at its last drain (see
    /// `Ring::worker_behind`).
    #[inline(always)]
    pub(crate) fn worker_behind(&self) -> bool {
        // SAFETY: the ring is alive (see `ring`).
        unsafe { (*self.ring).worker_behind() }
    }

    /// Ends the busy section [`reserve`] began.
    #[inline]
    fn done(self) {
        // SAFETY: the flag is this thread's, alive (see `busy`).
        unsafe { (*self.busy).set(false) };
    }
}

/// Gives up an entry written in place: nothing is published.
#[cold]
pub(crate) fn abandon(reserved: Reserved) {
    reserved.done();
}

/// Room of at least `min` bytes in this thread's ring for the logger core
/// `core_id`, to write an entry in place, and whether this thread is in a
/// scope; `None` when the thread is busy (a signal handler), has no ring
/// for the logger yet, or the ring lacks the room before its end or is
/// full. Such an entry is encoded into a buffer instead ([`take`]), which
/// handles every case.
#[inline]
pub(crate) fn reserve(core_id: u64, min: usize) -> Option<(Reserved, bool)> {
    LOCAL
        .try_with(|l| {
            if l.busy.replace(true) {
                // Leaves `busy` set: the interrupted code set it.
                return None;
            }
            let reserved = l.reserve(core_id, min);
            if reserved.is_none() {
                l.busy.set(false);
            }
            Some((reserved?, l.scope_len.get() != 0))
        })
        .ok()
        .flatten()
}

/// Publishes the entry written in place in `reserved`; it is dated now
/// (see `clock::stamp`).
#[inline(always)]
pub(crate) fn commit(reserved: Reserved) {
    commit_with(reserved, |_| ());
}

/// [`commit`], with the record, complete and dated, handed to `rewrite`
/// first, which may write the slot again (a record for the same entry:
/// see `caller_format`). Still inside the busy section: `rewrite` must
/// not run the user's code.
#[inline(always)]
pub(crate) fn commit_with(mut reserved: Reserved, rewrite: impl FnOnce(&mut Slot)) {
    let record = reserved.slot.written_mut();
    // Dated as it goes into the queue (see `clock::stamp`).
    crate::record::finish_fresh(record, clock::read);
    rewrite(&mut reserved.slot);
    // SAFETY: the ring is alive (see `Reserved::ring`), and this thread,
    // its producer, wrote the slot's bytes at its tail, reserved since its
    // last push (no code but this entry's ran since).
    unsafe { (*reserved.ring).commit(reserved.slot.len()) };
    reserved.done();
}

/// Moves the entry written in place in `reserved` into this thread's
/// encoding buffer, as it is so far, and gives up the room: a value is
/// about to run the user's code (which may log, on this thread) or does
/// not fit.
#[cold]
pub(crate) fn spill(reserved: Reserved) -> Vec<u8> {
    let mut buf = LOCAL
        .try_with(|l| l.take_scratch())
        .unwrap_or_else(|_| fresh());
    buf.extend_from_slice(reserved.slot.written());
    reserved.done();
    buf
}

/// Appends this thread's scope fields to an entry written in place, as
/// [`append_scope`] does; `false` when they do not fit (nothing written).
#[cold]
pub(crate) fn append_scope_in(slot: &mut Slot) -> bool {
    LOCAL
        .try_with(|l| match l.scope.try_borrow() {
            Ok(scope) => slot.put_scope_block(l.scope_id.get(), &scope),
            Err(_) => slot.put_scope_block(0, &[]),
        })
        .unwrap_or(false)
}

/// Appends this thread's scope fields as a record block (an empty one if
/// they cannot be read: the scope is changing under a signal handler, or
/// the thread is exiting).
#[cold]
pub(crate) fn append_scope(buf: &mut Vec<u8>) {
    with_scope(|id, scope| crate::record::put_scope_block(buf, id, scope));
}

#[cold]
fn fresh() -> Vec<u8> {
    Vec::with_capacity(INITIAL_CAPACITY)
}

/// Returns a buffer from [`take`] to this thread.
#[inline]
pub(crate) fn give(buf: Vec<u8>) {
    let _ = LOCAL.try_with(|l| l.keep(buf));
}

/// Why an entry is not in this thread's ring.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Unpushed {
    /// The ring has no room for it now.
    Full,
    /// This thread has no ring for the logger yet (or no thread-local state
    /// any more): see [`register`].
    NoRing,
    /// The thread is busy inside velo (see the module docs): logging from
    /// a signal handler that interrupted it.
    Busy,
}

impl Local {
    /// This thread's encoding buffer (a new one if it has none yet).
    #[inline]
    fn take_scratch(&self) -> Vec<u8> {
        let buf = self.scratch.take();
        if buf.capacity() != 0 {
            return buf;
        }
        self.first_buffers()
    }

    /// Makes the spare buffer (if it is missing) and a new encoding
    /// buffer, with signals blocked: a signal handler's entry finds the
    /// spare buffer out while it is being made, and would allocate while
    /// this thread holds the allocator's lock, for good.
    #[cold]
    fn first_buffers(&self) -> Vec<u8> {
        let _blocked = SignalsBlocked::new();
        self.make_spare();
        fresh()
    }

    /// [`reserve`] inside the busy section it holds.
    #[inline]
    fn reserve(&self, core_id: u64, min: usize) -> Option<Reserved> {
        #[cfg(loom)]
        {
            // The rings' storage under loom has no addresses to write at.
            let _ = (core_id, min);
            None
        }
        #[cfg(not(loom))]
        self.reserve_in_ring(core_id, min)
    }

    #[cfg(not(loom))]
    #[inline]
    fn reserve_in_ring(&self, core_id: u64, min: usize) -> Option<Reserved> {
        let ring = match self.last.get() {
            (id, ring) if id == core_id && !ring.is_null() => ring,
            _ => self.find_ring(core_id)?,
        };
        // SAFETY: `ring` is in this thread's list (see `last`), so alive
        // while the list keeps it, and only this thread changes the list,
        // not while it is busy. A ring in the list is pushed to only by
        // this thread, and `busy`, which the caller set and the `Reserved`
        // clears, keeps this thread from pushing, sealing or reserving
        // again while the slot lives (a signal handler's entry is dropped;
        // nothing else runs).
        let slot = unsafe { (*ring).reserve(min)? };
        Some(Reserved {
            slot,
            ring,
            busy: &self.busy,
        })
    }

    /// This thread's ring for the logger core `core_id`, remembered in
    /// `last`.
    #[cfg(not(loom))]
    #[cold]
    fn find_ring(&self, core_id: u64) -> Option<*const Ring> {
        let rings = self.rings.try_borrow().ok()?;
        let ring = Arc::as_ptr(&rings.iter().find(|(id, _)| *id == core_id)?.1);
        self.last.set((core_id, ring));
        Some(ring)
    }

    /// The spare buffer, for an entry started while the thread is busy; an
    /// empty one (which allocates as it is written) if another such entry
    /// has it.
    #[cold]
    fn take_spare(&self) -> Vec<u8> {
        if self.spare_out.replace(true) {
            return Vec::new();
        }
        self.spare.take()
    }

    /// Makes the spare buffer, with the thread's first buffer (and again if
    /// an entry grew it and it was freed).
    #[cold]
    fn make_spare(&self) {
        if !self.spare_ptr.get().is_null() || self.spare_out.replace(true) {
            return;
        }
        let spare = Vec::with_capacity(SPARE_CAPACITY);
        self.spare_ptr.set(spare.as_ptr());
        self.spare.set(spare);
        self.spare_out.set(false);
    }

    /// Takes back a buffer while the thread is busy: the spare one is kept,
    /// any other freed.
    #[cold]
    fn give_spare(&self, mut buf: Vec<u8>) {
        if buf.as_ptr() == self.spare_ptr.get() && self.spare_out.get() {
            buf.clear();
            self.spare.set(buf);
            self.spare_out.set(false);
        } else if buf.as_ptr() != self.spare_ptr.get() {
            drop(buf);
        } else {
            // The spare buffer, but not handed out: cannot happen; keep it
            // out of the way rather than free it twice.
            std::mem::forget(buf);
        }
    }

    /// This thread's ring for the logger core `core_id`.
    fn ring(&self, core_id: u64) -> Option<Arc<Ring>> {
        let rings = self.rings.try_borrow().ok()?;
        rings
            .iter()
            .find(|(id, _)| *id == core_id)
            .map(|(_, ring)| Arc::clone(ring))
    }

    #[inline]
    fn push(&self, core_id: u64, entry: &mut [u8]) -> Result<(), Unpushed> {
        if self.busy.replace(true) {
            return Err(Unpushed::Busy);
        }
        let result = self.push_unguarded(core_id, entry, None);
        self.busy.set(false);
        result
    }

    /// [`Local::push`] inside a busy section the caller holds; with
    /// `lines`, as its line while the worker is behind (see
    /// `caller_format`).
    #[inline]
    fn push_unguarded(
        &self,
        core_id: u64,
        entry: &mut [u8],
        lines: Option<Style>,
    ) -> Result<(), Unpushed> {
        let rings = self.rings.try_borrow().map_err(|_| Unpushed::Busy)?;
        let ring = rings
            .iter()
            .find(|(id, _)| *id == core_id)
            .map(|(_, ring)| &**ring)
            .ok_or(Unpushed::NoRing)?;
        // Dated as it goes in, so the time and the publication are a copy
        // apart (see `clock::stamp`).
        clock::stamp(entry);
        // SAFETY (both pushes): a ring in this thread's list is pushed to
        // only by this thread (each thread registers its own), and `busy`,
        // which the caller set, keeps a signal handler on this thread from
        // pushing while it does.
        let as_line = match lines {
            Some(style) if ring.worker_behind() => {
                caller_format::push_line(core_id, style, entry, |line| unsafe { ring.push(line) })
            }
            _ => None,
        };
        // A line longer than the room left goes in as its record.
        if as_line == Some(true) || unsafe { ring.push(entry) } {
            Ok(())
        } else {
            Err(Unpushed::Full)
        }
    }

    /// Keeps `buf` as the encoding buffer, unless it grew too large.
    #[inline]
    fn keep(&self, buf: Vec<u8>) {
        if self.busy.replace(true) {
            // Leaves `busy` set: the interrupted code set it.
            return self.give_spare(buf);
        }
        self.keep_unguarded(buf);
        self.busy.set(false);
    }

    /// [`Local::keep`] inside a busy section the caller holds.
    #[inline]
    fn keep_unguarded(&self, mut buf: Vec<u8>) {
        if buf.capacity() <= MAX_RETAINED {
            buf.clear();
            self.scratch.set(buf);
        }
    }
}

/// Pushes `entry` into this thread's ring for the logger core `core_id`.
#[inline]
pub(crate) fn push(core_id: u64, entry: &mut [u8]) -> Result<(), Unpushed> {
    LOCAL
        .try_with(|l| l.push(core_id, entry))
        .unwrap_or(Err(Unpushed::NoRing))
}

/// Pushes the entry in `buf` into this thread's ring for the logger core
/// `core_id` and keeps `buf` as this thread's encoding buffer, in one visit
/// to the thread-local state (and one busy section); hands `buf` back when
/// the entry could not be pushed. With `lines`, the style of the logger's
/// lines, the entry goes in as its line while the worker is behind (see
/// `caller_format`).
#[inline]
pub(crate) fn push_and_keep(
    core_id: u64,
    buf: Vec<u8>,
    lines: Option<Style>,
) -> Result<(), (Vec<u8>, Unpushed)> {
    let mut slot = Some(buf);
    let pushed = LOCAL
        .try_with(|l| {
            if l.busy.replace(true) {
                // Leaves `busy` set: the interrupted code set it.
                return Err(Unpushed::Busy);
            }
            let entry = slot.as_deref_mut().unwrap_or_default();
            let pushed = l.push_unguarded(core_id, entry, lines);
            if let Some(buf) = slot.take_if(|_| pushed.is_ok()) {
                l.keep_unguarded(buf);
            }
            l.busy.set(false);
            pushed
        })
        .unwrap_or(Err(Unpushed::NoRing));
    match (pushed, slot) {
        (Err(unpushed), Some(buf)) => Err((buf, unpushed)),
        _ => Ok(()),
    }
}

/// Runs `f`, a cold path that allocates or takes a lock, with this thread
/// marked busy (see the module docs).
pub(crate) fn while_busy<R>(f: impl FnOnce() -> R) -> R {
    while_set(|l| &l.busy, f)
}

/// Runs `f` with `flag` of this thread set, then as it was.
fn while_set<R>(flag: fn(&Local) -> &Cell<bool>, f: impl FnOnce() -> R) -> R {
    let was = LOCAL.try_with(|l| flag(l).replace(true)).unwrap_or(false);
    let result = f();
    let _ = LOCAL.try_with(|l| flag(l).set(was));
    result
}

/// Whether this thread is busy inside velo: an entry logged now comes from
/// a signal handler that interrupted it (see the module docs).
pub(crate) fn is_busy() -> bool {
    LOCAL.try_with(|l| l.busy.get()).unwrap_or(false)
}

/// Runs `f` as velo's panic hook: a panic raised inside it aborts the
/// process, so the user's writer must not run on this thread meanwhile
/// (see `Core::write_now`).
pub(crate) fn as_panic_hook<R>(f: impl FnOnce() -> R) -> R {
    while_set(|l| &l.in_panic_hook, f)
}

/// Whether this thread runs velo's panic hook.
pub(crate) fn in_panic_hook() -> bool {
    LOCAL.try_with(|l| l.in_panic_hook.get()).unwrap_or(false)
}

/// Runs `f`, a call of the user's code an output makes (its writer's, its
/// appender's), marked so: an entry logged from inside an output comes
/// from that code (the writer logs), or else from a signal handler that
/// interrupted velo's own (see `Core::queue_reentrant`). Call it outside
/// the catching of `f`'s panic, which would leave the mark set.
pub(crate) fn as_output_user_code<R>(f: impl FnOnce() -> R) -> R {
    while_set(|l| &l.in_user_output, f)
}

/// Whether this thread runs the user's code inside an output; `true` when
/// its thread-locals are gone (in the exit's handler), where it cannot
/// tell, as only the user's code logs there.
pub(crate) fn in_output_user_code() -> bool {
    LOCAL.try_with(|l| l.in_user_output.get()).unwrap_or(true)
}

/// This thread's ring for the logger core `core_id`.
pub(crate) fn ring(core_id: u64) -> Option<Arc<Ring>> {
    LOCAL.try_with(|l| l.ring(core_id)).ok().flatten()
}

/// Makes `next` this thread's ring for the logger core `core_id`, in place
/// of `old` (which the caller has sealed); `false` if the thread can no
/// longer hold rings.
pub(crate) fn replace_ring(core_id: u64, next: Arc<Ring>) -> bool {
    LOCAL
        .try_with(|l| {
            let Ok(mut rings) = l.rings.try_borrow_mut() else {
                return false;
            };
            l.last.set((0, std::ptr::null()));
            match rings.iter_mut().find(|(id, _)| *id == core_id) {
                Some(slot) => {
                    slot.1 = next;
                    true
                }
                None => false,
            }
        })
        .unwrap_or(false)
}

/// Gives this thread a ring for the logger core `core_id`, made by `make`;
/// `false` when the thread is exiting and can have none. Forgets the rings
/// of loggers that are gone.
#[cold]
pub(crate) fn register(core_id: u64, make: impl FnOnce() -> Arc<Ring>) -> bool {
    LOCAL
        .try_with(|l| {
            let Ok(mut rings) = l.rings.try_borrow_mut() else {
                return false;
            };
            l.last.set((0, std::ptr::null()));
            rings.retain(|(_, ring)| !ring.is_retired());
            if !rings.iter().any(|(id, _)| *id == core_id) {
                rings.push((core_id, make()));
            }
            true
        })
        .unwrap_or(false)
}

/// An id of this thread that needs no thread-local state: still right in
/// an `atexit` handler, which `exit` runs after destroying the calling
/// thread's thread-locals. Never 0 where it is known.
pub(crate) fn this_thread() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: pthread_self has no preconditions and cannot fail.
        unsafe { libc::pthread_self() as usize }
    }
    #[cfg(not(unix))]
    {
        // The address of this thread's state, while it exists.
        LOCAL
            .try_with(|l| std::ptr::from_ref(l) as usize)
            .unwrap_or(0)
    }
}

/// Whether this thread is writing to the output of the logger core
/// `core_id` (so logging to that logger from here is re-entrant).
#[inline]
pub(crate) fn is_writing(core_id: u64) -> bool {
    with_held(|held| held.contains(&core_id)).unwrap_or(false)
}

/// Whether this thread holds the output lock of a logger core made after
/// `core_id` (ids grow with each logger made). Such a thread waits for
/// `core_id`'s output only within a bound: a thread holding `core_id`'s
/// may be waiting for the later one's, and waits without bound only for
/// later loggers than any it holds, so no two threads can wait for each
/// other for good.
#[inline]
pub(crate) fn holds_output_after(core_id: u64) -> bool {
    with_held(|held| held.iter().any(|&id| id > core_id)).unwrap_or(false)
}

/// Runs `f` with the cores whose output lock this thread holds; `None`
/// when the thread's state is gone or in use.
pub(crate) fn with_held<R>(f: impl FnOnce(&[u64]) -> R) -> Option<R> {
    LOCAL
        .try_with(|l| l.writing.try_borrow().ok().map(|w| f(&w)))
        .ok()
        .flatten()
}

/// One of this thread's marks that name a logger's core (or none).
type Mark = fn(&Local) -> &Cell<Option<u64>>;

/// Sets `mark` to `to`; returns what it was.
#[inline]
fn set_mark(mark: Mark, to: Option<u64>) -> Option<u64> {
    LOCAL.try_with(|l| mark(l).replace(to)).unwrap_or(None)
}

/// Whether `mark` names `core_id`.
#[inline]
fn has_mark(mark: Mark, core_id: u64) -> bool {
    LOCAL
        .try_with(|l| mark(l).get() == Some(core_id))
        .unwrap_or(false)
}

/// From `Some(core_id)` until `None`: this thread is taking the output
/// lock of `core_id` (waiting for it, or holding it before it records
/// itself as the holder) or letting go of it. A signal handler that logs
/// to that logger meanwhile must not wait for the lock, which this thread
/// may hold. Returns the setting before.
pub(crate) fn acquiring(core_id: Option<u64>) -> Option<u64> {
    set_mark(|l| &l.acquiring, core_id)
}

/// Whether this thread is taking or letting go of the output lock of
/// `core_id` (see [`acquiring`]).
pub(crate) fn is_acquiring(core_id: u64) -> bool {
    has_mark(|l| &l.acquiring, core_id)
}

/// Notes that this thread, inside the output of `core_id`, queued an entry
/// for that logger (its writer logged to it). No lock, no allocation: a
/// signal handler may be the one logging.
pub(crate) fn note_reentrant(core_id: u64) {
    set_mark(|l| &l.reentrant, Some(core_id));
}

/// Whether this thread queued an entry from inside the output of
/// `core_id` since it last asked (see [`note_reentrant`]).
pub(crate) fn take_reentrant(core_id: u64) -> bool {
    let queued = has_mark(|l| &l.reentrant, core_id);
    if queued {
        set_mark(|l| &l.reentrant, None);
    }
    queued
}

/// How many nested writes' last rounds [`drop_reentrant`] marks at once
/// (deeper, the innermost are not marked: what their writers log is
/// queued, as before the marks).
const DROP_MARKS: usize = 4;

/// A free slot of [`Local::dropping`].
const NO_CORE: u64 = u64::MAX;

/// The marks of [`drop_reentrant`], as [`drop_marks`] took them.
#[derive(Clone, Copy)]
pub(crate) struct DropMarks([u64; DROP_MARKS]);

/// From now until [`restore_drops`] puts back marks [`drop_marks`] took
/// before: what this thread's writer of `core_id` logs to that logger is
/// dropped (counted by the caller), not queued; as are the entries of the
/// loggers marked already (an outer write in its last round, whose writer
/// began this one).
pub(crate) fn drop_reentrant(core_id: u64) {
    let _ = LOCAL.try_with(|l| {
        let mut marks = l.dropping.get();
        if let Some(free) = marks.iter_mut().find(|m| **m == NO_CORE) {
            *free = core_id;
        }
        l.dropping.set(marks);
    });
}

/// The marks as they are, to put back with [`restore_drops`].
pub(crate) fn drop_marks() -> DropMarks {
    DropMarks(
        LOCAL
            .try_with(|l| l.dropping.get())
            .unwrap_or([NO_CORE; DROP_MARKS]),
    )
}

/// Puts back the marks [`drop_marks`] took.
pub(crate) fn restore_drops(marks: DropMarks) {
    let _ = LOCAL.try_with(|l| l.dropping.set(marks.0));
}

/// Whether entries for `core_id` logged from inside its output on this
/// thread are dropped now (see [`drop_reentrant`]).
pub(crate) fn drops_reentrant(core_id: u64) -> bool {
    LOCAL
        .try_with(|l| l.dropping.get().contains(&core_id))
        .unwrap_or(false)
}

/// Whether this thread gave up waiting for the output lock of `core_id`
/// since it took the output locks it holds.
pub(crate) fn gave_up_on(core_id: u64) -> bool {
    has_mark(|l| &l.gave_up, core_id)
}

/// Notes that this thread gave up waiting for the output lock of
/// `core_id`: until it releases the output locks it holds, it does not
/// wait for it again.
pub(crate) fn give_up_on(core_id: u64) {
    set_mark(|l| &l.gave_up, Some(core_id));
}

/// Notes that this thread holds the output lock of `core_id` (until
/// [`done_writing`]).
pub(crate) fn start_writing(core_id: u64) {
    // Busy: the push may allocate, and a signal handler that logs while
    // the allocator's lock is held here would wait for it for good.
    while_busy(|| {
        let _ = LOCAL.try_with(|l| {
            if let Ok(mut w) = l.writing.try_borrow_mut() {
                w.push(core_id);
            }
        });
    });
}

/// Undoes [`start_writing`].
pub(crate) fn done_writing(core_id: u64) {
    let _ = LOCAL.try_with(|l| {
        if let Ok(mut w) = l.writing.try_borrow_mut() {
            if let Some(i) = w.iter().rposition(|&id| id == core_id) {
                w.remove(i);
            }
            if w.is_empty() {
                l.gave_up.set(None);
            }
        }
    });
}

/// Makes `beat` the progress counter of the output this thread writes to
/// from now on, returning the one before (the holder of one output lock
/// may take another: a writer that logs to a second logger).
pub(crate) fn swap_beat(beat: Option<Arc<AtomicU64>>) -> Option<Arc<AtomicU64>> {
    LOCAL
        .try_with(|l| match l.beat.try_borrow_mut() {
            Ok(mut current) => std::mem::replace(&mut *current, beat),
            Err(_) => None,
        })
        .unwrap_or(None)
}

/// Notes that the output this thread writes to is moving: its writer took
/// some bytes. A wait for a writer that takes a little at a time (a slow
/// pipe, a device) then sees progress even while one entry takes several
/// writes, and does not take the writer for stuck.
pub(crate) fn wrote_some() {
    let _ = LOCAL.try_with(|l| {
        if let Ok(beat) = l.beat.try_borrow() {
            if let Some(beat) = &*beat {
                // Only the holder of the output lock writes it.
                crate::stats::bump_owned(beat);
            }
        }
    });
}

/// Replaces the fields of velo's scopes this thread is in with `fields`,
/// whose id is `id` (see `record::new_block_id`: the same id only ever
/// names the same fields), returning the previous ones and their id.
pub(crate) fn swap_scope(fields: Vec<u8>, id: u64) -> (Vec<u8>, u64) {
    LOCAL
        .try_with(|l| match l.spans.borrow().last() {
            None => {
                let mut scope = l.scope.borrow_mut();
                l.scope_len.set(fields.len());
                let previous = l.scope_id.replace(id);
                (std::mem::replace(&mut *scope, fields), previous)
            }
            Some((_, spans)) => {
                let mut own = l.own.borrow_mut();
                let previous = (std::mem::replace(&mut *own, fields), l.own_id.replace(id));
                let mut scope = l.scope.borrow_mut();
                merge_scope(&mut scope, spans, &own);
                l.scope_len.set(scope.len());
                l.scope_id.set(merged_id(l, spans, id));
                previous
            }
        })
        .unwrap_or_default()
}

/// The spans' fields and velo's scopes' id that a thread's scope was last
/// merged from, with the merged fields' id: a span entered again within
/// the same velo scopes gets the same id, by which the worker knows the
/// fields' text.
#[derive(Debug)]
struct Merged {
    /// Held, so that its address names those fields alone.
    spans: Arc<[u8]>,
    own_id: u64,
    id: u64,
}

/// The id of `spans`' fields merged with velo's scopes' of id `own_id`:
/// the one they had when last merged, if they are the same (a span
/// entered again, a scoped future polled again inside one), else a new
/// one.
fn merged_id(l: &Local, spans: &Arc<[u8]>, own_id: u64) -> u64 {
    let Ok(mut memo) = l.merged.try_borrow_mut() else {
        return crate::record::new_block_id();
    };
    match &*memo {
        Some(m) if Arc::ptr_eq(&m.spans, spans) && m.own_id == own_id => m.id,
        _ => {
            let id = crate::record::new_block_id();
            *memo = Some(Merged {
                spans: Arc::clone(spans),
                own_id,
                id,
            });
            id
        }
    }
}

/// Sets the fields of the `tracing` span this thread is in, as `owner`
/// (a bridge's span store, or a layer) sees it (`None`, or none at all,
/// when it is in none): entries logged by `velo!` or through `log` carry
/// them before velo's scopes' fields, as `tracing` events do. The bridge
/// and the layer call it whenever this thread's current span changes
/// (entered, exited, recorded into).
///
/// Several subscribers may see spans on one thread (a scoped one inside a
/// global one): each keeps its own fields here, and entries carry those
/// of the one that changed them last, so a scoped subscriber's spans,
/// once exited, leave the global one's in place.
#[cfg(feature = "tracing")]
pub(crate) fn set_span_scope(owner: u64, spans: Option<Arc<[u8]>>) {
    let spans = spans.filter(|s| !s.is_empty());
    let _ = LOCAL.try_with(|l| {
        // Borrowed elsewhere only by velo's own code on this thread, which
        // a signal handler may have interrupted: then nothing changes.
        let (Ok(mut owners), Ok(mut scope), Ok(mut own)) = (
            l.spans.try_borrow_mut(),
            l.scope.try_borrow_mut(),
            l.own.try_borrow_mut(),
        ) else {
            return;
        };
        let had_spans = !owners.is_empty();
        if owners.last().is_some_and(|(o, s)| {
            *o == owner && spans.as_ref().is_some_and(|new| Arc::ptr_eq(s, new))
        }) {
            // The same fields as now: nothing to merge again.
            return;
        }
        owners.retain(|(o, _)| *o != owner);
        if let Some(spans) = spans {
            owners.push((owner, spans));
        }
        match (had_spans, owners.last()) {
            (false, None) => {}
            (true, None) => {
                // velo's scopes' fields alone again; `own`, unused
                // without spans, keeps the merged buffer for the next
                // span (swapped, not taken: neither loses its capacity).
                std::mem::swap(&mut *scope, &mut *own);
                own.clear();
                l.scope_len.set(scope.len());
                l.scope_id.set(l.own_id.get());
            }
            (had_spans, Some((_, spans))) => {
                if !had_spans {
                    std::mem::swap(&mut *own, &mut *scope);
                    l.own_id.set(l.scope_id.get());
                }
                merge_scope(&mut scope, spans, &own);
                l.scope_len.set(scope.len());
                l.scope_id.set(merged_id(l, spans, l.own_id.get()));
            }
        }
    });
}

/// Rebuilds a thread's merged scope in its own buffer: the spans' fields,
/// then velo's scopes', each key once.
fn merge_scope(scope: &mut Vec<u8>, spans: &[u8], own: &[u8]) {
    scope.clear();
    crate::record::merge_fields(scope, spans, own);
}

/// Whether this thread is in a velo scope (spans aside).
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn has_own_scope() -> bool {
    let mut scoped = false;
    with_own_scope(|own| scoped = !own.is_empty());
    scoped
}

/// Appends the fields of velo's scopes this thread is in, without those
/// of `tracing` spans, as a record block (see [`append_scope`]).
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn append_own_scope(buf: &mut Vec<u8>) {
    with_own_scope_and_id(|id, scope| crate::record::put_scope_block(buf, id, scope));
}

/// Calls `f` with the fields of velo's scopes this thread is in, without
/// those of `tracing` spans (what a new scope merges its fields into).
pub(crate) fn with_own_scope(f: impl FnOnce(&[u8])) {
    with_own_scope_and_id(|_, fields| f(fields));
}

/// [`with_own_scope`], with the fields' id (see `record::new_block_id`).
pub(crate) fn with_own_scope_and_id(f: impl FnOnce(u64, &[u8])) {
    let mut f = Some(f);
    let _ = LOCAL.try_with(|l| {
        let Ok(spans) = l.spans.try_borrow() else {
            return;
        };
        let (own, id) = if !spans.is_empty() {
            (l.own.try_borrow(), l.own_id.get())
        } else {
            (l.scope.try_borrow(), l.scope_id.get())
        };
        if let (Ok(own), Some(f)) = (own, f.take()) {
            f(id, &own);
        }
    });
    if let Some(f) = f {
        f(0, &[]);
    }
}

/// Calls `f` with this thread's scope fields and their id (none once the
/// thread's state is gone).
fn with_scope(f: impl FnOnce(u64, &[u8])) {
    let mut f = Some(f);
    let _ = LOCAL.try_with(|l| {
        if let Ok(scope) = l.scope.try_borrow() {
            if let Some(f) = f.take() {
                f(l.scope_id.get(), &scope);
            }
        }
    });
    if let Some(f) = f {
        f(0, &[]);
    }
}
