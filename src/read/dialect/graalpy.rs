//! GraalPy's marshal format, read into the same object table as CPython's: magic 21280 (GraalPy for
//! Python 3.10, bytecode version 28) and 21290 (3.11 and 3.12, bytecode version 29).
//!
//! This module owns GraalPy's type codes and code-object tables. The facts, from GraalPy's
//! `MarshalModuleBuiltins.java` and checked on every sample file:
//!
//! - CPython's type codes, FLAG_REF and `r` as in marshal 4, with other string and dict rules: `u` and
//!   `t` hold an i32 length and UTF-8, or, when that length is negative, another length and UTF-32LE
//!   (how GraalPy writes strings with lone surrogates); a dict ends at a NULL key.
//! - Its own codes: `C` a code object, `U` a code unit (a nested function's code, in the constants),
//!   `]` a Java array (a byte of element type `b i l s d B S o`, an i32 count, the elements without type
//!   bytes), `B` a big integer (as `l`), `n` the NO_VALUE sentinel.
//! - `C` holds the file name, the flags, the code unit as a length-prefixed byte string, the first line
//!   and the line table. That byte string is read later by a fresh reader, so the references inside it
//!   are numbered from 0 again. Files of GraalPy 3.12 start it with `U`; 3.10 and 3.11 do not.
//! - A code unit: the bytecode version byte, then the fields of [`CodeLayout::GraalPyUnit`], in GraalPy's own
//!   encodings (strings, arrays and sparse tables without type bytes).
//! - A flagged object takes its reference slot at its type byte, even a singleton or a `B` (whose slots
//!   are never filled); tuples, lists, dicts and sets fill theirs at once, the others once read.
//!
//! Values without a type byte (the elements of arrays, the strings and arrays of code units) are
//! objects of type byte 0, read as what they are; arrays read as tuples, sparse tables as dicts.

use crate::base::error::{ErrorKind, Fault};
use crate::base::number;
use crate::base::reader::Reader;
use crate::base::text;
use crate::format::layout::{CodeLayout, Format};
use crate::format::tag;
use crate::object::Form;
use crate::read::sink::{Forms, Outcome};
use crate::read::stack::{Frame, NO_SLOT, Shape, Stack, UNCOUNTED};
use alloc::vec::Vec;

/// GraalPy's own type codes.
mod code {
    /// A code object: the wrapper around a code unit.
    pub const CODE: u8 = b'C';
    /// A code unit alone.
    pub const CODE_UNIT: u8 = b'U';
    /// A big integer, as `l`.
    pub const BIG_INTEGER: u8 = b'B';
    /// A Java array.
    pub const ARRAY: u8 = b']';
    /// The NO_VALUE sentinel.
    pub const NO_VALUE: u8 = b'n';
}

/// How a field of a code unit is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Read {
    /// In `C`: the code unit's length, an optional `U`, then the bytecode version byte.
    UnitStart,
    /// The bytecode version byte.
    Version,
    /// A string: i32 length and UTF-8, or a negative i32, a length and UTF-32LE.
    Str,
    /// An i32.
    Int,
    /// An i32 length and bytes.
    Bytes,
    /// An i32 count and strings.
    Strings,
    /// An i32 count and i32s.
    Ints,
    /// An i32 count and i64s.
    Longs,
    /// An i32 count and objects (NULL allowed).
    Objects,
    /// A sparse table: its i32 length, then pairs of an i32 index and an int array, until index -1.
    Sparse,
    /// In `C`: the end of the code unit, then an i32.
    UnitEnd,
}

/// How each field of a code unit ([`CodeLayout::GraalPyUnit`]'s fields, in order) is written.
const UNIT: [Read; 27] = [
    Read::Version,
    Read::Str,
    Read::Str,
    Read::Int,
    Read::Int,
    Read::Int,
    Read::Int,
    Read::Bytes,
    Read::Bytes,
    Read::Int,
    Read::Strings,
    Read::Strings,
    Read::Strings,
    Read::Strings,
    Read::Ints,
    Read::Objects,
    Read::Longs,
    Read::Ints,
    Read::Int,
    Read::Int,
    Read::Int,
    Read::Int,
    Read::Int,
    Read::Bytes,
    Read::Bytes,
    Read::Sparse,
    Read::Sparse,
];

