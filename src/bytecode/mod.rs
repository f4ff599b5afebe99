//! The bytecode layer: instructions, line numbers, source positions and exception tables of code
//! objects, for every version the reader reads, decoded as each version's own `dis` and code objects
//! decode them.
//!
//! Owns: the opcode tables of every version ([`opcodes`], generated from each release's own
//! `opcode.py`), decoding `co_code` ([`Instructions`]), resolving arguments ([`Argument`]), the line and
//! location tables ([`LineStart`], [`LineRange`], [`Position`]), exception tables ([`Handler`]), and
//! checking that they agree ([`Bytecode::verify`]), also as the skim reads a file (`skim`, for
//! `pyc check --deep`). May use: `base`, `format`, `object`, `read`.
//!
//! Everything borrows from the input, and every error is an [`Error`] located in the file and on the
//! path inside the code object (`co_code[40]: LOAD_CONST argument`); [`Error::within`] puts the code
//! object's own path before it.

mod exceptions;
mod instructions;
mod lines;
pub mod opcodes;
/// Only `pyc check --deep` (std) verifies in the skim.
#[cfg(feature = "std")]
mod skim;
mod verify;

pub use self::exceptions::Handler;
pub use self::instructions::{Argument, Instruction, Instructions};
pub use self::lines::{LineRange, LineStart, Position};

use self::instructions::located;
use self::lines::Table;
use self::opcodes::OpcodeSet;
#[cfg(feature = "std")]
pub(crate) use self::skim::verifies;
pub(crate) use self::verify::Scratch;
use crate::base::error::{Error, ErrorKind};
use crate::format::layout::LineTable;
use crate::object::Code;
use alloc::vec::Vec;

/// The bytecode of a code object: its instructions and tables, in its file's version.
pub trait Bytecode<'o, 'a> {
    /// The opcode set of the code's file (its magic number's, or its version's release's for raw
    /// marshal data); an `unsupported` error for GraalPy's, RustPython's and Dropbox's own bytecodes.
    fn opcodes(&self) -> Result<&'static OpcodeSet, Error>;
    /// The opcode sets of other implementations that write files with the same magic number (PyPy 3.8
    /// builds write CPython 3.8's): what else the bytecode may be when [`Bytecode::opcodes`]'s set
    /// does not decode it. Empty for almost every file.
    fn other_opcodes(&self) -> Vec<&'static OpcodeSet>;
    /// The instructions, decoded as they are asked for, each argument resolved; an error ends them
    /// (everything before it is good).
    fn instructions(&self) -> Instructions<'o, 'a>;
    /// The instructions decoded with another opcode set (one of [`Bytecode::other_opcodes`]).
    fn instructions_as(&self, set: &'static OpcodeSet) -> Instructions<'o, 'a>;
    /// Where each line begins, as `dis.findlinestarts` says.
    fn line_starts(&self) -> Result<Vec<LineStart>, Error>;
    /// The ranges of the code and their lines, as `co_lines()` gives them (3.10+; before, the ranges
    /// between the line starts).
    fn lines(&self) -> Result<Vec<LineRange>, Error>;
    /// [`Bytecode::lines`] one range at a time, keeping none.
    fn each_line(&self, each: &mut dyn FnMut(LineRange)) -> Result<(), Error>;
    /// The source position of each code unit of `co_code`, as `co_positions()` gives them (3.11+;
    /// empty before); not those of the code units a table claims past the code's end.
    fn positions(&self) -> Result<Vec<Position>, Error>;
    /// [`Bytecode::positions`] one at a time, keeping none.
    fn each_position(&self, each: &mut dyn FnMut(Position)) -> Result<(), Error>;
    /// The exception table (3.11+; empty before), as `dis._parse_exception_table` reads it.
    fn exception_table(&self) -> Result<Vec<Handler>, Error>;
    /// Checks that the instructions, the line table and the exception table decode and agree.
    fn verify(&self) -> Result<(), Error>;
    /// [`Bytecode::verify`] with another opcode set.
    fn verify_as(&self, set: &'static OpcodeSet) -> Result<(), Error>;
}

/// The line table of `code`, where its format has one.
fn table<'a>(code: &Code<'_, 'a>) -> Option<Table<'a>> {
    let python = code.objects().python();
    let (field, name) = match code.get("co_lnotab") {
        Some(field) => (field, "co_lnotab"),
        None => (code.get("co_linetable")?, "co_linetable"),
    };
    Some(Table {
        format: python.line_table(),
        field: name,
        python,
        bytes: field.as_bytes()?,
        base: field.payload_offset().unwrap_or(0),
        first_line: code.firstlineno().map_or(0, i64::from),
        code_len: code.bytecode().map_or(0, |b| b.len() as u32),
    })
}

impl<'o, 'a> Bytecode<'o, 'a> for Code<'o, 'a> {
    fn opcodes(&self) -> Result<&'static OpcodeSet, Error> {
        let objects = self.objects();
        opcodes::for_file(objects.python(), objects.magic()).ok_or_else(|| {
            let why = "its bytecode is not CPython's or PyPy's (GraalPy, RustPython, Dropbox)";
            located(ErrorKind::Unsupported(why), 0, &[], "disassemble")
        })
    }

    fn other_opcodes(&self) -> Vec<&'static OpcodeSet> {
        let objects = self.objects();
        objects.magic().map_or_else(Vec::new, |magic| {
            opcodes::others_for_magic(objects.python().implementation, magic).collect()
        })
    }

