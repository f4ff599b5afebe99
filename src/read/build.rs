//! The table-building sink: turns what a decoder reports into an [`Objects`] table.

use super::sink::{Forms, Sink};
use crate::format::layout::{CodeLayout, Format};
use crate::format::magic::Python;
use crate::format::tag;
use crate::object::{CodeRecord, Form, Node, ObjectId, Objects};
use alloc::vec::Vec;

/// Builds an [`Objects`] table as a decoder reports.
pub(crate) struct Builder<'a> {
    objects: Objects<'a>,
    /// The items of the open dicts, which come before their count is known.
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
        let mut objects = Objects::new(data, python);
        objects.nodes.reserve(data.len() / 32);
        objects.items.reserve(data.len() / 16);
        objects.refs.reserve(data.len() / 64);
        objects.codes.reserve(data.len() / 512);
        objects.ints.reserve(data.len() / 64);
        Builder {
            objects,
            scratch: Vec::with_capacity(64),
            int_count: None,
        }
    }

    pub fn finish(mut self, root: Option<ObjectId>) -> Objects<'a> {
        self.objects.root = root;
        self.objects
    }

    /// Bytes of the input after `offset`: what the table may still need room for.
    fn left(&self, offset: u32) -> usize {
        self.objects.data.len().saturating_sub(offset as usize)
    }

    #[inline(always)]
    fn push(&mut self, byte: u8, form: Form, offset: u32, a: u32, b: u32) -> ObjectId {
        if self.objects.nodes.len() == self.objects.nodes.capacity() {
            // An object takes two bytes at least (one, rarely, in GraalPy's format: then the table
            // grows once more).
            let bound = self.left(offset) / 2 + 1;
            make_room(&mut self.objects.nodes, 1, bound);
        }
        let id = ObjectId::node(self.objects.nodes.len());
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
        // Every item takes a byte at least.
        let left = self.left(offset);
        make_room(&mut self.objects.items, count as usize, left);
        self.objects
            .items
            .resize(start + count as usize, ObjectId::NONE);
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

/// Makes room for `more` entries in `table`, doubling it as a vector does but growing it by no more than
/// `bound` entries (what the rest of the input could still hold), so that near the input's end the
/// table does not keep room for twice what it holds.
fn make_room<T>(table: &mut Vec<T>, more: usize, bound: usize) {
    if table.capacity() - table.len() < more {
        let grow = table.len().min(bound).max(more);
        table.reserve_exact(grow);
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

impl Sink for Builder<'_> {
    type Id = ObjectId;
    const PLACEHOLDER: ObjectId = ObjectId::NONE;

    #[inline(always)]
    fn singleton(&mut self, byte: u8, offset: u32) -> ObjectId {
        ObjectId::singleton(byte, offset)
    }

    #[inline(always)]
    fn back_ref(&mut self, byte: u8, offset: u32, slot: u32) -> ObjectId {
        ObjectId::back_ref(byte, offset, slot)
    }

    #[inline(always)]
    fn leaf(&mut self, byte: u8, offset: u32, a: u32, b: u32) -> ObjectId {
        self.push(byte, Form::Native, offset, a, b)
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
        let Some(node) = id.index().and_then(|i| self.objects.nodes.get_mut(i)) else {
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
