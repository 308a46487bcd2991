//! The hand-written baselines of issue 5: the W3 line formatted by hand
//! (itoa, ryu, a per-thread cached timestamp prefix that changes once per
//! second, `SystemTime::now` per event) into a reused buffer.
//!
//! - direct: formatting only; the line goes straight to the writer (the
//!   counting sink, or one `write` per line to a file), no queue.
//! - blocking: + a pooled `Vec<u8>` per line, sent through
//!   `crossbeam_channel::bounded(8192)` to a worker thread that blocks in
//!   `recv`, drains what is queued into a 64 KiB `BufWriter`, and flushes
//!   when the queue runs empty.
//! - polling: the same, but the worker polls (`try_recv`) and sleeps 50 us
//!   when the queue is empty, flushing before it sleeps.

use super::{Subject, LATENCY_MS, MESSAGE, PATH};
use crate::sink::{CountingSink, Target};
use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};
use std::cell::RefCell;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cached "YYYY-MM-DDTHH:MM:SS." prefix of the current second.
struct Clock {
    second: u64,
    prefix: [u8; 20],
}

impl Clock {
    const fn new() -> Clock {
        Clock {
            second: u64::MAX,
            prefix: [0; 20],
        }
    }

    #[cold]
    fn refresh(&mut self, second: u64) {
        self.second = second;
        let days = (second / 86_400) as i64;
        let rem = second % 86_400;
        let (year, month, day) = civil_from_days(days);
        let text = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        self.prefix.copy_from_slice(text.as_bytes());
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

thread_local! {
    static CLOCK: RefCell<Clock> = const { RefCell::new(Clock::new()) };
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

/// Appends the W3 line of event `i` to `out`.
#[inline]
fn encode(out: &mut Vec<u8>, i: u64, path: &str, latency_ms: f64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    out.extend_from_slice(b"{\"time\":\"");
    CLOCK.with(|clock| {
        let mut clock = clock.borrow_mut();
        if clock.second != now.as_secs() {
            clock.refresh(now.as_secs());
        }
        out.extend_from_slice(&clock.prefix);
    });
    let micros = now.subsec_micros();
    let mut digits = [0u8; 6];
    let mut rest = micros;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits);
    out.extend_from_slice(b"Z\",\"level\":\"info\",\"msg\":\"");
    out.extend_from_slice(MESSAGE.as_bytes());
    out.extend_from_slice(b"\",\"user_id\":");
    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    out.extend_from_slice(b",\"path\":\"");
    escape(out, path);
    out.extend_from_slice(b"\",\"latency_ms\":");
    if latency_ms.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(latency_ms).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b"}\n");
}

/// JSON string escaping with a fast path for text that needs none.
#[inline]
fn escape(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
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

pub(super) fn build_direct(target: Target) -> Box<dyn Subject> {
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
            encode(&mut line, i, black_box(PATH), black_box(LATENCY_MS));
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

pub(super) fn build_blocking(target: Target) -> Box<dyn Subject> {
    Box::new(Queued::start(writer(target), Wait::Block))
}

pub(super) fn build_polling(target: Target) -> Box<dyn Subject> {
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
        encode(&mut line, i, black_box(PATH), black_box(LATENCY_MS));
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
