//! The buffer pool.
//!
//! A call site takes a buffer, encodes its entry into it and hands it to the
//! logger's queue; the worker writes it and gives it back. In steady state
//! buffers circulate and nothing is allocated. A buffer that grew past
//! [`MAX_RETAINED`] (one huge entry) is replaced by a small one before it is
//! pooled, so the pool's memory stays bounded by its capacity times that
//! bound.

use crossbeam_channel::{Receiver, Sender};

/// Capacity of a fresh buffer: room for a typical entry.
pub(crate) const INITIAL_CAPACITY: usize = 512;

/// The largest capacity a pooled buffer keeps.
pub(crate) const MAX_RETAINED: usize = 64 * 1024;

/// A bounded pool of entry buffers.
#[derive(Debug)]
pub(crate) struct Pool {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl Pool {
    /// A pool holding at most `capacity` idle buffers.
    pub(crate) fn new(capacity: usize) -> Pool {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        Pool { tx, rx }
    }

    /// An empty buffer: a pooled one if any, else a new one.
    #[inline]
    pub(crate) fn take(&self) -> Vec<u8> {
        self.rx
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(INITIAL_CAPACITY))
    }

    /// Returns a buffer to the pool; it is dropped if the pool is full.
    #[inline]
    pub(crate) fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() > MAX_RETAINED {
            buf = Vec::with_capacity(INITIAL_CAPACITY);
        }
        buf.clear();
        let _ = self.tx.try_send(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_bounds() {
        let pool = Pool::new(2);
        let mut a = pool.take();
        a.extend_from_slice(b"hello");
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take();
        assert!(b.is_empty());
        assert_eq!(b.as_ptr(), ptr, "the pooled buffer is reused");

        let big = vec![0u8; MAX_RETAINED * 2];
        pool.give(big);
        assert!(pool.take().capacity() <= MAX_RETAINED);

        for _ in 0..5 {
            pool.give(Vec::with_capacity(8));
        }
        assert_eq!(
            pool.rx.len(),
            2,
            "the pool never holds more than its capacity"
        );
    }
}
