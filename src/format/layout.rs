//! Code-object layouts: which fields a code object has, in stream order, for each era of Python and
//! each implementation's own format (GraalPy, RustPython).
//!
//! The differences between versions live here as data. The decoders walk a layout's field list; the JSON
//! form and the typed accessors take the attribute names from it.

/// What a code-object field holds, and so what the decoder accepts for it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// A signed 16-bit integer written inline (Python 1.3 to 2.2).
    Int16,
    /// A signed 32-bit integer written inline (Python 2.3 and later).
    Int32,
    /// An unsigned 8-bit integer written inline (GraalPy's bytecode version).
    UInt8,
    /// An unsigned 16-bit integer written inline (RustPython's flags).
    UInt16,
    /// An unsigned 32-bit integer written inline (RustPython's counts and line numbers). It is kept as
    /// its bit pattern in an `i32`, so a value above `i32::MAX` reads as negative.
    UInt32,
    /// A bytes object (`co_code`, line tables, `co_localspluskinds`); Python 2 `str` qualifies.
    Bytes,
    /// A string: `str` in Python 3, byte `str` in Python 1 and 2.
    Text,
    /// A tuple of any objects (`co_consts`).
    Tuple,
    /// A tuple of strings (`co_names`, `co_varnames`, ...).
    Names,
    /// Python 1.0's `co_consts`: a list or a tuple.
    Sequence,
    /// Python 1.0's `co_names`: a list or a tuple of strings.
    SequenceOfNames,
    /// A dict (GraalPy's sparse tables: index to a tuple of ints).
    Dict,
}

impl FieldKind {
    /// True for the fields written inline as integers rather than as marshalled objects.
    pub fn is_int(self) -> bool {
        matches!(
            self,
            FieldKind::Int16
                | FieldKind::Int32
                | FieldKind::UInt8
                | FieldKind::UInt16
                | FieldKind::UInt32
        )
    }

    /// True for the 16-bit integer fields of Python 1.3-2.2.
    pub fn is_int16(self) -> bool {
        self == FieldKind::Int16
    }

    /// What the field must hold, in words, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            FieldKind::Int16 => "a 16-bit integer",
            FieldKind::Int32 => "a 32-bit integer",
            FieldKind::Bytes => "bytes",
            FieldKind::Text => "a string",
            FieldKind::Tuple => "a tuple",
            FieldKind::Names => "a tuple of strings",
            FieldKind::Sequence => "a tuple or list",
            FieldKind::SequenceOfNames => "a tuple or list of strings",
            FieldKind::UInt8 => "an 8-bit unsigned integer",
            FieldKind::UInt16 => "a 16-bit unsigned integer",
            FieldKind::UInt32 => "a 32-bit unsigned integer",
            FieldKind::Dict => "a dict",
        }
    }
}

/// One field of a code object.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The attribute name that version's Python uses (`co_consts`), or CPython's internal name for the
    /// fields it marshals without an attribute (`co_localsplusnames`, `co_localspluskinds`).
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
}

/// The field list of code objects, one per era.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeLayout {
    /// Python 1.0-1.2: type `C`, no integer fields; 1.0 stores consts and names as lists.
    V1_0,
    /// Python 1.3-1.4: 16-bit argcount, nlocals, flags; varnames.
    V1_3,
    /// Python 1.5-2.0: adds stacksize, firstlineno and lnotab.
    V1_5,
    /// Python 2.1-2.2: adds freevars and cellvars.
    V2_1,
    /// Python 2.3-2.7: the integer fields become 32-bit.
    V2_3,
    /// Python 3.0-3.7: adds kwonlyargcount.
    V3_0,
    /// Python 3.8-3.9 (and PyPy 3.8-3.10): adds posonlyargcount.
    V3_8,
    /// Python 3.10: as 3.8, with the PEP 626 line table where lnotab was.
    V3_10,
    /// Python 3.11 and later: localsplus names and kinds, qualname, exception table; no nlocals.
    V3_11,
    /// PyPy 3.11: the 3.8 layout with qualname after name.
    PyPy3_11,
    /// GraalPy 3.10-3.12 `C`: the code object wrapper (file name, flags, first line, line table) around
    /// its code unit, read as one code object. Its own marshal dialect (see [`crate::read::dialect::graalpy`]).
    GraalPy,
    /// GraalPy 3.10-3.12 `U`: a code unit alone, as the constants hold nested functions.
    GraalPyUnit,
    /// RustPython 3.13 (magic `1aea`): RustPython's own format (see [`crate::read::dialect::rustpython`]).
    RustPython,
    /// Dropbox's 2.5: every code object encrypted (see [`crate::read::dialect::dropbox`]); decrypted, the 2.3 layout.
    DropboxEncrypted,
    /// A payload this crate cannot read: GraalPy and RustPython versions whose format no sample
    /// confirms.
    Foreign,
}

