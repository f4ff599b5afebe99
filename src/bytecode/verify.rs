//! Whether a code object's bytecode, line table and exception table decode and agree: every opcode
//! defined for the version, every argument within its table, every jump onto an instruction inside the
//! code, inline caches complete, the line table covering the code, handlers inside it. What
//! `pyc check --deep` asks of each code object.

use super::exceptions;
use super::instructions::{Indexed, Resolved, Walk, located};
use super::lines::Table;
use crate::base::error::{Error, ErrorKind, Step};
use crate::format::layout::LineTable;
use alloc::vec::Vec;

/// What verifying a code object needs room for, kept from one code object to the next: one bit per
/// byte of the code (where an instruction starts), and the jumps to check against them.
#[derive(Default)]
pub(crate) struct Scratch {
    starts: Vec<u64>,
    jumps: Vec<(u32, &'static str, u32)>,
}

impl Scratch {
    /// Clears the room for a code of `len` bytes.
    fn reset(&mut self, len: usize) {
        self.starts.clear();
        self.starts.resize(len.div_ceil(64) + 1, 0);
        self.jumps.clear();
    }

    /// Marks an instruction at `at`, after one at `last` whose word was `word`; returns the word of
    /// `at`. Offsets come in order, so a word is kept in a register while it fills and stored each
    /// time, never loaded back: no chain through memory from one instruction to the next.
    fn set(&mut self, at: u32, last: u32, word: u64) -> u64 {
        let same = at / 64 == last / 64;
        let word = if same { word } else { 0 } | 1 << (at % 64);
        if let Some(slot) = self.starts.get_mut(at as usize / 64) {
            *slot = word;
        }
        word
    }

    fn has(&self, at: u32) -> bool {
        self.starts
            .get(at as usize / 64)
            .is_some_and(|word| word & (1 << (at % 64)) != 0)
    }
}

/// Checks the instructions, then the jumps, the line table and the exception table against them.
pub(crate) fn verify<T: Indexed>(
    mut walk: Walk<'_, T>,
    lines: Option<Table<'_>>,
    handlers: Option<(&[u8], u64)>,
    scratch: &mut Scratch,
) -> Result<(), Error> {
    let (code_len, code_base) = (walk.code_len(), walk.base());
    scratch.reset(code_len as usize);
    let (mut last, mut word) = (0, 0);
    while !walk.is_done() {
        let instruction = walk.decode()?;
        word = scratch.set(instruction.offset, last, word);
        last = instruction.offset;
        if let Resolved::Jump(target) = instruction.argument {
            let jump = (instruction.offset, instruction.name, target);
            scratch.jumps.push(jump);
        }
    }
    let starts = &*scratch;
    for &(at, name, target) in &starts.jumps {
        if target >= code_len || !starts.has(target) {
            let path = [
                Step::Field("co_code"),
                Step::Index(at),
                Step::Instruction(name),
            ];
            let kind = ErrorKind::BadJumpTarget(target);
            return Err(located(kind, code_base + u64::from(at), &path, "jump"));
        }
    }
    if let Some(table) = lines {
        // The ranges end with the code; an lnotab's increments stay inside it (they may reach its
        // end, past dead code, in 3.8 and 3.9).
        let fits = if table.format == LineTable::Ranges {
            let mut end = 0;
            table.each_line(|range| end = range.end)?;
            end == code_len
        } else if table.format.covers_code() {
            table.covered()? == code_len
        } else {
            table.lnotab_extent()? <= u64::from(code_len)
        };
        if !fits {
            let path = [Step::Field(table.field)];
            return Err(located(
                ErrorKind::BadLineTable,
                table.base,
                &path,
                "extent",
            ));
        }
    }
    if let Some((table, base)) = handlers {
        exceptions::each(table, base, |entry, handler| {
            let inside = handler.start < handler.end
                && handler.end <= code_len
                && starts.has(handler.start)
                && (handler.end == code_len || starts.has(handler.end))
                && handler.target < code_len
                && starts.has(handler.target);
            match inside {
                true => Ok(()),
                false => Err(exceptions::fault(base, entry)),
            }
        })?;
    }
    Ok(())
}
