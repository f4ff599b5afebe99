//! Valid marshal data from unstructured bytes, for fuzzing: every type code, nested, with shared
//! references and cycles, in the dialects of Python 1, 2 and 3 at marshal versions 0 to 5.
//!
//! A fuzzer that feeds raw bytes to the parser mostly exercises its first error; a [`Sample`] is valid by
//! construction, so the fuzzer explores deep structure, and the round-trip and truncation properties can
//! be checked on it. The generator writes with [`Encoder`], tracking the reference table as the reader
//! will see it, so every back-reference it writes is one the reader accepts (including references from
//! inside a list, tuple, dict or set to itself, which marshal allows).

use crate::code::{CodeLayout, FieldKind};
use crate::decode::tag;
use crate::encode::Encoder;
use crate::magic::Python;
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

/// The dialects generated: a version, its code-object layout, and the highest marshal version it reads.
const DIALECTS: [(Python, u8); 6] = [
    (Python::cpython(1, 5), 0),
    (Python::cpython(2, 7), 2),
    (Python::cpython(3, 7), 4),
    (Python::cpython(3, 10), 4),
    (Python::cpython(3, 11), 4),
    (Python::cpython(3, 14), 5),
];

/// Nesting beyond this is cut short: samples stay small and the generator's own recursion bounded.
const MAX_DEPTH: u32 = 12;
/// Objects beyond this are scalars only.
const MAX_OBJECTS: u32 = 400;

impl<'a> Arbitrary<'a> for Sample {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Sample> {
        let (python, highest) = *u.choose(&DIALECTS)?;
        let version = u.int_in_range(0..=highest)?;
        let mut g = Generator {
            e: Encoder::default(),
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
            data: g.e.out,
        })
    }
}

/// Up to `len` bytes: fewer when the input runs out, so that a short input still makes a sample.
fn take<'a>(u: &mut Unstructured<'a>, len: usize) -> Result<&'a [u8]> {
    let len = len.min(u.len());
    u.bytes(len)
}

struct Generator {
    e: Encoder,
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

impl Generator {
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
                self.e.u8(code);
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
            self.float_text(value);
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
            self.float_text(real);
            self.float_text(imag);
            self.finish(slot);
        }
        Ok(())
    }

    /// A `u8`-length float text, in the shortest exponent form (`1.5e300`, `-inf`, `nan`).
    fn float_text(&mut self, value: f64) {
        let mut text = alloc::format!("{value:e}");
        if value.is_nan() {
            text = "nan".into();
        }
        self.e.sized(true, text.as_bytes());
    }

    fn bytes(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let flag = self.flag(u)?;
        let slot = self.start(tag::STRING, flag, true);
        let len = u.int_in_range(0..=64usize)?;
        self.e.sized(false, take(u, len)?);
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
        let len = u.int_in_range(0..=40usize)?;
        let mut kinds = alloc::vec![tag::UNICODE];
        if self.version >= 3 {
            kinds.push(tag::INTERNED);
        }
        if self.version >= 4 {
            kinds.extend([
                tag::ASCII,
                tag::ASCII_INTERNED,
                tag::SHORT_ASCII,
                tag::SHORT_ASCII_INTERNED,
            ]);
        }
        let code = *u.choose(&kinds)?;
        let slot = self.start(code, flag, true);
        let mut payload = Vec::new();
        if matches!(code, tag::UNICODE | tag::INTERNED) {
            for _ in 0..len {
                let cp = match u.int_in_range(0..=3)? {
                    0 => u.int_in_range(0xd800..=0xdfffu32)?, // a lone surrogate
                    1 => u.int_in_range(0x80..=0x10ffffu32)?,
                    _ => u.int_in_range(0x20..=0x7eu32)?,
                };
                crate::text::push_utf8(&mut payload, cp);
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
                let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
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
        let len = u.int_in_range(0..=6u32)?;
        let code = if self.version >= 4 && u.ratio(2, 3)? {
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

    fn dict(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<()> {
        let flag = self.flag(u)?;
        let slot = self.start(tag::DICT, flag, true);
        for _ in 0..u.int_in_range(0..=4)? {
            self.object(u, depth + 1)?;
            self.object(u, depth + 1)?;
        }
        self.e.u8(tag::NULL);
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
        let slot = self.start(tag::CODE, flag, false);
        for field in self.layout.fields() {
            match field.kind {
                FieldKind::Int16 => self.e.i16(u.arbitrary()?),
                FieldKind::Int32 => self.e.i32(u.arbitrary()?),
                FieldKind::Bytes => {
                    let flag = self.flag(u)?;
                    let slot = self.start(tag::STRING, flag, true);
                    let len = u.int_in_range(0..=32usize)?;
                    self.e.sized(false, take(u, len)?);
                    self.finish(slot);
                }
                FieldKind::Text => self.name(u)?,
                FieldKind::Tuple | FieldKind::Sequence => {
                    let flag = self.flag(u)?;
                    let slot = self.start(tag::TUPLE, flag, true);
                    let len = u.int_in_range(0..=4u32)?;
                    self.e.i32(len as i32);
                    for _ in 0..len {
                        self.object(u, depth + 1)?;
                    }
                    self.finish(slot);
                }
                FieldKind::Names | FieldKind::SequenceOfNames => {
                    let flag = self.flag(u)?;
                    let slot = self.start(tag::TUPLE, flag, true);
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

    /// An identifier: a string the code-object fields accept.
    fn name(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        self.text(u, true)
    }
}
