//! OpenTelemetry logs over OTLP/HTTP with protobuf bodies, to a collector
//! (`Builder::otlp`).
//!
//! The worker encodes each entry straight into the current batch (`pb.rs`,
//! no intermediate tree) and hands the batch to a sender thread of this
//! output's own through a bounded queue (`sender.rs`); the sender POSTs it
//! (`http.rs`) and retries it while the worker goes on. So the worker never
//! waits on the network, and memory stays bounded: a batch that finds the
//! queue full, and one the sender gives up on, is counted as lost
//! (`Output::take_lost`, hence `stats().dropped`).
//!
//! A batch is handed over when it holds [`MAX_BATCH_RECORDS`] records or
//! [`MAX_BATCH_BYTES`] of them (a record that would take it past that size
//! goes to the next batch, so only a record larger than that on its own
//! makes a larger request), or on the first flush [`LINGER`] after its
//! first record (the worker flushes at least twice a second while idle).
//! `deliver` (what `sync` and `close` reach) hands the batch over at once,
//! has the sender retry at once if it is backing off, and waits, at most
//! [`DELIVER_WAIT`], until the sender has finished every batch handed over
//! so far. After a wait in vain, and until the sender finishes a batch
//! again, `deliver` first only looks: it waits for the one retry it asked
//! for, or [`STUCK_LOOK`] while the sender is in the middle of an attempt.
//! If a batch gets through, the collector is back and `deliver` waits as
//! usual; if not, it returns at once. A collector that is away costs
//! `sync` (and the `close` at exit) 3 seconds once, not every time.
//!
//! Each record carries:
//!
//! - `time_unix_nano`: the entry's time (0 with `Timestamp::Off`);
//!   `observed_time_unix_nano`: when the worker encoded it;
//! - `severity_number`: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17,
//!   FATAL 21; `severity_text`: the same names;
//! - `body`: the message as plain text, a template's placeholders filled in;
//! - attributes: `code.file.path` and `code.line.number` (unless
//!   `caller(false)`), `target` when it is not the module path (always
//!   with `Builder::targets`),
//!   `thread.name` with `Builder::thread_names`, then every
//!   field with its type (see [`pb::put_any`]), then `suppressed` and
//!   `backtrace` when present. A field whose key is one of those velo
//!   writes itself goes beside it as `fields.KEY`, by the JSON line's rule
//!   (`line::written`), so each key comes once, as OTLP wants;
//! - `trace_id` and `span_id`: from the fields of those names (a scope's,
//!   typically) when they hold a W3C trace id (32 hex digits) or span id
//!   (16), not all zeros; such a field is not an attribute too.
//!
//! The resource has `service.name`; the instrumentation scope is `velo`
//! with the crate's version.

mod http;
mod pb;
mod sender;

use super::{Lost, Output};
use crate::error::{Error, ErrorKind};
use crate::event::{Event, ScopeIndex};
use crate::level::Level;
use crate::line::{self, Builtins, LineFormat, Written};
use crate::record::Val;
use crate::thread;
use http::Endpoint;
use pb::{Batch, RecordHead};
use sender::{Policy, Shared};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Most records in one request (the OpenTelemetry SDKs' default batch).
pub(crate) const MAX_BATCH_RECORDS: u64 = 512;
/// Bytes of records after which a batch is sent: well under the 4 MiB a
/// gRPC hop allows and the collector's 20 MiB request limit.
pub(crate) const MAX_BATCH_BYTES: usize = 1 << 20;
/// Most batches waiting for the sender, besides the one it is sending.
const QUEUE: usize = 64;
/// Most bytes of records in the batches waiting for the sender and the one
/// it sends (a larger batch is let in when there are none).
pub(crate) const MAX_QUEUED_BYTES: usize = 16 << 20;
/// Emptied batches kept for reuse.
const SPARES: usize = 2;
/// How long a batch that is not full waits for more records.
const LINGER: Duration = Duration::from_secs(1);
/// The longest `deliver` waits for the sender.
const DELIVER_WAIT: Duration = Duration::from_secs(3);
/// How long `deliver`, after a wait in vain, watches an attempt the
/// sender is in the middle of for a sign that the collector is back.
const STUCK_LOOK: Duration = Duration::from_millis(200);

/// The keys of the attributes velo writes itself.
const OWN_KEYS: [&str; 5] = [
    "code.file.path",
    "code.line.number",
    "target",
    "suppressed",
    "backtrace",
];

/// The attribute of the thread's name (`Builder::thread_names`), as
/// OpenTelemetry's semantic conventions name it.
const THREAD_KEY: &str = "thread.name";

/// The OTLP output.
pub(crate) struct Otlp {
    endpoint: Endpoint,
    caller: bool,
    /// Every record carries its target, the module path when it has no
    /// other (`Builder::targets`).
    targets: bool,
    /// The batch being filled.
    batch: Batch,
    /// When its first record came.
    since: Option<Instant>,
    /// An empty batch to fill next, when there is one.
    spare: Option<Batch>,
    sender: Sender,
    /// The sender was lost in a fork: start one before the next hand-over.
    orphaned: bool,
    /// The entry's scope keys, for checking its context's (reused).
    scope_index: ScopeIndex,
}

/// The sender thread, as the output sees it.
struct Sender {
    queue: SyncSender<Batch>,
    spares: Receiver<Batch>,
    shared: Arc<Shared>,
    /// Batches queued so far.
    handed: u64,
    /// The sender's `finished` count when `deliver` last waited in vain.
    /// Until the sender finishes another batch, the collector is still
    /// away and another wait (a `close` after a `sync`, each with a drop
    /// warning to send) would be as vain: `deliver` returns at once.
    stuck_at: Option<u64>,
}

impl std::fmt::Debug for Otlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Otlp")
            .field("endpoint", &self.endpoint)
            .field("records", &self.batch.count)
            .finish_non_exhaustive()
    }
}

