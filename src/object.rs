//! The decoded objects: one table (arena) per parse, and typed, borrowing views over it.
//!
//! Every object is a 16-byte node addressed by an [`ObjectId`]; containers list their items in one shared
//! id array, so shared and cyclic references (a list that contains itself is valid marshal data) cost
//! nothing special. Payloads (strings, bytes, bytecode, long digits) are not copied: the views slice
//! them from the input. The table keeps what a byte-exact writer needs: each object's type byte with its
//! FLAG_REF bit, the exact type code (`z` versus `a`, `i` versus `l`), and where back-references stand.

use crate::code::{CodeLayout, Field, FieldKind, Format};
use crate::decode::{Sink, tag};
use crate::magic::Python;
use crate::number;
use crate::text;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Names an object in its [`Objects`] table.
///
/// Objects that take a node get ids in pre-order of the input, after the shared singletons; an `r`
/// back-reference (half the objects of a typical pyc) takes no node: its id is its slot number with the
/// top bit set, and the next bit for the FLAG_REF a hostile writer may put on an `r` (CPython ignores
/// it; a byte-exact writer keeps it).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(u32);

/// The top bit of an [`ObjectId`] marks a back-reference.
const BACK_REF: u32 = 1 << 31;
/// A back-reference whose type byte carried FLAG_REF.
const FLAGGED_REF: u32 = 1 << 30;

impl ObjectId {
    fn node(self) -> Option<usize> {
        (self.0 & BACK_REF == 0).then_some(self.0 as usize)
    }

    /// The slot a back-reference refers to.
    fn slot(self) -> u32 {
        self.0 & !(BACK_REF | FLAGGED_REF)
    }
}

/// One object. Scalars keep two payload words (`a`, `b`): an offset and a length for strings, bytes,
/// text floats and complexes; the value for `i`, `I` and `g`; the digit offset and the signed digit
/// count for `l`; the index for `R`. Containers keep the start and length of their items. The form says
/// how to read them when the type code alone does not (the other implementations' formats).
#[derive(Copy, Clone, Debug)]
struct Node {
    offset: u32,
    a: u32,
    b: u32,
    byte: u8,
    complete: bool,
    form: Form,
}

/// How a node reads when its type code does not say it, as in the formats of GraalPy and RustPython:
/// values stored without a type byte (type byte 0 in the table), and codes that mean something else
/// there. The payload words keep their meaning for the form.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// As the type code says in CPython's marshal.
    Native,
    /// A `str` of UTF-8 (surrogates allowed): offset, length.
    Utf8,
    /// A `str` of UTF-32LE (GraalPy writes strings with lone surrogates so): offset, length.
    Utf32,
    /// Bytes: offset, length.
    Bytes,
    /// A 32-bit int: the value.
    Int,
    /// A 64-bit int: low and high words.
    Int64,
    /// A binary float: low and high words of its bits.
    Float,
    /// A long of 15-bit digits (GraalPy's `B`): digit offset, signed digit count.
    Long,
    /// RustPython's int: offset of the magnitude's bytes (least significant first), signed byte count.
    ByteInt,
    /// A tuple (GraalPy's arrays, and the lists of code units and RustPython code objects).
    Tuple,
    /// A dict (GraalPy's sparse tables).
    Dict,
    /// A code object (GraalPy's `U`).
    Code,
}

/// Where a code object's fields are: its object fields in the item array, its integer fields in the
/// integer array (`ints_len` of the `ints_cap` slots its layout reserves are read).
#[derive(Copy, Clone, Debug)]
struct CodeRecord {
    layout: CodeLayout,
    items: u32,
    len: u32,
    ints: u32,
    ints_len: u8,
    ints_cap: u8,
}

/// The singletons, shared by every table: ids 0-5, and 6-11 for the same with FLAG_REF set (which
/// CPython ignores, but a byte-exact writer keeps).
const SINGLETONS: [u8; 6] = [
    tag::NULL,
    tag::NONE,
    tag::FALSE,
    tag::TRUE,
    tag::STOPITER,
    tag::ELLIPSIS,
];

/// The objects decoded from one input.
#[derive(Clone)]
pub struct Objects<'a> {
    data: &'a [u8],
    python: Python,
    nodes: Vec<Node>,
    items: Vec<ObjectId>,
    refs: Vec<ObjectId>,
    interned: Vec<ObjectId>,
    codes: Vec<CodeRecord>,
    /// The integer fields of all code objects.
    ints: Vec<i32>,
    root: Option<ObjectId>,
    format: Format,
}

