//! Valid marshal data from unstructured bytes, for fuzzing: every type code, nested, with shared
//! references and cycles, in the dialects of Python 1, 2 and 3 (and PyPy's) at marshal versions 0 to 6,
//! with every code-object layout.
//!
//! A fuzzer that feeds raw bytes to the parser mostly exercises its first error; a [`Sample`] is valid by
//! construction, so the fuzzer explores deep structure, and the round-trip and truncation properties can
//! be checked on it. The generator writes with [`Encoder`], tracking the reference table as the reader
//! will see it, so every back-reference it writes is one the reader accepts (including references from
//! inside a list, tuple, dict or set to itself, which marshal allows).

use crate::bytecode::opcodes::flags;
use crate::format::layout::{CodeLayout, FieldKind};
use crate::format::magic::{Implementation, Python};
use crate::format::tag;
use crate::write::encode::Encoder;
use alloc::string::String;
use alloc::vec::Vec;
use arbitrary::{Arbitrary, Result, Unstructured};

/// Valid marshal data and the version whose dialect it is in.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The version to read it as.
    pub python: Python,
    /// The marshal version it was written at (0-5).
    pub version: u8,
    /// The marshal bytes: one object.
    pub data: Vec<u8>,
}

/// The dialects generated: a version (hence its code-object layout and string rules) and the highest
/// marshal version it reads. One per code layout, and PyPy 3.2's `s` names.
const DIALECTS: [(Python, u8); 13] = [
    (Python::cpython(1, 0), 0),
    (Python::cpython(1, 3), 0),
    (Python::cpython(1, 5), 0),
    (Python::cpython(2, 1), 0),
    (Python::cpython(2, 7), 2),
    (pypy(3, 2), 2),
    (Python::cpython(3, 7), 4),
    (Python::cpython(3, 8), 4),
    (Python::cpython(3, 10), 4),
    (Python::cpython(3, 11), 4),
    (pypy(3, 11), 4),
    (Python::cpython(3, 14), 5),
    (Python::cpython(3, 15), 6),
];

/// PyPy `major.minor`.
const fn pypy(major: u8, minor: u8) -> Python {
    Python {
        implementation: Implementation::PyPy,
        major,
        minor,
    }
}

/// Nesting beyond this is cut short: samples stay small and the generator's own recursion bounded.
const MAX_DEPTH: u32 = 12;
/// Objects beyond this are scalars only.
const MAX_OBJECTS: u32 = 400;
/// One string, bytes object or sequence in this many is long: past 255, where the short forms (`z`,
/// `)`) end.
const LONG_ONE_IN: u32 = 48;

impl<'a> Arbitrary<'a> for Sample {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Sample> {
        let (python, highest) = *u.choose(&DIALECTS)?;
        let version = u.int_in_range(0..=highest)?;
        let mut data = Vec::new();
        let mut g = Generator {
            e: Encoder::new(&mut data),
            python,
            version,
            layout: python.code_layout(),
            refs: Vec::new(),
            interned: 0,
            objects: 0,
        };
        g.object(u, 0)?;
        Ok(Sample {
            python,
            version,
            data,
        })
    }
}

/// True one time in `n`; false once the input is used up (where `Unstructured::ratio` says true), so
/// that the rare choices do not fill the tail of every sample.
fn one_in(u: &mut Unstructured<'_>, n: u32) -> Result<bool> {
    Ok(u.int_in_range(1..=n)? == n)
}

/// A length: mostly up to `short`, one in [`LONG_ONE_IN`] past 255.
fn length(u: &mut Unstructured<'_>, short: u32) -> Result<u32> {
    if one_in(u, LONG_ONE_IN)? {
        u.int_in_range(250..=300)
    } else {
        u.int_in_range(0..=short)
    }
}

/// Up to `len` bytes: fewer when the input runs out, so that a short input still makes a sample.
fn take<'a>(u: &mut Unstructured<'a>, len: usize) -> Result<&'a [u8]> {
    let len = len.min(u.len());
    u.bytes(len)
}

