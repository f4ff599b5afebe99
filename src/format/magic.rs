//! Magic numbers: which interpreter and version wrote a `.pyc`, and what that implies for the rest of the
//! file (header layout, code-object layout, string dialect).
//!
//! The table holds every value from CPython 1.0 to the 3.15 pre-releases (alpha and beta values and the
//! `-U` variants included) and the known values of PyPy, GraalPy, RustPython, Pyston, Jython and Dropbox.
//! A value is looked up together with bytes 2-3 of the file: `0D 0A` for almost all, `99 00` for the
//! whole-word magics of Python 1.0-1.2, and four ASCII characters for RustPython, so values shared across
//! implementations do not collide.

use crate::format::layout::{CodeLayout, LineTable};
use core::fmt;

/// An implementation of Python.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Implementation {
    /// CPython, the reference interpreter.
    CPython,
    /// PyPy.
    PyPy,
    /// GraalPy (Oracle's Python on GraalVM); its payload is not CPython marshal.
    GraalPy,
    /// RustPython; its payload is not CPython marshal.
    RustPython,
    /// Pyston (the 2.7 JIT).
    Pyston,
    /// Jython.
    Jython,
    /// Dropbox's modified 2.5.
    Dropbox,
}

impl Implementation {
    /// The implementation's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::CPython => "CPython",
            Implementation::PyPy => "PyPy",
            Implementation::GraalPy => "GraalPy",
            Implementation::RustPython => "RustPython",
            Implementation::Pyston => "Pyston",
            Implementation::Jython => "Jython",
            Implementation::Dropbox => "Dropbox",
        }
    }
}

/// A language version as one implementation numbers it: CPython 3.11, PyPy 3.9 (the language level).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Python {
    /// Who wrote the file.
    pub implementation: Implementation,
    /// Major language version.
    pub major: u8,
    /// Minor language version.
    pub minor: u8,
}

impl Python {
    /// CPython `major.minor`.
    pub const fn cpython(major: u8, minor: u8) -> Python {
        Python {
            implementation: Implementation::CPython,
            major,
            minor,
        }
    }

    /// PyPy `major.minor` (the language version it implements).
    pub const fn pypy(major: u8, minor: u8) -> Python {
        Python {
            implementation: Implementation::PyPy,
            major,
            minor,
        }
    }

    /// The newest CPython this crate knows; raw marshal data is read as its when no version is given.
    pub const LATEST: Python = Python::cpython(3, 15);

    /// Every version some magic number of the table belongs to, each once, in table order (CPython
    /// oldest first, then the other implementations).
    pub fn known() -> impl Iterator<Item = Python> {
        MAGICS.iter().enumerate().filter_map(|(i, entry)| {
            let earlier = MAGICS.get(..i).unwrap_or_default();
            (!earlier.iter().any(|e| e.python == entry.python)).then_some(entry.python)
        })
    }

    /// True when some magic number of the table belongs to this version.
    pub fn is_known(self) -> bool {
        MAGICS.iter().any(|entry| entry.python == self)
    }

    /// How this version's marshal data spells strings.
    pub fn dialect(self) -> Dialect {
        Dialect {
            byte_strings: self.major < 3,
            byte_names: self.major < 3
                || (self.implementation == Implementation::PyPy
                    && (self.major, self.minor) <= (3, 2)),
        }
    }

    /// The format of this version's line-number tables.
    pub fn line_table(self) -> LineTable {
        match (self.implementation, self.major, self.minor) {
            (Implementation::GraalPy | Implementation::RustPython, _, _) => LineTable::Missing,
            (Implementation::PyPy, 3, 10..) => LineTable::PyPyPositions,
            (_, 0, _) | (_, 1, 0..=4) => LineTable::Missing,
            (_, 1, _) | (_, 2, _) | (_, 3, 0..=5) => LineTable::Lnotab,
            (_, 3, 6..=9) => LineTable::SignedLnotab,
            (_, 3, 10) => LineTable::Ranges,
            _ => LineTable::Locations,
        }
    }

    /// The code-object layout of this version's final release.
    pub fn code_layout(self) -> CodeLayout {
        match self.implementation {
            Implementation::GraalPy if matches!((self.major, self.minor), (3, 10..=12)) => {
                CodeLayout::GraalPy
            }
            Implementation::RustPython if (self.major, self.minor) == (3, 13) => {
                CodeLayout::RustPython
            }
            Implementation::GraalPy | Implementation::RustPython => CodeLayout::Foreign,
            Implementation::PyPy if (self.major, self.minor) >= (3, 11) => CodeLayout::PyPy3_11,
            _ => match (self.major, self.minor) {
                (0..=1, 0..=2) | (0, _) => CodeLayout::V1_0,
                (1, 3..=4) => CodeLayout::V1_3,
                (1, _) | (2, 0) => CodeLayout::V1_5,
                (2, 1..=2) => CodeLayout::V2_1,
                (2, _) => CodeLayout::V2_3,
                (3, 0..=7) => CodeLayout::V3_0,
                (3, 8..=9) => CodeLayout::V3_8,
                (3, 10) if self.implementation == Implementation::CPython => CodeLayout::V3_10,
                (3, 10) => CodeLayout::V3_8,
                _ => CodeLayout::V3_11,
            },
        }
    }
}