/// What the line-number table of a code object holds: its format, which [`Python::line_table`] gives
/// per version.
///
/// [`Python::line_table`]: crate::format::magic::Python::line_table
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LineTable {
    /// None: Python 1.0-1.4, whose compilers put `SET_LINENO` instructions in the bytecode instead
    /// (and GraalPy's and RustPython's formats, whose tables are their own).
    Missing,
    /// `co_lnotab` of 1.5-3.5: (bytecode increment, line increment) pairs of unsigned bytes that stop
    /// at the last line's first instruction, so their increments add up to less than the bytecode's
    /// length.
    Lnotab,
    /// `co_lnotab` of 3.6-3.9 (and PyPy's): the same, with signed line increments.
    SignedLnotab,
    /// The PEP 626 `co_linetable` of 3.10: (range length, line delta) pairs whose ranges cover the whole
    /// bytecode, so the lengths add up to exactly its length.
    Ranges,
    /// The location tables of CPython 3.11 and later: variable-length entries of lines and columns,
    /// each for a run of code units.
    Locations,
    /// PyPy 3.10 and later's positions, in the 3.8 layout's `co_lnotab` field: an entry per code unit,
    /// an unsigned LEB128 line (0: none; else the line less `co_firstlineno`, plus 1), then a column
    /// byte (0: no columns; else the column plus 1, the end column plus 1 and the end line's delta).
    PyPyPositions,
}

impl LineTable {
    /// True for the tables that cover the whole code (PEP 626's), false for the lnotabs, which stop
    /// where the last line begins.
    pub fn covers_code(self) -> bool {
        matches!(
            self,
            LineTable::Ranges | LineTable::Locations | LineTable::PyPyPositions
        )
    }
}

/// Which reader a layout's data needs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    /// CPython's marshal, in one of its dialects (PyPy's included).
    Marshal,
    /// GraalPy's marshal.
    GraalPy,
    /// RustPython's marshal.
    RustPython,
    /// Code objects encrypted by Dropbox: decrypt first.
    Encrypted,
    /// Not readable.
    Unreadable,
}

const fn f(name: &'static str, kind: FieldKind) -> Field {
    Field { name, kind }
}

use FieldKind::{
    Bytes, Dict, Int16, Int32, Names, Sequence, SequenceOfNames, Text, Tuple, UInt8, UInt16, UInt32,
};

const V1_0: &[Field] = &[
    f("co_code", Bytes),
    f("co_consts", Sequence),
    f("co_names", SequenceOfNames),
    f("co_filename", Text),
    f("co_name", Text),
];

const V1_3: &[Field] = &[
    f("co_argcount", Int16),
    f("co_nlocals", Int16),
    f("co_flags", Int16),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_filename", Text),
    f("co_name", Text),
];

const V1_5: &[Field] = &[
    f("co_argcount", Int16),
    f("co_nlocals", Int16),
    f("co_stacksize", Int16),
    f("co_flags", Int16),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_firstlineno", Int16),
    f("co_lnotab", Bytes),
];