impl fmt::Debug for Objects<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Objects")
            .field("python", &self.python)
            .field("objects", &self.nodes.len())
            .field("refs", &self.refs.len())
            .field("root", &self.root)
            .finish()
    }
}

impl<'a> Objects<'a> {
    /// The top-level object, if at least its type byte could be read.
    pub fn root(&self) -> Option<Object<'_, 'a>> {
        self.root.map(|id| self.get(id))
    }

    /// The object `id` names. Ids come from this table; a foreign id gives the NULL singleton.
    pub fn get(&self, id: ObjectId) -> Object<'_, 'a> {
        let known = match id.node() {
            Some(index) => index < self.nodes.len(),
            None => (id.slot() as usize) < self.refs.len(),
        };
        let id = if known { id } else { ObjectId(0) };
        Object { objects: self, id }
    }

    /// The Python version whose dialect the input was read in.
    pub fn python(&self) -> Python {
        self.python
    }

    /// The input the payloads borrow from.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Which format the input was read in.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Number of objects in the table, the shared singletons included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// The reference table (marshal 3+): slot n holds the n-th object that carried FLAG_REF.
    pub fn refs(&self) -> impl ExactSizeIterator<Item = Object<'_, 'a>> + '_ {
        self.refs.iter().map(|&id| self.get(id))
    }

    /// The Python 2 interned-string table (marshal 1-2): slot n holds the n-th `t` string.
    pub fn interned(&self) -> impl ExactSizeIterator<Item = Object<'_, 'a>> + '_ {
        self.interned.iter().map(|&id| self.get(id))
    }

    /// The node of `id`; a back-reference's is made up: type `r`, its slot in `a`.
    fn node(&self, id: ObjectId) -> Node {
        let (byte, a, node) = match id.node() {
            Some(index) => (tag::NULL, 0, self.nodes.get(index).copied()),
            None if id.0 & FLAGGED_REF != 0 => (tag::REF | tag::FLAG_REF, id.slot(), None),
            None => (tag::REF, id.slot(), None),
        };
        node.unwrap_or(Node {
            offset: u32::MAX,
            a,
            b: 0,
            byte,
            complete: true,
            form: Form::Native,
        })
    }

    fn slice(&self, at: u32, len: usize) -> &'a [u8] {
        let at = at as usize;
        self.data
            .get(at..at.saturating_add(len))
            .unwrap_or_default()
    }

    /// The long of a node with a digit offset and a signed digit count, digits of `bits` bits.
    fn long(&self, node: Node, bits: u8) -> Long<'a> {
        let n = node.b as i32;
        let bytes = usize::from(bits).div_ceil(8);
        Long {
            negative: n < 0,
            raw: self.slice(node.a, n.unsigned_abs() as usize * bytes),
            bits,
        }
    }

    /// The code object of a node.
    fn code(&self, node: Node) -> Value<'_, 'a> {
        match self.codes.get(node.a as usize) {
            Some(record) => Value::Code(Code {
                objects: self,
                record,
                complete: node.complete,
            }),
            None => Value::Null,
        }
    }

    /// The integer fields a code object has read.
    fn ints_of(&self, record: &CodeRecord) -> &[i32] {
        let start = record.ints as usize;
        self.ints
            .get(start..start + usize::from(record.ints_len))
            .unwrap_or_default()
    }

    fn item_ids(&self, start: u32, len: u32) -> &[ObjectId] {
        let start = start as usize;
        self.items
            .get(start..start.saturating_add(len as usize))
            .unwrap_or_default()
    }
}

/// Builds an [`Objects`] table as the decoder reports.
pub(crate) struct Builder<'a> {
    objects: Objects<'a>,
    scratch: Vec<ObjectId>,
    /// The last layout a code object opened with, and its integer field count: a file's code objects
    /// share one layout, so the count is worked out once.
    int_count: Option<(CodeLayout, u8)>,
}

