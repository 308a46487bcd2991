//! Reused byte buffers that give back what one large entry made them grow.

/// Gives back what `buf` grew past `keep` bytes, once it holds no more than
/// that: a reused buffer stays the size of the usual entries, not of the
/// largest one it ever held.
#[inline]
pub(crate) fn shrink(buf: &mut Vec<u8>, keep: usize) {
    if buf.capacity() > 2 * keep && buf.len() <= keep {
        buf.shrink_to(keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_shrinks_only_when_large_and_holding_little() {
        let mut buf = Vec::with_capacity(1 << 20);
        shrink(&mut buf, 64 << 10);
        assert!(buf.capacity() < 1 << 20, "shrunk: {}", buf.capacity());
        assert!(buf.capacity() >= 64 << 10, "kept the usual size");
        let mut full = vec![0u8; 1 << 20];
        shrink(&mut full, 64 << 10);
        assert_eq!(full.len(), 1 << 20, "what it holds stays");
        let mut small = Vec::<u8>::with_capacity(100 << 10);
        let before = small.capacity();
        shrink(&mut small, 64 << 10);
        assert_eq!(small.capacity(), before, "no churn below twice the size");
    }
}