const V2_1: &[Field] = &[
    f("co_argcount", Int16),
    f("co_nlocals", Int16),
    f("co_stacksize", Int16),
    f("co_flags", Int16),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_freevars", Names),
    f("co_cellvars", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_firstlineno", Int16),
    f("co_lnotab", Bytes),
];

const V2_3: &[Field] = &[
    f("co_argcount", Int32),
    f("co_nlocals", Int32),
    f("co_stacksize", Int32),
    f("co_flags", Int32),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_freevars", Names),
    f("co_cellvars", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_firstlineno", Int32),
    f("co_lnotab", Bytes),
];

const V3_0: &[Field] = &[
    f("co_argcount", Int32),
    f("co_kwonlyargcount", Int32),
    f("co_nlocals", Int32),
    f("co_stacksize", Int32),
    f("co_flags", Int32),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_freevars", Names),
    f("co_cellvars", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_firstlineno", Int32),
    f("co_lnotab", Bytes),
];

const V3_8: &[Field] = &[
    f("co_argcount", Int32),
    f("co_posonlyargcount", Int32),
    f("co_kwonlyargcount", Int32),
    f("co_nlocals", Int32),
    f("co_stacksize", Int32),
    f("co_flags", Int32),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_freevars", Names),
    f("co_cellvars", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_firstlineno", Int32),
    f("co_lnotab", Bytes),
];

const V3_10: &[Field] = &[
    f("co_argcount", Int32),
    f("co_posonlyargcount", Int32),
    f("co_kwonlyargcount", Int32),
    f("co_nlocals", Int32),
    f("co_stacksize", Int32),
    f("co_flags", Int32),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_freevars", Names),
    f("co_cellvars", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_firstlineno", Int32),
    f("co_linetable", Bytes),
];

const V3_11: &[Field] = &[
    f("co_argcount", Int32),
    f("co_posonlyargcount", Int32),
    f("co_kwonlyargcount", Int32),
    f("co_stacksize", Int32),
    f("co_flags", Int32),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_localsplusnames", Names),
    f("co_localspluskinds", Bytes),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_qualname", Text),
    f("co_firstlineno", Int32),
    f("co_linetable", Bytes),
    f("co_exceptiontable", Bytes),
];

const PYPY3_11: &[Field] = &[
    f("co_argcount", Int32),
    f("co_posonlyargcount", Int32),
    f("co_kwonlyargcount", Int32),
    f("co_nlocals", Int32),
    f("co_stacksize", Int32),
    f("co_flags", Int32),
    f("co_code", Bytes),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_freevars", Names),
    f("co_cellvars", Names),
    f("co_filename", Text),
    f("co_name", Text),
    f("co_qualname", Text),
    f("co_firstlineno", Int32),
    f("co_lnotab", Bytes),
];

/// A GraalPy code unit (`BytecodeCodeUnit`), in stream order: Python's attribute names where Python
/// sees the field, GraalPy's Java names for the others. Its reader (`read::dialect::graalpy`) says how
/// each is encoded.
const GRAALPY_UNIT: [Field; 27] = [
    f("fileVersion", UInt8),
    f("co_name", Text),
    f("co_qualname", Text),
    f("co_argcount", Int32),
    f("co_kwonlyargcount", Int32),
    f("co_posonlyargcount", Int32),
    f("co_stacksize", Int32),
    f("co_code", Bytes),
    f("srcOffsetTable", Bytes),
    f("co_flags", Int32),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_cellvars", Names),
    f("co_freevars", Names),
    f("cell2arg", Tuple),
    f("co_consts", Tuple),
    f("primitiveConstants", Tuple),
    f("exceptionHandlerRanges", Tuple),
    f("conditionProfileCount", Int32),
    f("startLine", Int32),
    f("startColumn", Int32),
    f("endLine", Int32),
    f("endColumn", Int32),
    f("outputCanQuicken", Bytes),
    f("variableShouldUnbox", Bytes),
    f("generalizeInputsMap", Dict),
    f("generalizeVarsMap", Dict),
];

/// A GraalPy code object (`PCode`): the wrapper's file name and flags (`flags`: the unit has its own
/// `co_flags`), the code unit's fields, then the wrapper's first line and line table.
const GRAALPY_CODE: [Field; 31] = {
    let mut out = [f("co_filename", Text); 31];
    out[1] = f("flags", Int32);
    let mut i = 0;
    while i < GRAALPY_UNIT.len() {
        out[i + 2] = GRAALPY_UNIT[i];
        i += 1;
    }
    out[29] = f("co_firstlineno", Int32);
    out[30] = f("co_linetable", Bytes);
    out
};

/// A RustPython 0.4 code object (`CodeObject`), in stream order: Python's attribute names where Python
/// sees the field, RustPython's names for the others.
const RUSTPYTHON: [Field; 19] = [
    f("co_code", Bytes),
    f("locations", Bytes),
    f("co_flags", UInt16),
    f("co_posonlyargcount", UInt32),
    f("co_argcount", UInt32),
    f("co_kwonlyargcount", UInt32),
    f("co_filename", Text),
    f("co_firstlineno", UInt32),
    f("co_stacksize", UInt32),
    f("co_name", Text),
    f("co_qualname", Text),
    f("cell2arg", Tuple),
    f("co_consts", Tuple),
    f("co_names", Names),
    f("co_varnames", Names),
    f("co_cellvars", Names),
    f("co_freevars", Names),
    f("co_linetable", Bytes),
    f("co_exceptiontable", Bytes),
];

/// A bit of `co_localspluskinds` (CPython 3.11 and later): the name is a local variable (arguments
/// included); CPython's `co_varnames` lists these names.
pub const CO_FAST_LOCAL: u8 = 0x20;
/// A bit of `co_localspluskinds`: the name is a cell variable, captured by a nested function (an
/// argument may be both); CPython's `co_cellvars` lists these names.
pub const CO_FAST_CELL: u8 = 0x40;
/// A bit of `co_localspluskinds`: the name is a free variable, from an enclosing function; CPython's
/// `co_freevars` lists these names.
pub const CO_FAST_FREE: u8 = 0x80;

/// The most integer fields any layout has (GraalPy's `C`).
pub(crate) const MAX_INTS: usize = 13;

impl CodeLayout {
    /// The fields in stream order. Empty for [`CodeLayout::Foreign`] and
    /// [`CodeLayout::DropboxEncrypted`], whose fields cannot be read as they stand.
    pub fn fields(self) -> &'static [Field] {
        match self {
            CodeLayout::V1_0 => V1_0,
            CodeLayout::V1_3 => V1_3,
            CodeLayout::V1_5 => V1_5,
            CodeLayout::V2_1 => V2_1,
            CodeLayout::V2_3 => V2_3,
            CodeLayout::V3_0 => V3_0,
            CodeLayout::V3_8 => V3_8,
            CodeLayout::V3_10 => V3_10,
            CodeLayout::V3_11 => V3_11,
            CodeLayout::PyPy3_11 => PYPY3_11,
            CodeLayout::GraalPy => &GRAALPY_CODE,
            CodeLayout::GraalPyUnit => &GRAALPY_UNIT,
            CodeLayout::RustPython => &RUSTPYTHON,
            CodeLayout::DropboxEncrypted | CodeLayout::Foreign => &[],
        }
    }

    /// How many of its fields are marshalled objects: the item slots a code object of this layout
    /// takes.
    pub(crate) fn object_count(self) -> u32 {
        self.fields().iter().filter(|f| !f.kind.is_int()).count() as u32
    }

    /// How many of its fields are integers written inline: the integer slots a code object of this
    /// layout takes (at most [`MAX_INTS`]).
    pub(crate) fn int_count(self) -> u8 {
        self.fields().iter().filter(|f| f.kind.is_int()).count() as u8
    }

    /// Which reader its data needs.
    pub(crate) fn format(self) -> Format {
        match self {
            CodeLayout::GraalPy | CodeLayout::GraalPyUnit => Format::GraalPy,
            CodeLayout::RustPython => Format::RustPython,
            CodeLayout::DropboxEncrypted => Format::Encrypted,
            CodeLayout::Foreign => Format::Unreadable,
            _ => Format::Marshal,
        }
    }

    /// Every layout of CPython's marshal (PyPy's included), oldest first.
    pub const ALL: [CodeLayout; 10] = [
        CodeLayout::V1_0,
        CodeLayout::V1_3,
        CodeLayout::V1_5,
        CodeLayout::V2_1,
        CodeLayout::V2_3,
        CodeLayout::V3_0,
        CodeLayout::V3_8,
        CodeLayout::V3_10,
        CodeLayout::V3_11,
        CodeLayout::PyPy3_11,
    ];

    /// The layouts of the other implementations' own formats (GraalPy, RustPython).
    pub const FOREIGN: [CodeLayout; 3] = [
        CodeLayout::GraalPy,
        CodeLayout::GraalPyUnit,
        CodeLayout::RustPython,
    ];

    /// The index of the field called `name`.
    pub fn position(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|field| field.name == name)
    }

    /// The index of the integer field called `name` among the integer fields only.
    pub(crate) fn int_position(self, name: &str) -> Option<usize> {
        self.fields()
            .iter()
            .filter(|field| field.kind.is_int())
            .position(|field| field.name == name)
    }

    /// The index of the object field called `name` among the object fields only.
    pub(crate) fn object_position(self, name: &str) -> Option<usize> {
        self.fields()
            .iter()
            .filter(|field| !field.kind.is_int())
            .position(|field| field.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_layout_has_more_integer_fields_than_the_decoder_gathers() {
        for layout in CodeLayout::ALL {
            let ints = layout.fields().iter().filter(|f| f.kind.is_int());
            assert!(ints.count() <= MAX_INTS, "{layout:?}");
        }
    }

    #[test]
    fn foreign_layouts_fit_the_decoder_and_name_their_code_consts_and_name() {
        for layout in CodeLayout::FOREIGN {
            let ints = layout.fields().iter().filter(|f| f.kind.is_int());
            assert!(ints.count() <= MAX_INTS, "{layout:?}");
            for name in ["co_code", "co_consts", "co_names", "co_name", "co_qualname"] {
                assert!(layout.position(name).is_some(), "{layout:?} lacks {name}");
            }
            let mut names: alloc::vec::Vec<_> = layout.fields().iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                layout.fields().len(),
                "{layout:?}: a name twice"
            );
        }
    }

    #[test]
    fn every_layout_has_code_consts_and_name() {
        for layout in CodeLayout::ALL {
            for name in ["co_code", "co_consts", "co_names", "co_filename", "co_name"] {
                assert!(layout.position(name).is_some(), "{layout:?} lacks {name}");
            }
        }
    }
}
