//! Baseline: the in-place ring (the design of Quill and fmtlog, with the
//! line formatted on the caller). Each logging thread formats its JSON
//! line straight into its own SPSC byte ring (`spsc.rs`: 1 MiB, with 4 KiB
//! of slack past the end so the line is always contiguous); the worker
//! copies the bytes, whole runs of lines at a time, into its 64 KiB buffer.
//!
//! The caller does everything velo's worker does for a line: it reads the
//! TSC, converts it to wall-clock time with the process's calibration
//! (`tsc.rs`: a multiply and a shift), writes the RFC 3339 time from the
//! thread's cached date-and-seconds prefix, then the static part of the
//! line (level, message, caller: one constant per call site, as velo's
//! macro makes them), then each key (a constant) and value (itoa, zmij,
//! JSON escaping). The line has velo's bytes but for the caller's file and
//! line.

use super::json::{self, Out, Slot};
use super::spsc::{LineBuffer, Pipeline, Producer, Ring, RING_BYTES};
use super::workload::{self, W0, W10, W3};
use super::Subject;
use crate::sink::Target;
use crate::tsc::{self, Calibration};
use std::fmt::Write as _;

/// The line's static text from the `Z` ending the time to the first key.
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

/// A logger of workload `W`.
struct InPlace<const W: u8> {
    pipe: Pipeline,
    calibration: &'static Calibration,
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    let pipe = Pipeline::start(super::baseline_writer(target), CopyLines);
    let calibration = Calibration::get();
    match w {
        W0 => Box::new(InPlace::<W0> { pipe, calibration }),
        W3 => Box::new(InPlace::<W3> { pipe, calibration }),
        W10 => Box::new(InPlace::<W10> { pipe, calibration }),
        _ => panic!("no workload W{w}"),
    }
}

impl<const W: u8> InPlace<W> {
    /// Formats event `i`'s line into `slot`; returns its length.
    #[inline(always)]
    fn format(&self, slot: &mut [u8], p: &mut Producer, i: u64) -> usize {
        let now = self.calibration.wall(tsc::now());
        let mut out = Slot::new(slot);
        out.put(b"{\"time\":\"");
        p.clock.micros(&mut out, now);
        match W {
            W0 => out.put(head!()),
            W3 => {
                out.put(head!());
                out.put(b",\"user_id\":");
                json::int(&mut out, i);
                out.put(b",\"path\":\"");
                json::escape(&mut out, workload::path(i));
                out.put(b"\",\"latency_ms\":");
                json::float(&mut out, workload::latency_ms(i));
            }
            _ => {
                out.put(head!());
                out.put(b",\"user_id\":");
                json::int(&mut out, i);
                out.put(b",\"path\":\"");
                json::escape(&mut out, workload::path(i));
                out.put(b"\",\"latency_ms\":");
                json::float(&mut out, workload::latency_ms(i));
                out.put(b",\"status\":");
                json::int(&mut out, workload::status(i));
                out.put(b",\"method\":\"");
                json::escape(&mut out, workload::method(i));
                out.put(b"\",\"bytes\":");
                json::int(&mut out, workload::bytes(i));
                out.put(b",\"cache_hit\":");
                json::boolean(&mut out, workload::cache_hit(i));
                out.put(b",\"tls\":");
                json::boolean(&mut out, workload::tls(i));
                out.put(b",\"ratio\":");
                json::float(&mut out, workload::ratio(i));
                out.put(b",\"peer\":\"");
                // `Display` output, escaped as it is written.
                let _ = write!(Escaping(&mut out), "{}", workload::peer(i));
                out.byte(b'"');
            }
        }
        out.put(b"}\n");
        if out.truncated {
            // A line longer than the slack: cut, but still one line.
            let len = out.len();
            out.patch(len - 1, b"\n");
        }
        out.len()
    }
}

impl<const W: u8> Subject for InPlace<W> {
    #[inline]
    fn log(&self, i: u64) {
        self.pipe.write(|slot, p| self.format(slot, p, i));
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

/// A `fmt::Write` that JSON-escapes what it is given.
struct Escaping<'a, O: Out>(&'a mut O);

impl<O: Out> std::fmt::Write for Escaping<'_, O> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        json::escape(self.0, s);
        Ok(())
    }
}

/// The worker's side: the ring holds finished lines; copy them in runs.
struct CopyLines;

impl super::spsc::Drain for CopyLines {
    fn drain(&mut self, ring: &Ring, out: &mut LineBuffer) -> usize {
        // SAFETY: called by the worker only (the trait's use in `spsc.rs`).
        let readable = unsafe { ring.readable() };
        let mut at = readable.start;
        while at < readable.end {
            // To the end of what is readable or of the ring, whichever is
            // first (the start of the ring holds what follows: the slack is
            // mirrored there).
            let run = (readable.end - at).min(RING_BYTES - at % RING_BYTES);
            // SAFETY: worker only; `at..at + run` is readable and stops at
            // the end of the ring.
            out.extend(unsafe { ring.bytes(at, run) });
            at += run;
            ring.release(at);
        }
        readable.end - readable.start
    }
}
