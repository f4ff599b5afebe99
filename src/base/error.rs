//! The one error type: what went wrong, at which byte, while reading what.
//!
//! Every failure of the library is an [`Error`]: an [`ErrorKind`], the absolute byte offset of the read
//! that failed, and a [`Context`] naming what was being read (`co_consts[3]: str payload`). The context is
//! built only when an error happens, from the decoder's own stack, so the happy path pays nothing for it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

/// What went wrong. New kinds may be added in minor releases.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends inside a value: `needed` bytes were required at the offset, only `left` remained.
    /// A cut of a valid file at any byte reports this kind and no other.
    Truncated {
        /// Bytes the read required.
        needed: u64,
        /// Bytes that were left in the input.
        left: u64,
    },
    /// A type byte that no marshal version (of this dialect) defines.
    UnknownTypeCode(u8),
    /// A length or count that is negative or cannot be represented.
    BadLength(i64),
    /// An object reference (`r`) or a Python 2 string reference (`R`) to a slot that does not exist or is
    /// not filled yet (a code object, frozenset or slice that is still being read).
    InvalidReference(u32),
    /// A `u` or `t` string payload that is not UTF-8 (lone surrogates are allowed, as CPython's
    /// `surrogatepass` allows them).
    InvalidUtf8,
    /// A 15-bit long digit with its top bit set.
    BadLongDigit(u16),
    /// A long whose most significant digit is zero, or whose digit count is `i32::MIN`.
    UnnormalizedLong,
    /// A text float (`f`, `x`) that is not a number.
    BadFloatText,
    /// Nesting deeper than the configured limit (CPython's is 2000).
    DepthLimit(u32),
    /// A NULL (`0`) where an object is required: anywhere but the key position of a dict.
    UnexpectedNull,
    /// A magic number that is in no table.
    UnknownMagic(u32),
    /// The all-zero placeholder magic that importers write first and patch last: a write that never
    /// finished.
    PlaceholderMagic,
    /// PEP 552 flags with bits other than 0 (hash-based) and 1 (check source) set; importlib refuses them.
    BadFlags(u32),
    /// A code-object field of the wrong type (e.g. `co_code` that is not bytes).
    WrongFieldType {
        /// What the field must hold.
        expected: &'static str,
    },
    /// The top-level object of a `.pyc` file is not a code object.
    RootNotCode,
    /// Bytes remain after the top-level object. CPython ignores them; a strict parse does not.
    TrailingBytes(u64),
    /// The magic names an interpreter whose payload this crate cannot read: GraalPy and RustPython
    /// versions whose format no sample confirms.
    ForeignFormat,
    /// Writing an object that a tolerant parse left incomplete.
    Incomplete,
    /// An operation the data does not allow (normalizing data without back-references, say).
    Unsupported(&'static str),
    /// Dropbox's encrypted code objects: [`crate::read::dialect::dropbox::decrypt`] turns the file into readable data.
    Encrypted,
    /// A GraalPy UTF-32 string payload that is not whole code points up to U+10FFFF.
    InvalidUtf32,
    /// A value the format's own reader refuses: a GraalPy code unit of another bytecode version, a
    /// sparse-table index outside its table, a RustPython source location on line 0.
    BadValue,
    /// An input of 2 GiB or more: offsets in the object table are 32-bit.
    InputTooLarge,
    /// Bytecode: an opcode the file's version does not define (or one that never appears in a
    /// `.pyc`: a specialized or instrumented form).
    UndefinedOpcode(u8),
    /// Bytecode: an argument that indexes past its table (`co_consts`, `co_names`, the locals...).
    ArgumentOutOfRange {
        /// The table indexed.
        table: &'static str,
        /// The index.
        index: u32,
        /// The table's length.
        len: u32,
    },
    /// Bytecode: a jump to an offset where no instruction starts, or outside the code.
    BadJumpTarget(u32),
    /// Bytecode: the code ends inside an instruction or its inline caches.
    InstructionCut {
        /// Bytes the instruction needs.
        needed: u32,
        /// Bytes left in the code.
        left: u32,
    },
    /// A line-number or location table that ends inside an entry, or covers other code than there is.
    BadLineTable,
    /// An exception table that ends inside an entry, or whose ranges or handlers are not in the code.
    BadExceptionTable,
}

