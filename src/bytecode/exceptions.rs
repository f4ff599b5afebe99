//! Exception tables (3.11+): which ranges of the code are covered by which handler, as
//! `dis._parse_exception_table` reads `co_exceptiontable`.

use crate::base::error::{Error, ErrorKind, Step};
use alloc::vec::Vec;

/// One entry: the code from `start` to `end` (bytes, `end` excluded) jumps to `target` on an
/// exception, with the value stack cut to `depth`, and pushing the offset of the instruction that
/// raised when `lasti`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Handler {
    /// The first byte covered.
    pub start: u32,
    /// The byte after the last covered.
    pub end: u32,
    /// The handler's first instruction.
    pub target: u32,
    /// The stack depth the handler starts at.
    pub depth: u32,
    /// Whether the raising instruction's offset is pushed too.
    pub lasti: bool,
}

/// Reads `table` (at absolute offset `base`): four varints an entry, the first marked with bit 7.
pub(crate) fn parse(table: &[u8], base: u64) -> Result<Vec<Handler>, Error> {
    let mut out = Vec::new();
    each(table, base, |_, handler| {
        out.push(handler);
        Ok(())
    })?;
    Ok(out)
}

/// The error for the entry or byte at `at` of the table at absolute offset `base`.
pub(crate) fn fault(base: u64, at: usize) -> Error {
    let path = [Step::Field("co_exceptiontable"), Step::Index(at as u32)];
    super::instructions::located(
        ErrorKind::BadExceptionTable,
        base + at as u64,
        &path,
        "entry",
    )
}

/// Calls `each` with every entry of `table` and where in the table it starts, in order; the first
/// error, its own or `each`'s, ends the walk.
pub(crate) fn each(
    table: &[u8],
    base: u64,
    mut each: impl FnMut(usize, Handler) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut at = 0;
    while at < table.len() {
        let entry = at;
        if table.get(at).is_some_and(|b| b & 0x80 == 0) {
            return Err(fault(base, at));
        }
        let mut field = || varint(table, &mut at).map_err(|at| fault(base, at));
        let start = field()?.saturating_mul(2);
        let length = field()?.saturating_mul(2);
        let target = field()?.saturating_mul(2);
        let depth_lasti = field()?;
        // A new entry's first byte, and no other, has bit 7 set.
        if table
            .get(entry + 1..at)
            .is_some_and(|rest| rest.iter().any(|b| b & 0x80 != 0))
        {
            return Err(fault(base, entry));
        }
        let handler = Handler {
            start,
            end: start.saturating_add(length),
            target,
            depth: depth_lasti >> 1,
            lasti: depth_lasti & 1 != 0,
        };
        each(entry, handler)?;
    }
    Ok(())
}

/// Six bits a byte, most significant first, while bit 6 says more follow (bit 7 marks an entry's
/// first byte and is not part of the value). The error is where it fails: the end of the table, or
/// the byte that takes the value past 32 bits.
fn varint(table: &[u8], at: &mut usize) -> Result<u32, usize> {
    let mut byte = *table.get(*at).ok_or(*at)?;
    *at += 1;
    let mut value = u32::from(byte & 63);
    while byte & 64 != 0 {
        byte = *table.get(*at).ok_or(*at)?;
        value = value.checked_mul(64).ok_or(*at)? | u32::from(byte & 63);
        *at += 1;
    }
    Ok(value)
}
