//! The sender thread: takes finished batches from a bounded queue and POSTs
//! each to the collector, retrying as OTLP/HTTP asks, so that the worker
//! never waits on the network.
//!
//! - 2xx is success. A `partial_success` with rejected records is not
//!   retried (the collector has decided); the rejected records count as
//!   lost.
//! - 429, 502, 503 and 504, a failed connection and a dropped one are
//!   retried after a delay: the backoff (doubling from
//!   [`Policy::initial_backoff`] up to [`Policy::max_backoff`], each delay
//!   drawn from its upper half), or the collector's `Retry-After` (capped by
//!   [`Policy::max_retry_after`]) when that is longer. After
//!   [`Policy::max_elapsed`] the batch is given up. A `sync` cuts the
//!   sender's own backoff short (see [`State::nudge`]), so a collector
//!   that came back is tried at once.
//! - Any other status (400: the collector cannot read the batch; 401, 404,
//!   413, 500, ...) drops the batch at once: sending it again would get the
//!   same answer.
//!
//! Records of a batch given up or dropped are added to [`Shared::lost`],
//! which the output reports through `Output::take_lost`, and the reason is
//! kept for the output's next flush to report as an error.

use super::http::{Client, Endpoint};
use super::pb::{self, Batch};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// When to retry a batch and when to give it up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// The first delay after a failed attempt.
    pub(crate) initial_backoff: Duration,
    /// The longest delay between attempts of the sender's own choosing.
    pub(crate) max_backoff: Duration,
    /// The longest `Retry-After` honoured.
    pub(crate) max_retry_after: Duration,
    /// How long after its first attempt a batch is given up.
    pub(crate) max_elapsed: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// What the output and its sender thread share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Signalled when a batch is finished and when the output closes.
    changed: Condvar,
    /// Records accepted by the output and given up since the output last
    /// took the count.
    pub(crate) lost: AtomicU64,
    /// `State::failure` is set: the output's fast check.
    failed: AtomicBool,
    /// The last batch finished was not delivered whole: the collector
    /// refuses or is away (see `Output::healthy`).
    pub(crate) refusing: AtomicBool,
    /// Bytes of records handed to the sender and not finished yet.
    pub(crate) queued_bytes: AtomicUsize,
}

/// The part of [`Shared`] behind its lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Batches finished so far: delivered, dropped or given up.
    pub(crate) finished: u64,
    /// The output is gone: give up at the first failure.
    closing: bool,
    /// Failed attempts so far.
    pub(crate) attempts: u64,
    /// A `sync` wants the batch in hand retried now rather than after the
    /// backoff (unless the collector asked for the delay with
    /// `Retry-After`).
    pub(crate) nudge: bool,
    /// The sender is waiting out a backoff that a nudge would cut short
    /// (rather than waiting on the collector, or on the collector's
    /// `Retry-After`).
    pub(crate) backing_off: bool,
    /// Why a batch was lost, not reported yet.
    failure: Option<String>,
    /// The last failed attempt's error, while its batch is retried.
    pub(crate) trouble: Option<String>,
    /// Records handed over and not finished. Under the lock, so that
    /// `give_up` counts each record once: there, or at its batch's end.
    pub(crate) unfinished: u64,
    /// Batches up to this one (counting from 1, as `finished` does) were
    /// given up at `close` and counted as lost then: the sender does not
    /// send those it has not started, nor count any of them again.
    pub(crate) given_up_through: u64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `done` holds or `deadline` passes; returns the guard and
    /// whether `done` held.
    pub(crate) fn wait_until<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        deadline: Instant,
        done: impl Fn(&State) -> bool,
    ) -> (MutexGuard<'a, State>, bool) {
        loop {
            if done(&state) {
                return (state, true);
            }
            let now = Instant::now();
            if now >= deadline {
                return (state, false);
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Takes the reason a batch was lost, if one was since the last call.
    pub(crate) fn take_failure(&self) -> Option<String> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        self.failed.store(false, Ordering::Relaxed);
        self.lock().failure.take()
    }

    /// Tells the sender the output is gone: no more retries.
    pub(crate) fn close(&self) {
        self.lock().closing = true;
        self.changed.notify_all();
    }

    /// Wakes whoever waits on the state.
    pub(crate) fn notify(&self) {
        self.changed.notify_all();
    }

    /// [`Shared::fail`] unless a failure waits to be reported already: a
    /// consequence (entries dropped for a full backlog) must not hide its
    /// cause (the collector refusing, or away).
    pub(crate) fn fail_unless_failed(&self, state: &mut State, why: String) {
        if state.failure.is_none() {
            self.fail(state, why);
        }
    }

    pub(crate) fn fail(&self, state: &mut State, why: String) {
        state.failure = Some(why);
        // Release: the message is in place (under the lock) before the flag.
        self.failed.store(true, Ordering::Release);
    }
}

/// What became of a batch.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// 2xx; `rejected` records of it refused (`partial_success`).
    Sent { rejected: u64, message: String },
    /// A status that must not be retried.
    Refused { status: u16 },
    /// Retried until the policy's time ran out (or the output closed).
    GaveUp { error: String },
}

