//! Opcode tables, one per opcode set of every version the reader reads (CPython 1.0 to the 3.15
//! pre-releases, PyPy 2.7 and 3.x), generated from each release's own `opcode.py` by `generate.py`
//! (see `NOTES.md` in this folder for where each set comes from, what is exact and what approximate).

mod args;
mod tables;
mod types;

pub(crate) use self::types::{Arg, ArgKind};
pub use self::types::{MagicSet, Op, OpcodeSet, flags};

use crate::format::magic::{self, Implementation, Python};

/// The opcode set of files with this magic number, written by `implementation`.
pub fn for_magic(implementation: Implementation, magic: u16) -> Option<&'static OpcodeSet> {
    tables::set_for_magic(implementation, magic)
}

/// The opcode set of `python`'s final release (for raw marshal data, or a magic no table knows).
pub fn for_python(python: Python) -> Option<&'static OpcodeSet> {
    let entry = magic::release_of(python)?;
    for_magic(python.implementation, entry.magic)
}

/// The opcode set of a file of `python` with `magic` (or of raw marshal data of `python`): the
/// magic's, else the version's final release's; `None` for GraalPy's, RustPython's and Dropbox's own
/// bytecodes.
pub fn for_file(python: Python, magic: Option<u16>) -> Option<&'static OpcodeSet> {
    if !matches!(
        python.implementation,
        Implementation::CPython | Implementation::PyPy
    ) {
        return None;
    }
    magic
        .and_then(|magic| for_magic(python.implementation, magic))
        .or_else(|| for_python(python))
}

/// Magics another implementation writes too, with its bytecode: some PyPy 3.8 builds write CPython
/// 3.8's 3413 (the spec's magic table says so, and the corpus holds such a file).
const SHARED: &[(Implementation, u16, Implementation, u16)] =
    &[(Implementation::CPython, 3413, Implementation::PyPy, 256)];

/// The opcode sets of the other implementations that write files with this magic number: the readings
/// to try when the magic's own set does not decode a file.
pub fn others_for_magic(
    implementation: Implementation,
    magic: u16,
) -> impl Iterator<Item = &'static OpcodeSet> {
    SHARED
        .iter()
        .filter(move |&&(i, m, _, _)| i == implementation && m == magic)
        .filter_map(|&(_, _, other, other_magic)| for_magic(other, other_magic))
}

/// Every opcode set.
pub fn all() -> &'static [&'static OpcodeSet] {
    tables::SETS
}

/// Every magic number with its set.
pub fn magics() -> &'static [MagicSet] {
    tables::MAGIC_SETS
}
