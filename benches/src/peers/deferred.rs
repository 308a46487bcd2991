//! Baseline: deferred encoding (the design of NanoLog). The caller reads
//! the raw TSC and copies a record straight into its own SPSC ring
//! (`spsc.rs`): a header naming the call site's `&'static` descriptor, the
//! TSC, then the values in a layout fixed per call site (numbers as their
//! eight, two or one bytes; strings, which may be borrowed for the call
//! only, as a length and their bytes; a `Display` value as its output,
//! written at the call). The worker formats the line from the descriptor:
//! the TSC converted to wall-clock time (`tsc.rs`), the site's static text
//! (level, message, caller), and each key with its value, through the
//! descriptor's own function that knows the layout (NanoLog generates one
//! per log statement). The line has velo's bytes but for the caller's file
//! and line.
//!
//! ```text
//! record := len:u32 0:u32 desc:u64 tsc:u64 values [padding to 8 bytes]
//! W3     := user_id:u64 latency_ms:f64 path:str
//! W10    := user_id:u64 latency_ms:f64 ratio:f64 bytes:u64 status:u16
//!           cache_hit:u8 tls:u8 path:str method:str peer:str
//! str    := len:u32 bytes
//! ```

use super::json::{self, Out, SecondCache, Slot};
use super::spsc::{LineBuffer, Pipeline, Ring, SLACK};
use super::workload::{self, W0, W10, W3};
use super::Subject;
use crate::sink::Target;
use crate::tsc::{self, Calibration};
use std::fmt::Write as _;

/// Bytes of a record's header.
const HEADER: usize = 24;

/// What the worker knows about a call site.
struct Desc {
    /// The line's static text from the `Z` ending the time to the first
    /// key.
    head: &'static [u8],
    /// Formats the site's values, each with its key, from the record's
    /// body.
    fields: fn(&mut Body<'_>, &mut Vec<u8>),
}

/// The static text of a site's line, with its caller.
macro_rules! head {
    () => {
        concat!(
            "Z\",\"level\":\"info\",\"msg\":\"request handled\",\"caller\":\"",
            file!(),
            ":",
            line!(),
            "\""
        )
        .as_bytes()
    };
}

static W0_SITE: Desc = Desc {
    head: head!(),
    fields: |_, _| {},
};

static W3_SITE: Desc = Desc {
    head: head!(),
    fields: |body, out| {
        let user_id = body.u64();
        let latency_ms = body.f64();
        out.extend_from_slice(b",\"user_id\":");
        json::int(out, user_id);
        out.extend_from_slice(b",\"path\":\"");
        json::escape_bytes(out, body.str());
        out.extend_from_slice(b"\",\"latency_ms\":");
        json::float(out, latency_ms);
    },
};

static W10_SITE: Desc = Desc {
    head: head!(),
    fields: |body, out| {
        let user_id = body.u64();
        let latency_ms = body.f64();
        let ratio = body.f64();
        let bytes = body.u64();
        let status = body.u16();
        let cache_hit = body.u8() != 0;
        let tls = body.u8() != 0;
        out.extend_from_slice(b",\"user_id\":");
        json::int(out, user_id);
        out.extend_from_slice(b",\"path\":\"");
        json::escape_bytes(out, body.str());
        out.extend_from_slice(b"\",\"latency_ms\":");
        json::float(out, latency_ms);
        out.extend_from_slice(b",\"status\":");
        json::int(out, status);
        out.extend_from_slice(b",\"method\":\"");
        json::escape_bytes(out, body.str());
        out.extend_from_slice(b"\",\"bytes\":");
        json::int(out, bytes);
        out.extend_from_slice(b",\"cache_hit\":");
        json::boolean(out, cache_hit);
        out.extend_from_slice(b",\"tls\":");
        json::boolean(out, tls);
        out.extend_from_slice(b",\"ratio\":");
        json::float(out, ratio);
        out.extend_from_slice(b",\"peer\":\"");
        json::escape_bytes(out, body.str());
        out.push(b'"');
    },
};

/// A logger of workload `W`.
struct Deferred<const W: u8> {
    pipe: Pipeline,
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    let pipe = Pipeline::start(
        super::baseline_writer(target),
        Format {
            calibration: Calibration::get(),
            clock: SecondCache::new(),
        },
    );
    match w {
        W0 => Box::new(Deferred::<W0> { pipe }),
        W3 => Box::new(Deferred::<W3> { pipe }),
        W10 => Box::new(Deferred::<W10> { pipe }),
        _ => panic!("no workload W{w}"),
    }
}

/// Appends a string's length and bytes, cut at a character boundary to
/// what the record has room for.
#[inline(always)]
fn put_str(rec: &mut Slot<'_>, s: &str) {
    let room = rec.room().saturating_sub(4 + 8);
    let mut len = s.len().min(room);
    while !s.is_char_boundary(len) {
        len -= 1;
    }
    rec.put(&(len as u32).to_le_bytes());
    rec.put(&s.as_bytes()[..len]);
}

/// Appends a value's `Display` output as a string.
#[inline]
fn put_display(rec: &mut Slot<'_>, v: &dyn std::fmt::Display) {
    if rec.room() < 4 {
        // No room for even the length: the record ends here.
        rec.truncated = true;
        return;
    }
    let at = rec.len();
    rec.put(&[0; 4]);
    // A value longer than the record's room is cut.
    let _ = write!(rec, "{v}");
    let len = rec.len() - at - 4;
    rec.patch(at, &(len as u32).to_le_bytes());
}

impl<const W: u8> Deferred<W> {
    /// Writes event `i`'s record into `slot`; returns its length.
    #[inline(always)]
    fn record(slot: &mut [u8], i: u64) -> usize {
        let time = tsc::now();
        let mut rec = Slot::new(slot);
        let site: &'static Desc = match W {
            W0 => &W0_SITE,
            W3 => &W3_SITE,
            _ => &W10_SITE,
        };
        rec.put(&[0; 8]);
        rec.put(&(site as *const Desc as usize as u64).to_le_bytes());
        rec.put(&time.to_le_bytes());
        match W {
            W0 => {}
            W3 => {
                rec.put(&i.to_le_bytes());
                rec.put(&workload::latency_ms(i).to_le_bytes());
                put_str(&mut rec, workload::path(i));
            }
            _ => {
                rec.put(&i.to_le_bytes());
                rec.put(&workload::latency_ms(i).to_le_bytes());
                rec.put(&workload::ratio(i).to_le_bytes());
                rec.put(&workload::bytes(i).to_le_bytes());
                rec.put(&workload::status(i).to_le_bytes());
                rec.put(&[u8::from(workload::cache_hit(i)), u8::from(workload::tls(i))]);
                put_str(&mut rec, workload::path(i));
                put_str(&mut rec, workload::method(i));
                put_display(&mut rec, &workload::peer(i));
            }
        }
        // Whole records of 8 bytes keep every header 8-aligned, so no
        // header crosses the end of the ring.
        let len = (rec.len() + 7) & !7;
        debug_assert!(len <= SLACK);
        rec.patch(0, &(len as u32).to_le_bytes());
        len
    }
}