impl<'a> Builder<'a> {
    /// The capacities are a compiled standard library's needs with room to spare (per input byte: a
    /// node per 50, an item per 27, a flagged object per 125, a code object per 640 and its integers
    /// per 100), so that a typical file never grows a vector.
    pub fn new(data: &'a [u8], python: Python) -> Builder<'a> {
        let mut nodes = Vec::with_capacity(SINGLETONS.len() * 2 + data.len() / 8);
        for flag in [0, tag::FLAG_REF] {
            for byte in SINGLETONS {
                nodes.push(Node {
                    offset: u32::MAX,
                    a: 0,
                    b: 0,
                    byte: byte | flag,
                    complete: true,
                    form: Form::Native,
                });
            }
        }
        Builder {
            objects: Objects {
                data,
                python,
                nodes,
                items: Vec::with_capacity(data.len() / 8),
                refs: Vec::with_capacity(data.len() / 64),
                interned: Vec::new(),
                codes: Vec::with_capacity(data.len() / 512),
                ints: Vec::with_capacity(data.len() / 64),
                root: None,
                format: Format::Marshal,
            },
            scratch: Vec::with_capacity(64),
            int_count: None,
        }
    }

    pub fn finish(mut self, root: Option<ObjectId>) -> Objects<'a> {
        self.objects.root = root;
        self.objects
    }

    fn push(&mut self, byte: u8, form: Form, offset: u32, a: u32, b: u32) -> ObjectId {
        let id = ObjectId(self.objects.nodes.len() as u32);
        self.objects.nodes.push(Node {
            offset,
            a,
            b,
            byte,
            complete: true,
            form,
        });
        id
    }
}

/// What the readers of the other implementations' formats need beyond [`Sink`]: nodes whose form is
/// not their type code's.
pub(crate) trait Forms: Sink {
    /// The input is read in `format` (before anything else).
    fn read_as(&mut self, format: Format) {
        let _ = format;
    }
    /// A scalar read in `form`.
    fn leaf_as(&mut self, byte: u8, form: Form, offset: u32, a: u32, b: u32) -> Self::Id;
    /// A container read in `form`, as [`Sink::open`].
    fn open_as(
        &mut self,
        byte: u8,
        form: Form,
        offset: u32,
        count: u32,
        layout: CodeLayout,
    ) -> (Self::Id, u32);
}

impl Forms for Builder<'_> {
    fn read_as(&mut self, format: Format) {
        self.objects.format = format;
    }

    #[inline]
    fn leaf_as(&mut self, byte: u8, form: Form, offset: u32, a: u32, b: u32) -> ObjectId {
        self.push(byte, form, offset, a, b)
    }

    fn open_as(
        &mut self,
        byte: u8,
        form: Form,
        offset: u32,
        count: u32,
        layout: CodeLayout,
    ) -> (ObjectId, u32) {
        if is_dict(byte, form) {
            let mark = self.scratch.len() as u32;
            return (self.push(byte, form, offset, 0, 0), mark);
        }
        // The decoders bound the items owed by all open containers by the bytes left, and a code
        // object's slots by its layout, so these slots stay within a small multiple of the input.
        let start = self.objects.items.len();
        self.objects
            .items
            .resize(start + count as usize, ObjectId(0));
        let start = start as u32;
        if is_code(byte, form) {
            let ints_cap = match self.int_count {
                Some((known, n)) if known == layout => n,
                _ => {
                    let n = layout.int_count();
                    self.int_count = Some((layout, n));
                    n
                }
            };
            // Every integer slot but those of the open code objects' later runs stands for bytes
            // read (one at least each), so the count stays near the input's size, below 2^32.
            let ints = self.objects.ints.len();
            self.objects.ints.resize(ints + usize::from(ints_cap), 0);
            let record = self.objects.codes.len() as u32;
            self.objects.codes.push(CodeRecord {
                layout,
                items: start,
                len: count,
                ints: ints as u32,
                ints_len: 0,
                ints_cap,
            });
            return (self.push(byte, form, offset, record, 0), start);
        }
        (self.push(byte, form, offset, start, count), start)
    }
}

/// Whether a node of this type byte and form is a code object.
fn is_code(byte: u8, form: Form) -> bool {
    matches!(
        (byte & !tag::FLAG_REF, form),
        (tag::CODE | tag::OLD_CODE, Form::Native) | (_, Form::Code)
    )
}

/// Whether a node of this type byte and form is a dict (whose items come with `push`).
fn is_dict(byte: u8, form: Form) -> bool {
    matches!(
        (byte & !tag::FLAG_REF, form),
        (tag::DICT | tag::FROZENDICT, Form::Native) | (_, Form::Dict)
    )
}

