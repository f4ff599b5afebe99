//! The views over the table: one object ([`Object`]), what it is ([`Value`]), its items and pairs,
//! strings and longs, and code objects ([`Code`]), all borrowed from the table and the input.

use super::table::{CodeRecord, Form, Node, ObjectId, Objects};
use crate::base::{number, text};
use crate::format::layout::{CodeLayout, Field};
use crate::format::tag;
use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

impl<'a> Objects<'a> {
    /// The top-level object, if at least its type byte could be read.
    pub fn root(&self) -> Option<Object<'_, 'a>> {
        self.root.map(|id| self.object(id))
    }

    /// The object `id` names, if it belongs to this table.
    pub fn get(&self, id: ObjectId) -> Option<Object<'_, 'a>> {
        self.holds(id).then(|| self.object(id))
    }

    /// Every object that has a node (all but the singletons and back-references), in input order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = Object<'_, 'a>> + '_ {
        (0..self.nodes.len()).map(|i| self.object(ObjectId::node(i)))
    }

    /// The reference table (marshal 3+): slot n holds the n-th object that carried FLAG_REF.
    pub fn refs(&self) -> impl ExactSizeIterator<Item = Object<'_, 'a>> + '_ {
        self.refs.iter().map(|&id| self.object(id))
    }

    /// The Python 2 interned-string table (marshal 1-2): slot n holds the n-th `t` string.
    pub fn interned(&self) -> impl ExactSizeIterator<Item = Object<'_, 'a>> + '_ {
        self.interned.iter().map(|&id| self.object(id))
    }

    /// A view of `id`, which the table handed out.
    pub(crate) fn object(&self, id: ObjectId) -> Object<'_, 'a> {
        Object::new(self, id)
    }
}

/// One object of a table: one place in the input.
///
/// Its *occurrence* accessors describe the bytes at that place: [`id`](Object::id),
/// [`offset`](Object::offset), [`type_byte`](Object::type_byte), [`type_code`](Object::type_code),
/// [`has_ref_flag`](Object::has_ref_flag), [`ref_index`](Object::ref_index),
/// [`interned_index`](Object::interned_index) and [`reference`](Object::reference); for a
/// back-reference, they describe the `r` (or Python 2's `R`) itself. Every other accessor describes the
/// *value*, and follows a back-reference to the object it stands for: [`value`](Object::value),
/// [`payload`](Object::payload), [`is_complete`](Object::is_complete), [`items`](Object::items),
/// [`as_bytes`](Object::as_bytes), [`text`](Object::text), [`as_code`](Object::as_code).
#[derive(Copy, Clone)]
pub struct Object<'o, 'a> {
    objects: &'o Objects<'a>,
    id: ObjectId,
}

impl fmt::Debug for Object<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.type_code();
        let shown = if code.is_ascii_graphic() {
            char::from(code)
        } else {
            '?'
        };
        write!(f, "Object('{shown}'")?;
        if let Some(offset) = self.offset() {
            write!(f, " at {offset}")?;
        }
        f.write_str(")")
    }
}

/// A back-reference: which table it refers into, and the slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ref {
    /// `r`: slot n of the reference table (marshal 3+).
    Object(u32),
    /// `R`: slot n of the Python 2 interned-string table.
    InternedString(u32),
}

impl<'o, 'a> Object<'o, 'a> {
    pub(crate) fn new(objects: &'o Objects<'a>, id: ObjectId) -> Object<'o, 'a> {
        Object { objects, id }
    }

    fn node(self) -> Node {
        self.objects.node(self.id)
    }

    /// Its id.
    pub fn id(self) -> ObjectId {
        self.id
    }

    /// The table it belongs to.
    pub fn objects(self) -> &'o Objects<'a> {
        self.objects
    }

    /// The type byte as stored, FLAG_REF included; 0 for a value stored without one (the elements of
    /// GraalPy's arrays, the strings and lists of GraalPy code units and RustPython code objects).
    pub fn type_byte(self) -> u8 {
        self.node().byte
    }