impl ErrorKind {
    /// A stable, lowercase, hyphenated name for machines (`truncated`, `unknown-type-code`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::Truncated { .. } => "truncated",
            ErrorKind::UnknownTypeCode(_) => "unknown-type-code",
            ErrorKind::BadLength(_) => "bad-length",
            ErrorKind::InvalidReference(_) => "invalid-reference",
            ErrorKind::InvalidUtf8 => "invalid-utf8",
            ErrorKind::BadLongDigit(_) => "bad-long-digit",
            ErrorKind::UnnormalizedLong => "unnormalized-long",
            ErrorKind::BadFloatText => "bad-float-text",
            ErrorKind::DepthLimit(_) => "depth-limit",
            ErrorKind::UnexpectedNull => "unexpected-null",
            ErrorKind::UnknownMagic(_) => "unknown-magic",
            ErrorKind::PlaceholderMagic => "placeholder-magic",
            ErrorKind::BadFlags(_) => "bad-flags",
            ErrorKind::WrongFieldType { .. } => "wrong-field-type",
            ErrorKind::RootNotCode => "root-not-code",
            ErrorKind::TrailingBytes(_) => "trailing-bytes",
            ErrorKind::ForeignFormat => "foreign-format",
            ErrorKind::Incomplete => "incomplete",
            ErrorKind::Unsupported(_) => "unsupported",
            ErrorKind::Encrypted => "encrypted",
            ErrorKind::InvalidUtf32 => "invalid-utf32",
            ErrorKind::BadValue => "bad-value",
            ErrorKind::InputTooLarge => "input-too-large",
            ErrorKind::UndefinedOpcode(_) => "undefined-opcode",
            ErrorKind::ArgumentOutOfRange { .. } => "argument-out-of-range",
            ErrorKind::BadJumpTarget(_) => "bad-jump-target",
            ErrorKind::InstructionCut { .. } => "instruction-cut",
            ErrorKind::BadLineTable => "bad-line-table",
            ErrorKind::BadExceptionTable => "bad-exception-table",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated { .. } => f.write_str("truncated"),
            ErrorKind::UnknownTypeCode(c) => write!(f, "unknown type code {}", Byte(*c)),
            ErrorKind::BadLength(n) => write!(f, "bad length {n}"),
            ErrorKind::InvalidReference(i) => write!(f, "invalid reference {i}"),
            ErrorKind::InvalidUtf8 => f.write_str("invalid utf-8"),
            ErrorKind::BadLongDigit(d) => write!(f, "long digit {d:#06x} out of range"),
            ErrorKind::UnnormalizedLong => f.write_str("unnormalized long"),
            ErrorKind::BadFloatText => f.write_str("bad float text"),
            ErrorKind::DepthLimit(n) => write!(f, "nesting deeper than {n}"),
            ErrorKind::UnexpectedNull => f.write_str("NULL where an object is required"),
            ErrorKind::UnknownMagic(m) => write!(f, "unknown magic {m:#010x}"),
            ErrorKind::PlaceholderMagic => f.write_str("zero placeholder magic (incomplete write)"),
            ErrorKind::BadFlags(x) => write!(f, "invalid flags {x:#x}"),
            ErrorKind::WrongFieldType { expected } => write!(f, "field is not {expected}"),
            ErrorKind::RootNotCode => f.write_str("top-level object is not a code object"),
            ErrorKind::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
            ErrorKind::ForeignFormat => f.write_str("payload in a format this crate cannot read"),
            ErrorKind::Encrypted => f.write_str("encrypted code object (Dropbox): decrypt first"),
            ErrorKind::InvalidUtf32 => f.write_str("invalid utf-32"),
            ErrorKind::BadValue => f.write_str("value out of range"),
            ErrorKind::Incomplete => f.write_str("object is incomplete"),
            ErrorKind::Unsupported(what) => write!(f, "unsupported: {what}"),
            ErrorKind::InputTooLarge => f.write_str("input of 2 GiB or more"),
            ErrorKind::UndefinedOpcode(op) => write!(f, "undefined opcode {op}"),
            ErrorKind::ArgumentOutOfRange { table, index, len } => {
                write!(f, "argument {index} past the end of {table} ({len} long)")
            }
            ErrorKind::BadJumpTarget(target) => {
                write!(f, "jump to {target}, where no instruction starts")
            }
            ErrorKind::InstructionCut { needed, left } => {
                write!(
                    f,
                    "code ends inside an instruction (needs {needed} bytes, {left} left)"
                )
            }
            ErrorKind::BadLineTable => f.write_str("line table that does not fit the code"),
            ErrorKind::BadExceptionTable => {
                f.write_str("exception table that does not fit the code")
            }
        }
    }
}