/// How each field of a code object ([`CodeLayout::GraalPy`]'s fields, in order) is written: the
/// wrapper's file name and flags, the code unit's fields between [`Read::UnitStart`] and
/// [`Read::UnitEnd`], and the wrapper's line table.
const CODE: [Read; 31] = {
    let mut out = [Read::Str; 31];
    out[1] = Read::Int;
    out[2] = Read::UnitStart;
    let mut i = 1;
    while i < UNIT.len() {
        out[i + 2] = UNIT[i];
        i += 1;
    }
    out[29] = Read::UnitEnd;
    out[30] = Read::Bytes;
    out
};

/// What the reader reads next in a container.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Item {
    /// The top-level object.
    Root,
    /// Objects, not NULL (tuples, lists, sets).
    Object,
    /// Objects or NULL (object arrays).
    ObjectOrNull,
    /// Keys and values until a NULL key (dicts).
    Pairs,
    /// Array elements without type bytes.
    Str,
    Int,
    Long,
    Short,
    Double,
    Bool,
    /// A sparse table's indexes and int arrays.
    Sparse,
    /// The fields of a `C`.
    Code,
    /// The fields of a `U`.
    Unit,
}

impl Item {
    /// The elements of an array of element type `kind`, and the fewest bytes each takes.
    fn of_array(kind: u8) -> Option<(Item, u8)> {
        Some(match kind {
            b'i' => (Item::Int, 4),
            b'l' => (Item::Long, 8),
            b's' => (Item::Short, 2),
            b'd' => (Item::Double, 8),
            b'B' => (Item::Bool, 1),
            b'S' => (Item::Str, 4),
            b'o' => (Item::ObjectOrNull, 1),
            _ => return None,
        })
    }
}

/// The reader's own words in a frame: what it reads next in the container, and a word of its own
/// (the end offset of a code unit, the length of a sparse table).
#[derive(Copy, Clone, Debug)]
struct Word {
    item: Item,
    extra: usize,
}

impl Word {
    fn of(item: Item) -> Word {
        Word { item, extra: 0 }
    }
}

/// How a sized container reads: its node's form, what its items are and the fewest bytes each takes,
/// and when its reference slot is filled (`None`: it has no type byte, hence no slot).
#[derive(Copy, Clone, Debug)]
struct Sized {
    form: Form,
    item: Item,
    min: u8,
    fill: Option<bool>,
}

impl Sized {
    fn new(form: Form, item: Item, min: u8, fill: Option<bool>) -> Sized {
        Sized {
            form,
            item,
            min,
            fill,
        }
    }
}

/// A reference slot of the innermost code unit's table: the global slot it got in the object table,
/// and whether it may be referred to yet.
#[derive(Copy, Clone, Debug)]
struct Slot {
    global: u32,
    filled: bool,
}

/// A slot that is never filled: GraalPy reserves one for a flagged singleton or big integer.
const NEVER: Slot = Slot {
    global: u32::MAX,
    filled: false,
};

/// What the reader needs beyond the bytes.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Config {
    pub max_depth: u32,
    /// The bytecode version code units must have (from the magic), if known.
    pub version: Option<u8>,
}

/// The bytecode version a GraalPy magic implies: 21000 + 10 x version.
pub(crate) fn version_of_magic(magic: u16) -> Option<u8> {
    let steps = magic.checked_sub(21000)?;
    (steps % 10 == 0)
        .then(|| u8::try_from(steps / 10).ok())
        .flatten()
}

struct Decoder<'a, 's, S: Forms> {
    data: &'a [u8],
    r: Reader<'a>,
    sink: &'s mut S,
    stack: Stack<S::Id, Word>,
    version: Option<u8>,
    /// The reference tables of the code units being read, innermost last.
    slots: Vec<Slot>,
    /// Where each open code unit's table starts in `slots`.
    scopes: Vec<usize>,
    /// The ends of the open code units' byte strings, innermost last: reads stop there.
    limits: Vec<usize>,
    /// Slots given out in the object table.
    registered: u32,
}