    /// The type code, without FLAG_REF: `b'z'`, `b'('`, `b'c'`, `b'r'`... (see [`crate::format::tag`]).
    pub fn type_code(self) -> u8 {
        self.node().code()
    }

    /// True when the type byte carried FLAG_REF.
    pub fn has_ref_flag(self) -> bool {
        self.type_byte() & tag::FLAG_REF != 0
    }

    /// Its slot in the reference table, if the flag registered it (a flagged `r` never is).
    pub fn ref_index(self) -> Option<u32> {
        if !self.has_ref_flag() {
            return None;
        }
        // Objects register in input order, so the table is sorted by id.
        self.objects
            .refs
            .binary_search(&self.id)
            .ok()
            .map(|i| i as u32)
    }

    /// Its slot in the Python 2 interned-string table, for a `t` string of a 1.x/2.x file.
    pub fn interned_index(self) -> Option<u32> {
        if self.type_code() != tag::INTERNED {
            return None;
        }
        self.objects
            .interned
            .binary_search(&self.id)
            .ok()
            .map(|i| i as u32)
    }

    /// The absolute offset of its type byte (of its first byte when it has none). `None` only for an
    /// object of a table that does not hold its id.
    pub fn offset(self) -> Option<u64> {
        match self.node().offset {
            u32::MAX => None,
            offset => Some(u64::from(offset)),
        }
    }

    /// For a back-reference, the table and slot it refers to; `None` for every other object.
    pub fn reference(self) -> Option<Ref> {
        let node = self.node();
        match (node.code(), node.form) {
            (tag::REF, Form::Native) => Some(Ref::Object(node.a)),
            (tag::STRINGREF, Form::Native) if self.objects.python.dialect().byte_strings => {
                Some(Ref::InternedString(node.a))
            }
            _ => None,
        }
    }

    /// The object a back-reference stands for; any other object itself. The decoders check every
    /// reference, so it always finds its object (which may be a container still open around it: a
    /// cycle).
    pub fn resolve(self) -> Object<'o, 'a> {
        let table = match self.reference() {
            Some(Ref::Object(slot)) => self.objects.refs.get(slot as usize),
            Some(Ref::InternedString(slot)) => self.objects.interned.get(slot as usize),
            None => return self,
        };
        match table {
            Some(&id) => Object::new(self.objects, id),
            None => self,
        }
    }

    /// False for a container that a fault cut short (tolerant parses only).
    pub fn is_complete(self) -> bool {
        self.resolve().node().complete
    }

    /// What it is, with its payload (of the object a back-reference stands for).
    pub fn value(self) -> Value<'o, 'a> {
        let target = self.resolve();
        let objects = self.objects;
        let node = target.node();
        let items = |node: Node| Items {
            objects,
            ids: objects.item_ids(node.a, node.b),
        };
        let slice = |node: Node| objects.slice(node.a, node.b as usize);
        if node.form != Form::Native {
            return target.value_in_form(node);
        }
        let word64 = (u64::from(node.b) << 32) | u64::from(node.a);
        match node.code() {
            tag::NONE => Value::None,
            tag::TRUE => Value::True,
            tag::FALSE => Value::False,
            tag::STOPITER => Value::StopIteration,
            tag::ELLIPSIS => Value::Ellipsis,
            tag::INT => Value::Int(i64::from(node.a as i32)),
            tag::INT64 => Value::Int(word64 as i64),
            tag::LONG => Value::Long(Long::of(objects, node, 15)),
            tag::BINARY_FLOAT => Value::Float(f64::from_bits(word64)),
            tag::FLOAT => Value::Float(pascal_float(slice(node)).0),
            tag::BINARY_COMPLEX => {
                let raw = objects.slice(node.a, 16);
                let part = |at: usize| {
                    raw.get(at..at + 8)
                        .and_then(|b| <[u8; 8]>::try_from(b).ok())
                        .map_or(f64::NAN, f64::from_le_bytes)
                };
                Value::Complex {
                    real: part(0),
                    imag: part(8),
                }
            }
            tag::COMPLEX => {
                let (real, rest) = pascal_float(slice(node));
                let (imag, _) = pascal_float(rest);
                Value::Complex { real, imag }
            }
            tag::STRING => Value::Bytes(slice(node)),
            tag::INTERNED if objects.python.dialect().byte_strings => Value::Bytes(slice(node)),
            tag::INTERNED | tag::UNICODE => Value::Str(Str::utf8(slice(node))),
            tag::ASCII | tag::ASCII_INTERNED | tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED => {
                Value::Str(Str {
                    raw: slice(node),
                    encoding: Encoding::Latin1,
                })
            }
            tag::TUPLE | tag::SMALL_TUPLE => Value::Tuple(items(node)),
            tag::LIST => Value::List(items(node)),
            tag::SET => Value::Set(items(node)),
            tag::FROZENSET => Value::FrozenSet(items(node)),
            tag::DICT => Value::Dict(Pairs { items: items(node) }),
            tag::FROZENDICT => Value::FrozenDict(Pairs { items: items(node) }),
            tag::SLICE => Value::Slice(items(node)),
            tag::CODE | tag::OLD_CODE => target.code_value(node),
            _ => Value::Null,
        }
    }