/// A type byte shown as its character when printable.
struct Byte(u8);

impl fmt::Display for Byte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "{:#04x} '{}'", self.0, self.0 as char)
        } else {
            write!(f, "{:#04x}", self.0)
        }
    }
}

/// One step of the path to the value being read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A code-object field, by the attribute name its Python uses (`co_consts`).
    Field(&'static str),
    /// An item of a tuple, list, set or frozenset, or a field of a slice.
    Index(u32),
    /// The key of a dict's n-th pair.
    Key(u32),
    /// The value of a dict's n-th pair.
    Value(u32),
    /// The instruction, by its opcode's name, that the last step's byte starts
    /// (`co_code[40]: LOAD_CONST argument`).
    Instruction(&'static str),
}

/// What was being read when an error happened: the path from the top-level object and the part of the
/// value (`type code`, `str payload`, `tuple size`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Steps from the top-level object down to the value.
    pub path: Vec<Step>,
    /// The part of the value, or of the file, being read.
    pub what: &'static str,
}

/// The steps a message shows at each end of a long path; the middle is counted, not printed, so that
/// a value nested 2,000 deep does not make a 6,000-character message (the offset locates it).
const PATH_ENDS: usize = 8;

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut instruction = None;
        let shown = self
            .path
            .iter()
            .filter(|step| !matches!(step, Step::Instruction(_)))
            .count();
        let elided = PATH_ENDS..shown.saturating_sub(PATH_ENDS);
        let mut i = 0;
        for step in &self.path {
            if let Step::Instruction(name) = step {
                instruction = Some(*name);
                continue;
            }
            if elided.start == i && !elided.is_empty() {
                write!(f, "...({} steps)...", elided.len())?;
            }
            if !elided.contains(&i) {
                match step {
                    Step::Field(name) if i == 0 => f.write_str(name)?,
                    Step::Field(name) => write!(f, ".{name}")?,
                    Step::Index(n) => write!(f, "[{n}]")?,
                    Step::Key(n) => write!(f, "[key {n}]")?,
                    Step::Value(n) => write!(f, "[value {n}]")?,
                    Step::Instruction(_) => {}
                }
            }
            i += 1;
        }
        if !self.path.is_empty() {
            f.write_str(": ")?;
        }
        if let Some(name) = instruction {
            write!(f, "{name} ")?;
        }
        f.write_str(self.what)
    }
}

/// A failure: its kind, the absolute byte offset of the failing read, and what was being read.
///
/// `{:?}` prints the same sentence as `{}`, so that an `Error` returned from `main` reads well; `{:#?}`
/// prints the parts.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    offset: u64,
    context: Context,
}

