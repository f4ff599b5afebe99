//! The table itself: nodes, item ids, reference tables and code records, as the readers fill them.

use crate::format::layout::{CodeLayout, Format};
use crate::format::magic::Python;
use alloc::vec::Vec;
use core::fmt;

/// Names an object in its [`Objects`] table.
///
/// Most objects are nodes of the table, numbered in input order (a container before its items). The
/// two kinds that make up half of a typical file, the singletons (`None`, `True`, `False`,
/// `StopIteration`, `...`, a dict's NULL) and the back-references (`r`, Python 2's `R`), take no node:
/// their id holds all there is to know of them, their offset included.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(u64);

/// The kind of an [`ObjectId`], in its top three bits.
const KIND_SHIFT: u32 = 61;
const NODE: u64 = 0;
const SINGLETON: u64 = 1;
const REF: u64 = 2;
const FLAGGED_REF: u64 = REF + 1;
const STRING_REF: u64 = 4;
/// Offsets take the low 31 bits (inputs are below 2 GiB); a singleton's type byte or a reference's
/// slot (below 2^30: a slot per two input bytes at most) the 30 above.
const OFFSET_BITS: u32 = 31;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
const WORD_MASK: u64 = (1 << 30) - 1;

impl ObjectId {
    /// An id of no object.
    pub(crate) const NONE: ObjectId = ObjectId(u64::MAX);

    /// The id of node `index`.
    pub(crate) const fn node(index: usize) -> ObjectId {
        ObjectId(index as u64)
    }

    /// The id of a singleton whose type byte (FLAG_REF included) is `byte`, at `offset`.
    pub(crate) fn singleton(byte: u8, offset: u32) -> ObjectId {
        ObjectId(SINGLETON << KIND_SHIFT | u64::from(byte) << OFFSET_BITS | u64::from(offset))
    }

    /// The id of a back-reference at `offset` to `slot` of the reference table (`r`, flagged or not) or
    /// of the Python 2 interned-string table (`R`).
    pub(crate) fn back_ref(byte: u8, offset: u32, slot: u32) -> ObjectId {
        // FLAGGED_REF is REF plus one: the flag bit says which, with no branch.
        let kind = match byte {
            b'R' => STRING_REF,
            _ => REF + u64::from(byte >> 7),
        };
        let slot = u64::from(slot) & WORD_MASK;
        ObjectId(kind << KIND_SHIFT | slot << OFFSET_BITS | u64::from(offset))
    }

    /// The node's index, for an id of a node.
    pub(crate) fn index(self) -> Option<usize> {
        (self.0 >> KIND_SHIFT == NODE).then_some(self.0 as usize)
    }

    /// The node an id without one stands for: its type byte, its offset, and a reference's slot in
    /// `a`.
    fn immediate(self) -> Option<Node> {
        let word = (self.0 >> OFFSET_BITS & WORD_MASK) as u32;
        let byte = match self.0 >> KIND_SHIFT {
            SINGLETON => word as u8,
            REF => b'r',
            FLAGGED_REF => b'r' | 0x80,
            STRING_REF => b'R',
            _ => return None,
        };
        let a = if self.0 >> KIND_SHIFT == SINGLETON {
            0
        } else {
            word
        };
        Some(Node {
            offset: (self.0 & OFFSET_MASK) as u32,
            a,
            b: 0,
            byte,
            complete: true,
            form: Form::Native,
        })
    }
}

/// One object. Scalars keep two payload words (`a`, `b`): an offset and a length for strings, bytes,
/// text floats and complexes; the value for `i`, `I` and `g`; the digit offset and the signed digit
/// count for `l`; the slot for `r` and `R`. Containers keep the start and length of their items, code
/// objects their record. The form says how to read them when the type code alone does not (the other
/// implementations' formats).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Node {
    pub offset: u32,
    pub a: u32,
    pub b: u32,
    pub byte: u8,
    pub complete: bool,
    pub form: Form,
}

