//! Instructions: `co_code` decoded lazily, one instruction at a time, as the file's version lays it out
//! (1 or 3 bytes with 16-bit arguments before 3.6, 2-byte wordcode from 3.6, inline caches from 3.11),
//! `EXTENDED_ARG` folded, and each argument resolved to what it names.

use super::opcodes::{Arg, ArgKind, OpcodeSet, flags};
use crate::base::error::{Context, Error, ErrorKind, Step};
use crate::object::{Code, Items, Object};

/// What an instruction's argument stands for, as `dis` resolves it.
#[derive(Copy, Clone, Debug)]
#[non_exhaustive]
pub enum Argument<'o, 'a> {
    /// The instruction takes no argument.
    None,
    /// A number the instruction uses as it is: a count, flags, an index of no table the file holds.
    Number(u32),
    /// A constant: `co_consts[arg]`.
    Const(Object<'o, 'a>),
    /// A global, attribute or module name: `co_names[arg]` (3.11+ `LOAD_GLOBAL`, 3.12+ `LOAD_ATTR`
    /// and `LOAD_SUPER_ATTR` shift the index: the low bits are flags).
    Name(Object<'o, 'a>),
    /// A local variable's name: `co_varnames[arg]`, or from 3.11 any of `co_localsplusnames`.
    Local(Object<'o, 'a>),
    /// Two local variables packed in one argument (3.13+ `LOAD_FAST_LOAD_FAST` and its kin).
    Locals(Object<'o, 'a>, Object<'o, 'a>),
    /// A cell or free variable's name: `(co_cellvars + co_freevars)[arg]`, or from 3.11 any of
    /// `co_localsplusnames`.
    Free(Object<'o, 'a>),
    /// The offset a jump goes to, in bytes from the start of `co_code`.
    Jump(u32),
    /// `COMPARE_OP`'s comparison.
    Compare(&'static str),
    /// `BINARY_OP`'s operator (3.11+).
    BinaryOp(&'static str),
    /// `CALL_INTRINSIC_1` or `_2`'s function (3.12+).
    Intrinsic(&'static str),
}

/// One instruction.
#[derive(Copy, Clone, Debug)]
pub struct Instruction<'o, 'a> {
    /// Where it starts, in bytes from the start of `co_code`. An `EXTENDED_ARG` prefix is an
    /// instruction of its own, as `dis` lists it.
    pub offset: u32,
    /// The opcode.
    pub opcode: u8,
    /// The opcode's name in the file's version.
    pub name: &'static str,
    /// The argument, with the `EXTENDED_ARG` prefixes before it folded in; `None` for an opcode that
    /// takes none.
    pub arg: Option<u32>,
    /// The bytes it takes, its inline caches included.
    pub size: u32,
    /// What the argument stands for.
    pub argument: Argument<'o, 'a>,
    pub(crate) flags: u16,
}

impl Instruction<'_, '_> {
    /// True for a jump, conditional or not (its argument is an [`Argument::Jump`]).
    pub fn is_jump(&self) -> bool {
        self.flags & (flags::JREL | flags::JABS | flags::JUMP) != 0
    }

    /// The opcode's [`flags`] in the file's version: what its argument is, how it jumps.
    pub fn flags(&self) -> u16 {
        self.flags
    }
}

/// A table an argument indexes: a tuple of the code object, whose items resolve the argument, or only
/// its length, where the argument is checked and nothing resolved (the verifier during a skim).
pub(crate) trait Indexed: Copy {
    /// What an index resolves to.
    type Item: Copy;
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> Option<Self::Item>;
}

impl<'o, 'a> Indexed for Items<'o, 'a> {
    type Item = Object<'o, 'a>;
    fn len(&self) -> usize {
        Items::len(self)
    }
    fn get(&self, i: usize) -> Option<Object<'o, 'a>> {
        Items::get(self, i)
    }
}

/// A table known by its length only.
impl Indexed for usize {
    type Item = ();
    fn len(&self) -> usize {
        *self
    }
    fn get(&self, i: usize) -> Option<()> {
        (i < *self).then_some(())
    }
}

/// The tables a code object's arguments index; a field the code object lacks is `None`, an empty
/// table.
#[derive(Copy, Clone)]
pub(crate) struct Tables<T> {
    pub consts: Option<T>,
    pub names: Option<T>,
    /// `co_varnames`, or 3.11+ `co_localsplusnames`.
    pub locals: Option<T>,
    /// Before 3.11, `co_cellvars` then `co_freevars`.
    pub cells: [Option<T>; 2],
}

impl<'o, 'a> Tables<Items<'o, 'a>> {
    /// The tables of `code`.
    pub fn of(code: &Code<'o, 'a>) -> Self {
        Tables {
            consts: code.consts(),
            names: code.names(),
            locals: code.localsplusnames().or_else(|| code.varnames()),
            cells: [code.cellvars(), code.freevars()],
        }
    }
}

/// An argument resolved against tables whose items are `I`: [`Argument`] where they are objects.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Resolved<I> {
    None,
    Number(u32),
    Const(I),
    Name(I),
    Local(I),
    Locals(I, I),
    Free(I),
    Jump(u32),
    Compare(&'static str),
    BinaryOp(&'static str),
    Intrinsic(&'static str),
}

impl<'o, 'a> From<Resolved<Object<'o, 'a>>> for Argument<'o, 'a> {
    fn from(resolved: Resolved<Object<'o, 'a>>) -> Self {
        match resolved {
            Resolved::None => Argument::None,
            Resolved::Number(n) => Argument::Number(n),
            Resolved::Const(o) => Argument::Const(o),
            Resolved::Name(o) => Argument::Name(o),
            Resolved::Local(o) => Argument::Local(o),
            Resolved::Locals(a, b) => Argument::Locals(a, b),
            Resolved::Free(o) => Argument::Free(o),
            Resolved::Jump(target) => Argument::Jump(target),
            Resolved::Compare(s) => Argument::Compare(s),
            Resolved::BinaryOp(s) => Argument::BinaryOp(s),
            Resolved::Intrinsic(s) => Argument::Intrinsic(s),
        }
    }
}

/// One instruction decoded against tables whose items are `I` ([`Instruction`]'s fields).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Decoded<I> {
    pub offset: u32,
    pub opcode: u8,
    pub name: &'static str,
    pub arg: Option<u32>,
    pub size: u32,
    pub argument: Resolved<I>,
    pub flags: u16,
}

/// The walk over `co_code`: one instruction at a time, its argument resolved against `tables`. The
/// public [`Instructions`] walk with the code object's tuples; the verifier of a skim with lengths.
pub(crate) struct Walk<'a, T> {
    set: &'static OpcodeSet,
    code: &'a [u8],
    /// The absolute offset of `co_code`'s first byte, for errors.
    base: u64,
    tables: Tables<T>,
    at: usize,
    extended: u32,
}

impl<'a, T: Indexed> Walk<'a, T> {
    pub fn new(set: &'static OpcodeSet, code: &'a [u8], base: u64, tables: Tables<T>) -> Self {
        Walk {
            set,
            code,
            base,
            tables,
            at: 0,
            extended: 0,
        }
    }

    /// The same walk over the first `len` bytes of the code only (the fuzz targets' prefix property).
    #[cfg(feature = "arbitrary")]
    fn cut(&mut self, len: usize) {
        self.code = self.code.get(..len).unwrap_or(self.code);
    }

    /// The code's length in bytes.
    pub fn code_len(&self) -> u32 {
        self.code.len() as u32
    }

    /// The absolute offset of the code's first byte.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// True once every instruction has been decoded.
    pub fn is_done(&self) -> bool {
        self.at >= self.code.len()
    }

    /// Decodes the next instruction (the walk must not be done). Inlined: the verifier's loop is this
    /// and little else. On the path from one instruction to the next only the opcode's small
    /// [`Arg`] entry is read; its name and flags are loaded beside.
    #[inline(always)]
    pub fn decode(&mut self) -> Result<Decoded<T::Item>, Error> {
        let set = self.set;
        let at = self.at;
        let left = self.code.len().saturating_sub(at);
        let opcode = self.code.get(at).copied().unwrap_or(0);
        // proven: an opcode byte indexes tables of 256 entries
        let (rule, op) = (set.args[usize::from(opcode)], set.ops[usize::from(opcode)]);
        let name = match (rule.kind, op.name) {
            (ArgKind::Undefined, _) | (_, None) => {
                let kind = ErrorKind::UndefinedOpcode(opcode);
                return Err(fault(self.base, kind, at, None, "opcode"));
            }
            (_, Some(name)) => name,
        };
        let takes_arg = rule.kind != ArgKind::None;
        let (width, raw) = if set.wordcode {
            (2, u32::from(self.code.get(at + 1).copied().unwrap_or(0)))
        } else if takes_arg {
            let lo = u32::from(self.code.get(at + 1).copied().unwrap_or(0));
            let hi = u32::from(self.code.get(at + 2).copied().unwrap_or(0));
            (3, lo | hi << 8)
        } else {
            (1, 0)
        };
        let size = width + 2 * usize::from(rule.caches);
        if size > left {
            let kind = ErrorKind::InstructionCut {
                needed: size as u32,
                left: left as u32,
            };
            return Err(fault(self.base, kind, at, Some(name), "instruction"));
        }
        let arg = takes_arg.then_some(raw | self.extended);
        let shift = if set.wordcode { 8 } else { 16 };
        self.extended = match (arg, set.extended_arg) {
            (Some(arg), Some(extended)) if opcode == extended => arg.wrapping_shl(shift),
            _ => 0,
        };
        let end = (at + size) as u32;
        let argument = match arg {
            Some(arg) => self.resolve(name, rule, arg, end, at)?,
            None => Resolved::None,
        };
        self.at += size;
        Ok(Decoded {
            offset: at as u32,
            opcode,
            name,
            arg,
            size: size as u32,
            argument,
            flags: op.flags,
        })
    }

    /// What `arg` stands for in the instruction `name` at `at`, which ends at `end`, by its rule.
    #[inline(always)]
    fn resolve(
        &self,
        name: &'static str,
        rule: Arg,
        arg: u32,
        end: u32,
        at: usize,
    ) -> Result<Resolved<T::Item>, Error> {
        let set = self.set;
        let base = self.base;
        let out_of_range = |table: &'static str, index: u32, len: usize| {
            let kind = ErrorKind::ArgumentOutOfRange {
                table,
                index,
                len: len as u32,
            };
            fault(base, kind, at, Some(name), "argument")
        };
        // A field the code object lacks is an empty table.
        let index = |table: Option<T>, i: u32, what: &'static str| {
            let len = table.map_or(0, |items| items.len());
            table
                .and_then(|items| items.get(i as usize))
                .ok_or_else(|| out_of_range(what, i, len))
        };
        let symbol = |table: &'static [&'static str], i: u32, what: &'static str| {
            table
                .get(i as usize)
                .copied()
                .ok_or_else(|| out_of_range(what, i, table.len()))
        };
        let distance = arg.wrapping_mul(u32::from(set.jump_unit_bytes));
        let shifted = arg.wrapping_shr(u32::from(rule.shift));
        Ok(match rule.kind {
            ArgKind::Undefined | ArgKind::None => Resolved::None,
            ArgKind::Number => Resolved::Number(arg),
            ArgKind::Forward => Resolved::Jump(end.wrapping_add(distance)),
            ArgKind::Backward => Resolved::Jump(end.wrapping_sub(distance)),
            ArgKind::Absolute => Resolved::Jump(distance),
            ArgKind::Const => Resolved::Const(index(self.tables.consts, arg, "co_consts")?),
            ArgKind::Name => Resolved::Name(index(self.tables.names, shifted, "co_names")?),
            // Python 1.0-1.2's code objects have no co_varnames: their locals are among the names.
            ArgKind::Local => {
                let locals = self.tables.locals.or(self.tables.names);
                Resolved::Local(index(locals, arg, "the locals")?)
            }
            ArgKind::Locals => {
                let locals = self.tables.locals.or(self.tables.names);
                let first = index(locals, arg >> 4, "the locals")?;
                Resolved::Locals(first, index(locals, arg & 15, "the locals")?)
            }
            ArgKind::Free => {
                // 3.11+ index the fast locals; before, the cells then the free variables.
                let [cells, free] = self.tables.cells;
                if cells.is_none() && free.is_none() {
                    return index(self.tables.locals, arg, "the locals").map(Resolved::Free);
                }
                let (cells_len, free_len) =
                    (cells.map_or(0, |c| c.len()), free.map_or(0, |f| f.len()));
                let found = match (arg as usize).checked_sub(cells_len) {
                    None => cells.and_then(|c| c.get(arg as usize)),
                    Some(i) => free.and_then(|f| f.get(i)),
                };
                let what = "co_cellvars + co_freevars";
                Resolved::Free(found.ok_or_else(|| out_of_range(what, arg, cells_len + free_len))?)
            }
            ArgKind::Compare => Resolved::Compare(symbol(set.cmp_op, shifted, "cmp_op")?),
            ArgKind::BinaryOp => {
                Resolved::BinaryOp(symbol(set.nb_ops, arg, "the binary operators")?)
            }
            ArgKind::Intrinsic1 => {
                Resolved::Intrinsic(symbol(set.intrinsic_1, arg, "the intrinsics")?)
            }
            ArgKind::Intrinsic2 => {
                Resolved::Intrinsic(symbol(set.intrinsic_2, arg, "the intrinsics")?)
            }
        })
    }
}

