//! Several threads' records of one pass, written in time order.
//!
//! Each thread pushes into its own ring, and the consumer drains the rings
//! one after the other. Written ring by ring, one thread's entries of a
//! whole pass (milliseconds' worth when the worker falls behind) would come
//! before another's written in the middle of them. So when more than one
//! thread has entries queued, the pass copies every ring's records here
//! (which frees the rings for their threads at once) and writes them by a
//! k-way merge on their clock readings. Each thread's records keep their
//! order: the merge only ever takes the next record of a thread.
//!
//! What a merge cannot fix is a record that a thread dated before another
//! thread's but published after the pass took that other thread's bytes:
//! it is written in the next pass, after it. The gap between reading the
//! clock and publishing is the caller's encoding (tens of nanoseconds),
//! unless the thread is preempted in between.

use crate::buffer::Shrink;
use crate::clock::Converter;
use crate::record;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The buffer keeps up to this much between passes. Past it, it shrinks
/// back as [`Shrink`] says: a logger whose passes keep needing more
/// (threads logging flat out, each ring up to 1 MiB) keeps its buffer
/// instead of reallocating it every few passes, and one that had a burst
/// gives the memory back.
const KEEP_BYTES: usize = 1 << 20;

/// Up to this many threads in a pass are merged by a scan of them all
/// (see `Thread::merge_few`); more, through a heap.
const FEW: usize = 8;

/// Records of several threads, copied out of their rings.
#[derive(Debug, Default)]
pub(crate) struct Merge {
    /// The records, thread after thread.
    bytes: Vec<u8>,
    /// Each thread's records in `bytes`.
    threads: Vec<Thread>,
    /// `(time, thread)` of the next record of each thread but the one
    /// being written, earliest on top (a tie goes to the thread drained
    /// first).
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    /// When `bytes` shrinks back to [`KEEP_BYTES`].
    shrink: Shrink,
    /// Where the next record of the current thread starts in `bytes`, as
    /// far as [`Merge::push`] has counted them.
    scan: usize,
}

/// One thread's records, and where the merge is in them.
#[derive(Debug)]
struct Thread {
    at: usize,
    end: usize,
    /// The length of the record at `at`.
    len: usize,
    /// The time of the record at `at`, in wall-clock nanoseconds (a record
    /// of a logger that shows no time is dated all the same).
    time: u64,
}

impl Merge {
    /// Appends bytes of the current thread's records; returns how many
    /// records they completed (for `Ring::drain_to` to free them at once).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> u64 {
        self.bytes.extend_from_slice(bytes);
        let mut records = 0;
        // Bytes that do not read as a record stop the count (their ring's
        // entries are then freed with its last bytes).
        while let Some(len) = record::record_len(&self.bytes[self.scan..]) {
            if len > self.bytes.len() - self.scan {
                break;
            }
            self.scan += len;
            records += 1;
        }
        records
    }

    /// Ends the current thread's records.
    pub(crate) fn end_thread(&mut self) {
        self.scan = self.bytes.len();
        let start = self.threads.last().map_or(0, |t| t.end);
        if self.bytes.len() > start {
            self.threads.push(Thread {
                at: start,
                end: self.bytes.len(),
                len: 0,
                time: 0,
            });
        }
    }

    /// Gives back what a large burst made the buffer grow to (see
    /// `buffer::Shrink::idle`).
    pub(crate) fn idle(&mut self) {
        self.shrink.idle(&mut self.bytes, KEEP_BYTES);
    }

    /// Calls `write` with every record, earliest first, and empties the
    /// merge: with runs of records, each the records of one thread that
    /// come before every other thread's next one (whole records, one after
    /// the other as that thread queued them). A thread's bytes that do not
    /// read as records end that thread's records there.
    pub(crate) fn write(&mut self, clock: &Converter, mut write: impl FnMut(&[u8])) {
        let Merge {
            bytes,
            threads,
            heap,
            shrink,
            scan,
        } = self;
        *scan = 0;
        if threads.len() <= FEW {
            Thread::merge_few(bytes, threads, clock, &mut write);
        } else {
            Thread::merge_heap(bytes, threads, heap, clock, &mut write);
        }
        let used = bytes.len();
        bytes.clear();
        threads.clear();
        shrink.after_use(bytes, used, KEEP_BYTES);
    }
}