impl fmt::Display for Python {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.implementation {
            Implementation::CPython => write!(f, "{}.{}", self.major, self.minor),
            other => write!(f, "{} {}.{}", other.name(), self.major, self.minor),
        }
    }
}

/// Reads a version as [`Python`]'s `Display` writes it, or as people type it: `3.11`, `cpython3.11`,
/// `pypy3.9`, `PyPy 3.9`, `graalpy3.11`, `rustpython3.13` (any case). Only versions the magic table
/// knows are accepted ([`Python::is_known`]).
impl core::str::FromStr for Python {
    type Err = ParsePythonError;

    fn from_str(text: &str) -> Result<Python, ParsePythonError> {
        let lower = text.trim().to_ascii_lowercase();
        let implementations = [
            Implementation::CPython,
            Implementation::PyPy,
            Implementation::GraalPy,
            Implementation::RustPython,
            Implementation::Pyston,
            Implementation::Jython,
            Implementation::Dropbox,
        ];
        let (implementation, version) = implementations
            .iter()
            .find_map(|&implementation| {
                let name = implementation.name().to_ascii_lowercase();
                let rest = lower.strip_prefix(name.as_str())?;
                Some((implementation, rest.trim_start()))
            })
            .unwrap_or((Implementation::CPython, lower.as_str()));
        let parsed = version
            .split_once('.')
            .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
        let Some((major, minor)) = parsed else {
            return Err(ParsePythonError::Malformed);
        };
        let python = Python {
            implementation,
            major,
            minor,
        };
        match python.is_known() {
            true => Ok(python),
            false => Err(ParsePythonError::Unknown(python)),
        }
    }
}

/// Why a text is not a version [`Python::from_str`](core::str::FromStr) accepts. Its message lists the
/// known versions. (Not an [`Error`](crate::Error): it is about a name the caller typed, not about
/// input bytes.)
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParsePythonError {
    /// Not of the form `X.Y`, optionally after an implementation's name.
    Malformed,
    /// Well formed, but no magic number of the table belongs to it.
    Unknown(Python),
}

impl fmt::Display for ParsePythonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParsePythonError::Malformed => {
                f.write_str("expected a version like 3.11, 2.7 or pypy3.9")?
            }
            ParsePythonError::Unknown(python) => write!(f, "no known interpreter is {python}")?,
        }
        f.write_str("; known: ")?;
        for (i, python) in Python::known().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match python.implementation {
                Implementation::CPython => write!(f, "{python}")?,
                other => write!(
                    f,
                    "{}{}.{}",
                    other.name().to_ascii_lowercase(),
                    python.major,
                    python.minor
                )?,
            }
        }
        Ok(())
    }
}

impl core::error::Error for ParsePythonError {}

/// How strings are read: besides code-object layouts, the one way versions' marshal data differ.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dialect {
    /// Python 1 and 2: `s` and `t` are byte `str`, each `t` feeds the `R` table, and the codes of
    /// marshal 3 and later (FLAG_REF, `r`, `a`, `z`, `)`, ...) do not exist.
    pub byte_strings: bool,
    /// Identifiers (names, file name) may be bytes: Python 1 and 2, and PyPy3's 3.2 builds (magic 48),
    /// which wrote them as `s`.
    pub byte_names: bool,
}

/// How many bytes the header has and what they hold, decided by the magic (not by the minor version).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeaderLayout {
    /// Python 1.0-1.2: a whole 4-byte magic word without CR LF, then the source mtime. 8 bytes.
    Word8,
    /// Python 1.3-3.2 (and 3.3 development magics 3190, 3200): magic, CR LF, source mtime. 8 bytes.
    Classic8,
    /// Python 3.3a1 (3210) to 3.7a3 (3391): magic, CR LF, source mtime, source size. 12 bytes.
    WithSize12,
    /// PEP 552, 3.7a4 (3392) and later: magic, CR LF, flags, then mtime and size or a source hash. 16 bytes.
    Pep552,
}

impl HeaderLayout {
    /// The header's size in bytes.
    pub fn size(self) -> usize {
        match self {
            HeaderLayout::Word8 | HeaderLayout::Classic8 => 8,
            HeaderLayout::WithSize12 => 12,
            HeaderLayout::Pep552 => 16,
        }
    }
}

/// One row of the magic table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MagicEntry {
    /// The 16-bit value at offset 0 (little-endian).
    pub magic: u16,
    /// Who writes it, and for which language version.
    pub python: Python,
    /// The header that follows.
    pub header: HeaderLayout,
    /// The code-object layout of the marshalled body.
    pub code: CodeLayout,
    /// Which releases write it (`release`, `pre-release 3.11a7`, `-U variant`), with caveats.
    pub note: &'static str,
}