/// The instructions of a code object, decoded as they are asked for; after an error, nothing more.
pub struct Instructions<'o, 'a> {
    /// The walk, or the error that ends it before the first instruction (no bytecode, no opcode
    /// set).
    walk: Result<Walk<'a, Items<'o, 'a>>, Option<Error>>,
    done: bool,
}

impl<'o, 'a> Instructions<'o, 'a> {
    /// The same walk over the first `len` bytes of the code only (the fuzz targets' prefix property).
    #[cfg(feature = "arbitrary")]
    pub(crate) fn cut(mut self, len: usize) -> Self {
        if let Ok(walk) = &mut self.walk {
            walk.cut(len);
        }
        self
    }

    pub(crate) fn new(code: &Code<'o, 'a>, set: Result<&'static OpcodeSet, Error>) -> Self {
        let bytecode = code.get("co_code");
        let walk = match (set, bytecode.and_then(|b| b.as_bytes())) {
            (Ok(set), Some(bytes)) => {
                let base = bytecode.and_then(|b| b.payload_offset()).unwrap_or(0);
                Ok(Walk::new(set, bytes, base, Tables::of(code)))
            }
            (Err(error), _) => Err(Some(error)),
            (Ok(_), None) => Err(Some(located(ErrorKind::BadValue, 0, &[], "co_code"))),
        };
        Instructions { walk, done: false }
    }