struct Generator<'v> {
    e: Encoder<'v>,
    python: Python,
    version: u8,
    layout: CodeLayout,
    /// The reference table as the reader builds it: `false` for a slot reserved by an object still
    /// being written whose slot CPython fills last (code, non-empty frozenset, slice).
    refs: Vec<bool>,
    /// Python 2's interned strings so far.
    interned: u32,
    objects: u32,
}

impl Generator<'_> {
    fn python2(&self) -> bool {
        self.python.dialect().byte_strings
    }

    /// Whether to set FLAG_REF on the next object (marshal 3+ only).
    fn flag(&mut self, u: &mut Unstructured<'_>) -> Result<u8> {
        Ok(if self.version >= 3 && u.ratio(1, 3)? {
            tag::FLAG_REF
        } else {
            0
        })
    }

    /// FLAG_REF now and then (marshal 3+), where CPython reads and ignores it.
    fn rare_flag(&self, u: &mut Unstructured<'_>) -> Result<u8> {
        Ok(if self.version >= 3 && one_in(u, 16)? {
            tag::FLAG_REF
        } else {
            0
        })
    }

    /// A type byte, flagged perhaps; a flagged object takes the next slot, `ready` saying whether it may
    /// be referred to at once. Returns the slot.
    fn start(&mut self, code: u8, flag: u8, ready: bool) -> Option<usize> {
        self.e.u8(code | flag);
        (flag != 0).then(|| {
            self.refs.push(ready);
            self.refs.len() - 1
        })
    }

    fn finish(&mut self, slot: Option<usize>) {
        if let Some(done) = slot.and_then(|slot| self.refs.get_mut(slot)) {
            *done = true;
        }
    }

    /// Any object.
    fn object(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        self.objects += 1;
        let deep = depth >= MAX_DEPTH || self.objects >= MAX_OBJECTS;
        let choice = if deep {
            u.int_in_range(0..=9)?
        } else {
            u.int_in_range(0..=17)?
        };
        match choice {
            0 => {
                let code = *u.choose(&[
                    tag::NONE,
                    tag::TRUE,
                    tag::FALSE,
                    tag::ELLIPSIS,
                    tag::STOPITER,
                ])?;
                // CPython ignores FLAG_REF on a singleton: it takes no slot.
                self.e.u8(code | self.rare_flag(u)?);
                Ok(())
            }
            1 => self.int(u),
            2 => self.long(u),
            3 => self.float(u),
            4 => self.complex(u),
            5 => self.bytes(u),
            6 | 7 => self.text(u, false),
            8 | 9 => self.back_reference(u),
            10 | 11 => self.sequence(u, depth),
            12 => self.dict(u, depth),
            13 => self.set(u, depth),
            14 if self.version >= 5 => self.slice(u, depth),
            15 | 16 => self.code(u, depth),
            _ => self.sequence(u, depth),
        }
    }

    fn int(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let flag = self.flag(u)?;
        if u.ratio(1, 4)? {
            let slot = self.start(tag::INT64, flag, true);
            self.e.i64(u.arbitrary()?);
            self.finish(slot);
        } else {
            let slot = self.start(tag::INT, flag, true);
            self.e.i32(u.arbitrary()?);
            self.finish(slot);
        }
        Ok(())
    }

    /// A long: digits of 15 bits, the most significant one not zero (as CPython requires).
    fn long(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let flag = self.flag(u)?;
        let slot = self.start(tag::LONG, flag, true);
        let count = u.int_in_range(0..=40u16)?;
        let negative = u.arbitrary::<bool>()?;
        self.e.i32(if negative {
            -i32::from(count)
        } else {
            i32::from(count)
        });
        for i in 0..count {
            let digit = u.int_in_range(0..=0x7fffu16)?;
            let digit = if i + 1 == count { digit.max(1) } else { digit };
            self.e.i16(digit as i16);
        }
        self.finish(slot);
        Ok(())
    }

    /// A float: binary (`g`, marshal 2+) or text (`f`).
    fn float(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let flag = self.flag(u)?;
        let value: f64 = u.arbitrary()?;
        if self.version >= 2 && u.ratio(3, 4)? {
            let slot = self.start(tag::BINARY_FLOAT, flag, true);
            self.e.f64(value);
            self.finish(slot);
        } else {
            let slot = self.start(tag::FLOAT, flag, true);
            self.float_text(u, value)?;
            self.finish(slot);
        }
        Ok(())
    }

    fn complex(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let flag = self.flag(u)?;
        let (real, imag): (f64, f64) = (u.arbitrary()?, u.arbitrary()?);
        if self.version >= 2 && u.ratio(3, 4)? {
            let slot = self.start(tag::BINARY_COMPLEX, flag, true);
            self.e.f64(real);
            self.e.f64(imag);
            self.finish(slot);
        } else {
            let slot = self.start(tag::COMPLEX, flag, true);
            self.float_text(u, real)?;
            self.float_text(u, imag)?;
            self.finish(slot);
        }
        Ok(())
    }

    /// A `u8`-length float text: Python's repr (`0.1`, `1e+300`, `-inf`), as CPython writes it, or the
    /// shortest exponent form (`1e-1`, `1e300`).
    fn float_text(&mut self, u: &mut Unstructured<'_>, value: f64) -> Result<()> {
        let mut text = String::new();
        if u.arbitrary()? {
            let _ = crate::base::number::write_float_repr(&mut text, value);
        } else if value.is_nan() {
            text.push_str("nan");
        } else {
            text = alloc::format!("{value:e}");
        }
        self.e.sized(true, text.as_bytes());
        Ok(())
    }

    fn bytes(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let flag = self.flag(u)?;
        let slot = self.start(tag::STRING, flag, true);
        let len = length(u, 64)?;
        self.e.sized(false, take(u, len as usize)?);
        self.finish(slot);
        Ok(())
    }

    /// A string of the kinds the dialect and version allow; `name` leaves out Python 2's `unicode`,
    /// which code-object fields refuse.
    fn text(&mut self, u: &mut Unstructured<'_>, name: bool) -> Result<()> {
        if self.python2() {
            return self.text2(u, name);
        }
        let flag = self.flag(u)?;
        if name && self.python.dialect().byte_names && u.arbitrary()? {
            // PyPy 3.2 wrote identifiers as bytes.
            let slot = self.start(tag::STRING, flag, true);
            let len = u.int_in_range(0..=16usize)?;
            self.e.sized(false, take(u, len)?);
            self.finish(slot);
            return Ok(());
        }
        let len = length(u, 40)? as usize;
        let mut kinds = alloc::vec![tag::UNICODE];
        if self.version >= 3 {
            kinds.push(tag::INTERNED);
        }
        if self.version >= 4 {
            kinds.extend([tag::ASCII, tag::ASCII_INTERNED]);
            if len <= 255 {
                kinds.extend([tag::SHORT_ASCII, tag::SHORT_ASCII_INTERNED]);
            }
        }
        let code = *u.choose(&kinds)?;
        let slot = self.start(code, flag, true);
        let mut payload = Vec::new();
        if matches!(code, tag::UNICODE | tag::INTERNED) {
            for _ in 0..len {
                let cp = self.code_point(u)?;
                crate::base::text::push_utf8(&mut payload, cp);
            }
        } else {
            // CPython reads these as Latin-1 without checking they are ASCII.
            payload.extend(take(u, len)?);
        }
        let short = matches!(code, tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED);
        self.e.sized(short, &payload);
        self.finish(slot);
        Ok(())
    }

    /// A code point of a `u` or `t` string: ASCII mostly, any other, or a lone surrogate (which CPython
    /// reads and writes with `surrogatepass`).
    fn code_point(&mut self, u: &mut Unstructured<'_>) -> Result<u32> {
        match u.int_in_range(0..=3)? {
            0 => u.int_in_range(0xd800..=0xdfffu32),
            1 => u.int_in_range(0x80..=0x10ffffu32),
            _ => u.int_in_range(0x20..=0x7eu32),
        }
    }

    /// A Python 2 string: `s`, interned `t` (which feeds the `R` table), a reference `R`, or `u`.
    fn text2(&mut self, u: &mut Unstructured<'_>, name: bool) -> Result<()> {
        let choice = u.int_in_range(0..=3)?;
        let len = u.int_in_range(0..=32usize)?;
        match choice {
            0 if self.interned > 0 => {
                self.e.u8(tag::STRINGREF);
                self.e.i32(u.int_in_range(0..=self.interned - 1)? as i32);
            }
            1 if self.version >= 1 => {
                self.e.u8(tag::INTERNED);
                self.e.sized(false, take(u, len)?);
                self.interned += 1;
            }
            2 if !name => {
                self.e.u8(tag::UNICODE);
                let mut text = Vec::new();
                for _ in 0..len {
                    let cp = self.code_point(u)?;
                    crate::base::text::push_utf8(&mut text, cp);
                }
                self.e.sized(false, &text);
            }
            _ => {
                self.e.u8(tag::STRING);
                self.e.sized(false, take(u, len)?);
            }
        }
        Ok(())
    }

    /// A back-reference to a slot the reader has filled, or a `None` when there is none.
    fn back_reference(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let ready: Vec<usize> = (0..self.refs.len())
            .filter(|&i| self.refs.get(i) == Some(&true))
            .collect();
        match u.choose(&ready) {
            Ok(&slot) => {
                // A flagged `r` is allowed too: CPython ignores the flag.
                let byte = tag::REF | if u.ratio(1, 16)? { tag::FLAG_REF } else { 0 };
                self.e.u8(byte);
                self.e.i32(slot as i32);
            }
            Err(_) => self.e.u8(tag::NONE),
        }
        Ok(())
    }

    fn sequence(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        let flag = self.flag(u)?;
        let len = length(u, 6)?;
        let code = if self.version >= 4 && len <= 255 && u.ratio(2, 3)? {
            tag::SMALL_TUPLE
        } else {
            *u.choose(&[tag::TUPLE, tag::LIST])?
        };
        let slot = self.start(code, flag, true);
        if code == tag::SMALL_TUPLE {
            self.e.u8(len as u8);
        } else {
            self.e.i32(len as i32);
        }
        for _ in 0..len {
            self.object(u, depth + 1)?;
        }
        self.finish(slot);
        Ok(())
    }

    /// A dict (its slot usable at once) or, at marshal 6, a frozendict (usable once built).
    fn dict(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        let flag = self.flag(u)?;
        let frozen = self.version >= 6 && u.ratio(1, 3)?;
        let code = if frozen { tag::FROZENDICT } else { tag::DICT };
        let slot = self.start(code, flag, !frozen);
        for _ in 0..u.int_in_range(0..=4)? {
            self.object(u, depth + 1)?;
            self.object(u, depth + 1)?;
        }
        // The terminating NULL may carry FLAG_REF, which CPython ignores.
        self.e.u8(tag::NULL | self.rare_flag(u)?);
        self.finish(slot);
        Ok(())
    }

    /// A set (its slot usable at once) or a frozenset (usable once built, unless empty).
    fn set(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        let flag = self.flag(u)?;
        let len = u.int_in_range(0..=5u32)?;
        let frozen = u.arbitrary::<bool>()?;
        let code = if frozen { tag::FROZENSET } else { tag::SET };
        let slot = self.start(code, flag, !frozen || len == 0);
        self.e.i32(len as i32);
        for _ in 0..len {
            self.object(u, depth + 1)?;
        }
        self.finish(slot);
        Ok(())
    }

    fn slice(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        let flag = self.flag(u)?;
        let slot = self.start(tag::SLICE, flag, false);
        for _ in 0..3 {
            self.object(u, depth + 1)?;
        }
        self.finish(slot);
        Ok(())
    }

    /// A code object of the dialect's layout, each field of the type it must have.
    fn code(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        let flag = self.flag(u)?;
        // Python 1.0-1.2 wrote `C`; there `c` reads with the same fields.
        let code = if self.layout == CodeLayout::V1_0 && u.ratio(3, 4)? {
            tag::OLD_CODE
        } else {
            tag::CODE
        };
        let slot = self.start(code, flag, false);
        for field in self.layout.fields() {
            match field.kind {
                FieldKind::Int16 => self.e.i16(u.arbitrary()?),
                FieldKind::Int32 => self.e.i32(u.arbitrary()?),
                FieldKind::Bytes => {
                    let flag = self.flag(u)?;
                    let slot = self.start(tag::STRING, flag, true);
                    if field.name == "co_code" {
                        let bytecode = self.bytecode(u)?;
                        self.e.sized(false, &bytecode);
                    } else {
                        let len = u.int_in_range(0..=32usize)?;
                        self.e.sized(false, take(u, len)?);
                    }
                    self.finish(slot);
                }
                FieldKind::Text => self.name(u)?,
                FieldKind::Tuple | FieldKind::Sequence => {
                    let flag = self.flag(u)?;
                    let code = self.field_sequence(u, field.kind)?;
                    let slot = self.start(code, flag, true);
                    let len = u.int_in_range(0..=4u32)?;
                    self.e.i32(len as i32);
                    for _ in 0..len {
                        self.object(u, depth + 1)?;
                    }
                    self.finish(slot);
                }
                FieldKind::Names | FieldKind::SequenceOfNames => {
                    let flag = self.flag(u)?;
                    let code = self.field_sequence(u, field.kind)?;
                    let slot = self.start(code, flag, true);
                    let len = u.int_in_range(0..=4u32)?;
                    self.e.i32(len as i32);
                    for _ in 0..len {
                        self.name(u)?;
                    }
                    self.finish(slot);
                }
                // Only GraalPy's and RustPython's layouts have these, and no dialect here is theirs.
                FieldKind::UInt8 | FieldKind::UInt16 | FieldKind::UInt32 | FieldKind::Dict => {}
            }
        }
        self.finish(slot);
        Ok(())
    }

    /// `co_code` as the dialect's compiler might write it, mostly: defined opcodes with small arguments
    /// (some past the tables, which hold up to four items) and their inline caches, now and then a
    /// stray byte; random bytes where no opcode set is known. So the bytecode layer gets past its
    /// first instruction.
    fn bytecode(&mut self, u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
        let Some(set) = crate::bytecode::opcodes::for_python(self.python) else {
            let len = u.int_in_range(0..=32usize)?;
            return Ok(take(u, len)?.to_vec());
        };
        let skip = flags::SPECIALIZED | flags::INSTRUMENTED;
        let defined: Vec<u8> = (0..=255u8)
            .filter(|&n| {
                let op = set.ops[usize::from(n)];
                op.name.is_some() && op.flags & skip == 0
            })
            .collect();
        let mut out = Vec::new();
        for _ in 0..u.int_in_range(0..=24u32)? {
            let opcode = *u.choose(&defined)?;
            let op = set.ops[usize::from(opcode)];
            let arg = u.int_in_range(0..=5u8)?;
            out.push(opcode);
            if set.wordcode {
                out.push(if op.flags & flags::ARG != 0 { arg } else { 0 });
            } else if op.flags & flags::ARG != 0 {
                out.extend([arg, 0]);
            }
            out.resize(out.len() + 2 * usize::from(op.caches), 0);
        }
        if one_in(u, 8)? {
            out.push(u.arbitrary()?);
        }
        Ok(out)
    }

    /// The container of a code object's sequence field: a tuple, or a list where the layout allows one
    /// (Python 1.0's consts and names).
    fn field_sequence(&mut self, u: &mut Unstructured<'_>, kind: FieldKind) -> Result<u8> {
        let list = matches!(kind, FieldKind::Sequence | FieldKind::SequenceOfNames);
        Ok(if list && u.arbitrary()? {
            tag::LIST
        } else {
            tag::TUPLE
        })
    }

    /// An identifier: a string the code-object fields accept.
    fn name(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        self.text(u, true)
    }
}