/// The sender thread's loop: sends every batch `queue` yields, then returns
/// each emptied batch through `spares` for reuse. Ends when the output is
/// dropped and the queue is empty.
pub(crate) fn run(
    endpoint: Endpoint,
    queue: Receiver<Batch>,
    spares: SyncSender<Batch>,
    shared: Arc<Shared>,
    policy: Policy,
) {
    let url = endpoint.to_string();
    let mut client = Client::new(endpoint);
    while let Ok(mut batch) = queue.recv() {
        let given_up = |state: &State| state.finished < state.given_up_through;
        let outcome = if given_up(&shared.lock()) {
            None
        } else {
            Some(export(&mut client, &mut batch, &policy, &shared))
        };
        let count = batch.count;
        shared
            .queued_bytes
            .fetch_sub(batch.records_len(), Ordering::Relaxed);
        let mut state = shared.lock();
        state.unfinished = state.unfinished.saturating_sub(count);
        // A batch given up while it was being sent was counted then,
        // whatever became of it.
        let outcome = outcome.filter(|_| !given_up(&state));
        let lost = match outcome {
            None => 0,
            Some(Outcome::Sent { rejected: 0, .. }) => 0,
            Some(Outcome::Sent { rejected, message }) => {
                let why =
                    format!("the OTLP collector at {url} rejected entries of a batch: {message}");
                shared.fail(&mut state, why);
                rejected.min(count)
            }
            Some(Outcome::Refused { status }) => {
                let why =
                    format!("the OTLP collector at {url} answered {status}; the batch was dropped");
                shared.fail(&mut state, why);
                count
            }
            Some(Outcome::GaveUp { error }) => {
                let why = format!("OTLP export to {url} failed, batch given up: {error}");
                shared.fail(&mut state, why);
                count
            }
        };
        // Counted before `finished` moves, so whoever waited for this batch
        // sees its losses.
        shared.lost.fetch_add(lost, Ordering::Relaxed);
        shared.refusing.store(lost != 0, Ordering::Relaxed);
        state.finished += 1;
        state.trouble = None;
        drop(state);
        shared.changed.notify_all();
        batch.clear();
        if batch.buf.capacity() > 2 * super::MAX_BATCH_BYTES {
            batch.buf.shrink_to(super::MAX_BATCH_BYTES);
        }
        let _ = spares.try_send(batch);
    }
}