impl MagicEntry {
    /// True when the value is what a final release of this version writes (not a development, `-U`, or
    /// doubtful value).
    pub fn is_release(&self) -> bool {
        self.note.starts_with("release") || self.note.starts_with("all PyPy2 releases")
    }

    /// Other ways to read the code objects of files with this magic, tried in order when the table's
    /// layout does not decode a file (see [`ALTERNATIVES`]). Empty for almost every magic.
    pub fn alternatives(&self) -> &'static [(Python, CodeLayout)] {
        ALTERNATIVES
            .iter()
            .find(|a| {
                a.implementation == self.python.implementation
                    && (a.first..=a.last).contains(&self.magic)
            })
            .map_or(&[], |a| a.readings)
    }

    /// Bytes 2 and 3 of a file with this magic.
    fn tail(&self) -> Tail {
        match (self.python.implementation, self.header) {
            (Implementation::RustPython, _) => Tail::Ascii,
            (_, HeaderLayout::Word8) => Tail::Word,
            _ => Tail::CrLf,
        }
    }
}

/// Magics whose files the sources do not agree how to read, with the other readings to try (the version
/// whose dialect to use, and the code layout):
///
/// - 3410 and 3411 (3.8 pre-releases): CPython's table says PEP 570 added `co_posonlyargcount` at
///   3410, xdis reads both without it. The table says 3.8's layout; 3.0's is tried next.
/// - 3000-3020 (py3k before keyword-only arguments, 3030): presumably 2.x's fields, tried first, then
///   3.0's. Until 3081 names were byte strings and until 3091 interned strings fed a Python 2 style
///   string table, so each layout is also tried in Python 2's dialect.
/// - 3030-3081: 3.0's fields in Python 2's dialect, for the same reason.
///
/// None of these is confirmed by a real file (the corpus has none); they widen what is accepted only
/// where the table's reading fails.
pub static ALTERNATIVES: &[Alternatives] = &[
    Alternatives {
        implementation: Implementation::CPython,
        first: 3410,
        last: 3411,
        readings: &[(Python::cpython(3, 8), CodeLayout::V3_0)],
    },
    Alternatives {
        implementation: Implementation::CPython,
        first: 3000,
        last: 3020,
        readings: &[
            (Python::cpython(2, 7), CodeLayout::V2_3),
            (Python::cpython(3, 0), CodeLayout::V3_0),
            (Python::cpython(2, 7), CodeLayout::V3_0),
        ],
    },
    Alternatives {
        implementation: Implementation::CPython,
        first: 3030,
        last: 3081,
        readings: &[(Python::cpython(2, 7), CodeLayout::V3_0)],
    },
];

/// Other readings for a range of magics of one implementation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Alternatives {
    /// Who writes the magics.
    pub implementation: Implementation,
    /// The first magic of the range.
    pub first: u16,
    /// The last magic of the range.
    pub last: u16,
    /// The version whose dialect to read, and the code layout, in the order tried.
    pub readings: &'static [(Python, CodeLayout)],
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Tail {
    CrLf,
    Word,
    Ascii,
}

/// The table entry for the first four bytes of a file, or `None` when the value is unknown.
pub fn lookup(word: [u8; 4]) -> Option<&'static MagicEntry> {
    let [lo, hi, b2, b3] = word;
    let magic = u16::from_le_bytes([lo, hi]);
    let tail = match [b2, b3] {
        [0x0d, 0x0a] => Tail::CrLf,
        [0x99, 0x00] => Tail::Word,
        _ if word.iter().all(u8::is_ascii_alphanumeric) => Tail::Ascii,
        _ => return None,
    };
    MAGICS
        .iter()
        .find(|entry| entry.magic == magic && entry.tail() == tail)
}

/// The release entry that CPython `major.minor` writes, the last value of its series.
pub fn release_of(python: Python) -> Option<&'static MagicEntry> {
    MAGICS
        .iter()
        .rev()
        .find(|e| e.python == python && e.is_release())
}

/// The first four bytes of a file with this entry's magic.
pub fn word_of(entry: &MagicEntry) -> [u8; 4] {
    let [lo, hi] = entry.magic.to_le_bytes();
    match entry.tail() {
        Tail::Word => [lo, hi, 0x99, 0x00],
        // Only one RustPython word is known from real files; the others keep CR LF as a stand-in.
        Tail::Ascii if entry.magic == 24881 => *b"1aea",
        _ => [lo, hi, 0x0d, 0x0a],
    }
}

use self::HeaderLayout::{Classic8, Pep552, WithSize12, Word8};
use self::Implementation::{CPython, Dropbox, GraalPy, Jython, PyPy, Pyston, RustPython};
use crate::format::layout::CodeLayout::{
    DropboxEncrypted, Foreign, GraalPy as GraalPyCode, PyPy3_11, RustPython as RustPythonCode,
    V1_0, V1_3, V1_5, V2_1, V2_3, V3_0, V3_8, V3_10, V3_11,
};