    /// The value of a node whose form is not its type code's.
    fn value_in_form(self, node: Node) -> Value<'o, 'a> {
        let objects = self.objects;
        let slice = || objects.slice(node.a, node.b as usize);
        let items = || Items {
            objects,
            ids: objects.item_ids(node.a, node.b),
        };
        let word64 = (u64::from(node.b) << 32) | u64::from(node.a);
        match node.form {
            Form::Utf8 => Value::Str(Str::utf8(slice())),
            Form::Utf32 => Value::Str(Str {
                raw: slice(),
                encoding: Encoding::Utf32,
            }),
            Form::Bytes => Value::Bytes(slice()),
            Form::Int => Value::Int(i64::from(node.a as i32)),
            Form::Int64 => Value::Int(word64 as i64),
            Form::Float => Value::Float(f64::from_bits(word64)),
            Form::Long => Value::Long(Long::of(objects, node, 15)),
            Form::ByteInt => {
                let long = Long::of(objects, node, 8);
                long.to_i64().map_or(Value::Long(long), Value::Int)
            }
            Form::Tuple => Value::Tuple(items()),
            Form::Dict => Value::Dict(Pairs { items: items() }),
            Form::Code => self.code_value(node),
            Form::Native => Value::Null,
        }
    }

    fn code_value(self, node: Node) -> Value<'o, 'a> {
        match self.objects.record(node) {
            Some(record) => Value::Code(Code::new(self.objects, record, node.complete)),
            None => Value::Null,
        }
    }

    /// Its payload as stored, borrowed from the input: the bytes of a string or bytes object (after the
    /// length), a long's digits, the length-prefixed text of a text float or of both parts of a text
    /// complex, the 16 bytes of a binary complex; empty for everything else.
    pub fn payload(self) -> &'a [u8] {
        let node = self.resolve().node();
        let len = match node.code() {
            tag::LONG => (node.b as i32).unsigned_abs() as usize * 2,
            tag::BINARY_COMPLEX => 16,
            tag::FLOAT
            | tag::COMPLEX
            | tag::STRING
            | tag::INTERNED
            | tag::UNICODE
            | tag::ASCII
            | tag::ASCII_INTERNED
            | tag::SHORT_ASCII
            | tag::SHORT_ASCII_INTERNED => node.b as usize,
            _ => return &[],
        };
        self.objects.slice(node.a, len)
    }

    /// The absolute offset of the first byte of a string's or bytes object's payload.
    pub fn payload_offset(self) -> Option<u64> {
        // Both keep their payload's offset in the node's first word, in every format.
        matches!(self.value(), Value::Bytes(_) | Value::Str(_))
            .then(|| u64::from(self.resolve().node().a))
    }

    /// The items of a tuple, list, set, frozenset or slice.
    pub fn items(self) -> Option<Items<'o, 'a>> {
        match self.value() {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items)
            | Value::Slice(items) => Some(items),
            _ => None,
        }
    }

    /// The payload of a bytes object (or a Python 2 `str`).
    pub fn as_bytes(self) -> Option<&'a [u8]> {
        match self.value() {
            Value::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// A string's text: a `str`, or a Python 1/2 byte string read as UTF-8. Borrowed from the input
    /// when it is valid UTF-8 as stored; otherwise lone surrogates and bad bytes become U+FFFD.
    pub fn text(self) -> Option<Cow<'a, str>> {
        match self.value() {
            Value::Str(s) => Some(s.to_str()),
            Value::Bytes(bytes) if self.objects.python.dialect().byte_names => {
                Some(String::from_utf8_lossy(bytes))
            }
            _ => None,
        }
    }

    /// The code object.
    pub fn as_code(self) -> Option<Code<'o, 'a>> {
        match self.value() {
            Value::Code(code) => Some(code),
            _ => None,
        }
    }
}