impl Thread {
    /// A few threads' records (up to [`FEW`]), earliest first, a tie to
    /// the thread drained first: each record's thread is the earliest of a
    /// scan of them all, picked by selects rather than branches. Threads
    /// logging at the same time alternate unpredictably, and a mispredicted
    /// branch per entry (the heap's) cost more than the scan.
    fn merge_few(
        bytes: &[u8],
        threads: &mut [Thread],
        clock: &Converter,
        write: &mut impl FnMut(&[u8]),
    ) {
        debug_assert!(threads.len() <= FEW);
        // Bit `i`: thread `i` has a record at `at`.
        let mut live = 0u32;
        for (i, thread) in threads.iter_mut().enumerate() {
            live |= u32::from(thread.next(bytes, clock)) << i;
        }
        while live != 0 {
            let mut best = live.trailing_zeros() as usize;
            for (i, thread) in threads.iter().enumerate().skip(best + 1) {
                let earlier = live >> i & 1 != 0 && thread.time < threads[best].time;
                best = if earlier { i } else { best };
            }
            // The other threads' earliest next record, as `(time, thread)`:
            // `best`'s records before it make one run.
            let mut bound = (u64::MAX, usize::MAX);
            for (i, thread) in threads.iter().enumerate() {
                if i != best && live >> i & 1 != 0 && (thread.time, i) < bound {
                    bound = (thread.time, i);
                }
            }
            let thread = &mut threads[best];
            let start = thread.at;
            loop {
                thread.at += thread.len;
                if !thread.next(bytes, clock) {
                    live &= !(1 << best);
                    break;
                }
                if (thread.time, best) > bound {
                    break;
                }
            }
            write(&bytes[start..thread.at]);
        }
    }