impl Node {
    /// What a lookup of an id from another table gives: a NULL at no offset.
    const MISSING: Node = Node {
        offset: u32::MAX,
        a: 0,
        b: 0,
        byte: 0,
        complete: true,
        form: Form::Native,
    };

    /// The type code, without FLAG_REF.
    pub fn code(&self) -> u8 {
        self.byte & !crate::format::tag::FLAG_REF
    }
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
pub(crate) struct CodeRecord {
    pub layout: CodeLayout,
    pub items: u32,
    pub len: u32,
    pub ints: u32,
    pub ints_len: u8,
    pub ints_cap: u8,
}

/// The objects decoded from one input.
#[derive(Clone)]
pub struct Objects<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) python: Python,
    pub(crate) nodes: Vec<Node>,
    pub(crate) items: Vec<ObjectId>,
    /// Slot n of the reference table: the n-th flagged object.
    pub(crate) refs: Vec<ObjectId>,
    /// Slot n of the Python 2 interned-string table: the n-th `t` string.
    pub(crate) interned: Vec<ObjectId>,
    pub(crate) codes: Vec<CodeRecord>,
    /// The integer fields of all code objects.
    pub(crate) ints: Vec<i32>,
    pub(crate) root: Option<ObjectId>,
    pub(crate) format: Format,
    /// The magic number of the file the data was read from.
    pub(crate) magic: Option<u16>,
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
    /// An empty table over `data`, read in `python`'s dialect.
    pub(crate) fn new(data: &'a [u8], python: Python) -> Objects<'a> {
        Objects {
            data,
            python,
            nodes: Vec::new(),
            items: Vec::new(),
            refs: Vec::new(),
            interned: Vec::new(),
            codes: Vec::new(),
            ints: Vec::new(),
            root: None,
            format: Format::Marshal,
            magic: None,
        }
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

    /// The magic number of the `.pyc` file the data was read from; `None` for raw marshal data.
    pub fn magic(&self) -> Option<u16> {
        self.magic
    }

    /// Number of objects that have a node: every object read but the singletons and back-references.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// The node of `id` (made up for a singleton or back-reference); [`Node::MISSING`] for an id of
    /// another table.
    pub(crate) fn node(&self, id: ObjectId) -> Node {
        match id.index() {
            Some(index) => self.nodes.get(index).copied(),
            None => id.immediate(),
        }
        .unwrap_or(Node::MISSING)
    }

    /// True when `id` names an object of this table.
    pub(crate) fn holds(&self, id: ObjectId) -> bool {
        match id.index() {
            Some(index) => index < self.nodes.len(),
            None => id.immediate().is_some_and(|node| match node.code() {
                b'r' => (node.a as usize) < self.refs.len(),
                b'R' => (node.a as usize) < self.interned.len(),
                _ => true,
            }),
        }
    }

    /// `len` bytes of the input at `at`, or none if they are not all there.
    pub(crate) fn slice(&self, at: u32, len: usize) -> &'a [u8] {
        let at = at as usize;
        self.data
            .get(at..at.saturating_add(len))
            .unwrap_or_default()
    }

    /// The code record of a code object's node.
    pub(crate) fn record(&self, node: Node) -> Option<&CodeRecord> {
        self.codes.get(node.a as usize)
    }

    /// The integer fields a code object has read.
    pub(crate) fn ints_of(&self, record: &CodeRecord) -> &[i32] {
        let start = record.ints as usize;
        self.ints
            .get(start..start + usize::from(record.ints_len))
            .unwrap_or_default()
    }

    /// `len` item ids from `start` of the item array.
    pub(crate) fn item_ids(&self, start: u32, len: u32) -> &[ObjectId] {
        let start = start as usize;
        self.items
            .get(start..start.saturating_add(len as usize))
            .unwrap_or_default()
    }
}