impl<const W: u8> Subject for Deferred<W> {
    #[inline]
    fn log(&self, i: u64) {
        self.pipe.write(|slot, _| Self::record(slot, i));
    }

    fn drain(&self) {
        self.pipe.sync();
    }

    fn finish(self: Box<Self>) {
        drop(self);
    }

    fn queue_full(&self) -> Option<u64> {
        Some(self.pipe.waits())
    }
}

/// The values of a record, read in order. A read past the end gives zero
/// or an empty string: a malformed record ends up a line with wrong
/// values, never a crash.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> [u8; N] {
        match self.0.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.0 = rest;
                *head
            }
            None => [0; N],
        }
    }

    #[inline(always)]
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }

    #[inline(always)]
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.take())
    }

    #[inline(always)]
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }

    #[inline(always)]
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    /// A string's bytes: valid UTF-8 as the caller cut it at a character
    /// boundary.
    #[inline(always)]
    fn str(&mut self) -> &'a [u8] {
        let len = u32::from_le_bytes(self.take()) as usize;
        let len = len.min(self.0.len());
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        s
    }
}

/// The worker's side: formats each record's line.
struct Format {
    calibration: &'static Calibration,
    clock: SecondCache,
}

impl Format {
    #[inline]
    fn line(&mut self, rec: &[u8], out: &mut Vec<u8>) {
        let mut header = Body(&rec[..HEADER]);
        let _len = header.u64();
        let site = header.u64() as usize as *const Desc;
        // SAFETY: the callers of this baseline store the address of one of
        // the `static` descriptors above in every record's header, and the
        // worker reads whole records only (the ring's protocol).
        let site: &'static Desc = unsafe { &*site };
        let time = header.u64();
        out.extend_from_slice(b"{\"time\":\"");
        self.clock.micros(out, self.calibration.wall(time));
        out.extend_from_slice(site.head);
        (site.fields)(&mut Body(&rec[HEADER..]), out);
        out.extend_from_slice(b"}\n");
    }
}

impl super::spsc::Drain for Format {
    fn drain(&mut self, ring: &Ring, out: &mut LineBuffer) -> usize {
        // SAFETY (every `unsafe` below): called by the worker only (the
        // trait's use in `spsc.rs`), on bytes readable and not released.
        let readable = unsafe { ring.readable() };
        let mut at = readable.start;
        let mut released = at;
        while at < readable.end {
            let header = unsafe { ring.bytes(at, HEADER) };
            let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
            if !(HEADER..=SLACK).contains(&len) || len > readable.end - at {
                // Not a record of ours: skip what is left.
                break;
            }
            // Contiguous through the slack (see `spsc.rs`).
            let rec = unsafe { ring.bytes(at, len) };
            self.line(rec, &mut out.buf);
            out.line_done();
            at += len;
            if at - released >= 16 * 1024 {
                // Room for the producer while the pass goes on.
                ring.release(at);
                released = at;
            }
        }
        ring.release(readable.end);
        readable.end - readable.start
    }
}
