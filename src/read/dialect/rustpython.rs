//! RustPython's marshal format, read into the same object table as CPython's: the files of RustPython
//! 0.4 for Python 3.13, whose magic is the ASCII word `1aea`.
//!
//! This module owns RustPython's type codes and code-object table. The facts, from RustPython's
//! `compiler/core/src/marshal.rs` and checked on every sample file:
//!
//! - No FLAG_REF, no back-references, no NULL. Lengths and counts are u32.
//! - `N F T S .` singletons; `i` an int of any size: an i32 whose sign is the int's and whose magnitude
//!   is the number of bytes that follow, the magnitude least significant byte first; `g` a binary
//!   float, `y` a binary complex; `s` bytes; `u` and `a` a string of UTF-8 that may encode lone
//!   surrogates (WTF-8); `( [ < >` a count and items; `{` a count of pairs and the pairs; `c` a code
//!   object, whose fields are those of [`CodeLayout::RustPython`] in RustPython's own encodings (no type bytes).
//! - The instructions are 2 bytes each (opcode, argument), counted in instructions; each source
//!   location is a line (never 0) and a column (0-based), u32 each.
//!
//! Values without a type byte (the names, the contents of `cell2arg`) are objects of type byte 0, read
//! as what they are; the constants and name lists read as tuples, the locations as bytes.

use crate::base::error::{ErrorKind, Fault};
use crate::base::reader::Reader;
use crate::base::text;
use crate::format::layout::{CodeLayout, Format};
use crate::format::tag;
use crate::object::Form;
use crate::read::sink::{Forms, Outcome};
use crate::read::stack::{Frame, Shape, Stack};

/// How a field of a code object is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Read {
    /// A u32 count of instructions and 2 bytes each.
    Instructions,
    /// A u32 count of locations and 8 bytes each: line (not 0) and column.
    Locations,
    /// A u16.
    U16,
    /// A u32.
    U32,
    /// A u32 length and UTF-8.
    Name,
    /// A u32 count and u32s.
    U32s,
    /// A u32 count and objects.
    Objects,
    /// A u32 count and names.
    Names,
    /// A u32 length and bytes.
    Bytes,
}

/// How each field of a code object ([`CodeLayout::RustPython`]'s fields, in order) is written.
const CODE: [Read; 19] = [
    Read::Instructions,
    Read::Locations,
    Read::U16,
    Read::U32,
    Read::U32,
    Read::U32,
    Read::Name,
    Read::U32,
    Read::U32,
    Read::Name,
    Read::Name,
    Read::U32s,
    Read::Objects,
    Read::Names,
    Read::Names,
    Read::Names,
    Read::Names,
    Read::Bytes,
    Read::Bytes,
];

/// What the reader reads next in a container.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Item {
    /// Objects: the top-level one, items, keys and values.
    Object,
    /// Names of code objects.
    Name,
    /// The u32s of `cell2arg`.
    U32,
    /// The fields of a code object.
    Code,
}

struct Decoder<'a, 's, S: Forms> {
    r: Reader<'a>,
    sink: &'s mut S,
    stack: Stack<S::Id, Item>,
}

/// Decodes one RustPython object from `data` at `start` into `sink`.
pub(crate) fn decode<S: Forms>(
    data: &[u8],
    start: usize,
    max_depth: u32,
    sink: &mut S,
) -> Outcome<S::Id> {
    if let Some(outcome) = Outcome::too_large(data, start) {
        return outcome;
    }
    sink.read_as(Format::RustPython);
    let frame = Frame::new(S::PLACEHOLDER, 0, Shape::Root, Item::Object);
    let mut decoder = Decoder {
        r: Reader::new(data, start),
        sink,
        stack: Stack::new(frame, max_depth),
    };
    let run = decoder.run();
    decoder.stack.outcome(decoder.sink, run, decoder.r.pos())
}