/// Reads one `u8`-length text float off the front of `raw`.
fn pascal_float(raw: &[u8]) -> (f64, &[u8]) {
    let Some((&len, rest)) = raw.split_first() else {
        return (f64::NAN, raw);
    };
    let len = usize::from(len).min(rest.len());
    let (text, rest) = rest.split_at(len);
    (number::parse_float_text(text).unwrap_or(f64::NAN), rest)
}

/// An object's kind and payload.
#[derive(Copy, Clone, Debug)]
#[non_exhaustive]
pub enum Value<'o, 'a> {
    /// NULL: only a dict's terminator, never an item of a complete parse of CPython's marshal; an item
    /// of a GraalPy object array may be NULL, and GraalPy's NO_VALUE (`n`) reads as NULL too.
    Null,
    /// `None`.
    None,
    /// `True`.
    True,
    /// `False`.
    False,
    /// `StopIteration`.
    StopIteration,
    /// `...`.
    Ellipsis,
    /// `i` (32-bit) or `I` (64-bit) integer.
    Int(i64),
    /// `l`: an integer of any size.
    Long(Long<'a>),
    /// `g` (binary) or `f` (text) float.
    Float(f64),
    /// `y` (binary) or `x` (text) complex.
    Complex {
        /// The real part.
        real: f64,
        /// The imaginary part.
        imag: f64,
    },
    /// `s`: bytes in Python 3; `s` and `t`: `str` in Python 1 and 2.
    Bytes(&'a [u8]),
    /// A Python 3 `str` (any of `u t a A z Z`), or a Python 2 `unicode` (`u`).
    Str(Str<'a>),
    /// A tuple (`(` or `)`).
    Tuple(Items<'o, 'a>),
    /// A list.
    List(Items<'o, 'a>),
    /// A set.
    Set(Items<'o, 'a>),
    /// A frozenset.
    FrozenSet(Items<'o, 'a>),
    /// A dict, as key/value pairs in stream order.
    Dict(Pairs<'o, 'a>),
    /// A frozendict (marshal 6).
    FrozenDict(Pairs<'o, 'a>),
    /// A slice (marshal 5): start, stop, step.
    Slice(Items<'o, 'a>),
    /// A code object.
    Code(Code<'o, 'a>),
}

impl Value<'_, '_> {
    /// The name of its type, as the JSON form's `"type"` spells it (`int` for both integer forms).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::None => "none",
            Value::True => "true",
            Value::False => "false",
            Value::StopIteration => "stopiteration",
            Value::Ellipsis => "ellipsis",
            Value::Int(_) | Value::Long(_) => "int",
            Value::Float(_) => "float",
            Value::Complex { .. } => "complex",
            Value::Bytes(_) => "bytes",
            Value::Str(_) => "str",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Dict(_) => "dict",
            Value::FrozenDict(_) => "frozendict",
            Value::Slice(_) => "slice",
            Value::Code(_) => "code",
        }
    }
}

/// A long's sign and digits, borrowed: marshal's 15-bit digits, or the bytes of a RustPython int.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Long<'a> {
    /// True for a negative number.
    pub negative: bool,
    /// The digits as stored, least significant first: little-endian `u16`s of 15 bits each (marshal's
    /// `l`, GraalPy's `B`), or bytes (RustPython's ints, see [`Long::digit_bits`]).
    pub raw: &'a [u8],
    bits: u8,
}