    fn instructions(&self) -> Instructions<'o, 'a> {
        Instructions::new(self, self.opcodes())
    }

    fn instructions_as(&self, set: &'static OpcodeSet) -> Instructions<'o, 'a> {
        Instructions::new(self, Ok(set))
    }

    fn line_starts(&self) -> Result<Vec<LineStart>, Error> {
        match table(self) {
            Some(table) if table.format != LineTable::Missing => table.line_starts(),
            // Before line tables, `SET_LINENO` instructions said where each line begins.
            _ => {
                let mut starts = Vec::new();
                for instruction in self.instructions() {
                    let instruction = instruction?;
                    if instruction.name == "SET_LINENO" {
                        let line = instruction.arg.map(i64::from);
                        if starts
                            .last()
                            .is_none_or(|last: &LineStart| last.line != line)
                        {
                            starts.push(LineStart {
                                offset: instruction.offset,
                                line,
                            });
                        }
                    }
                }
                Ok(starts)
            }
        }
    }

    fn lines(&self) -> Result<Vec<LineRange>, Error> {
        table(self).map_or_else(|| Ok(Vec::new()), |table| table.lines())
    }

    fn each_line(&self, each: &mut dyn FnMut(LineRange)) -> Result<(), Error> {
        table(self).map_or(Ok(()), |table| table.each_line(each))
    }

    fn positions(&self) -> Result<Vec<Position>, Error> {
        table(self).map_or_else(|| Ok(Vec::new()), |table| table.positions())
    }

    fn each_position(&self, each: &mut dyn FnMut(Position)) -> Result<(), Error> {
        table(self).map_or(Ok(()), |table| table.each_position(each))
    }

    fn exception_table(&self) -> Result<Vec<Handler>, Error> {
        match self.get("co_exceptiontable") {
            Some(field) => {
                let base = field.payload_offset().unwrap_or(0);
                exceptions::parse(field.as_bytes().unwrap_or_default(), base)
            }
            None => Ok(Vec::new()),
        }
    }

    fn verify(&self) -> Result<(), Error> {
        self.verify_as(self.opcodes()?)
    }

    fn verify_as(&self, set: &'static OpcodeSet) -> Result<(), Error> {
        verify_code(self, set, &mut Scratch::default())
    }
}

/// [`Bytecode::verify_as`] in `scratch`'s room, which the caller keeps from one code object to the
/// next.
pub(crate) fn verify_code(
    code: &Code<'_, '_>,
    set: &'static OpcodeSet,
    scratch: &mut Scratch,
) -> Result<(), Error> {
    let handlers = code.get("co_exceptiontable").map(|field| {
        let base = field.payload_offset().unwrap_or(0);
        (field.as_bytes().unwrap_or_default(), base)
    });
    let lines = table(code).filter(|t| t.format != LineTable::Missing);
    let walk = Instructions::new(code, Ok(set)).into_walk()?;
    verify::verify(walk, lines, handlers, scratch)
}
