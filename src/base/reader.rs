//! The byte cursor under the decoder: fixed-width little-endian reads and borrowed slices, each checking
//! the bytes left before it reads.
//!
//! It holds the unread rest of the input as a slice, so every read is one length check and a split, all
//! inlined: the decoder calls it several times per object. Nothing is copied: `take` returns a slice of
//! the input.

use crate::base::error::{ErrorKind, Fault};

/// The unread part of one input, and the input's length (to know offsets).
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    len: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `data` starting at byte `pos`.
    pub fn new(data: &'a [u8], pos: usize) -> Reader<'a> {
        Reader {
            rest: data.get(pos..).unwrap_or_default(),
            len: data.len(),
        }
    }

    /// The absolute offset of the next read.
    #[inline(always)]
    pub fn pos(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Bytes not read yet.
    #[inline(always)]
    pub fn left(&self) -> usize {
        self.rest.len()
    }

    /// The truncation fault for a read of `size` bytes here. It hands the cold path values, not the
    /// reader: a reader whose address no call takes stays in registers in the decoder's loop.
    #[inline(always)]
    pub fn short(&self, size: usize, what: &'static str) -> Fault {
        truncated(size, self.left(), self.pos(), what)
    }

    /// The next byte, not read.
    #[inline(always)]
    pub fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// One byte.
    #[inline(always)]
    pub fn u8(&mut self, what: &'static str) -> Result<u8, Fault> {
        match self.rest.split_first() {
            Some((&byte, rest)) => {
                self.rest = rest;
                Ok(byte)
            }
            None => Err(self.short(1, what)),
        }
    }

    /// `N` bytes, copied into an array.
    #[inline(always)]
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Fault> {
        match self.rest.split_first_chunk::<N>() {
            Some((chunk, rest)) => {
                self.rest = rest;
                Ok(*chunk)
            }
            None => Err(self.short(N, what)),
        }
    }

    /// A signed 16-bit integer.
    #[inline(always)]
    pub fn i16(&mut self, what: &'static str) -> Result<i16, Fault> {
        self.array(what).map(i16::from_le_bytes)
    }

    /// A signed 32-bit integer.
    #[inline(always)]
    pub fn i32(&mut self, what: &'static str) -> Result<i32, Fault> {
        self.array(what).map(i32::from_le_bytes)
    }

    /// `n` bytes, borrowed from the input.
    #[inline(always)]
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Fault> {
        match self.rest.split_at_checked(n) {
            Some((taken, rest)) => {
                self.rest = rest;
                Ok(taken)
            }
            None => Err(self.short(n, what)),
        }
    }
}

/// The truncation fault for a read of `size` bytes at `pos` with `left` bytes left.
#[cold]
#[inline(never)]
fn truncated(size: usize, left: usize, pos: usize, what: &'static str) -> Fault {
    Fault::new(
        ErrorKind::Truncated {
            needed: size as u64,
            left: left as u64,
        },
        pos,
        what,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_advances() {
        let mut r = Reader::new(&[1, 0xfe, 0xff, 5, 0, 0, 0, 7], 0);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(r.i16("b"), Ok(-2));
        assert_eq!(r.i32("c"), Ok(5));
        assert_eq!(r.pos(), 7);
        assert_eq!(r.take(1, "d"), Ok(&[7][..]));
        assert_eq!(r.left(), 0);
    }

    #[test]
    fn a_short_read_reports_needed_and_left_and_does_not_move() {
        let mut r = Reader::new(&[1, 2, 3], 1);
        let fault = r.i32("int").unwrap_err();
        assert_eq!(fault.kind, ErrorKind::Truncated { needed: 4, left: 2 });
        assert_eq!((fault.offset, fault.what), (1, "int"));
        assert_eq!(r.pos(), 1);
        let fault = r.take(usize::MAX, "payload").unwrap_err();
        assert_eq!(
            fault.kind,
            ErrorKind::Truncated {
                needed: usize::MAX as u64,
                left: 2
            }
        );
    }

    #[test]
    fn a_reader_past_the_end_has_nothing_left() {
        let mut r = Reader::new(&[1], 5);
        assert_eq!((r.left(), r.pos()), (0, 1));
        assert!(r.u8("x").is_err());
    }
}
