//! Whether a code object's bytecode, line table and exception table decode and agree: every opcode
//! defined for the version, every argument within its table, every jump onto an instruction inside the
//! code, inline caches complete, the line table covering the code, handlers inside it. What
//! `pyc check --deep` asks of each code object.

use super::exceptions;
use super::instructions::{Argument, Instructions, located};
use super::lines::Table;
use crate::base::error::{Error, ErrorKind, Step};
use crate::format::layout::LineTable;
use alloc::vec::Vec;

/// One bit per byte of the code: where an instruction starts.
struct Starts(Vec<u64>);

impl Starts {
    fn new(len: usize) -> Starts {
        Starts(alloc::vec![0; len.div_ceil(64) + 1])
    }

    fn set(&mut self, at: u32) {
        if let Some(word) = self.0.get_mut(at as usize / 64) {
            *word |= 1 << (at % 64);
        }
    }

    fn has(&self, at: u32) -> bool {
        self.0
            .get(at as usize / 64)
            .is_some_and(|word| word & (1 << (at % 64)) != 0)
    }
}

/// Checks the instructions, then the jumps, the line table and the exception table against them.
pub(crate) fn verify(
    instructions: Instructions<'_, '_>,
    code_len: u32,
    code_base: u64,
    lines: Option<Table<'_>>,
    handlers: Option<(&[u8], u64)>,
) -> Result<(), Error> {
    let mut starts = Starts::new(code_len as usize);
    let mut jumps = Vec::new();
    for instruction in instructions {
        let instruction = instruction?;
        starts.set(instruction.offset);
        if let Argument::Jump(target) = instruction.argument {
            jumps.push((instruction.offset, instruction.name, target));
        }
    }
    for (at, name, target) in jumps {
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