impl Forms for Discard {
    fn leaf_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: u32) {}
    fn open_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: CodeLayout) -> ((), u32) {
        ((), 0)
    }
}

impl Sink for Builder<'_> {
    type Id = ObjectId;

    fn singleton(&mut self, byte: u8) -> ObjectId {
        let code = byte & !tag::FLAG_REF;
        let index = SINGLETONS.iter().position(|&s| s == code).unwrap_or(0);
        let flagged = if byte & tag::FLAG_REF != 0 {
            SINGLETONS.len()
        } else {
            0
        };
        ObjectId((index + flagged) as u32)
    }

    #[inline]
    fn leaf(&mut self, byte: u8, offset: u32, a: u32, b: u32) -> ObjectId {
        self.push(byte, Form::Native, offset, a, b)
    }

    #[inline]
    fn back_ref(&mut self, byte: u8, index: u32) -> ObjectId {
        let flag = if byte & tag::FLAG_REF != 0 {
            FLAGGED_REF
        } else {
            0
        };
        ObjectId(index | BACK_REF | flag)
    }

    fn open(&mut self, byte: u8, offset: u32, count: u32, layout: CodeLayout) -> (ObjectId, u32) {
        self.open_as(byte, Form::Native, offset, count, layout)
    }

    #[inline]
    fn item(&mut self, mark: u32, index: u32, id: ObjectId) {
        if let Some(slot) = self.objects.items.get_mut(mark as usize + index as usize) {
            *slot = id;
        }
    }

    #[inline]
    fn push(&mut self, id: ObjectId) {
        self.scratch.push(id);
    }

    fn code_ints(&mut self, code: ObjectId, values: &[i32]) {
        let index = self.objects.node(code).a as usize;
        if let Some(record) = self.objects.codes.get_mut(index) {
            let start = record.ints as usize + usize::from(record.ints_len);
            let end = record.ints as usize + usize::from(record.ints_cap);
            let slots = self.objects.ints.get_mut(start..end).unwrap_or_default();
            // Element by element: a copy of a few words is cheaper than a call to `memcpy`.
            for (slot, &value) in slots.iter_mut().zip(values) {
                *slot = value;
                record.ints_len += 1;
            }
        }
    }

    /// Sized containers and code objects got their item range at `open`: a complete one has nothing
    /// left to do, an incomplete one keeps the items it has. A dict moves its items out of the scratch.
    #[inline]
    fn close(&mut self, id: ObjectId, mark: u32, count: u32, complete: bool) {
        let Some(node) = id.node().and_then(|i| self.objects.nodes.get_mut(i)) else {
            return;
        };
        if is_dict(node.byte, node.form) {
            let start = self.objects.items.len() as u32;
            let children = self.scratch.drain(mark as usize..);
            node.b = children.len() as u32;
            node.a = start;
            self.objects.items.extend(children);
        } else if complete {
            return;
        } else if is_code(node.byte, node.form) {
            if let Some(record) = self.objects.codes.get_mut(node.a as usize) {
                record.len = count;
            }
        } else {
            node.b = count;
        }
        node.complete = complete;
    }

    fn register(&mut self, id: ObjectId) {
        self.objects.refs.push(id);
    }

    fn intern(&mut self, id: ObjectId) {
        self.objects.interned.push(id);
    }
}

/// The validating sink: the decoder checks everything, nothing is kept.
pub(crate) struct Discard;

impl Sink for Discard {
    type Id = ();
    fn singleton(&mut self, _: u8) {}
    fn leaf(&mut self, _: u8, _: u32, _: u32, _: u32) {}
    fn back_ref(&mut self, _: u8, _: u32) {}
    fn open(&mut self, _: u8, _: u32, _: u32, _: CodeLayout) -> ((), u32) {
        ((), 0)
    }
    fn item(&mut self, _: u32, _: u32, _: ()) {}
    fn push(&mut self, _: ()) {}
    fn code_ints(&mut self, _: (), _: &[i32]) {}
    fn close(&mut self, _: (), _: u32, _: u32, _: bool) {}
    fn register(&mut self, _: ()) {}
    fn intern(&mut self, _: ()) {}
}

/// One object of a table, to look at.
#[derive(Copy, Clone)]
pub struct Object<'o, 'a> {
    objects: &'o Objects<'a>,
    id: ObjectId,
}

