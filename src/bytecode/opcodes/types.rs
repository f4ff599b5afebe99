//! The types of the generated opcode tables (`tables.rs`, written by `generate.py`): plain
//! `&'static str`, integers, arrays and slices.

pub use crate::format::magic::Implementation;

/// One opcode of a set: its name, what its argument is, and how many inline cache code units
/// follow it (3.11+).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The name as the release's `opcode` module spells it; `None` for an unused number.
    pub name: Option<&'static str>,
    /// The [`flags`] that apply.
    pub flags: u16,
    /// Inline cache entries (code units) after the instruction.
    pub caches: u8,
}

impl Op {
    /// An unused opcode number.
    pub const NONE: Op = Op {
        name: None,
        flags: 0,
        caches: 0,
    };

    /// A named opcode.
    pub const fn new(name: &'static str, flags: u16, caches: u8) -> Op {
        Op {
            name: Some(name),
            flags,
            caches,
        }
    }

    /// True when every bit of `flag` is set.
    pub const fn has(&self, flag: u16) -> bool {
        self.flags & flag == flag
    }
}

/// What an argument is checked against and resolves to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// An unused opcode number, or a form never written to a file (specialized, instrumented).
    Undefined,
    /// The instruction takes no argument.
    None,
    /// A number used as it is.
    Number,
    /// A relative jump forward from the end of the instruction (its caches included).
    Forward,
    /// A relative jump backward from the end of the instruction.
    Backward,
    /// An absolute jump.
    Absolute,
    /// An index of `co_consts`.
    Const,
    /// An index of `co_names`, shifted right by [`Arg::shift`].
    Name,
    /// A local variable.
    Local,
    /// Two locals packed in one argument, `arg >> 4` and `arg & 15`.
    Locals,
    /// A cell or free variable.
    Free,
    /// An index of `cmp_op`, shifted right by [`Arg::shift`].
    Compare,
    /// An index of `BINARY_OP`'s operators.
    BinaryOp,
    /// An index of `CALL_INTRINSIC_1`'s functions.
    Intrinsic1,
    /// An index of `CALL_INTRINSIC_2`'s functions.
    Intrinsic2,
}

/// One opcode's argument rule and inline caches: what the walk reads for each instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// What the argument is.
    pub kind: ArgKind,
    /// How far the index is shifted right (the low bits are flags).
    pub shift: u8,
    /// Inline cache code units after the instruction ([`Op::caches`]).
    pub caches: u8,
}

/// The bits of [`Op::flags`]; `generate.py` writes them in this order.
pub mod flags {
    /// Takes an argument (`op >= HAVE_ARGUMENT`, or in `hasarg` from 3.12).
    pub const ARG: u16 = 1 << 0;
    /// The argument indexes `co_consts` (`hasconst`).
    pub const CONST: u16 = 1 << 1;
    /// The argument indexes `co_names` (`hasname`; see NOTES.md for the shifted forms).
    pub const NAME: u16 = 1 << 2;
    /// The argument is a local variable (`haslocal`).
    pub const LOCAL: u16 = 1 << 3;
    /// The argument is a cell or free variable (`hasfree`).
    pub const FREE: u16 = 1 << 4;
    /// A relative jump (`hasjrel`).
    pub const JREL: u16 = 1 << 5;
    /// An absolute jump (`hasjabs`).
    pub const JABS: u16 = 1 << 6;
    /// The argument indexes `cmp_op` (`hascompare`; shifted from 3.12, see NOTES.md).
    pub const COMPARE: u16 = 1 << 7;
    /// Sets up an exception handler (`hasexc`, 3.12+; only pseudo instructions, never in a table).
    pub const EXC: u16 = 1 << 8;
    /// The argument counts call arguments (`hasnargs`, 3.3-3.5).
    pub const NARGS: u16 = 1 << 9;
    /// A jump (`hasjump`, 3.13+).
    pub const JUMP: u16 = 1 << 10;
    /// A relative jump backwards (3.11+).
    pub const BACKWARD: u16 = 1 << 11;
    /// A specialized or adaptive form (3.11+): never in a `.pyc`.
    pub const SPECIALIZED: u16 = 1 << 12;
    /// An `INSTRUMENTED_*` form (3.12+): never in a `.pyc`.
    pub const INSTRUMENTED: u16 = 1 << 13;
}

/// The opcodes of one release (or development state) and how its code is laid out.
#[derive(Debug)]
pub struct OpcodeSet {
    /// The set's name: `cpython-3.11`, `cpython-3.6-3361`, `pypy-3.9`.
    pub name: &'static str,
    /// Whose set it is.
    pub implementation: Implementation,
    /// The language version (major, minor).
    pub version: (u8, u8),
    /// Opcodes from this number on take an argument (before 3.12, the only test; from 3.12 the
    /// `ARG` flag is the test).
    pub have_argument: u8,
    /// `EXTENDED_ARG`, where the set has one (2.0 and later).
    pub extended_arg: Option<u8>,
    /// Wordcode (3.6+): every instruction is 2 bytes, opcode and an 8-bit argument. Otherwise an
    /// instruction is 1 byte, or 3 with a 16-bit little-endian argument when it takes one.
    pub wordcode: bool,
    /// Bytes per unit of a jump argument: 1 (offsets in bytes) or 2 (code units, 3.10+).
    pub jump_unit_bytes: u8,
    /// `SET_LINENO` (1.x-2.2), whose instructions carry line numbers.
    pub set_lineno: Option<u8>,
    /// The comparison symbols `COMPARE_OP`'s argument indexes.
    pub cmp_op: &'static [&'static str],
    /// `BINARY_OP`'s operators by argument (3.11+: `_nb_ops`).
    pub nb_ops: &'static [&'static str],
    /// `CALL_INTRINSIC_1`'s functions by argument (3.12+).
    pub intrinsic_1: &'static [&'static str],
    /// `CALL_INTRINSIC_2`'s functions by argument (3.12+).
    pub intrinsic_2: &'static [&'static str],
    /// Every opcode number.
    pub ops: &'static [Op; 256],
    /// Every opcode's argument rule and caches, from `ops` and the version (what the walk reads).
    pub(crate) args: &'static [Arg; 256],
}

/// A magic number and the opcode set of the files that carry it.
#[derive(Debug)]
pub struct MagicSet {
    /// Who writes the magic.
    pub implementation: Implementation,
    /// The 16-bit value at offset 0 of the file.
    pub magic: u16,
    /// The set.
    pub set: &'static OpcodeSet,
    /// False where the set is the nearest one found rather than that magic's own (NOTES.md).
    pub exact: bool,
}