impl Otlp {
    /// An output sending to `endpoint` (`http://host:port[/path]`) as the
    /// service `service_name`; with `caller`, records carry their source
    /// location; with `targets`, their target even when it is the module
    /// path. Starts the sender thread.
    pub(crate) fn new(
        endpoint: &str,
        service_name: &str,
        caller: bool,
        targets: bool,
    ) -> Result<Otlp, Error> {
        let endpoint = Endpoint::parse(endpoint).map_err(|e| Error::new(ErrorKind::Output, e))?;
        let batch = Batch::new(
            &[("service.name", Val::Str(service_name))],
            "velo",
            env!("CARGO_PKG_VERSION"),
        );
        let sender = Sender::start(&endpoint)
            .map_err(|e| Error::io(ErrorKind::Write, "cannot start the OTLP sender thread", e))?;
        Ok(Otlp {
            endpoint,
            caller,
            targets,
            batch,
            since: None,
            spare: None,
            sender,
            orphaned: false,
            scope_index: ScopeIndex::default(),
        })
    }

    /// Hands the batch to the sender; when the queue is full, waits for
    /// room until `deadline` (if any), then counts the batch as lost.
    fn hand_over(&mut self, deadline: Option<Instant>) {
        if self.batch.is_empty() {
            return;
        }
        if self.orphaned {
            match Sender::start(&self.endpoint) {
                Ok(sender) => {
                    // The parent's sender: its lock may have been held at
                    // the fork, so nothing of it is touched, not even drop.
                    std::mem::forget(std::mem::replace(&mut self.sender, sender));
                    self.orphaned = false;
                }
                Err(_) => return self.lose_batch(),
            }
        }
        let next = self
            .spare
            .take()
            .or_else(|| self.sender.spares.try_recv().ok())
            .unwrap_or_else(|| self.batch.empty_like());
        let mut batch = std::mem::replace(&mut self.batch, next);
        self.since = None;
        loop {
            let bytes = batch.records_len();
            let queued = &self.sender.shared.queued_bytes;
            // Counted before the send, which the sender may finish at once.
            let waiting = queued.fetch_add(bytes, Ordering::Relaxed);
            let count = batch.count;
            self.sender.shared.lock().unfinished += count;
            let sent = if waiting == 0 || waiting + bytes <= MAX_QUEUED_BYTES {
                self.sender.queue.try_send(batch)
            } else {
                Err(TrySendError::Full(batch))
            };
            if sent.is_err() {
                queued.fetch_sub(bytes, Ordering::Relaxed);
                self.sender.shared.lock().unfinished -= count;
            }
            match sent {
                Ok(()) => {
                    self.sender.handed += 1;
                    return;
                }
                Err(TrySendError::Full(back)) => {
                    batch = back;
                    if let Some(deadline) = deadline {
                        // Wait for the sender to finish a batch.
                        let shared = &self.sender.shared;
                        let state = shared.lock();
                        let finished = state.finished;
                        let (state, moved) =
                            shared.wait_until(state, deadline, |s| s.finished != finished);
                        drop(state);
                        if moved {
                            continue;
                        }
                    }
                }
                Err(TrySendError::Disconnected(back)) => batch = back,
            }
            // No room (or no sender): the batch is lost, and said so (on
            // stderr once, and by the next `sync`); its buffer is the next
            // spare.
            self.say_lost(batch.count);
            batch.clear();
            self.spare = Some(batch);
            return;
        }
    }

    /// Hands the batch over without its last record, which begins at
    /// `start`, and begins the next batch with that record. Once per
    /// [`MAX_BATCH_BYTES`] of records at most, so the record's copy may
    /// allocate.
    fn carry_over(&mut self, start: usize) {
        let last = self.batch.buf.split_off(start);
        self.batch.count -= 1;
        self.hand_over(None);
        self.batch.buf.extend_from_slice(&last);
        self.batch.count += 1;
        self.since = Some(Instant::now());
    }