impl<'a> Long<'a> {
    /// The long of a node with a digit offset and a signed digit count, digits of `bits` bits.
    fn of(objects: &Objects<'a>, node: Node, bits: u8) -> Long<'a> {
        let n = node.b as i32;
        let bytes = usize::from(bits).div_ceil(8);
        Long {
            negative: n < 0,
            raw: objects.slice(node.a, n.unsigned_abs() as usize * bytes),
            bits,
        }
    }

    /// Bits per digit: 15 (two bytes each), or 8 for a RustPython int.
    pub fn digit_bits(&self) -> u8 {
        self.bits
    }

    /// The digits, least significant first.
    pub fn digits(&self) -> impl DoubleEndedIterator<Item = u16> + ExactSizeIterator + '_ {
        let width = usize::from(self.bits).div_ceil(8);
        // Little-endian chunks of one or two bytes.
        self.raw.chunks_exact(width).map(|chunk| {
            chunk
                .iter()
                .rev()
                .fold(0, |acc, &b| (acc << 8) | u16::from(b))
        })
    }

    /// The value, if it fits an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        let bits = u32::from(self.bits);
        let mask = (1u16 << bits) - 1;
        let mut magnitude: u128 = 0;
        for digit in self.digits().rev() {
            magnitude = (magnitude << bits) | u128::from(digit & mask);
            if magnitude > 1 << 63 {
                return None;
            }
        }
        let magnitude = magnitude as i128;
        i64::try_from(if self.negative { -magnitude } else { magnitude }).ok()
    }
}

impl fmt::Display for Long<'_> {
    /// Decimal, or `0x` hexadecimal past [`crate::base::limits::DECIMAL_DIGIT_LIMIT`] 15-bit digits'
    /// worth.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        number::write_digits(f, self.negative, self.digits(), u32::from(self.bits))
    }
}

/// A string payload, borrowed: UTF-8 that may encode lone surrogates (`u`, `t`), Latin-1 (`a`, `z`
/// and their interned forms, which CPython reads as Latin-1 without checking they are ASCII), or
/// UTF-32LE (GraalPy's strings with lone surrogates).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Str<'a> {
    raw: &'a [u8],
    encoding: Encoding,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Latin1,
    Utf32,
}

impl<'a> Str<'a> {
    fn utf8(raw: &'a [u8]) -> Str<'a> {
        Str {
            raw,
            encoding: Encoding::Utf8,
        }
    }

    /// The payload as stored.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True for the `a`/`z` kinds, whose payload is Latin-1 (CPython reads their bytes as code points
    /// U+0000-U+00FF); false for `u`/`t`, whose payload is UTF-8 (or GraalPy's UTF-32).
    pub fn is_latin1(&self) -> bool {
        self.encoding == Encoding::Latin1
    }

    /// The text, borrowed, when it is valid Rust UTF-8 as stored (no lone surrogates, no non-ASCII
    /// Latin-1, no UTF-32).
    pub fn as_str(&self) -> Option<&'a str> {
        match self.encoding {
            Encoding::Latin1 if !self.raw.is_ascii() => None,
            Encoding::Utf32 => None,
            _ => core::str::from_utf8(self.raw).ok(),
        }
    }