impl<'a, S: Forms> Decoder<'a, '_, S> {
    /// Reads values and hands each to its container until the top-level one is done.
    fn run(&mut self) -> Result<(), Fault> {
        self.stack.check_depth(&self.r)?;
        while self.stack.root.is_none() {
            if self.stack.is_full() {
                if let Some(frame) = self.stack.finish(self.sink) {
                    self.stack.deliver(self.sink, frame.id);
                }
                continue;
            }
            let done = match self.stack.top().word {
                Item::Object => self.object()?,
                Item::Code => self.field()?,
                Item::Name => Some(self.name()?),
                Item::U32 => {
                    let at = self.here();
                    let value = self.u32("u32")?;
                    Some(self.typeless(Form::Int, at, value, 0))
                }
            };
            if let Some(done) = done {
                self.stack.deliver(self.sink, done);
            }
        }
        Ok(())
    }

    /// The current offset as a `u32`; `decode` refused inputs that do not fit.
    fn here(&self) -> u32 {
        self.r.pos() as u32
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Fault> {
        self.r.array(what).map(u32::from_le_bytes)
    }

    /// A u32 length and that many bytes; returns their offset and the bytes.
    fn sized(&mut self, what: &'static str) -> Result<(u32, &'a [u8]), Fault> {
        let n = self.u32("length")?;
        let at = self.here();
        Ok((at, self.r.take(n as usize, what)?))
    }

    /// A value without a type byte.
    fn typeless(&mut self, form: Form, at: u32, a: u32, b: u32) -> S::Id {
        self.sink.leaf_as(0, form, at, a, b)
    }

    /// A name: a u32 length and UTF-8 (RustPython reads names as `str`, without surrogates).
    fn name(&mut self) -> Result<S::Id, Fault> {
        let start = self.here();
        let (at, payload) = self.sized("str payload")?;
        if let Err(e) = core::str::from_utf8(payload) {
            let offset = at as usize + e.valid_up_to();
            return Err(Fault::new(ErrorKind::InvalidUtf8, offset, "str payload"));
        }
        Ok(self.typeless(Form::Utf8, start, at, payload.len() as u32))
    }

    /// Opens a container of `n` items of `item`, each `min` bytes at least.
    fn open_sized(
        &mut self,
        byte: u8,
        form: Form,
        start: usize,
        n: u32,
        item: Item,
        min: u8,
    ) -> Result<(), Fault> {
        self.stack.claim(n, min, &self.r)?;
        let layout = CodeLayout::RustPython;
        let (id, mark) = self.sink.open_as(byte, form, start as u32, n, layout);
        let mut frame = Frame::new(id, mark, Shape::Sized, item);
        frame.total = n;
        frame.min = min;
        self.stack.open(frame);
        self.stack.check_nesting(&self.r)
    }

    /// Reads one object: its type byte and what follows. `None` when it opened a container.
    fn object(&mut self) -> Result<Option<S::Id>, Fault> {
        let start = self.r.pos();
        let byte = self.r.u8("type code")?;
        let leaf = |sink: &mut S, form, a, b| sink.leaf_as(byte, form, start as u32, a, b);
        let done = match byte {
            tag::NONE | tag::FALSE | tag::TRUE | tag::STOPITER | tag::ELLIPSIS => {
                self.sink.singleton(byte, start as u32)
            }
            tag::INT => {
                let n = self.u32("int size")? as i32;
                let at = self.here();
                self.r.take(n.unsigned_abs() as usize, "int bytes")?;
                leaf(self.sink, Form::ByteInt, at, n as u32)
            }
            tag::BINARY_FLOAT => {
                let bits = u64::from_le_bytes(self.r.array("float")?);
                leaf(self.sink, Form::Native, bits as u32, (bits >> 32) as u32)
            }
            tag::BINARY_COMPLEX => {
                let at = self.here();
                self.r.take(16, "complex")?;
                leaf(self.sink, Form::Native, at, 16)
            }
            tag::STRING => {
                let (at, payload) = self.sized("bytes payload")?;
                leaf(self.sink, Form::Native, at, payload.len() as u32)
            }
            tag::UNICODE | tag::ASCII => {
                let (at, payload) = self.sized("str payload")?;
                if let Err(bad) = text::check_utf8(payload) {
                    let offset = at as usize + bad;
                    return Err(Fault::new(ErrorKind::InvalidUtf8, offset, "str payload"));
                }
                // An `a` is WTF-8 too, not CPython's Latin-1.
                leaf(self.sink, Form::Utf8, at, payload.len() as u32)
            }
            tag::TUPLE | tag::LIST | tag::SET | tag::FROZENSET => {
                let n = self.u32("size")?;
                self.open_sized(byte, Form::Native, start, n, Item::Object, 1)?;
                return Ok(None);
            }
            tag::DICT => {
                let n = self.u32("size")?;
                let (id, mark) = self
                    .sink
                    .open(byte, start as u32, 0, CodeLayout::RustPython);
                let mut frame = Frame::new(id, mark, Shape::Dict, Item::Object);
                frame.total = n;
                self.stack.open(frame);
                self.stack.check_nesting(&self.r)?;
                return Ok(None);
            }
            tag::CODE => {
                let layout = CodeLayout::RustPython;
                let slots = layout.object_count();
                let (id, mark) = self.sink.open(byte, start as u32, slots, layout);
                let mut frame = Frame::new(id, mark, Shape::Code, Item::Code);
                frame.fields = layout.fields();
                self.stack.open(frame);
                self.stack.check_nesting(&self.r)?;
                return Ok(None);
            }
            _ => {
                let kind = ErrorKind::UnknownTypeCode(byte);
                return Err(Fault::new(kind, start, "type code"));
            }
        };
        Ok(Some(done))
    }

    /// Reads the next field of the innermost code object.
    fn field(&mut self) -> Result<Option<S::Id>, Fault> {
        let top = *self.stack.top();
        let Some(&read) = CODE.get(usize::from(top.field)) else {
            return Ok(None); // proven: a full code frame is closed before its fields are read
        };
        let start = self.r.pos();
        match read {
            Read::Instructions | Read::Locations => {
                let count = self.u32("count")?;
                let width = if read == Read::Instructions { 2 } else { 8 };
                let at = self.r.pos();
                let len = u64::from(count) * width;
                let what = if read == Read::Instructions {
                    "instructions"
                } else {
                    "locations"
                };
                let bytes = self
                    .r
                    .take(usize::try_from(len).unwrap_or(usize::MAX), what)?;
                if read == Read::Locations {
                    // OneIndexed: a line number is never 0.
                    if let Some(i) = bytes
                        .chunks_exact(8)
                        .position(|loc| loc.starts_with(&[0; 4]))
                    {
                        return Err(Fault::new(ErrorKind::BadValue, at + 8 * i, "line"));
                    }
                }
                let done = self.typeless(Form::Bytes, start as u32, at as u32, len as u32);
                return Ok(Some(done));
            }
            Read::U16 => {
                let value = u16::from_le_bytes(self.r.array("u16")?);
                self.stack.code_int(self.sink, i32::from(value));
            }
            Read::U32 => {
                let value = self.u32("u32")?;
                self.stack.code_int(self.sink, value as i32);
            }
            Read::Name => return self.name().map(Some),
            Read::Bytes => {
                let (at, payload) = self.sized("bytes payload")?;
                let len = payload.len() as u32;
                return Ok(Some(self.typeless(Form::Bytes, start as u32, at, len)));
            }
            Read::U32s | Read::Objects | Read::Names => {
                let (item, min) = match read {
                    Read::U32s => (Item::U32, 4),
                    Read::Names => (Item::Name, 4),
                    _ => (Item::Object, 1),
                };
                let n = self.u32("size")?;
                self.open_sized(0, Form::Tuple, start, n, item, min)?;
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::layout::FieldKind;

    #[test]
    fn each_field_is_read_as_the_layout_says_it_holds() {
        let fields = CodeLayout::RustPython.fields();
        assert_eq!(fields.len(), CODE.len());
        for (field, read) in fields.iter().zip(CODE) {
            let kind = match read {
                Read::Instructions | Read::Locations | Read::Bytes => FieldKind::Bytes,
                Read::U16 => FieldKind::UInt16,
                Read::U32 => FieldKind::UInt32,
                Read::Name => FieldKind::Text,
                Read::U32s | Read::Objects => FieldKind::Tuple,
                Read::Names => FieldKind::Names,
            };
            assert_eq!(field.kind, kind, "{}", field.name);
        }
    }
}