    /// Counts the current batch as lost and empties it.
    fn lose_batch(&mut self) {
        self.say_lost(self.batch.count);
        self.batch.clear();
        self.since = None;
    }

    /// Counts `records` of a batch that found no room in the sender's
    /// backlog (a burst that outpaced it, a collector away for long) as
    /// lost, and keeps why for the next flush to report.
    fn say_lost(&self, records: u64) {
        let shared = &self.sender.shared;
        shared.lost.fetch_add(records, Ordering::Relaxed);
        if self.orphaned {
            // The parent's sender: its lock may have been held at the fork.
            return;
        }
        let why = format!(
            "OTLP to {}: entries dropped, the sender's backlog was full (a burst outpaced it, or the collector is slow or away)",
            self.endpoint
        );
        shared.fail_unless_failed(&mut shared.lock(), why);
    }

    /// The error for a batch lost since the last call, if any.
    fn failure(&self) -> io::Result<()> {
        if self.orphaned {
            // The parent's sender: its lock may have been held at the fork.
            return Ok(());
        }
        match self.sender.shared.take_failure() {
            Some(why) => Err(io::Error::other(why)),
            None => Ok(()),
        }
    }
}

impl Sender {
    fn start(endpoint: &Endpoint) -> io::Result<Sender> {
        let (queue, batches) = mpsc::sync_channel(QUEUE);
        let (spares_tx, spares) = mpsc::sync_channel(SPARES);
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let endpoint = endpoint.clone();
        thread::spawn("velo-otlp", move || {
            sender::run(endpoint, batches, spares_tx, theirs, Policy::default())
        })?;
        Ok(Sender {
            queue,
            spares,
            shared,
            handed: 0,
            stuck_at: None,
        })
    }
}