    /// The code points, surrogates included.
    pub fn code_points(&self) -> impl Iterator<Item = u32> + use<'a> {
        let raw = self.raw;
        let latin1 = (self.encoding == Encoding::Latin1).then(|| raw.iter().map(|&b| u32::from(b)));
        let utf8 = (self.encoding == Encoding::Utf8).then(|| text::utf8_code_points(raw));
        let utf32 = (self.encoding == Encoding::Utf32).then(|| text::utf32_code_points(raw));
        latin1
            .into_iter()
            .flatten()
            .chain(utf8.into_iter().flatten())
            .chain(utf32.into_iter().flatten())
    }

    /// The text: borrowed when [`Str::as_str`] can, else with each lone surrogate replaced by U+FFFD.
    pub fn to_str(&self) -> Cow<'a, str> {
        if let Some(s) = self.as_str() {
            return Cow::Borrowed(s);
        }
        Cow::Owned(
            self.code_points()
                .map(|cp| char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
        )
    }
}

/// The items of a container, in stream order.
#[derive(Copy, Clone)]
pub struct Items<'o, 'a> {
    objects: &'o Objects<'a>,
    ids: &'o [ObjectId],
}

impl fmt::Debug for Items<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'o, 'a> Items<'o, 'a> {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Item `i`.
    pub fn get(&self, i: usize) -> Option<Object<'o, 'a>> {
        self.ids.get(i).map(|&id| Object::new(self.objects, id))
    }

    /// The item ids.
    pub fn ids(&self) -> &'o [ObjectId] {
        self.ids
    }

    /// The items.
    pub fn iter(&self) -> ItemsIter<'o, 'a> {
        ItemsIter {
            objects: self.objects,
            ids: self.ids.iter(),
        }
    }
}

impl<'o, 'a> IntoIterator for Items<'o, 'a> {
    type Item = Object<'o, 'a>;
    type IntoIter = ItemsIter<'o, 'a>;

    fn into_iter(self) -> ItemsIter<'o, 'a> {
        self.iter()
    }
}

/// The items of a container, one by one (see [`Items::iter`]).
#[derive(Clone, Debug)]
pub struct ItemsIter<'o, 'a> {
    objects: &'o Objects<'a>,
    ids: core::slice::Iter<'o, ObjectId>,
}

impl<'o, 'a> Iterator for ItemsIter<'o, 'a> {
    type Item = Object<'o, 'a>;

    fn next(&mut self) -> Option<Object<'o, 'a>> {
        self.ids.next().map(|&id| Object::new(self.objects, id))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl DoubleEndedIterator for ItemsIter<'_, '_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.ids
            .next_back()
            .map(|&id| Object::new(self.objects, id))
    }
}

impl ExactSizeIterator for ItemsIter<'_, '_> {}

/// The pairs of a dict, in stream order.
///
/// The items are the keys and values in turn, then, when the dict is complete, the NULL that ended it:
/// CPython accepts that NULL with FLAG_REF set, so the table keeps which byte it was.
#[derive(Copy, Clone, Debug)]
pub struct Pairs<'o, 'a> {
    items: Items<'o, 'a>,
}

impl<'o, 'a> Pairs<'o, 'a> {
    /// Number of complete pairs.
    pub fn len(&self) -> usize {
        self.items.len() / 2
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The type byte of the NULL that ended the dict (`0`, or `0` with FLAG_REF); `None` when a fault cut
    /// the dict short (tolerant parses).
    pub fn terminator(&self) -> Option<u8> {
        // An odd item count is the terminator after the pairs, or a key whose value was cut off, which is
        // never a NULL (a NULL key ends the dict).
        if self.items.len() % 2 == 0 {
            return None;
        }
        let last = self.items.iter().next_back()?;
        (last.type_code() == tag::NULL).then(|| last.type_byte())
    }

    /// The keys and values in turn, then the terminating NULL when the dict is complete: every item as
    /// stored.
    pub fn items(&self) -> Items<'o, 'a> {
        self.items
    }

    /// The (key, value) pairs. A key whose value was cut off (tolerant parses) is left out.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (Object<'o, 'a>, Object<'o, 'a>)>
    + DoubleEndedIterator
    + use<'o, 'a> {
        let objects = self.items.objects;
        self.items.ids.chunks_exact(2).map(move |pair| {
            // proven: chunks of exactly 2
            (Object::new(objects, pair[0]), Object::new(objects, pair[1]))
        })
    }
}

/// A code object: its layout and fields.
///
/// The accessors named after attributes (`argcount`, `consts`, `name`, ...) give the field when the
/// layout has it and the parse read it; [`Code::int`] and [`Code::get`] look up any field by the name
/// [`CodeLayout::fields`] gives it (version-specific and foreign fields, such as GraalPy's `startLine`).
#[derive(Copy, Clone)]
pub struct Code<'o, 'a> {
    objects: &'o Objects<'a>,
    record: &'o CodeRecord,
    complete: bool,
}

impl fmt::Debug for Code<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("layout", &self.record.layout)
            .field("name", &self.name())
            .finish()
    }
}