    /// The walk, or the error that ends it before the first instruction (the verifier's way in).
    pub(crate) fn into_walk(self) -> Result<Walk<'a, Items<'o, 'a>>, Error> {
        self.walk.map_err(|error| {
            error.unwrap_or_else(|| located(ErrorKind::BadValue, 0, &[], "co_code"))
        })
    }
}

/// The error at byte `at` of a code whose first byte is at absolute `base`, for the instruction named
/// `name`. A function of values, not of the walk: the walk's address does not escape, so its cursor
/// stays in a register.
#[cold]
#[inline(never)]
fn fault(
    base: u64,
    kind: ErrorKind,
    at: usize,
    name: Option<&'static str>,
    what: &'static str,
) -> Error {
    let mut path = alloc::vec![Step::Field("co_code"), Step::Index(at as u32)];
    path.extend(name.map(Step::Instruction));
    Error::new(kind, base + at as u64, Context { path, what })
}

/// An error at absolute `offset` with `path` and `what`.
pub(crate) fn located(kind: ErrorKind, offset: u64, path: &[Step], what: &'static str) -> Error {
    let context = Context {
        path: path.to_vec(),
        what,
    };
    Error::new(kind, offset, context)
}

impl<'o, 'a> Iterator for Instructions<'o, 'a> {
    type Item = Result<Instruction<'o, 'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let walk = match &mut self.walk {
            Ok(walk) => walk,
            Err(pending) => {
                self.done = true;
                return pending.take().map(Err);
            }
        };
        if walk.is_done() {
            self.done = true;
            return None;
        }
        let decoded = walk.decode();
        self.done = decoded.is_err();
        Some(decoded.map(|d| Instruction {
            offset: d.offset,
            opcode: d.opcode,
            name: d.name,
            arg: d.arg,
            size: d.size,
            argument: d.argument.into(),
            flags: d.flags,
        }))
    }
}