    /// Any number of threads' records, earliest first, through a heap of
    /// each thread's next record.
    fn merge_heap(
        bytes: &[u8],
        threads: &mut [Thread],
        heap: &mut BinaryHeap<Reverse<(u64, usize)>>,
        clock: &Converter,
        write: &mut impl FnMut(&[u8]),
    ) {
        heap.clear();
        for (i, thread) in threads.iter_mut().enumerate() {
            if thread.next(bytes, clock) {
                heap.push(Reverse((thread.time, i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            let thread = &mut threads[i];
            // This thread's records while they come before every other
            // thread's next one, as one run, without a round through the
            // heap.
            let start = thread.at;
            loop {
                thread.at += thread.len;
                if !thread.next(bytes, clock) {
                    break;
                }
                let next = (thread.time, i);
                if heap.peek().is_some_and(|Reverse(other)| *other < next) {
                    heap.push(Reverse(next));
                    break;
                }
            }
            write(&bytes[start..thread.at]);
        }
    }

    /// Whether a whole record starts at `at`; if so, sets `len` and `time`
    /// to its.
    fn next(&mut self, bytes: &[u8], clock: &Converter) -> bool {
        let rest = &bytes[self.at..self.end];
        let Some(len) = record::record_len(rest) else {
            return false;
        };
        let Some((flags, time)) = record::flags_and_time(rest) else {
            return false;
        };
        if len > rest.len() {
            return false;
        }
        // Dated with or without `NO_TIME` (which only says not to show it).
        self.time = clock.wall(flags, time);
        self.len = len;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Merge;
    use crate::callsite::internal_site;
    use crate::clock::Converter;
    use crate::level::Level;
    use crate::record;

    static SITE: crate::callsite::CallSite = internal_site!(Info, "m", ["n"]);

    /// A record of value `n` at wall-clock time `time` (or none).
    fn rec(n: u64, time: Option<u64>) -> Vec<u8> {
        let mut buf = Vec::new();
        let flags = if time.is_some() { 0 } else { record::NO_TIME };
        record::begin(&mut buf, flags, Level::Info, SITE.site());
        record::set_time(&mut buf, || (record::WALL_TIME, time.unwrap_or(0)));
        record::put_u64(&mut buf, n);
        record::finish(&mut buf);
        buf
    }

    fn merged(threads: &[Vec<Vec<u8>>]) -> Vec<u64> {
        let mut merge = Merge::default();
        for records in threads {
            for r in records {
                merge.push(r);
            }
            merge.end_thread();
        }
        let mut out = Vec::new();
        merge.write(&Converter::now(), |mut run| {
            assert!(!run.is_empty(), "a run has records");
            while let Some(len) = record::record_len(run) {
                let (r, rest) = run.split_at(len);
                out.push(u64::from_le_bytes(
                    r[record::HEADER..][..8].try_into().unwrap(),
                ));
                run = rest;
            }
            assert!(run.is_empty(), "a run is whole records");
        });
        out
    }

    /// `push` counts the records each slice completes, whatever the
    /// slices' cuts, and each thread's count starts afresh.
    #[test]
    fn push_counts_the_records_it_completes() {
        let bytes: Vec<u8> = (0..5).flat_map(|n| rec(n, Some(n))).collect();
        let len = bytes.len() / 5;
        for cut in [1, 3, len - 1, len, len + 1, 2 * len + 5] {
            let mut merge = Merge::default();
            let mut counts = Vec::new();
            for slice in bytes.chunks(cut) {
                counts.push(merge.push(slice));
            }
            let ends: Vec<u64> = (1..=bytes.len())
                .step_by(cut)
                .map(|start| ((start - 1 + cut).min(bytes.len()) / len) as u64)
                .collect();
            let mut expected = Vec::new();
            let mut before = 0;
            for end in ends {
                expected.push(end - before);
                before = end;
            }
            assert_eq!(counts, expected, "slices of {cut}");
            merge.end_thread();
            assert_eq!(merge.push(&bytes[..len + 2]), 1, "a second thread");
        }
    }

    #[test]
    fn records_interleave_by_time_and_keep_each_threads_order() {
        let a = vec![rec(1, Some(10)), rec(3, Some(30)), rec(4, Some(40))];
        let b = vec![rec(2, Some(20)), rec(5, Some(50))];
        let c = vec![rec(6, Some(60))];
        assert_eq!(merged(&[a, b, c]), [1, 2, 3, 4, 5, 6]);

        // A thread whose clock ran backwards keeps its own order.
        let a = vec![rec(1, Some(30)), rec(2, Some(10))];
        let b = vec![rec(3, Some(20))];
        assert_eq!(merged(&[a, b]), [3, 1, 2]);

        // Ties go to the thread drained first.
        let a = vec![rec(1, Some(10)), rec(2, Some(10))];
        let b = vec![rec(3, Some(10))];
        assert_eq!(merged(&[a, b]), [1, 2, 3]);
    }

    #[test]
    fn records_without_a_time_follow_their_threads_last_time() {
        let a = vec![rec(1, Some(10)), rec(2, None), rec(4, Some(40))];
        let b = vec![rec(3, Some(20))];
        assert_eq!(merged(&[a, b]), [1, 2, 3, 4]);
        // With no times at all, thread after thread.
        let a = vec![rec(1, None), rec(2, None)];
        let b = vec![rec(3, None)];
        assert_eq!(merged(&[a, b]), [1, 2, 3]);
    }

    /// A few threads (merged by a scan) and many (through a heap) give
    /// what a plain stable merge gives: the earliest next record,
    /// a tie to the thread drained first; times drawn at random, running
    /// backwards at times, with ties and records without a time.
    #[test]
    fn both_merges_agree_with_a_plain_one() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut value = 0;
        for round in 0..300 {
            let threads = 2 + round % 10;
            let mut times: Vec<Vec<Option<u64>>> = Vec::new();
            for _ in 0..threads {
                let mut t = rand(20);
                let records = (0..rand(12))
                    .map(|_| {
                        t = (t + rand(6)).saturating_sub(rand(3));
                        (rand(5) != 0).then_some(t)
                    })
                    .collect();
                times.push(records);
            }
            // The plain merge, on (time, thread); a record made without a
            // time (`rec`'s `None`) is dated 0, as its header says.
            let mut cursors = vec![0; threads as usize];
            let mut expected = Vec::new();
            let mut values = Vec::new();
            let mut input = Vec::new();
            for records in &times {
                let mut thread = Vec::new();
                let mut ids = Vec::new();
                for time in records {
                    value += 1;
                    thread.push(rec(value, *time));
                    ids.push(value);
                }
                input.push(thread);
                values.push(ids);
            }
            let effective = |t: usize, i: usize| times[t][i].unwrap_or(0);
            loop {
                let next = (0..threads as usize)
                    .filter(|&t| cursors[t] < times[t].len())
                    .min_by_key(|&t| (effective(t, cursors[t]), t));
                let Some(t) = next else { break };
                expected.push(values[t][cursors[t]]);
                cursors[t] += 1;
            }
            assert_eq!(merged(&input), expected, "{times:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_records_end_that_thread_only() {
        let mut a = rec(1, Some(10));
        a.extend_from_slice(&[1, 0, 0, 0, 9, 9]);
        a.extend_from_slice(&rec(9, Some(15)));
        let b = vec![rec(2, Some(20))];
        assert_eq!(merged(&[vec![a], b]), [1, 2]);
        // A truncated record too.
        let mut a = rec(1, Some(10));
        a.extend_from_slice(&rec(9, Some(15))[..30]);
        assert_eq!(merged(&[vec![a], vec![rec(2, Some(20))]]), [1, 2]);
    }

    #[test]
    fn a_large_buffer_is_kept_while_passes_need_it_and_shrinks_after() {
        use super::KEEP_BYTES;
        use crate::buffer::SHRINK_AFTER;
        let mut merge = Merge::default();
        let big = vec![0u8; 2 * KEEP_BYTES];
        // A pass of 2 MiB (the bytes need not be records for this).
        merge.push(&big);
        merge.end_thread();
        merge.write(&Converter::now(), |_| {});
        let grown = merge.bytes.capacity();
        assert!(grown >= 2 * KEEP_BYTES);
        // Passes that keep needing more than a quarter of it: kept, and
        // the same allocation (no shrink and grow again).
        for _ in 0..2 * SHRINK_AFTER {
            merge.push(&big[..KEEP_BYTES]);
            merge.end_thread();
            merge.write(&Converter::now(), |_| {});
            assert_eq!(merge.bytes.capacity(), grown);
        }
        // Small passes: shrunk back after `SHRINK_AFTER` of them.
        for i in 1..=SHRINK_AFTER {
            merge.push(&rec(1, Some(1)));
            merge.end_thread();
            merge.write(&Converter::now(), |_| {});
            let expected = if i < SHRINK_AFTER { grown } else { KEEP_BYTES };
            assert_eq!(merge.bytes.capacity(), expected, "after {i} small passes");
        }
    }

    #[test]
    fn a_merge_is_empty_after_writing() {
        let mut merge = Merge::default();
        merge.push(&rec(1, Some(1)));
        merge.end_thread();
        merge.write(&Converter::now(), |_| {});
        let mut n = 0;
        merge.write(&Converter::now(), |_| n += 1);
        assert_eq!(n, 0);
        assert!(merge.bytes.is_empty() && merge.threads.is_empty());
    }
}