/// OTLP's severity number of a level: the first of its range of four.
fn severity(level: Level) -> (u8, &'static str) {
    match level {
        Level::Trace => (1, "TRACE"),
        Level::Debug => (5, "DEBUG"),
        Level::Info => (9, "INFO"),
        Level::Warn => (13, "WARN"),
        Level::Error => (17, "ERROR"),
        Level::Fatal => (21, "FATAL"),
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Output for Otlp {
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        let buf = &mut self.batch.buf;
        let start = buf.len();
        let (severity_number, severity_text) = severity(ev.level);
        let record = pb::open_record(
            buf,
            &RecordHead {
                time_unix_nano: ev.time.unwrap_or(0),
                observed_time_unix_nano: now_nanos(),
                severity_number,
                severity_text,
            },
        );
        let (body, text) = pb::open_body(buf);
        format.plain_message(ev, buf);
        pb::close(buf, text);
        pb::close(buf, body);
        let caller = ev.caller().filter(|_| self.caller);
        if let Some((file, line)) = caller {
            pb::put_key_value(buf, pb::ATTRIBUTE, OWN_KEYS[0], Val::Str(file));
            if let Some(line) = line {
                pb::put_key_value(buf, pb::ATTRIBUTE, OWN_KEYS[1], Val::U64(line.into()));
            }
        }
        let target = ev.written_target(self.targets);
        if let Some(target) = target {
            pb::put_key_value(buf, pb::ATTRIBUTE, OWN_KEYS[2], Val::Str(target));
        }
        if let Some(thread) = ev.thread {
            pb::put_key_value(buf, pb::ATTRIBUTE, THREAD_KEY, Val::Str(thread));
        }
        // The caller's keys, when written; `target`, `suppressed` and
        // `backtrace` as the line has them.
        let fixed = if caller.is_some() {
            &OWN_KEYS[..2]
        } else {
            &[]
        };
        let builtins = Builtins::new(fixed, ev, THREAD_KEY).with_target(target);
        self.scope_index.prepare(ev);
        let mut fields = ev.fields(&self.scope_index);
        while let Some((key, value)) = fields.next() {
            match line::written(ev, builtins, key, fields.layer(), fields.later()) {
                Written::Plain if pb::put_trace_context(buf, key, value) => {}
                Written::Plain => pb::put_key_value(buf, pb::ATTRIBUTE, key, value),
                // Beside velo's own, as `fields.KEY` (as in the JSON line):
                // rare, so the name may cost an allocation.
                Written::Renamed => {
                    let renamed = format!("{}{key}", line::RENAMED);
                    pb::put_key_value(buf, pb::ATTRIBUTE, &renamed, value);
                }
                Written::Dropped => {}
            }
        }
        if let Some(n) = ev.suppressed {
            pb::put_key_value(buf, pb::ATTRIBUTE, OWN_KEYS[3], Val::U64(n));
        }
        if let Some(backtrace) = ev.backtrace {
            pb::put_key_value(buf, pb::ATTRIBUTE, OWN_KEYS[4], Val::Str(backtrace));
        }
        pb::close(buf, record);
        let len = buf.len() - start;
        self.batch.count += 1;
        self.since.get_or_insert_with(Instant::now);
        if self.batch.records_len() > MAX_BATCH_BYTES && self.batch.count > 1 {
            // The record would take its batch past the size a collector
            // takes, and one refused request would lose them all: the
            // batch goes without it, and it starts the next.
            self.carry_over(start);
        }
        if self.batch.count >= MAX_BATCH_RECORDS || self.batch.records_len() >= MAX_BATCH_BYTES {
            self.hand_over(None);
        }
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.since.is_some_and(|t| t.elapsed() >= LINGER) {
            self.hand_over(None);
        }
        self.failure()
    }

    fn deliver(&mut self) -> io::Result<()> {
        self.deliver_by(Instant::now() + DELIVER_WAIT)
    }

    fn deliver_by(&mut self, by: Instant) -> io::Result<()> {
        if self.orphaned {
            // Start a sender in this process for what there is, if anything.
            self.hand_over(None);
            return self.failure();
        }
        let stuck_at = self.sender.stuck_at;
        let stuck = stuck_at == Some(self.sender.shared.lock().finished);
        let deadline = (Instant::now() + DELIVER_WAIT).min(by);
        // Stuck, a full queue will not make room in time.
        self.hand_over((!stuck).then_some(deadline));
        let sender = &mut self.sender;
        let target = sender.handed;
        let mut state = sender.shared.lock();
        if state.finished < target {
            // Retry now: the collector may be back.
            state.nudge = true;
            sender.shared.notify();
        }
        if stuck {
            // One look at whether the collector is back: the retry just
            // asked for fails, or a batch gets through. While the sender
            // is in the middle of an attempt (a collector that accepted
            // and does not answer, or one that came back and is busy with
            // a batch), the look is short.
            let attempts = state.attempts;
            let look = if state.backing_off {
                deadline
            } else {
                (Instant::now() + STUCK_LOOK).min(deadline)
            };
            state = sender
                .shared
                .wait_until(state, look, |s| {
                    Some(s.finished) != stuck_at || s.attempts > attempts
                })
                .0;
        }
        let moving = !stuck || Some(state.finished) != stuck_at;
        let (state, done) = sender
            .shared
            .wait_until(state, deadline, |s| s.finished >= target || !moving);
        if !done || state.finished < target {
            sender.stuck_at = Some(state.finished);
            let why = state
                .trouble
                .clone()
                .unwrap_or_else(|| "the collector has not answered".to_owned());
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "OTLP entries not delivered to {} within {} s: {why}",
                    self.endpoint,
                    DELIVER_WAIT.as_secs()
                ),
            ));
        }
        drop(state);
        self.failure()
    }

    /// Gives up on the records the sender has not finished (the batch it
    /// is sending included, whatever becomes of it) and on the batch being
    /// filled: counted as lost, and said once on stderr.
    fn give_up(&mut self) {
        if self.orphaned {
            return;
        }
        let mut unsent = self.batch.count;
        self.batch.clear();
        self.since = None;
        let shared = &self.sender.shared;
        let mut state = shared.lock();
        unsent += std::mem::take(&mut state.unfinished);
        if unsent == 0 {
            return;
        }
        state.given_up_through = self.sender.handed;
        // What was given up does not make a later `deliver` (a second
        // close, the one at exit) wait again.
        self.sender.stuck_at = Some(state.finished);
        shared.lost.fetch_add(unsent, Ordering::Relaxed);
        drop(state);
        // The sender stops retrying the batch in hand.
        shared.close();
        crate::stdio::say(format_args!(
            "OTLP to {}: {} never delivered",
            crate::escape::for_stderr(&self.endpoint.to_string()),
            crate::escape::entries_were(unsent)
        ));
    }

    fn forget_buffered(&mut self) {
        self.batch.clear();
        self.since = None;
        self.orphaned = true;
    }

    fn take_lost(&mut self) -> Lost {
        Lost::entries(self.sender.shared.lost.swap(0, Ordering::Relaxed))
    }

    /// Not while the collector refuses: the warning for the entries it
    /// refused waits until a batch gets through, or it would be refused in
    /// turn, counted, and warned of again, for as long as the process
    /// lives.
    fn healthy(&self) -> bool {
        !self.sender.shared.refusing.load(Ordering::Relaxed)
    }
}

impl Drop for Otlp {
    fn drop(&mut self) {
        if !self.orphaned {
            // The sender sends what is queued, once each, and exits.
            self.sender.shared.close();
        }
    }
}