/// The fields a code object has read, in stream order, with their values (see [`Code::fields`]).
#[derive(Clone, Debug)]
pub struct Fields<'o, 'a> {
    objects: &'o Objects<'a>,
    fields: core::slice::Iter<'static, Field>,
    ids: core::slice::Iter<'o, ObjectId>,
    ints: core::slice::Iter<'o, i32>,
}

impl<'o, 'a> Iterator for Fields<'o, 'a> {
    type Item = (&'static Field, FieldValue<'o, 'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let field = self.fields.next()?;
        let value = if field.kind.is_int() {
            FieldValue::Int(*self.ints.next()?)
        } else {
            FieldValue::Object(Object::new(self.objects, *self.ids.next()?))
        };
        Some((field, value))
    }
}

/// A field's value: an inline integer or an object.
#[derive(Copy, Clone, Debug)]
pub enum FieldValue<'o, 'a> {
    /// An integer field (`co_argcount`, `co_flags`, `co_firstlineno`, ...).
    Int(i32),
    /// An object field.
    Object(Object<'o, 'a>),
}

/// Typed accessors for integer fields, each the field of that name.
macro_rules! int_fields {
    ($($(#[$doc:meta])* $method:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $method(&self) -> Option<i32> {
                self.int($name)
            }
        )*
    };
}

/// Typed accessors for tuple fields (names and constants), each the field of that name.
macro_rules! tuple_fields {
    ($($(#[$doc:meta])* $method:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $method(&self) -> Option<Items<'o, 'a>> {
                self.get($name)?.items()
            }
        )*
    };
}

impl<'o, 'a> Code<'o, 'a> {
    pub(crate) fn new(objects: &'o Objects<'a>, record: &'o CodeRecord, complete: bool) -> Self {
        Code {
            objects,
            record,
            complete,
        }
    }

    /// The table it belongs to.
    pub fn objects(&self) -> &'o Objects<'a> {
        self.objects
    }

    /// The field layout it was read with.
    pub fn layout(&self) -> CodeLayout {
        self.record.layout
    }

    /// False when a fault cut it short (tolerant parses); then only the fields read are present.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The fields that were read, in stream order, with their values.
    pub fn fields(&self) -> Fields<'o, 'a> {
        let record = self.record;
        Fields {
            objects: self.objects,
            fields: record.layout.fields().iter(),
            ids: self.objects.item_ids(record.items, record.len).iter(),
            ints: self.objects.ints_of(record).iter(),
        }
    }

    /// The integer field called `name`, if the layout has it and it was read.
    pub fn int(&self, name: &str) -> Option<i32> {
        let i = self.record.layout.int_position(name)?;
        self.objects.ints_of(self.record).get(i).copied()
    }

    /// The object field called `name`, if the layout has it and it was read: the object as it stands
    /// in the field (perhaps a back-reference; its value accessors follow it).
    pub fn get(&self, name: &str) -> Option<Object<'o, 'a>> {
        let i = self.record.layout.object_position(name)?;
        let ids = self.objects.item_ids(self.record.items, self.record.len);
        ids.get(i).map(|&id| self.objects.object(id))
    }