impl Error {
    /// An error of `kind` at absolute byte `offset` while reading `context`.
    pub fn new(kind: ErrorKind, offset: u64, context: Context) -> Error {
        Error(Box::new(Inner {
            kind,
            offset,
            context,
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The absolute byte offset, from the start of the input, of the read that failed.
    pub fn offset(&self) -> u64 {
        self.0.offset
    }

    /// What was being read.
    pub fn context(&self) -> &Context {
        &self.0.context
    }

    /// True for [`ErrorKind::Truncated`]: the input ends too early.
    pub fn is_truncated(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Truncated { .. })
    }

    /// The same error, its path starting with `prefix`: where what failed stands in the object it is
    /// part of (a code object's error, seen from the module: `co_consts[3]` then its own path).
    pub fn within(mut self, prefix: &[Step]) -> Error {
        let path = &mut self.0.context.path;
        path.splice(0..0, prefix.iter().cloned());
        self
    }
}

impl fmt::Display for Error {
    /// `truncated at byte 4123 while reading co_consts[7]: str payload (needs 120 bytes, 17 left)`; a
    /// claim past the whole input says so. An operation the data does not allow is not located:
    /// `cannot normalize: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ErrorKind::Unsupported(why) = self.0.kind {
            return write!(f, "cannot {}: {why}", self.0.context.what);
        }
        write!(
            f,
            "{} at byte {} while reading {}",
            self.0.kind, self.0.offset, self.0.context
        )?;
        if let ErrorKind::Truncated { needed, left } = self.0.kind {
            let unit = if needed == 1 { "byte" } else { "bytes" };
            write!(f, " (needs {needed} {unit}, {left} left")?;
            // A length field that claims more than the whole input: damage, more likely than a cut
            // (fixed-width reads are at most 16 bytes; one of those past the end is a plain cut).
            if needed > 16 && needed > self.0.offset.saturating_add(left) {
                f.write_str(", more than the whole input holds")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("Error")
                .field("kind", &self.0.kind)
                .field("offset", &self.0.offset)
                .field("context", &format_args!("{}", self.0.context))
                .finish()
        } else {
            fmt::Display::fmt(self, f)
        }
    }
}

impl core::error::Error for Error {}

/// An error before its context is known: what the reader knows at the failing read.
///
/// The decoder turns it into an [`Error`] by adding the path from its stack, once, on the way out. It is
/// boxed so that `Result<T, Fault>` stays two words on the hot path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault(Box<FaultAt>);

/// The contents of a [`Fault`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FaultAt {
    pub kind: ErrorKind,
    pub offset: usize,
    pub what: &'static str,
}

impl core::ops::Deref for Fault {
    type Target = FaultAt;
    fn deref(&self) -> &FaultAt {
        &self.0
    }
}

impl Fault {
    #[cold]
    #[inline(never)]
    pub fn new(kind: ErrorKind, offset: usize, what: &'static str) -> Fault {
        Fault(Box::new(FaultAt { kind, offset, what }))
    }

    /// The error with `path` as its context.
    pub fn at(self, path: Vec<Step>) -> Error {
        let FaultAt { kind, offset, what } = *self.0;
        Error::new(kind, offset as u64, Context { path, what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn a_claim_past_the_whole_input_says_so() {
        let context = Context {
            path: alloc::vec![Step::Field("co_consts")],
            what: "str payload",
        };
        let kind = ErrorKind::Truncated {
            needed: 8_323_088,
            left: 656,
        };
        let error = Error::new(kind, 100, context);
        assert_eq!(
            format!("{error}"),
            "truncated at byte 100 while reading co_consts: str payload (needs 8323088 bytes, 656 left, more than the whole input holds)"
        );
    }

    #[test]
    fn a_long_path_shows_its_ends_and_counts_its_middle() {
        let mut path = alloc::vec![Step::Field("co_consts")];
        path.extend((0..2000).map(Step::Index));
        let context = Context {
            path,
            what: "type code",
        };
        assert_eq!(
            format!("{context}"),
            "co_consts[0][1][2][3][4][5][6]...(1985 steps)...[1992][1993][1994][1995][1996][1997][1998][1999]: type code"
        );
    }

    #[test]
    fn a_fixed_width_read_past_the_end_is_a_plain_cut() {
        let context = Context {
            path: alloc::vec![],
            what: "magic",
        };
        let kind = ErrorKind::Truncated { needed: 4, left: 0 };
        assert_eq!(
            format!("{}", Error::new(kind, 0, context)),
            "truncated at byte 0 while reading magic (needs 4 bytes, 0 left)"
        );
    }

    #[test]
    fn an_operation_the_data_does_not_allow_is_not_located() {
        let context = Context {
            path: alloc::vec![],
            what: "normalize",
        };
        let error = Error::new(
            ErrorKind::Unsupported("the data is of Python 2.7"),
            0,
            context,
        );
        assert_eq!(
            format!("{error}"),
            "cannot normalize: the data is of Python 2.7"
        );
    }

    #[test]
    fn debug_reads_as_the_message_and_the_alternate_form_lists_the_parts() {
        let context = Context {
            path: alloc::vec![Step::Field("co_consts"), Step::Index(3)],
            what: "str payload",
        };
        let error = Error::new(ErrorKind::Truncated { needed: 4, left: 1 }, 16, context);
        let message =
            "truncated at byte 16 while reading co_consts[3]: str payload (needs 4 bytes, 1 left)";
        assert_eq!(format!("{error}"), message);
        assert_eq!(format!("{error:?}"), message);
        let parts = format!("{error:#?}");
        assert!(parts.contains("offset: 16"), "{parts}");
        assert!(parts.contains("Truncated"), "{parts}");
    }
}
