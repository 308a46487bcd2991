//! The hand-written baselines of issue 5: the W3 line formatted by hand
//! (itoa, zmij, a per-thread cached timestamp prefix that changes once per
//! second, `SystemTime::now` per event) into a reused buffer. No `caller`
//! field, unlike velo's line and the ring baselines'.
//!
//! - direct: formatting only; the line goes straight to the writer (the
//!   counting sink, or one `write` per line to a file), no queue.
//! - blocking: + a pooled `Vec<u8>` per line, sent through
//!   `crossbeam_channel::bounded(8192)` to a worker thread that blocks in
//!   `recv`, drains what is queued into a 64 KiB `BufWriter`, and flushes
//!   when the queue runs empty.
//! - polling: the same, but the worker polls (`try_recv`) and sleeps 50 us
//!   when the queue is empty, flushing before it sleeps.

use super::json::{self, SecondCache};
use super::{workload, Subject, MESSAGE};
use crate::sink::{CountingSink, Target};
use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

thread_local! {
    static CLOCK: RefCell<SecondCache> = const { RefCell::new(SecondCache::new()) };
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

/// Appends the W3 line of event `i` to `out`.
#[inline]
fn encode(out: &mut Vec<u8>, i: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    out.extend_from_slice(b"{\"time\":\"");
    CLOCK.with(|clock| clock.borrow_mut().micros(out, now.as_nanos() as u64));
    out.extend_from_slice(b"Z\",\"level\":\"info\",\"msg\":\"");
    out.extend_from_slice(MESSAGE.as_bytes());
    out.extend_from_slice(b"\",\"user_id\":");
    json::int(out, i);
    out.extend_from_slice(b",\"path\":\"");
    json::escape(out, workload::path(i));
    out.extend_from_slice(b"\",\"latency_ms\":");
    json::float(out, workload::latency_ms(i));
    out.extend_from_slice(b"}\n");
}

fn writer(target: Target) -> Box<dyn Write + Send> {
    match target {
        Target::Count(sink) => Box::new(sink),
        Target::File(path) => Box::new(File::create(path).expect("baseline log file")),
    }
}

// ---- (a) formatting only -------------------------------------------------

enum Out {
    Count(CountingSink),
    File(File),
}

struct Direct {
    out: Out,
}

pub(super) fn build_direct(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "the issue 5 baselines log W3 only");
    let out = match target {
        Target::Count(sink) => Out::Count(sink),
        Target::File(path) => Out::File(File::create(path).expect("baseline log file")),
    };
    Box::new(Direct { out })
}

impl Subject for Direct {
    #[inline]
    fn log(&self, i: u64) {
        LINE.with(|line| {
            let mut line = line.borrow_mut();
            line.clear();
            encode(&mut line, i);
            match &self.out {
                Out::Count(sink) => sink.record(&line),
                Out::File(file) => {
                    let mut file: &File = file;
                    file.write_all(&line).expect("baseline write");
                }
            }
        });
    }

    fn finish(self: Box<Self>) {}
}

// ---- (b), (c) pooled Vec + channel + worker ------------------------------

const QUEUE: usize = 8192;
const BUFFER: usize = 64 * 1024;

enum Msg {
    Line(Vec<u8>),
    Flush(Sender<()>),
}

struct Queued {
    tx: Sender<Msg>,
    pool: Receiver<Vec<u8>>,
    worker: JoinHandle<()>,
}

#[derive(Clone, Copy)]
enum Wait {
    Block,
    Poll,
}

pub(super) fn build_blocking(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "the issue 5 baselines log W3 only");
    Box::new(Queued::start(writer(target), Wait::Block))
}

pub(super) fn build_polling(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "the issue 5 baselines log W3 only");
    Box::new(Queued::start(writer(target), Wait::Poll))
}

impl Queued {
    fn start(out: Box<dyn Write + Send>, wait: Wait) -> Queued {
        let (tx, rx) = bounded::<Msg>(QUEUE);
        // The pool can hold more buffers than the queue, so a caller finds
        // one in steady state.
        let (give_back, pool) = bounded::<Vec<u8>>(2 * QUEUE);
        // Filled to the queue's depth up front: steady state from the start.
        for _ in 0..QUEUE {
            let _ = give_back.try_send(Vec::with_capacity(256));
        }
        let worker = std::thread::Builder::new()
            .name("hand-written worker".into())
            .spawn(move || {
                let mut out = BufWriter::with_capacity(BUFFER, out);
                let handle = |msg: Msg, out: &mut BufWriter<Box<dyn Write + Send>>| match msg {
                    Msg::Line(mut line) => {
                        out.write_all(&line).expect("baseline write");
                        line.clear();
                        let _ = give_back.try_send(line);
                    }
                    Msg::Flush(ack) => {
                        out.flush().expect("baseline flush");
                        let _ = ack.send(());
                    }
                };
                match wait {
                    Wait::Block => {
                        while let Ok(msg) = rx.recv() {
                            handle(msg, &mut out);
                            while let Ok(msg) = rx.try_recv() {
                                handle(msg, &mut out);
                            }
                            out.flush().expect("baseline flush");
                        }
                    }
                    Wait::Poll => loop {
                        match rx.try_recv() {
                            Ok(msg) => handle(msg, &mut out),
                            Err(TryRecvError::Empty) => {
                                if !out.buffer().is_empty() {
                                    out.flush().expect("baseline flush");
                                }
                                std::thread::sleep(Duration::from_micros(50));
                            }
                            Err(TryRecvError::Disconnected) => break,
                        }
                    },
                }
                out.flush().expect("baseline flush");
            })
            .expect("spawn baseline worker");
        Queued { tx, pool, worker }
    }
}

impl Subject for Queued {
    #[inline]
    fn log(&self, i: u64) {
        let mut line = self
            .pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(256));
        encode(&mut line, i);
        self.tx
            .send(Msg::Line(line))
            .expect("baseline worker alive");
    }

    fn drain(&self) {
        let (ack, done) = bounded(1);
        self.tx
            .send(Msg::Flush(ack))
            .expect("baseline worker alive");
        done.recv().expect("baseline worker alive");
    }

    fn finish(self: Box<Self>) {
        let Queued { tx, pool, worker } = *self;
        drop(tx);
        worker.join().expect("baseline worker");
        drop(pool);
    }
}
