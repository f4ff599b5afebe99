//! The byte cursor under every parser: fixed-width little-endian reads and borrowed slices, each checking
//! the bytes left before it reads.
//!
//! The primitives are `nom`'s streaming parsers, whose `Incomplete` answer is exactly the "needs n bytes"
//! fact a truncation error carries. Nothing is copied: `take` returns a slice of the input.

use crate::error::{ErrorKind, Fault};
use nom::number::streaming as num;
use nom::{IResult, Parser};

/// A position in one input, and the input.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

type Bytes<'a> = &'a [u8];

impl<'a> Reader<'a> {
    /// A reader of `data` starting at byte `pos`.
    pub fn new(data: &'a [u8], pos: usize) -> Reader<'a> {
        Reader { data, pos }
    }

    /// The absolute offset of the next read.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    #[inline]
    pub fn left(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    #[inline]
    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// Runs a nom parser that needs `size` bytes on the rest of the input.
    #[inline(always)]
    fn run<T>(
        &mut self,
        size: usize,
        what: &'static str,
        mut parser: impl Parser<Bytes<'a>, Output = T, Error = ()>,
    ) -> Result<T, Fault> {
        let rest = self.rest();
        let parsed: IResult<Bytes<'a>, T, ()> = parser.parse(rest);
        match parsed {
            Ok((after, value)) => {
                self.pos += rest.len() - after.len();
                Ok(value)
            }
            Err(_) => Err(self.short(size, what)),
        }
    }

    /// The truncation fault for a read of `size` bytes here.
    #[cold]
    #[inline(never)]
    pub fn short(&self, size: usize, what: &'static str) -> Fault {
        Fault::new(
            ErrorKind::Truncated {
                needed: size as u64,
                left: self.left() as u64,
            },
            self.pos,
            what,
        )
    }

    /// One byte.
    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8, Fault> {
        self.run(1, what, num::u8)
    }

    /// A signed 16-bit integer.
    #[inline]
    pub fn i16(&mut self, what: &'static str) -> Result<i16, Fault> {
        self.run(2, what, num::le_i16)
    }

    /// A signed 32-bit integer.
    #[inline]
    pub fn i32(&mut self, what: &'static str) -> Result<i32, Fault> {
        self.run(4, what, num::le_i32)
    }

    /// A signed 64-bit integer.
    #[inline]
    pub fn i64(&mut self, what: &'static str) -> Result<i64, Fault> {
        self.run(8, what, num::le_i64)
    }

    /// `N` bytes, copied into an array.
    #[inline]
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Fault> {
        let bytes = self.take(N, what)?;
        <[u8; N]>::try_from(bytes).map_err(|_| self.short(N, what))
    }

    /// `n` bytes, borrowed from the input.
    #[inline]
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Fault> {
        self.run(n, what, nom::bytes::streaming::take(n))
    }
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
        assert_eq!(r.left(), 0);
        assert!(r.u8("x").is_err());
    }
}
