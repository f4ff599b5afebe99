//! The writer: marshal bytes and `.pyc` headers from the object table.
//!
//! [`write_marshal`] and [`write_pyc`] reproduce a parse byte for byte: they write each object's type
//! byte as stored (FLAG_REF included), its payload as stored (text floats keep their text, longs their
//! digits), and back-references where they stood. [`Encoder`] holds the primitives; the normalizing
//! writer builds on it.
//!
//! Like every writer of the crate, each appends to the buffer its first argument names.

use crate::base::error::{Context, Error, ErrorKind};
use crate::format::layout::Format;
use crate::format::magic::HeaderLayout;
use crate::format::tag;
use crate::object::walk::{Event, Walk};
use crate::object::{Object, Objects, Ref, Value};
use crate::read::header::{Header, Invalidation};
use crate::read::parse::Pyc;
use alloc::vec::Vec;
use byteorder::{ByteOrder, LittleEndian};

/// Marshal primitives appended to a buffer, in the little-endian widths the format uses.
#[derive(Debug)]
pub struct Encoder<'v> {
    out: &'v mut Vec<u8>,
}

impl<'v> Encoder<'v> {
    /// An encoder appending to `out`.
    pub fn new(out: &'v mut Vec<u8>) -> Encoder<'v> {
        Encoder { out }
    }

    /// One byte (a type code, a `u8` length).
    pub fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    /// A little-endian `i16` (the integer fields of Python 1.3-2.2 code objects).
    pub fn i16(&mut self, value: i16) {
        let mut bytes = [0; 2];
        LittleEndian::write_i16(&mut bytes, value);
        self.out.extend_from_slice(&bytes);
    }

    /// A little-endian `i32` (ints, lengths, counts, references).
    pub fn i32(&mut self, value: i32) {
        let mut bytes = [0; 4];
        LittleEndian::write_i32(&mut bytes, value);
        self.out.extend_from_slice(&bytes);
    }

    /// A little-endian `u32` (header words).
    pub fn u32(&mut self, value: u32) {
        let mut bytes = [0; 4];
        LittleEndian::write_u32(&mut bytes, value);
        self.out.extend_from_slice(&bytes);
    }

    /// A little-endian `i64` (`I`).
    pub fn i64(&mut self, value: i64) {
        let mut bytes = [0; 8];
        LittleEndian::write_i64(&mut bytes, value);
        self.out.extend_from_slice(&bytes);
    }

    /// An IEEE 754 double, little-endian (`g`, `y`).
    pub fn f64(&mut self, value: f64) {
        let mut bytes = [0; 8];
        LittleEndian::write_f64(&mut bytes, value);
        self.out.extend_from_slice(&bytes);
    }

    /// Bytes as they are.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// A length-prefixed payload: a `u8` length for the short forms (`z`, `Z`), else an `i32`.
    pub fn sized(&mut self, short: bool, payload: &[u8]) {
        if short {
            self.u8(payload.len() as u8);
        } else {
            self.i32(payload.len() as i32);
        }
        self.bytes(payload);
    }
}

/// Writes the header: the magic word, then the fields its layout has.
pub fn write_header(out: &mut Vec<u8>, header: &Header) {
    let e = &mut Encoder::new(out);
    e.bytes(&header.word);
    if header.layout == HeaderLayout::Pep552 {
        e.u32(header.flags.unwrap_or(0));
    }
    match header.invalidation {
        Invalidation::Timestamp { mtime, source_size } => {
            e.u32(mtime);
            if header.layout != HeaderLayout::Word8 && header.layout != HeaderLayout::Classic8 {
                e.u32(source_size.unwrap_or(0));
            }
        }
        Invalidation::CheckedHash { hash } | Invalidation::UncheckedHash { hash } => e.bytes(&hash),
    }
}

/// A parsed `.pyc` file again, byte for byte.
pub fn write_pyc(out: &mut Vec<u8>, pyc: &Pyc<'_>) -> Result<(), Error> {
    write_header(out, &pyc.header);
    write_marshal(out, &pyc.objects)
}

/// Parsed marshal data again, byte for byte.
pub fn write_marshal(out: &mut Vec<u8>, objects: &Objects<'_>) -> Result<(), Error> {
    // GraalPy's and RustPython's formats store values without type bytes and in other encodings:
    // written as CPython marshal they would not give the input back.
    if objects.format() != Format::Marshal {
        let context = Context {
            path: Vec::new(),
            what: "write",
        };
        let what = "GraalPy's and RustPython's formats are read, not written";
        return Err(Error::new(ErrorKind::Unsupported(what), 0, context));
    }
    match objects.root() {
        Some(root) => write_object(out, root),
        None => Err(incomplete(None)),
    }
}

/// The error for an object a tolerant parse left incomplete (or a table without a root).
fn incomplete(object: Option<Object<'_, '_>>) -> Error {
    let offset = object.and_then(Object::offset).unwrap_or(0);
    let context = Context {
        path: Vec::new(),
        what: "object to write",
    };
    Error::new(ErrorKind::Incomplete, offset, context)
}

/// Writes `root` and everything under it as stored.
pub fn write_object(out: &mut Vec<u8>, root: Object<'_, '_>) -> Result<(), Error> {
    let e = &mut Encoder::new(out);
    let mut walk = Walk::new(root);
    while let Some(event) = walk.next() {
        let object = match event {
            Event::Object(object, _) => object,
            Event::Int(field, value, _) if field.kind.is_int16() => {
                e.i16(value as i16);
                continue;
            }
            Event::Int(_, value, _) => {
                e.i32(value);
                continue;
            }
            Event::End(_) => continue,
        };
        if let Some(Ref::Object(slot) | Ref::InternedString(slot)) = object.reference() {
            e.u8(object.type_byte());
            e.i32(slot as i32);
            continue;
        }
        if !object.is_complete() {
            return Err(incomplete(Some(object)));
        }
        e.u8(object.type_byte());
        let code = object.type_code();
        match object.value() {
            Value::Null
            | Value::None
            | Value::True
            | Value::False
            | Value::StopIteration
            | Value::Ellipsis => {}
            Value::Int(value) if code == tag::INT64 => e.i64(value),
            Value::Int(value) => e.i32(value as i32),
            Value::Long(long) => {
                let count = (long.raw.len() / 2) as i32;
                e.i32(if long.negative { -count } else { count });
                e.bytes(long.raw);
            }
            Value::Float(value) if code == tag::BINARY_FLOAT => e.f64(value),
            Value::Complex { real, imag } if code == tag::BINARY_COMPLEX => {
                e.f64(real);
                e.f64(imag);
            }
            // Text floats and complexes keep their text, length bytes included.
            Value::Float(_) | Value::Complex { .. } => e.bytes(object.payload()),
            Value::Bytes(bytes) => e.sized(false, bytes),
            Value::Str(s) => {
                let short = matches!(code, tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED);
                e.sized(short, s.raw());
            }
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => {
                if code == tag::SMALL_TUPLE {
                    e.u8(items.len() as u8);
                } else {
                    e.i32(items.len() as i32);
                }
                walk.enter(object);
            }
            // Parts as stored: a dict's terminator keeps the FLAG_REF CPython accepts there.
            Value::Slice(_) | Value::Dict(_) | Value::FrozenDict(_) | Value::Code(_) => {
                walk.enter(object)
            }
        }
    }
    Ok(())
}