    int_fields! {
        /// `co_argcount` (1.3 and later).
        argcount => "co_argcount";
        /// `co_posonlyargcount` (3.8 and later).
        posonlyargcount => "co_posonlyargcount";
        /// `co_kwonlyargcount` (3.0 and later).
        kwonlyargcount => "co_kwonlyargcount";
        /// `co_nlocals` (1.3 to 3.10; 3.11 and later compute it).
        nlocals => "co_nlocals";
        /// `co_stacksize` (1.5 and later).
        stacksize => "co_stacksize";
        /// `co_flags` (1.3 and later).
        flags => "co_flags";
        /// `co_firstlineno`: the first source line (1.5 and later).
        firstlineno => "co_firstlineno";
    }

    tuple_fields! {
        /// `co_consts`: the constants.
        consts => "co_consts";
        /// `co_names`: the global and attribute names.
        names => "co_names";
        /// `co_varnames`: the local variables' names (before 3.11).
        varnames => "co_varnames";
        /// `co_freevars` (2.1 to 3.10).
        freevars => "co_freevars";
        /// `co_cellvars` (2.1 to 3.10).
        cellvars => "co_cellvars";
        /// `co_localsplusnames`: locals, cells and free variables in one tuple (3.11 and later).
        localsplusnames => "co_localsplusnames";
    }

    /// `co_code`: the bytecode.
    pub fn bytecode(&self) -> Option<&'a [u8]> {
        self.get("co_code")?.as_bytes()
    }

    /// `co_localspluskinds`: the kind of each of `co_localsplusnames` (3.11 and later).
    pub fn localspluskinds(&self) -> Option<&'a [u8]> {
        self.get("co_localspluskinds")?.as_bytes()
    }

    /// The positions in `co_localsplusnames` of the names whose kind in `co_localspluskinds` has a bit
    /// of `kind`, in order: CPython 3.11 and later derive `co_varnames` from them with
    /// [`CO_FAST_LOCAL`](crate::format::layout::CO_FAST_LOCAL), `co_cellvars` with
    /// [`CO_FAST_CELL`](crate::format::layout::CO_FAST_CELL) and `co_freevars` with
    /// [`CO_FAST_FREE`](crate::format::layout::CO_FAST_FREE), and `co_nlocals` is the number of
    /// locals. `None` for a layout without those fields, or a code object cut before them.
    pub fn localsplus(&self, kind: u8) -> Option<impl Iterator<Item = usize> + use<'a>> {
        let names = self.localsplusnames()?.len();
        let kinds = self.localspluskinds()?;
        let positions = kinds.iter().take(names).enumerate();
        Some(
            positions
                .filter(move |&(_, k)| k & kind != 0)
                .map(|(i, _)| i),
        )
    }

    /// The line-number table: `co_lnotab` (1.5 to 3.9, PyPy 3) or `co_linetable` (3.10 and later).
    pub fn line_table(&self) -> Option<&'a [u8]> {
        self.get("co_lnotab")
            .or_else(|| self.get("co_linetable"))?
            .as_bytes()
    }

    /// `co_exceptiontable` (3.11 and later), as stored ([`crate::Bytecode::exception_table`] reads
    /// it).
    pub fn exceptiontable(&self) -> Option<&'a [u8]> {
        self.get("co_exceptiontable")?.as_bytes()
    }

    /// `co_name`: the function, class or module name.
    pub fn name(&self) -> Option<Cow<'a, str>> {
        self.get("co_name")?.text()
    }

    /// `co_qualname` (3.11 and later), else the name.
    pub fn qualname(&self) -> Option<Cow<'a, str>> {
        self.get("co_qualname")
            .and_then(Object::text)
            .or_else(|| self.name())
    }

    /// `co_filename`: the source file name recorded at compile time.
    pub fn filename(&self) -> Option<Cow<'a, str>> {
        self.get("co_filename")?.text()
    }

    /// The code objects among the constants, in order.
    pub fn nested(&self) -> impl Iterator<Item = Code<'o, 'a>> + use<'o, 'a> {
        self.consts()
            .into_iter()
            .flat_map(|consts| consts.iter())
            .filter_map(Object::as_code)
    }
}