const fn entry(
    magic: u16,
    implementation: Implementation,
    major: u8,
    minor: u8,
    header: HeaderLayout,
    code: CodeLayout,
    note: &'static str,
) -> MagicEntry {
    MagicEntry {
        magic,
        python: Python {
            implementation,
            major,
            minor,
        },
        header,
        code,
        note,
    }
}

/// Every known magic number, CPython first in version order, then the other implementations.
pub static MAGICS: &[MagicEntry] = &[
    entry(
        39170,
        CPython,
        1,
        0,
        Word8,
        V1_0,
        "release; whole 4-byte magic is 02 99 99 00 (0x00999902), not u16+CRLF",
    ),
    entry(
        39171,
        CPython,
        1,
        1,
        Word8,
        V1_0,
        "release; whole 4-byte magic is 03 99 99 00 (0x00999903), not u16+CRLF; shared by 1.1 and 1.2",
    ),
    entry(11913, CPython, 1, 3, Classic8, V1_3, "release"),
    entry(5892, CPython, 1, 4, Classic8, V1_3, "release"),
    entry(
        20121,
        CPython,
        1,
        5,
        Classic8,
        V1_5,
        "release (1.5, 1.5.1, 1.5.2)",
    ),
    entry(50428, CPython, 1, 6, Classic8, V1_5, "release"),
    entry(
        50429,
        CPython,
        1,
        6,
        Classic8,
        V1_5,
        "release built with -U (magic+1); sources disagree whether 1.6 had -U",
    ),
    entry(50823, CPython, 2, 0, Classic8, V1_5, "release (2.0, 2.0.1)"),
    entry(50824, CPython, 2, 0, Classic8, V1_5, "-U variant (magic+1)"),
    entry(60202, CPython, 2, 1, Classic8, V2_1, "release (2.1.x)"),
    entry(60203, CPython, 2, 1, Classic8, V2_1, "-U variant (magic+1)"),
    entry(60717, CPython, 2, 2, Classic8, V2_1, "release (2.2.x)"),
    entry(60718, CPython, 2, 2, Classic8, V2_1, "-U variant (magic+1)"),
    entry(
        62011,
        CPython,
        2,
        3,
        Classic8,
        V2_3,
        "release (2.3.x); also an early 2.3a0 value",
    ),
    entry(62012, CPython, 2, 3, Classic8, V2_3, "-U variant (magic+1)"),
    entry(
        62021,
        CPython,
        2,
        3,
        Classic8,
        V2_3,
        "pre-release 2.3a0 only",
    ),
    entry(
        62022,
        CPython,
        2,
        3,
        Classic8,
        V2_3,
        "pre-release 2.3a0 -U variant",
    ),
    entry(62041, CPython, 2, 4, Classic8, V2_3, "pre-release 2.4a0-a2"),
    entry(62051, CPython, 2, 4, Classic8, V2_3, "pre-release 2.4a3"),
    entry(
        62061,
        CPython,
        2,
        4,
        Classic8,
        V2_3,
        "release (2.4b1 .. 2.4.x)",
    ),
    entry(62062, CPython, 2, 4, Classic8, V2_3, "-U variant (magic+1)"),
    entry(62071, CPython, 2, 5, Classic8, V2_3, "pre-release 2.5a0"),
    entry(
        62081,
        CPython,
        2,
        5,
        Classic8,
        V2_3,
        "pre-release 2.5a0 (ast branch)",
    ),
    entry(62091, CPython, 2, 5, Classic8, V2_3, "pre-release 2.5a0"),
    entry(62092, CPython, 2, 5, Classic8, V2_3, "pre-release 2.5a0-b2"),
    entry(
        62101,
        CPython,
        2,
        5,
        Classic8,
        V2_3,
        "pre-release 2.5b3 (unreleased)",
    ),
    entry(62111, CPython, 2, 5, Classic8, V2_3, "pre-release 2.5b3"),
    entry(62121, CPython, 2, 5, Classic8, V2_3, "pre-release 2.5c1"),
    entry(
        62131,
        CPython,
        2,
        5,
        Classic8,
        V2_3,
        "release (2.5c2 .. 2.5.x)",
    ),
    entry(62132, CPython, 2, 5, Classic8, V2_3, "-U variant (magic+1)"),
    entry(62151, CPython, 2, 6, Classic8, V2_3, "pre-release 2.6a0"),
    entry(
        62161,
        CPython,
        2,
        6,
        Classic8,
        V2_3,
        "release (2.6a1 .. 2.6.x)",
    ),
    entry(62162, CPython, 2, 6, Classic8, V2_3, "-U variant (magic+1)"),
    entry(62171, CPython, 2, 7, Classic8, V2_3, "pre-release 2.7a0"),
    entry(62181, CPython, 2, 7, Classic8, V2_3, "pre-release 2.7a0"),
    entry(62191, CPython, 2, 7, Classic8, V2_3, "pre-release 2.7a0"),
    entry(62201, CPython, 2, 7, Classic8, V2_3, "pre-release 2.7a0"),
    entry(62211, CPython, 2, 7, Classic8, V2_3, "release (2.7.x)"),
    entry(
        62212,
        CPython,
        2,
        7,
        Classic8,
        V2_3,
        "-U variant (magic+1); verified with 2.7.18 -U",
    ),
    entry(
        3000,
        CPython,
        3,
        0,
        Classic8,
        V2_3,
        "pre-release py3k development; before keyword-only args (3030), code layout presumably 2.x-like",
    ),
    entry(
        3010,
        CPython,
        3,
        0,
        Classic8,
        V2_3,
        "pre-release py3k development; before keyword-only args (3030), code layout presumably 2.x-like",
    ),
    entry(
        3020,
        CPython,
        3,
        0,
        Classic8,
        V2_3,
        "pre-release py3k development; before keyword-only args (3030), code layout presumably 2.x-like",
    ),
    entry(
        3030,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3040,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3050,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3060,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3061,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3071,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3081,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3091,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3101,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(
        3103,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "pre-release py3k development (before 3.0a4)",
    ),
    entry(3111, CPython, 3, 0, Classic8, V3_0, "pre-release 3.0a4"),
    entry(
        3131,
        CPython,
        3,
        0,
        Classic8,
        V3_0,
        "release (3.0b1 .. 3.0.1)",
    ),
    entry(3141, CPython, 3, 1, Classic8, V3_0, "pre-release 3.1a1"),
    entry(
        3151,
        CPython,
        3,
        1,
        Classic8,
        V3_0,
        "release (3.1a1 .. 3.1.x)",
    ),
    entry(3160, CPython, 3, 2, Classic8, V3_0, "pre-release 3.2a1"),
    entry(3170, CPython, 3, 2, Classic8, V3_0, "pre-release 3.2a2"),
    entry(
        3180,
        CPython,
        3,
        2,
        Classic8,
        V3_0,
        "release (3.2a3 .. 3.2.x)",
    ),
    entry(
        3190,
        CPython,
        3,
        3,
        Classic8,
        V3_0,
        "pre-release 3.3a1 dev; 8-byte header (no size field yet)",
    ),
    entry(
        3200,
        CPython,
        3,
        3,
        Classic8,
        V3_0,
        "pre-release 3.3a1 dev; 8-byte header (no size field yet)",
    ),
    entry(
        3210,
        CPython,
        3,
        3,
        WithSize12,
        V3_0,
        "pre-release 3.3a1; first magic with the 12-byte header (source size)",
    ),
    entry(
        3220,
        CPython,
        3,
        3,
        WithSize12,
        V3_0,
        "pre-release 3.3a2-a3",
    ),
    entry(
        3230,
        CPython,
        3,
        3,
        WithSize12,
        V3_0,
        "release (3.3a4 .. 3.3.x)",
    ),
    entry(3250, CPython, 3, 4, WithSize12, V3_0, "pre-release 3.4a1"),
    entry(3260, CPython, 3, 4, WithSize12, V3_0, "pre-release 3.4a1"),
    entry(3270, CPython, 3, 4, WithSize12, V3_0, "pre-release 3.4a1"),
    entry(3280, CPython, 3, 4, WithSize12, V3_0, "pre-release 3.4a1"),
    entry(3290, CPython, 3, 4, WithSize12, V3_0, "pre-release 3.4a4"),
    entry(3300, CPython, 3, 4, WithSize12, V3_0, "pre-release 3.4a4"),
    entry(
        3310,
        CPython,
        3,
        4,
        WithSize12,
        V3_0,
        "release (3.4rc2 .. 3.4.x)",
    ),
    entry(3320, CPython, 3, 5, WithSize12, V3_0, "pre-release 3.5a1"),
    entry(3330, CPython, 3, 5, WithSize12, V3_0, "pre-release 3.5b1"),
    entry(3340, CPython, 3, 5, WithSize12, V3_0, "pre-release 3.5b2"),
    entry(
        3350,
        CPython,
        3,
        5,
        WithSize12,
        V3_0,
        "release 3.5.0 .. 3.5.2 (from 3.5b3)",
    ),
    entry(
        3351,
        CPython,
        3,
        5,
        WithSize12,
        V3_0,
        "release 3.5.3+ (CPython table says 3.5.2; a clean 3.5.2 build still writes 3350)",
    ),
    entry(3360, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6a0"),
    entry(3361, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6a1"),
    entry(3370, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6a2"),
    entry(3371, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6a2"),
    entry(3372, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6a2"),
    entry(3373, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6b1"),
    entry(3375, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6b1"),
    entry(3376, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6b1"),
    entry(3377, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6b1"),
    entry(3378, CPython, 3, 6, WithSize12, V3_0, "pre-release 3.6b2"),
    entry(
        3379,
        CPython,
        3,
        6,
        WithSize12,
        V3_0,
        "release (3.6rc1 .. 3.6.x)",
    ),
    entry(
        3390,
        CPython,
        3,
        7,
        WithSize12,
        V3_0,
        "pre-release 3.7a1; still 12-byte header",
    ),
    entry(
        3391,
        CPython,
        3,
        7,
        WithSize12,
        V3_0,
        "pre-release 3.7a2-a3; still 12-byte header",
    ),
    entry(
        3392,
        CPython,
        3,
        7,
        Pep552,
        V3_0,
        "pre-release 3.7a4; first magic with the 16-byte PEP 552 header",
    ),
    entry(3393, CPython, 3, 7, Pep552, V3_0, "pre-release 3.7b1"),
    entry(
        3394,
        CPython,
        3,
        7,
        Pep552,
        V3_0,
        "release (3.7b5 .. 3.7.x)",
    ),
    entry(
        3400,
        CPython,
        3,
        8,
        Pep552,
        V3_0,
        "pre-release 3.8a1; code objects have no posonlyargcount",
    ),
    entry(
        3401,
        CPython,
        3,
        8,
        Pep552,
        V3_0,
        "pre-release 3.8a1; code objects have no posonlyargcount (verified on a sample)",
    ),
    entry(
        3410,
        CPython,
        3,
        8,
        Pep552,
        V3_8,
        "pre-release 3.8a1; PEP 570 landed here (xdis nevertheless reads no posonlyargcount; unverified)",
    ),
    entry(
        3411,
        CPython,
        3,
        8,
        Pep552,
        V3_8,
        "pre-release 3.8b2 (xdis reads no posonlyargcount; unverified)",
    ),
    entry(3412, CPython, 3, 8, Pep552, V3_8, "pre-release 3.8b2"),
    entry(
        3413,
        CPython,
        3,
        8,
        Pep552,
        V3_8,
        "release (3.8b4 .. 3.8.x); also written by some PyPy 3.8 builds",
    ),
    entry(3420, CPython, 3, 9, Pep552, V3_8, "pre-release 3.9a0"),
    entry(3421, CPython, 3, 9, Pep552, V3_8, "pre-release 3.9a0"),
    entry(3422, CPython, 3, 9, Pep552, V3_8, "pre-release 3.9a0"),
    entry(3423, CPython, 3, 9, Pep552, V3_8, "pre-release 3.9a2"),
    entry(3424, CPython, 3, 9, Pep552, V3_8, "pre-release 3.9a2"),
    entry(
        3425,
        CPython,
        3,
        9,
        Pep552,
        V3_8,
        "release (3.9a2 .. 3.9.x)",
    ),
    entry(3430, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10a1"),
    entry(3431, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10a1"),
    entry(3432, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10a2"),
    entry(3433, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10a2"),
    entry(3434, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10a6"),
    entry(3435, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10a7"),
    entry(3436, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10b1"),
    entry(3437, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10b1"),
    entry(3438, CPython, 3, 10, Pep552, V3_10, "pre-release 3.10b1"),
    entry(
        3439,
        CPython,
        3,
        10,
        Pep552,
        V3_10,
        "release (3.10b1 .. 3.10.x)",
    ),
    entry(
        3450,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3451,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3452,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3453,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3454,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3455,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3456,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3457,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3458,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3459,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3460,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3461,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a1; transitional code-object layout (unverified)",
    ),
    entry(
        3462,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a2; transitional code-object layout (unverified)",
    ),
    entry(
        3463,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a3; transitional code-object layout (unverified)",
    ),
    entry(
        3464,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a3; transitional code-object layout (unverified)",
    ),
    entry(
        3465,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a3; transitional code-object layout (unverified)",
    ),
    entry(
        3466,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3467,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3468,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3469,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3470,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3471,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3472,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3473,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3474,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a4; transitional code-object layout (unverified)",
    ),
    entry(
        3475,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3476,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3477,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3478,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3479,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3480,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3481,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3482,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3483,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3484,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3485,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a5; transitional code-object layout (unverified)",
    ),
    entry(
        3486,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a6; transitional code-object layout (unverified)",
    ),
    entry(
        3487,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a6; transitional code-object layout (unverified)",
    ),
    entry(
        3488,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a6; transitional code-object layout (unverified)",
    ),
    entry(
        3489,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a6; transitional code-object layout (unverified)",
    ),
    entry(
        3490,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a6; transitional code-object layout (unverified)",
    ),
    entry(
        3491,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a6; transitional code-object layout (unverified)",
    ),
    entry(
        3492,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a7; transitional code-object layout (unverified)",
    ),
    entry(
        3493,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a7; transitional code-object layout (unverified)",
    ),
    entry(
        3494,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "pre-release 3.11a7; transitional code-object layout (unverified)",
    ),
    entry(
        3495,
        CPython,
        3,
        11,
        Pep552,
        V3_11,
        "release (3.11b4 .. 3.11.x)",
    ),
    entry(3500, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3501, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3502, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3503, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3504, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3505, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3506, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3507, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3508, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3509, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a1"),
    entry(3510, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a2"),
    entry(3511, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a2"),
    entry(3512, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a2"),
    entry(3513, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a4"),
    entry(3514, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a4"),
    entry(
        3515,
        CPython,
        3,
        12,
        Pep552,
        V3_11,
        "pre-release 3.12a5; xdis says a RustPython 3.13 build reuses it",
    ),
    entry(3516, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a5"),
    entry(3517, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a5"),
    entry(3518, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a6"),
    entry(3519, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a6"),
    entry(3520, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a6"),
    entry(3521, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a7"),
    entry(3522, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a7"),
    entry(3523, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a7"),
    entry(3524, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12a7"),
    entry(3525, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12b1"),
    entry(3526, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12b1"),
    entry(3527, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12b1"),
    entry(3528, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12b1"),
    entry(3529, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12b1"),
    entry(3530, CPython, 3, 12, Pep552, V3_11, "pre-release 3.12b1"),
    entry(
        3531,
        CPython,
        3,
        12,
        Pep552,
        V3_11,
        "release (3.12b1 .. 3.12.x)",
    ),
    entry(3550, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3551, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3552, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3553, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3554, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3555, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3556, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3557, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3558, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3559, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3560, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3561, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3562, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3563, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3564, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3565, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3566, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3567, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3568, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a1"),
    entry(3569, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a5"),
    entry(3570, CPython, 3, 13, Pep552, V3_11, "pre-release 3.13a6"),
    entry(
        3571,
        CPython,
        3,
        13,
        Pep552,
        V3_11,
        "release (3.13b1 .. 3.13.x)",
    ),
    entry(3600, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3601, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3602, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3603, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3604, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3605, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3606, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(3607, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a1"),
    entry(
        3608,
        CPython,
        3,
        14,
        Pep552,
        V3_11,
        "pre-release 3.14a1; first with marshal slice constants",
    ),
    entry(3609, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a2"),
    entry(3610, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a4"),
    entry(3611, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a4"),
    entry(3612, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a4"),
    entry(3613, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a4"),
    entry(3614, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a5"),
    entry(3615, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a5"),
    entry(3616, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a5"),
    entry(3617, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a6"),
    entry(3618, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a6"),
    entry(3619, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a6"),
    entry(3620, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a6"),
    entry(3621, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a7"),
    entry(3622, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a7"),
    entry(3623, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14a7"),
    entry(3624, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14b1"),
    entry(3625, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14b3"),
    entry(3626, CPython, 3, 14, Pep552, V3_11, "pre-release 3.14rc2"),
    entry(
        3627,
        CPython,
        3,
        14,
        Pep552,
        V3_11,
        "release (3.14rc3 .. 3.14.x)",
    ),
    entry(3650, CPython, 3, 15, Pep552, V3_11, "pre-release 3.15a0"),
    entry(
        3651,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15a1/a2 (CPython labels these 3.15a1)",
    ),
    entry(
        3652,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15a1/a2 (CPython labels these 3.15a1)",
    ),
    entry(
        3653,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15a1/a2 (CPython labels these 3.15a1)",
    ),
    entry(
        3654,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15a1/a2 (CPython labels these 3.15a1)",
    ),
    entry(
        3655,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15a1/a2 (CPython labels these 3.15a1)",
    ),
    entry(
        3656,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15a1/a2 (CPython labels these 3.15a1)",
    ),
    entry(
        3657,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3658,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3659,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3660,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3661,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3662,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3663,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3664,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3665,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "pre-release 3.15 alpha/beta; exact label unverified (xdis guesses 3.15.0a3..)",
    ),
    entry(
        3666,
        CPython,
        3,
        15,
        Pep552,
        V3_11,
        "release candidate / expected 3.15 final (seen in 3.15.0rc2 builds and xdis 3.15 samples); provisional",
    ),
    entry(
        62218,
        PyPy,
        2,
        7,
        Classic8,
        V2_3,
        "all PyPy2 releases: CPython 2.7 magic + 7; 8-byte header",
    ),
    entry(
        3187,
        PyPy,
        3,
        2,
        Classic8,
        V3_0,
        "CPython 3.2 magic + 7 (per xdis); unverified",
    ),
    entry(
        48,
        PyPy,
        3,
        2,
        Classic8,
        V3_0,
        "PyPy3 2.x builds; verified on samples; 8-byte header",
    ),
    entry(64, PyPy, 3, 3, WithSize12, V3_0, "per xdis"),
    entry(
        80,
        PyPy,
        3,
        5,
        WithSize12,
        V3_0,
        "development value (py3.5-marshal3 branch, 2016)",
    ),
    entry(
        112,
        PyPy,
        3,
        5,
        WithSize12,
        V3_0,
        "verified on samples; 12-byte header",
    ),
    entry(160, PyPy, 3, 6, WithSize12, V3_0, "verified on samples"),
    entry(192, PyPy, 3, 6, WithSize12, V3_0, "verified on samples"),
    entry(224, PyPy, 3, 7, Pep552, V3_0, "per xdis"),
    entry(
        240,
        PyPy,
        3,
        7,
        Pep552,
        V3_0,
        "verified on samples; 16-byte header",
    ),
    entry(
        256,
        PyPy,
        3,
        8,
        Pep552,
        V3_8,
        "verified on samples; 16-byte header (PyPy 3.8 files with CPython 3413 also exist)",
    ),
    entry(320, PyPy, 3, 9, Pep552, V3_8, "per xdis (PyPy 3.9 v7.3.8)"),
    entry(
        336,
        PyPy,
        3,
        9,
        Pep552,
        V3_8,
        "verified on samples and PyPy 7.3.11",
    ),
    entry(384, PyPy, 3, 10, Pep552, V3_8, "verified on samples"),
    entry(
        416,
        PyPy,
        3,
        11,
        Pep552,
        PyPy3_11,
        "per xdis; different code-object layout (see spec)",
    ),
    entry(
        21150,
        GraalPy,
        3,
        8,
        Pep552,
        Foreign,
        "per xdis; GraalPy marshal is not CPython marshal",
    ),
    entry(21260, GraalPy, 3, 8, Pep552, Foreign, "per xdis"),
    entry(
        21280,
        GraalPy,
        3,
        10,
        Pep552,
        GraalPyCode,
        "verified on samples; 16-byte header, GraalPy's marshal (bytecode version 28)",
    ),
    entry(
        21290,
        GraalPy,
        3,
        11,
        Pep552,
        GraalPyCode,
        "verified on samples; GraalPy 3.11 and 3.12 both (bytecode version 29)",
    ),
    entry(
        12641,
        RustPython,
        3,
        12,
        Pep552,
        Foreign,
        "per xdis; bytes 2-3 of the magic are not CR LF",
    ),
    entry(12897, RustPython, 3, 12, Pep552, Foreign, "per xdis"),
    entry(13413, RustPython, 3, 13, Pep552, Foreign, "per xdis"),
    entry(
        24881,
        RustPython,
        3,
        13,
        Pep552,
        RustPythonCode,
        "verified on samples (file starts 31 61 65 61); RustPython's marshal",
    ),
    entry(35310, RustPython, 3, 13, Pep552, Foreign, "per xdis"),
    entry(2997, RustPython, 3, 13, Pep552, Foreign, "per xdis"),
    entry(
        2657,
        Pyston,
        2,
        7,
        Classic8,
        V2_3,
        "per xdis (pyston 0.6.1)",
    ),
    entry(
        22138,
        Pyston,
        2,
        7,
        Classic8,
        V2_3,
        "per xdis (2.7.7/2.7.8)",
    ),
    entry(
        62135,
        Dropbox,
        2,
        5,
        Classic8,
        DropboxEncrypted,
        "verified on samples; 2.5 with encrypted code objects (see the dropbox module)",
    ),
    entry(1011, Jython, 2, 7, Classic8, V2_3, "per xdis; unverified"),
    entry(
        65226,
        Jython,
        2,
        7,
        Classic8,
        V2_3,
        "per xdis; unverified (xdis also lists 65526)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn versions_read_back_as_display_writes_them() {
        let mut count = 0;
        for python in Python::known() {
            assert_eq!(format!("{python}").parse(), Ok(python));
            count += 1;
        }
        assert!(count > 40, "{count} versions");
    }

    #[test]
    fn versions_read_as_people_type_them() {
        assert_eq!("3.11".parse(), Ok(Python::cpython(3, 11)));
        assert_eq!("CPython3.8".parse(), Ok(Python::cpython(3, 8)));
        assert_eq!("pypy3.9".parse(), Ok(Python::pypy(3, 9)));
        assert_eq!(" PyPy 2.7 ".parse(), Ok(Python::pypy(2, 7)));
        assert_eq!(
            "graalpy3.11".parse::<Python>().map(|p| p.implementation),
            Ok(Implementation::GraalPy)
        );
    }

    #[test]
    fn unknown_and_malformed_versions_are_refused_with_the_known_ones_listed() {
        for text in ["9.9", "4.0", "0.9", "pypy1.5"] {
            let error = text.parse::<Python>().unwrap_err();
            assert!(matches!(error, ParsePythonError::Unknown(_)), "{text}");
            let message = format!("{error}");
            assert!(message.contains("known: 1.0, 1.1"), "{message}");
            assert!(message.contains("pypy3.9"), "{message}");
        }
        for text in ["", "3", "three.eleven", "3.11.2x", "pypy"] {
            assert_eq!(
                text.parse::<Python>(),
                Err(ParsePythonError::Malformed),
                "{text}"
            );
        }
    }
}