/// The retryable statuses of OTLP/HTTP.
fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Sends one batch, retrying as the module docs say.
fn export(client: &mut Client, batch: &mut Batch, policy: &Policy, shared: &Shared) -> Outcome {
    let body = batch.request();
    let start = Instant::now();
    let mut backoff = policy.initial_backoff;
    let mut jitter = RandomState::new().build_hasher();
    loop {
        let (asked, error) = match client.post(body) {
            Ok(r) if (200..300).contains(&r.status) => {
                let (rejected, message) = pb::partial_success(&r.body).unwrap_or_default();
                return Outcome::Sent { rejected, message };
            }
            Ok(r) if is_retryable(r.status) => (
                r.retry_after.map(|d| d.min(policy.max_retry_after)),
                format!("the collector answered {}", r.status),
            ),
            Ok(r) => return Outcome::Refused { status: r.status },
            Err(e) => {
                client.disconnect();
                (None, e.to_string())
            }
        };
        // A delay in the upper half of the backoff, so that many programs
        // failing at once do not retry in step.
        jitter.write_u8(0);
        let half = backoff / 2;
        let own = half + half.mul_f64((jitter.finish() % 1024) as f64 / 1024.0);
        let delay = asked.map_or(own, |asked| asked.max(own));
        backoff = (backoff * 2).min(policy.max_backoff);
        let mut state = shared.lock();
        state.trouble = Some(error.clone());
        state.attempts += 1;
        shared.notify();
        if state.closing || start.elapsed() + delay > policy.max_elapsed {
            return Outcome::GaveUp { error };
        }
        // A `sync` may cut our own backoff short, never the collector's.
        let nudgeable = asked.is_none();
        state.backing_off = nudgeable;
        let (mut state, _) = shared.wait_until(state, Instant::now() + delay, |s| {
            s.closing || (nudgeable && s.nudge)
        });
        state.backing_off = false;
        if state.closing {
            return Outcome::GaveUp { error };
        }
        state.nudge = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Val;
    use std::net::TcpListener;

    fn fast() -> Policy {
        Policy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(10),
        }
    }

    fn batch() -> Batch {
        let mut b = Batch::new(&[("service.name", Val::Str("t"))], "velo", "0");
        b.count = 3;
        b
    }

    /// Answers one request per raw response, each on a new connection;
    /// returns the endpoint and the number of requests answered.
    fn server(responses: Vec<&'static str>) -> (Endpoint, std::thread::JoinHandle<usize>) {
        let (endpoint, bodies) =
            super::super::http::tests::server(responses.into_iter().map(|r| (r, true)).collect());
        let count = std::thread::spawn(move || bodies.join().unwrap().len());
        (endpoint, count)
    }

    const CLOSE: &str = "Connection: close\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn retryable_statuses_are_retried_and_others_are_not() {
        let (endpoint, served) = server(vec![
            "HTTP/1.1 429 Slow\r\nConnection: close\r\nRetry-After: 0\r\n\r\n",
            "HTTP/1.1 502 Bad\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 504 Late\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
        ]);
        let mut client = Client::new(endpoint);
        let out = export(&mut client, &mut batch(), &fast(), &Shared::default());
        assert_eq!(
            out,
            Outcome::Sent {
                rejected: 0,
                message: String::new()
            }
        );
        assert_eq!(served.join().unwrap(), 4);
        for status in ["400", "401", "404", "413", "500"] {
            let raw: &'static str = Box::leak(
                format!("HTTP/1.1 {status} No\r\nRetry-After: 0\r\n{CLOSE}").into_boxed_str(),
            );
            let (endpoint, server) = server(vec![raw]);
            let out = export(
                &mut Client::new(endpoint),
                &mut batch(),
                &fast(),
                &Shared::default(),
            );
            assert_eq!(
                out,
                Outcome::Refused {
                    status: status.parse().unwrap()
                }
            );
            assert_eq!(server.join().unwrap(), 1);
        }
    }

    #[test]
    fn retry_after_is_honoured() {
        let (endpoint, server) = server(vec![
            "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
        ]);
        let start = Instant::now();
        let out = export(
            &mut Client::new(endpoint),
            &mut batch(),
            &fast(),
            &Shared::default(),
        );
        assert!(matches!(out, Outcome::Sent { .. }), "{out:?}");
        assert!(start.elapsed() >= Duration::from_secs(1));
        assert_eq!(server.join().unwrap(), 2);
    }

    #[test]
    fn a_refused_connection_is_given_up_after_max_elapsed_or_on_close() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let policy = Policy {
            max_elapsed: Duration::from_millis(300),
            ..fast()
        };
        let shared = Shared::default();
        let start = Instant::now();
        match export(
            &mut Client::new(endpoint.clone()),
            &mut batch(),
            &policy,
            &shared,
        ) {
            Outcome::GaveUp { error } => assert!(error.contains("refused"), "{error}"),
            other => panic!("{other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(shared
            .lock()
            .trouble
            .as_deref()
            .unwrap()
            .contains("refused"));

        // Closing cuts a long backoff short.
        let slow = Policy {
            initial_backoff: Duration::from_secs(20),
            max_backoff: Duration::from_secs(20),
            ..fast()
        };
        let shared = Arc::new(Shared::default());
        let closer = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                shared.close();
            })
        };
        let start = Instant::now();
        let out = export(&mut Client::new(endpoint), &mut batch(), &slow, &shared);
        assert!(matches!(out, Outcome::GaveUp { .. }), "{out:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
        closer.join().unwrap();
    }

    #[test]
    fn lost_batches_are_counted_and_reported() {
        let (endpoint, server) = server(vec![
            "HTTP/1.1 400 Bad\r\nConnection: close\r\n\r\n",
            // partial_success { rejected_log_records: 2, error_message: "old" }
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\n\x0a\x07\x08\x02\x12\x03old",
        ]);
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let (spare_tx, spare_rx) = std::sync::mpsc::sync_channel(4);
        let shared = Arc::new(Shared::default());
        tx.send(batch()).unwrap();
        tx.send(batch()).unwrap();
        drop(tx);
        run(endpoint, rx, spare_tx, Arc::clone(&shared), fast());
        assert_eq!(server.join().unwrap(), 2);
        assert_eq!(shared.lock().finished, 2);
        assert_eq!(shared.lost.load(Ordering::Relaxed), 3 + 2);
        let why = shared.take_failure().unwrap();
        assert!(why.contains("rejected") && why.contains("old"), "{why}");
        assert_eq!(shared.take_failure(), None);
        let spare = spare_rx.try_recv().unwrap();
        assert!(spare.is_empty());
    }
}
