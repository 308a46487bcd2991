//! Reused byte buffers that give back what a burst of large entries made
//! them grow, without shrinking and growing again while large entries go
//! on.

/// Uses in a row that needed at most a quarter of a buffer grown past its
/// usual size before it shrinks back to that size.
pub(crate) const SHRINK_AFTER: u32 = 256;

/// When a reused buffer shrinks: after [`SHRINK_AFTER`] uses in a row that
/// each needed at most a quarter of it, once it is larger than its usual
/// size. A buffer whose uses keep needing more keeps its memory (no
/// reallocation per large entry); one that had a burst gives it back.
#[derive(Debug, Default)]
pub(crate) struct Shrink {
    /// Small uses in a row.
    small: u32,
}

impl Shrink {
    /// After a use of `buf` that needed `used` bytes: counts it, and
    /// shrinks `buf` to `keep` bytes when it is time and `buf` holds no
    /// more than that.
    #[inline]
    pub(crate) fn after_use(&mut self, buf: &mut Vec<u8>, used: usize, keep: usize) {
        if buf.capacity() <= keep || used > buf.capacity() / 4 {
            self.small = 0;
            return;
        }
        self.small += 1;
        if self.small >= SHRINK_AFTER && buf.len() <= keep {
            buf.shrink_to(keep);
            self.small = 0;
        }
    }

    /// While its user is idle: shrinks `buf` to `keep` bytes at once when
    /// it grew past that and holds no more. An idle logger gives back what
    /// its last large entry took without waiting for more uses.
    pub(crate) fn idle(&mut self, buf: &mut Vec<u8>, keep: usize) {
        if buf.capacity() > keep && buf.len() <= keep {
            buf.shrink_to(keep);
        }
        self.small = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_is_kept_while_uses_need_it_and_shrinks_after_a_run_of_small_ones() {
        const KEEP: usize = 64 << 10;
        let mut shrink = Shrink::default();
        let mut buf = Vec::<u8>::with_capacity(1 << 20);
        let grown = buf.capacity();
        // Uses that keep needing more than a quarter: the same allocation.
        for _ in 0..2 * SHRINK_AFTER {
            shrink.after_use(&mut buf, 300 << 10, KEEP);
            assert_eq!(buf.capacity(), grown);
        }
        // Small uses: shrunk after `SHRINK_AFTER` of them.
        for i in 1..=SHRINK_AFTER {
            shrink.after_use(&mut buf, 100, KEEP);
            let small = buf.capacity() < grown;
            assert_eq!(small, i == SHRINK_AFTER, "after {i} small uses");
        }
        assert!(buf.capacity() >= KEEP);
        // What a buffer holds is never given up.
        let mut full = vec![0u8; 1 << 20];
        for _ in 0..SHRINK_AFTER {
            shrink.after_use(&mut full, 100, KEEP);
        }
        assert_eq!(full.len(), 1 << 20);
        // A buffer at its usual size stays as it is.
        let mut usual = Vec::<u8>::with_capacity(KEEP);
        let before = usual.capacity();
        for _ in 0..SHRINK_AFTER {
            shrink.after_use(&mut usual, 0, KEEP);
        }
        assert_eq!(usual.capacity(), before);
    }

    #[test]
    fn an_idle_buffer_shrinks_at_once_keeping_what_it_holds() {
        const KEEP: usize = 64 << 10;
        let mut shrink = Shrink::default();
        let mut buf = Vec::<u8>::with_capacity(1 << 20);
        shrink.idle(&mut buf, KEEP);
        assert!(buf.capacity() >= KEEP && buf.capacity() < 1 << 20);
        let mut held = vec![7u8; 100];
        held.reserve(1 << 20);
        shrink.idle(&mut held, KEEP);
        assert!(held.capacity() < 1 << 20 && held == [7u8; 100]);
        let mut full = vec![0u8; 1 << 20];
        shrink.idle(&mut full, KEEP);
        assert_eq!(full.len(), 1 << 20);
    }
}
