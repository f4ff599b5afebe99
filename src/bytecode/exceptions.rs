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
    let mut at = 0;
    let mut out = Vec::new();
    let fault = |at: usize| {
        let path = [Step::Field("co_exceptiontable"), Step::Index(at as u32)];
        super::instructions::located(
            ErrorKind::BadExceptionTable,
            base + at as u64,
            &path,
            "entry",
        )
    };
    while at < table.len() {
        let entry = at;
        if table.get(at).is_some_and(|b| b & 0x80 == 0) {
            return Err(fault(at));
        }
        let mut field = || varint(table, &mut at).ok_or_else(|| fault(at));
        let start = field()?.saturating_mul(2);
        let length = field()?.saturating_mul(2);
        let target = field()?.saturating_mul(2);
        let depth_lasti = field()?;
        // A new entry's first byte, and no other, has bit 7 set.
        if table
            .get(entry + 1..at)
            .is_some_and(|rest| rest.iter().any(|b| b & 0x80 != 0))
        {
            return Err(fault(entry));
        }
        out.push(Handler {
            start,
            end: start.saturating_add(length),
            target,
            depth: depth_lasti >> 1,
            lasti: depth_lasti & 1 != 0,
        });
    }
    Ok(out)
}

/// Six bits a byte, most significant first, while bit 6 says more follow (bit 7 marks an entry's
/// first byte and is not part of the value).
fn varint(table: &[u8], at: &mut usize) -> Option<u32> {
    let mut byte = *table.get(*at)?;
    *at += 1;
    let mut value = u32::from(byte & 63);
    while byte & 64 != 0 {
        byte = *table.get(*at)?;
        *at += 1;
        value = value.checked_mul(64)? | u32::from(byte & 63);
    }
    Some(value)
}
