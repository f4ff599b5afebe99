//! What each opcode's argument is, decided once per opcode set at compile time: from its flags
//! (each release's `opcode.py`) and the rules `dis` applies by name and version on top of them
//! (shifted name indexes, packed locals, the operator tables): [`Arg::table`], which `tables.rs`
//! calls for each set (the types live in `types.rs` with the tables' others). The walk over
//! `co_code` reads one small entry per instruction instead of testing flags and names each time.

use super::types::{Arg, ArgKind, Op, flags};

/// Names whose index the argument shifts, the low bits being flags: the opcode, the first version,
/// the shift.
const NAME_SHIFTS: &[(&str, (u8, u8), u8)] = &[
    ("LOAD_GLOBAL", (3, 11), 1),
    ("LOAD_ATTR", (3, 12), 1),
    ("LOAD_SUPER_ATTR", (3, 12), 2),
    ("IMPORT_NAME", (3, 15), 2),
];

/// `COMPARE_OP`'s shift of its argument, newest first: the low bits are flags from 3.12.
const COMPARE_SHIFTS: &[((u8, u8), u8)] = &[((3, 13), 5), ((3, 12), 4)];

/// Opcodes whose argument packs two locals (3.13+).
const PACKED_LOCALS: &[&str] = &[
    "LOAD_FAST_LOAD_FAST",
    "STORE_FAST_LOAD_FAST",
    "STORE_FAST_STORE_FAST",
    "LOAD_FAST_BORROW_LOAD_FAST_BORROW",
];

/// The lengths of a set's operator tables: `BINARY_OP`'s and the two intrinsics' (0 where the set
/// has none, and the argument is a number).
pub type Operators = (usize, usize, usize);

impl Arg {
    const UNDEFINED: Arg = Arg {
        kind: ArgKind::Undefined,
        shift: 0,
        caches: 0,
    };

    /// The rules of every opcode of a set of `version` whose opcodes are `ops`.
    pub const fn table(ops: &[Op; 256], version: (u8, u8), operators: Operators) -> [Arg; 256] {
        let mut out = [Arg::UNDEFINED; 256];
        let mut i = 0;
        while i < 256 {
            out[i] = Arg::of(&ops[i], version, operators);
            i += 1;
        }
        out
    }

    /// One opcode's rule; the flags are tested in the order `dis` gives them precedence.
    const fn of(op: &Op, version: (u8, u8), operators: Operators) -> Arg {
        let Some(name) = op.name else {
            return Arg::UNDEFINED;
        };
        let f = op.flags;
        let (kind, shift) = if f & (flags::SPECIALIZED | flags::INSTRUMENTED) != 0 {
            (ArgKind::Undefined, 0)
        } else if f & flags::ARG == 0 {
            (ArgKind::None, 0)
        } else if f & (flags::JREL | flags::JUMP) != 0 {
            match f & flags::BACKWARD != 0 {
                true => (ArgKind::Backward, 0),
                false => (ArgKind::Forward, 0),
            }
        } else if f & flags::JABS != 0 {
            (ArgKind::Absolute, 0)
        } else if f & flags::CONST != 0 {
            (ArgKind::Const, 0)
        } else if f & flags::NAME != 0 {
            (ArgKind::Name, name_shift(name, version))
        } else if f & flags::LOCAL != 0 {
            match at_least(version, (3, 13)) && listed(name, PACKED_LOCALS) {
                true => (ArgKind::Locals, 0),
                false => (ArgKind::Local, 0),
            }
        } else if f & flags::FREE != 0 {
            (ArgKind::Free, 0)
        } else if f & flags::COMPARE != 0 {
            (ArgKind::Compare, compare_shift(version))
        } else if eq(name, "BINARY_OP") && operators.0 > 0 {
            (ArgKind::BinaryOp, 0)
        } else if eq(name, "CALL_INTRINSIC_1") && operators.1 > 0 {
            (ArgKind::Intrinsic1, 0)
        } else if eq(name, "CALL_INTRINSIC_2") && operators.2 > 0 {
            (ArgKind::Intrinsic2, 0)
        } else {
            (ArgKind::Number, 0)
        };
        Arg {
            kind,
            shift,
            caches: op.caches,
        }
    }
}

const fn name_shift(name: &str, version: (u8, u8)) -> u8 {
    let mut i = 0;
    while i < NAME_SHIFTS.len() {
        let (op, first, shift) = NAME_SHIFTS[i];
        if eq(op, name) && at_least(version, first) {
            return shift;
        }
        i += 1;
    }
    0
}

const fn compare_shift(version: (u8, u8)) -> u8 {
    let mut i = 0;
    while i < COMPARE_SHIFTS.len() {
        let (first, shift) = COMPARE_SHIFTS[i];
        if at_least(version, first) {
            return shift;
        }
        i += 1;
    }
    0
}

const fn at_least(version: (u8, u8), first: (u8, u8)) -> bool {
    version.0 > first.0 || (version.0 == first.0 && version.1 >= first.1)
}

const fn listed(name: &str, names: &[&str]) -> bool {
    let mut i = 0;
    while i < names.len() {
        if eq(names[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// `a == b` where `==` on strings is not yet `const`.
const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