/// Decodes one GraalPy object from `data` at `start` into `sink`.
pub(crate) fn decode<S: Forms>(
    data: &[u8],
    start: usize,
    cfg: Config,
    sink: &mut S,
) -> Outcome<S::Id> {
    if let Some(outcome) = Outcome::too_large(data, start) {
        return outcome;
    }
    sink.read_as(Format::GraalPy);
    let frame = Frame::new(S::PLACEHOLDER, 0, Shape::Root, Word::of(Item::Root));
    let mut decoder = Decoder {
        data,
        r: Reader::new(data, start),
        sink,
        stack: Stack::new(frame, cfg.max_depth),
        version: cfg.version,
        slots: Vec::new(),
        scopes: Vec::new(),
        limits: Vec::new(),
        registered: 0,
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
                self.close();
                continue;
            }
            let item = self.stack.top().word.item;
            let done = match item {
                Item::Root | Item::Object | Item::ObjectOrNull | Item::Pairs => self.object()?,
                Item::Code | Item::Unit => self.field()?,
                Item::Sparse => self.sparse_entry()?,
                Item::Str => {
                    let start = self.r.pos();
                    Some(self.string(0, start)?)
                }
                Item::Int => {
                    let at = self.here();
                    let value = self.r.i32("int")?;
                    Some(self.typeless(Form::Int, at, value as u32, 0))
                }
                Item::Short => {
                    let at = self.here();
                    let value = i32::from(self.r.i16("short")?);
                    Some(self.typeless(Form::Int, at, value as u32, 0))
                }
                Item::Long | Item::Double => {
                    let at = self.here();
                    let bits = u64::from_le_bytes(self.r.array("int64")?);
                    let form = if item == Item::Long {
                        Form::Int64
                    } else {
                        Form::Float
                    };
                    Some(self.typeless(form, at, bits as u32, (bits >> 32) as u32))
                }
                Item::Bool => {
                    let at = self.r.pos();
                    let byte = match self.r.u8("boolean")? {
                        0 => tag::FALSE,
                        1 => tag::TRUE,
                        _ => return Err(Fault::new(ErrorKind::BadValue, at, "boolean")),
                    };
                    Some(self.sink.singleton(byte, at as u32))
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

    /// Closes the innermost container, fills its slot, and hands it to its own container.
    fn close(&mut self) {
        if let Some(frame) = self.stack.finish(self.sink) {
            if let Some(slot) = self.slots.get_mut(frame.slot as usize) {
                slot.filled = true;
            }
            self.stack.deliver(self.sink, frame.id);
        }
    }

    /// A value without a type byte.
    fn typeless(&mut self, form: Form, at: u32, a: u32, b: u32) -> S::Id {
        self.sink.leaf_as(0, form, at, a, b)
    }

    /// An i32 size; negative is an error.
    fn size(&mut self, what: &'static str) -> Result<usize, Fault> {
        let n = self.r.i32(what)?;
        usize::try_from(n).map_err(|_| {
            let kind = ErrorKind::BadLength(i64::from(n));
            Fault::new(kind, self.r.pos() - 4, what)
        })
    }

    /// Gives a flagged object its slot in the innermost code unit's table; `filled` when it may be
    /// referred to at once. Registers it in the object table unless the slot is never filled.
    fn reserve(&mut self, id: S::Id, byte: u8, filled: Option<bool>) -> u32 {
        if byte & tag::FLAG_REF == 0 {
            return NO_SLOT;
        }
        let index = self.slots.len() as u32;
        let slot = match filled {
            Some(filled) => {
                self.sink.register(id);
                self.registered += 1;
                Slot {
                    global: self.registered - 1,
                    filled,
                }
            }
            None => NEVER,
        };
        self.slots.push(slot);
        index
    }

    /// A scalar with a type byte.
    fn leaf(&mut self, byte: u8, form: Form, start: usize, a: u32, b: u32) -> S::Id {
        let id = self.sink.leaf_as(byte, form, start as u32, a, b);
        self.reserve(id, byte, Some(true));
        id
    }

    /// Reads one object: its type byte and what follows. `None` when it opened a container.
    fn object(&mut self) -> Result<Option<S::Id>, Fault> {
        let start = self.r.pos();
        let byte = self.r.u8("type code")?;
        let done = match byte & !tag::FLAG_REF {
            tag::NULL => return self.null(start),
            tag::NONE | tag::FALSE | tag::TRUE | tag::STOPITER | tag::ELLIPSIS => {
                let id = self.sink.singleton(byte, start as u32);
                self.reserve(id, byte, None);
                id
            }
            code::NO_VALUE => {
                let id = self.sink.leaf(byte, start as u32, 0, 0);
                self.reserve(id, byte, None);
                id
            }
            tag::INT => {
                let value = self.r.i32("int")?;
                self.leaf(byte, Form::Native, start, value as u32, 0)
            }
            tag::INT64 | tag::BINARY_FLOAT => {
                let bits = u64::from_le_bytes(self.r.array("int64")?);
                self.leaf(byte, Form::Native, start, bits as u32, (bits >> 32) as u32)
            }
            tag::BINARY_COMPLEX => {
                let at = self.here();
                self.r.take(16, "complex")?;
                self.leaf(byte, Form::Native, start, at, 16)
            }
            tag::FLOAT | tag::COMPLEX => {
                let at = self.here();
                number::read_float_text(&mut self.r, "float text")?;
                if byte & !tag::FLAG_REF == tag::COMPLEX {
                    number::read_float_text(&mut self.r, "complex imaginary part")?;
                }
                let len = self.here() - at;
                self.leaf(byte, Form::Native, start, at, len)
            }
            tag::LONG | code::BIG_INTEGER => return self.long(byte, start).map(Some),
            tag::STRING | tag::ASCII | tag::ASCII_INTERNED => {
                let n = self.size("length")?;
                let at = self.here();
                self.r.take(n, "payload")?;
                self.leaf(byte, Form::Native, start, at, n as u32)
            }
            tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED => {
                let n = usize::from(self.r.u8("length")?);
                let at = self.here();
                self.r.take(n, "str payload")?;
                self.leaf(byte, Form::Native, start, at, n as u32)
            }
            tag::UNICODE | tag::INTERNED => self.string(byte, start)?,
            tag::REF => {
                let at = self.r.pos();
                let index = self.r.i32("reference")?;
                let scope = self.scopes.last().copied().unwrap_or(0);
                let slot = usize::try_from(index)
                    .ok()
                    .and_then(|i| self.slots.get(scope.checked_add(i)?))
                    .filter(|slot| slot.filled);
                match slot {
                    Some(slot) => self.sink.back_ref(byte, start as u32, slot.global),
                    None => {
                        let kind = ErrorKind::InvalidReference(index as u32);
                        return Err(Fault::new(kind, at, "reference"));
                    }
                }
            }
            tag::SMALL_TUPLE => {
                let n = u32::from(self.r.u8("size")?);
                let sized = Sized::new(Form::Native, Item::Object, 1, Some(true));
                return self.open_sized(byte, start, n, sized).map(|()| None);
            }
            tag::TUPLE | tag::LIST | tag::SET | tag::FROZENSET => {
                let n = self.size("size")? as u32;
                let sized = Sized::new(Form::Native, Item::Object, 1, Some(true));
                return self.open_sized(byte, start, n, sized).map(|()| None);
            }
            tag::DICT => {
                let (id, mark) = self.sink.open(byte, start as u32, 0, CodeLayout::GraalPy);
                let mut frame = Frame::new(id, mark, Shape::Dict, Word::of(Item::Pairs));
                frame.total = UNCOUNTED;
                frame.slot = self.reserve(id, byte, Some(true));
                return {
                    self.stack.open(frame);
                    self.stack.check_nesting(&self.r).map(|()| None)
                };
            }
            code::ARRAY => return self.array(byte, start),
            code::CODE | code::CODE_UNIT => {
                let (form, layout, item) = if byte & !tag::FLAG_REF == code::CODE {
                    (Form::Native, CodeLayout::GraalPy, Item::Code)
                } else {
                    (Form::Code, CodeLayout::GraalPyUnit, Item::Unit)
                };
                let slots = layout.object_count();
                let (id, mark) = self.sink.open_as(byte, form, start as u32, slots, layout);
                let mut frame = Frame::new(id, mark, Shape::Code, Word::of(item));
                frame.fields = layout.fields();
                frame.slot = self.reserve(id, byte, Some(false));
                return {
                    self.stack.open(frame);
                    self.stack.check_nesting(&self.r).map(|()| None)
                };
            }
            _ => {
                let kind = ErrorKind::UnknownTypeCode(byte);
                return Err(Fault::new(kind, start, "type code"));
            }
        };
        Ok(Some(done))
    }

    /// A NULL: the end of a dict in key position, an item of an object array, an error elsewhere.
    fn null(&mut self, start: usize) -> Result<Option<S::Id>, Fault> {
        let top = self.stack.top();
        match top.word.item {
            Item::Pairs if top.count % 2 == 0 => {
                self.close();
                Ok(None)
            }
            Item::ObjectOrNull => Ok(Some(self.sink.singleton(tag::NULL, start as u32))),
            _ => Err(Fault::new(ErrorKind::UnexpectedNull, start, "type code")),
        }
    }

    /// Opens a sized container of `n` items: a tuple, list, set or frozenset (GraalPy fills their slot
    /// at once, before the items), an array (once read), or a list without a type byte.
    fn open_sized(&mut self, byte: u8, start: usize, n: u32, sized: Sized) -> Result<(), Fault> {
        self.stack.claim(n, sized.min, &self.r)?;
        let layout = CodeLayout::GraalPy;
        let (id, mark) = self.sink.open_as(byte, sized.form, start as u32, n, layout);
        let mut frame = Frame::new(id, mark, Shape::Sized, Word::of(sized.item));
        frame.total = n;
        frame.min = sized.min;
        frame.slot = self.reserve(id, byte, sized.fill);
        self.stack.open(frame);
        self.stack.check_nesting(&self.r)
    }

    /// A `]` array: its element type, count and elements. Its slot is filled once it is read.
    fn array(&mut self, byte: u8, start: usize) -> Result<Option<S::Id>, Fault> {
        let at = self.r.pos();
        let kind = self.r.u8("array type")?;
        let n = self.size("array size")?;
        if kind == b'b' {
            let payload = self.here();
            self.r.take(n, "bytes payload")?;
            return Ok(Some(self.leaf(byte, Form::Bytes, start, payload, n as u32)));
        }
        let Some((item, min)) = Item::of_array(kind) else {
            let kind = ErrorKind::UnknownTypeCode(kind);
            return Err(Fault::new(kind, at, "array type"));
        };
        let sized = Sized::new(Form::Tuple, item, min, Some(false));
        self.open_sized(byte, start, n as u32, sized).map(|()| None)
    }

    /// A string: `byte` is its type code, or 0 for one without (in arrays and code units).
    fn string(&mut self, byte: u8, start: usize) -> Result<S::Id, Fault> {
        let n = self.r.i32("length")?;
        let (utf32, len) = match usize::try_from(n) {
            Ok(len) => (false, len),
            Err(_) => (true, self.size("utf-32 length")?),
        };
        let at = self.r.pos();
        let payload = self.r.take(len, "str payload")?;
        let (form, checked, kind) = if utf32 {
            let kind = ErrorKind::InvalidUtf32;
            (Form::Utf32, text::check_utf32(payload), kind)
        } else {
            let form = if byte == 0 { Form::Utf8 } else { Form::Native };
            (form, text::check_utf8(payload), ErrorKind::InvalidUtf8)
        };
        if let Err(bad) = checked {
            return Err(Fault::new(kind, at + bad, "str payload"));
        }
        let (a, b) = (at as u32, len as u32);
        Ok(match byte {
            0 => self.typeless(form, start as u32, a, b),
            _ => self.leaf(byte, form, start, a, b),
        })
    }

    /// An `l` or `B`: a signed digit count and 15-bit digits, checked as CPython checks them. GraalPy
    /// cannot read a count of 0 (it reads the first digit regardless) and writes zero as a `B` of one
    /// zero digit; a `B` takes a slot that is never filled.
    fn long(&mut self, byte: u8, start: usize) -> Result<S::Id, Fault> {
        let at = self.r.pos();
        let n = self.r.i32("long size")?;
        if n == 0 || n == i32::MIN {
            let kind = ErrorKind::BadLength(i64::from(n));
            return Err(Fault::new(kind, at, "long size"));
        }
        let digits_at = self.r.pos();
        let count = n.unsigned_abs() as usize;
        let digits = self.r.take(count.saturating_mul(2), "long digits")?;
        let big = byte & !tag::FLAG_REF == code::BIG_INTEGER;
        let zero = big && n == 1;
        if let Err((i, kind)) = number::check_long_digits(digits) {
            if !(zero && kind == ErrorKind::UnnormalizedLong) {
                return Err(Fault::new(kind, digits_at + 2 * i, "long digits"));
            }
        }
        let (a, b) = (digits_at as u32, n as u32);
        if !big {
            return Ok(self.leaf(byte, Form::Native, start, a, b));
        }
        let id = self.sink.leaf_as(byte, Form::Long, start as u32, a, b);
        self.reserve(id, byte, None);
        Ok(id)
    }

    /// One entry of a sparse table: an index (-1 ends the table), then its int array.
    fn sparse_entry(&mut self) -> Result<Option<S::Id>, Fault> {
        let top = *self.stack.top();
        let at = self.r.pos();
        if top.count % 2 == 1 {
            let n = self.size("int array size")? as u32;
            self.open_sized(0, at, n, Sized::new(Form::Tuple, Item::Int, 4, None))?;
            return Ok(None);
        }
        let index = self.r.i32("sparse table index")?;
        if index == -1 {
            self.close();
            return Ok(None);
        }
        if usize::try_from(index).map_or(true, |i| i >= top.word.extra) {
            return Err(Fault::new(ErrorKind::BadValue, at, "sparse table index"));
        }
        Ok(Some(self.typeless(Form::Int, at as u32, index as u32, 0)))
    }

    /// Reads the next field of the innermost code object or unit.
    fn field(&mut self) -> Result<Option<S::Id>, Fault> {
        let top = *self.stack.top();
        let spec: &[Read] = match top.word.item {
            Item::Code => &CODE,
            _ => &UNIT,
        };
        let Some(&read) = spec.get(usize::from(top.field)) else {
            return Ok(None); // proven: a full code frame is closed before its fields are read
        };
        let start = self.r.pos();
        match read {
            Read::UnitStart => {
                self.enter_unit()?;
                self.version()?;
            }
            Read::Version => self.version()?,
            Read::Int => {
                let value = self.r.i32("int32")?;
                self.stack.code_int(self.sink, value);
            }
            Read::UnitEnd => {
                self.leave_unit(top.word.extra)?;
                let value = self.r.i32("int32")?;
                self.stack.code_int(self.sink, value);
            }
            Read::Str => return self.string(0, start).map(Some),
            Read::Bytes => {
                let n = self.size("length")?;
                let at = self.here();
                self.r.take(n, "bytes payload")?;
                return Ok(Some(self.typeless(Form::Bytes, start as u32, at, n as u32)));
            }
            Read::Strings | Read::Ints | Read::Longs | Read::Objects => {
                let (item, min) = match read {
                    Read::Strings => (Item::Str, 4),
                    Read::Ints => (Item::Int, 4),
                    Read::Longs => (Item::Long, 8),
                    _ => (Item::ObjectOrNull, 1),
                };
                let n = self.size("size")? as u32;
                self.open_sized(0, start, n, Sized::new(Form::Tuple, item, min, None))?;
            }
            Read::Sparse => {
                let length = self.size("sparse table length")?;
                let (id, mark) =
                    self.sink
                        .open_as(0, Form::Dict, start as u32, 0, CodeLayout::GraalPy);
                let mut frame = Frame::new(id, mark, Shape::Dict, Word::of(Item::Sparse));
                frame.total = UNCOUNTED;
                frame.word.extra = length;
                self.stack.open(frame);
                self.stack.check_nesting(&self.r)?;
            }
        }
        Ok(None)
    }

    /// The bytecode version byte, which must be the magic's.
    fn version(&mut self) -> Result<(), Fault> {
        let at = self.r.pos();
        let found = self.r.u8("bytecode version")?;
        if self.version.is_some_and(|expected| expected != found) {
            return Err(Fault::new(ErrorKind::BadValue, at, "bytecode version"));
        }
        self.stack.code_int(self.sink, i32::from(found));
        Ok(())
    }

    /// The start of a `C`'s code unit: its length bounds the reads until [`Self::leave_unit`], a new
    /// reference table begins, and a `U` may come first.
    fn enter_unit(&mut self) -> Result<(), Fault> {
        let n = self.size("code unit length")?;
        let pos = self.r.pos();
        let end = pos.saturating_add(n);
        self.stack.top_mut().word.extra = end;
        // A unit inside another cannot read past the other's end either.
        let limit = end.min(self.limit());
        self.limits.push(limit);
        self.scopes.push(self.slots.len());
        self.r = Reader::new(self.data.get(..limit).unwrap_or(self.data), pos);
        if let Ok(code::CODE_UNIT) = self.r.clone().u8("") {
            self.r.u8("code unit type")?;
        }
        Ok(())
    }

    /// The end of a `C`'s code unit, which must be where its length said; the unit's reference table
    /// ends with it.
    fn leave_unit(&mut self, end: usize) -> Result<(), Fault> {
        let pos = self.r.pos();
        if pos < end {
            let kind = ErrorKind::TrailingBytes((end - pos) as u64);
            return Err(Fault::new(kind, pos, "code unit end"));
        }
        self.limits.pop();
        if let Some(scope) = self.scopes.pop() {
            self.slots.truncate(scope);
        }
        let limit = self.limit();
        self.r = Reader::new(self.data.get(..limit).unwrap_or(self.data), pos);
        Ok(())
    }

    /// Where reads stop: the end of the innermost code unit, or of the input.
    fn limit(&self) -> usize {
        self.limits.last().copied().unwrap_or(self.data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::layout::FieldKind;

    #[test]
    fn each_field_is_read_as_the_layout_says_it_holds() {
        for (layout, reads) in [
            (CodeLayout::GraalPy, &CODE[..]),
            (CodeLayout::GraalPyUnit, &UNIT),
        ] {
            let fields = layout.fields();
            assert_eq!(fields.len(), reads.len(), "{layout:?}");
            for (field, read) in fields.iter().zip(reads) {
                let kind = match read {
                    Read::UnitStart | Read::Version => FieldKind::UInt8,
                    Read::Int | Read::UnitEnd => FieldKind::Int32,
                    Read::Str => FieldKind::Text,
                    Read::Bytes => FieldKind::Bytes,
                    Read::Strings => FieldKind::Names,
                    Read::Ints | Read::Longs | Read::Objects => FieldKind::Tuple,
                    Read::Sparse => FieldKind::Dict,
                };
                assert_eq!(field.kind, kind, "{layout:?} {}", field.name);
            }
        }
    }

    #[test]
    fn the_code_table_is_the_unit_table_inside_the_wrapper() {
        let (code, unit) = (
            CodeLayout::GraalPy.fields(),
            CodeLayout::GraalPyUnit.fields(),
        );
        assert_eq!(code.get(3..29), unit.get(1..));
        assert_eq!(CODE.get(3..29), UNIT.get(1..));
        assert_eq!((CODE[2], CODE[29]), (Read::UnitStart, Read::UnitEnd));
    }

    #[test]
    fn magics_give_their_bytecode_version() {
        assert_eq!(version_of_magic(21280), Some(28));
        assert_eq!(version_of_magic(21290), Some(29));
        assert_eq!(version_of_magic(21285), None);
        assert_eq!(version_of_magic(3439), None);
    }
}