impl fmt::Debug for Object<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Object({:?} '{}')",
            self.id,
            char::from(self.type_code())
        )
    }
}

impl<'o, 'a> Object<'o, 'a> {
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
        self.objects.node(self.id).byte
    }

    /// The type code, without FLAG_REF: `b'z'`, `b'('`, `b'c'`...
    pub fn type_code(self) -> u8 {
        self.type_byte() & !tag::FLAG_REF
    }

    /// True when the type byte carried FLAG_REF.
    pub fn has_ref_flag(self) -> bool {
        self.type_byte() & tag::FLAG_REF != 0
    }

    /// Its slot in the reference table, if the flag registered it (singletons and `r` never are).
    pub fn ref_index(self) -> Option<u32> {
        if !self.has_ref_flag() {
            return None;
        }
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

    /// The absolute offset of its type byte (of its first byte when it has none); `None` for the shared
    /// singletons.
    pub fn offset(self) -> Option<u64> {
        match self.objects.node(self.id).offset {
            u32::MAX => None,
            offset => Some(u64::from(offset)),
        }
    }

    /// False for a container that a fault cut short (tolerant parses only).
    pub fn is_complete(self) -> bool {
        self.objects.node(self.id).complete
    }

    /// The object a back-reference (`r`, or Python 2's `R`) stands for; any other object itself.
    pub fn resolve(self) -> Object<'o, 'a> {
        let node = self.objects.node(self.id);
        let table = match node.byte & !tag::FLAG_REF {
            tag::REF => &self.objects.refs,
            tag::STRINGREF => &self.objects.interned,
            _ => return self,
        };
        match table.get(node.a as usize) {
            Some(&id) => self.objects.get(id),
            None => self,
        }
    }

    /// What it is, with its payload.
    pub fn value(self) -> Value<'o, 'a> {
        let objects = self.objects;
        let node = objects.node(self.id);
        let items = |node: Node| Items {
            objects,
            ids: objects.item_ids(node.a, node.b),
        };
        if node.form != Form::Native {
            return self.value_in_form(node);
        }
        match node.byte & !tag::FLAG_REF {
            tag::NULL => Value::Null,
            tag::NONE => Value::None,
            tag::TRUE => Value::True,
            tag::FALSE => Value::False,
            tag::STOPITER => Value::StopIteration,
            tag::ELLIPSIS => Value::Ellipsis,
            tag::INT => Value::Int(i64::from(node.a as i32)),
            tag::INT64 => Value::Int(((u64::from(node.b) << 32) | u64::from(node.a)) as i64),
            tag::LONG => Value::Long(objects.long(node, 15)),
            tag::BINARY_FLOAT => Value::Float(f64::from_bits(
                (u64::from(node.b) << 32) | u64::from(node.a),
            )),
            tag::FLOAT => Value::Float(pascal_float(objects.slice(node.a, node.b as usize)).0),
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
                let raw = objects.slice(node.a, node.b as usize);
                let (real, rest) = pascal_float(raw);
                let (imag, _) = pascal_float(rest);
                Value::Complex { real, imag }
            }
            tag::STRING => Value::Bytes(objects.slice(node.a, node.b as usize)),
            tag::INTERNED if objects.python.dialect().byte_strings => {
                Value::Bytes(objects.slice(node.a, node.b as usize))
            }
            tag::INTERNED | tag::UNICODE => Value::Str(Str {
                raw: objects.slice(node.a, node.b as usize),
                encoding: Encoding::Utf8,
            }),
            tag::ASCII | tag::ASCII_INTERNED | tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED => {
                Value::Str(Str {
                    raw: objects.slice(node.a, node.b as usize),
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
            tag::CODE | tag::OLD_CODE => objects.code(node),
            tag::REF => Value::Ref(node.a),
            tag::STRINGREF => Value::StringRef(node.a),
            _ => Value::Null,
        }
    }

    /// Its payload as stored, borrowed from the input: the bytes of a string or bytes object (after the
    /// length), a long's digits, the length-prefixed text of a text float or of both parts of a text
    /// complex, the 16 bytes of a binary complex; empty for everything else.
    pub fn payload(self) -> &'a [u8] {
        let node = self.objects.node(self.id);
        let len = match node.byte & !tag::FLAG_REF {
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

    /// Pushes what follows its type byte and counts onto `stack`, last first, so that popping yields
    /// stream order: a container's items, a dict's keys and values then its terminating byte, a code
    /// object's fields. Both writers walk objects this way.
    pub(crate) fn push_parts(self, stack: &mut Vec<Part<'o, 'a>>) {
        match self.value() {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items)
            | Value::Slice(items) => stack.extend(items.iter().rev().map(Part::Object)),
            Value::Dict(pairs) | Value::FrozenDict(pairs) => {
                stack.push(Part::Byte(pairs.terminator().unwrap_or(tag::NULL)));
                for (key, value) in pairs.iter().rev() {
                    stack.push(Part::Object(value));
                    stack.push(Part::Object(key));
                }
            }
            Value::Code(code) => {
                let start = stack.len();
                stack.extend(code.fields().map(|(field, value)| match value {
                    FieldValue::Object(object) => Part::Object(object),
                    FieldValue::Int(value) => Part::Int(field.kind, value),
                }));
                // Pushed in stream order; reversed so they pop in it.
                if let Some(fields) = stack.get_mut(start..) {
                    fields.reverse();
                }
            }
            _ => {}
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
            Form::Utf8 => Value::Str(Str {
                raw: slice(),
                encoding: Encoding::Utf8,
            }),
            Form::Utf32 => Value::Str(Str {
                raw: slice(),
                encoding: Encoding::Utf32,
            }),
            Form::Bytes => Value::Bytes(slice()),
            Form::Int => Value::Int(i64::from(node.a as i32)),
            Form::Int64 => Value::Int(word64 as i64),
            Form::Float => Value::Float(f64::from_bits(word64)),
            Form::Long => Value::Long(objects.long(node, 15)),
            Form::ByteInt => {
                let long = objects.long(node, 8);
                long.to_i64().map_or(Value::Long(long), Value::Int)
            }
            Form::Tuple => Value::Tuple(items()),
            Form::Dict => Value::Dict(Pairs { items: items() }),
            Form::Code => objects.code(node),
            Form::Native => Value::Null,
        }
    }

    /// The items of a tuple, list, set, frozenset or slice (after resolving a back-reference).
    pub fn items(self) -> Option<Items<'o, 'a>> {
        match self.resolve().value() {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items)
            | Value::Slice(items) => Some(items),
            _ => None,
        }
    }

    /// The payload of a bytes object (or a Python 2 `str`), after resolving a back-reference.
    pub fn as_bytes(self) -> Option<&'a [u8]> {
        match self.resolve().value() {
            Value::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// A string's text, after resolving a back-reference: a `str`, or a Python 2 byte string read as
    /// UTF-8. Lone surrogates and bad bytes become U+FFFD.
    pub fn to_text(self) -> Option<String> {
        match self.resolve().value() {
            Value::Str(s) => Some(s.to_string_lossy()),
            Value::Bytes(bytes) if self.objects.python.dialect().byte_names => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        }
    }

    /// The code object, after resolving a back-reference.
    pub fn as_code(self) -> Option<Code<'o, 'a>> {
        match self.resolve().value() {
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
    /// `r`: a back-reference to reference-table slot n. [`Object::resolve`] follows it.
    Ref(u32),
    /// `R`: a back-reference to Python 2 interned-string slot n. [`Object::resolve`] follows it.
    StringRef(u32),
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
            Value::Ref(_) => "ref",
            Value::StringRef(_) => "stringref",
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

impl Long<'_> {
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
    /// Decimal, or `0x` hexadecimal past [`number::DECIMAL_DIGIT_LIMIT`] 15-bit digits' worth.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        let bits = u32::from(self.bits);
        number::write_digits(&mut text, self.negative, self.digits(), bits);
        f.write_str(&text)
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
    /// The payload as stored.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True for the `a`/`z` kinds, whose payload is Latin-1 (CPython reads their bytes as code points
    /// U+0000-U+00FF); false for `u`/`t`, whose payload is UTF-8 (or GraalPy's UTF-32).
    pub fn is_latin1(&self) -> bool {
        self.encoding == Encoding::Latin1
    }

    /// The text, borrowed, when it is valid Rust UTF-8 (no lone surrogates, no non-ASCII Latin-1, no
    /// UTF-32).
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

    /// The text with each lone surrogate replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        if let Some(s) = self.as_str() {
            return String::from(s);
        }
        self.code_points()
            .map(|cp| char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
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
        f.debug_list().entries(self.ids).finish()
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
        self.ids.get(i).map(|&id| self.objects.get(id))
    }

    /// The item ids.
    pub fn ids(&self) -> &'o [ObjectId] {
        self.ids
    }

    /// The items.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = Object<'o, 'a>> + DoubleEndedIterator + use<'o, 'a> {
        let objects = self.objects;
        self.ids.iter().map(move |&id| objects.get(id))
    }
}

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

    /// The (key, value) pairs. A key whose value was cut off (tolerant parses) is left out.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (Object<'o, 'a>, Object<'o, 'a>)>
    + DoubleEndedIterator
    + use<'o, 'a> {
        let objects = self.items.objects;
        self.items
            .ids
            .chunks_exact(2)
            .map(move |pair| (objects.get(pair[0]), objects.get(pair[1]))) // proven: chunks of 2
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

/// A piece of an object's body after its type byte and counts, as [`Object::push_parts`] lists them.
#[derive(Copy, Clone)]
pub(crate) enum Part<'o, 'a> {
    /// An item, key, value or object field.
    Object(Object<'o, 'a>),
    /// An integer field of a code object, written as wide as its kind says.
    Int(FieldKind, i32),
    /// A dict's terminating byte (a NULL, FLAG_REF included where it was stored so).
    Byte(u8),
}

/// A code object: its layout and fields.
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

impl<'o, 'a> Code<'o, 'a> {
    /// The field layout it was read with.
    pub fn layout(&self) -> CodeLayout {
        self.record.layout
    }

    /// False when a fault cut it short (tolerant parses); then only the fields read are present.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The fields that were read, in stream order, with their values.
    pub fn fields(&self) -> impl Iterator<Item = (Field, FieldValue<'o, 'a>)> + use<'o, 'a> {
        let objects = self.objects;
        let record = self.record;
        let ids = objects.item_ids(record.items, record.len);
        let values = objects.ints_of(record);
        let (mut ints, mut objs) = (0usize, 0usize);
        record.layout.fields().iter().map_while(move |&field| {
            let value = if field.kind.is_int() {
                ints += 1;
                values.get(ints - 1).map(|&value| FieldValue::Int(value))
            } else {
                objs += 1;
                ids.get(objs - 1)
                    .map(|&id| FieldValue::Object(objects.get(id)))
            }?;
            Some((field, value))
        })
    }

    /// The integer field called `name` (`co_argcount`, `co_flags`, `co_firstlineno`, ...).
    pub fn int(&self, name: &str) -> Option<i32> {
        let i = self.record.layout.int_position(name)?;
        self.objects.ints_of(self.record).get(i).copied()
    }

    /// The object field called `name` (`co_consts`, `co_name`, ...), back-references resolved.
    pub fn get(&self, name: &str) -> Option<Object<'o, 'a>> {
        let i = self.record.layout.object_position(name)?;
        let ids = self.objects.item_ids(self.record.items, self.record.len);
        ids.get(i).map(|&id| self.objects.get(id).resolve())
    }

    /// The bytecode.
    pub fn bytecode(&self) -> Option<&'a [u8]> {
        self.get("co_code")?.as_bytes()
    }

    /// The constants.
    pub fn consts(&self) -> Option<Items<'o, 'a>> {
        self.get("co_consts")?.items()
    }

    /// The function, class or module name.
    pub fn name(&self) -> Option<String> {
        self.get("co_name")?.to_text()
    }

    /// The qualified name (3.11+), else the name.
    pub fn qualname(&self) -> Option<String> {
        self.get("co_qualname")
            .and_then(Object::to_text)
            .or_else(|| self.name())
    }

    /// The source file name recorded at compile time.
    pub fn filename(&self) -> Option<String> {
        self.get("co_filename")?.to_text()
    }

    /// The first source line (1.5 and later).
    pub fn firstlineno(&self) -> Option<i32> {
        self.int("co_firstlineno")
    }

    /// The code objects among the constants, in order.
    pub fn nested(&self) -> impl Iterator<Item = Code<'o, 'a>> + use<'o, 'a> {
        self.consts()
            .into_iter()
            .flat_map(|consts| consts.iter())
            .filter_map(Object::as_code)
    }
}
