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
    /// Dicts open: while there are none, a container that closes complete has nothing left to do,
    /// and its node is not looked at.
    open_dicts: u32,
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
            open_dicts: 0,
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

    /// A dict: its items wait in the scratch until it closes.
    #[inline(never)]
    fn open_dict(&mut self, byte: u8, form: Form, offset: u32) -> (ObjectId, u32) {
        self.open_dicts += 1;
        let mark = self.scratch.len() as u32;
        (self.push(byte, form, offset, 0, 0), mark)
    }

    /// `count` item slots for the container at `offset`, not filled yet; the first one's index.
    #[inline(always)]
    fn item_slots(&mut self, offset: u32, count: u32) -> u32 {
        // The decoders bound the items owed by all open containers by the bytes left, and a code
        // object's slots by its layout, so these slots stay within a small multiple of the input.
        let start = self.objects.items.len();
        // Every item takes a byte at least.
        let left = self.left(offset);
        make_room(&mut self.objects.items, count as usize, left);
        self.objects
            .items
            .extend(core::iter::repeat_n(ObjectId::NONE, count as usize));
        start as u32
    }

    /// A code object with its item slots from `start`: its record and integer slots too.
    #[inline(never)]
    fn open_code(
        &mut self,
        byte: u8,
        form: Form,
        offset: u32,
        count: u32,
        layout: CodeLayout,
        start: u32,
    ) -> (ObjectId, u32) {
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
        (self.push(byte, form, offset, record, 0), start)
    }

    /// [`Sink::close`] of a container cut short or while a dict is open: a dict moves its items out
    /// of the scratch; an incomplete container keeps the items it has.
    #[inline(never)]
    fn close_node(&mut self, id: ObjectId, mark: u32, count: u32, complete: bool) {
        let Some(node) = id.index().and_then(|i| self.objects.nodes.get_mut(i)) else {
            return;
        };
        if is_dict(node.byte, node.form) {
            self.open_dicts = self.open_dicts.saturating_sub(1);
            let start = self.objects.items.len() as u32;
            // A dict's mark is the scratch's length when it opened, and the dicts inside it drained
            // only what came after their own marks; `min` keeps that from being an index.
            let from = (mark as usize).min(self.scratch.len());
            let children = self.scratch.drain(from..);
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
}

impl Forms for Builder<'_> {
    fn read_as(&mut self, format: Format) {
        self.objects.format = format;
    }

    #[inline]
    fn leaf_as(&mut self, byte: u8, form: Form, offset: u32, a: u32, b: u32) -> ObjectId {
        self.push(byte, form, offset, a, b)
    }

    #[inline(always)]
    fn open_as(
        &mut self,
        byte: u8,
        form: Form,
        offset: u32,
        count: u32,
        layout: CodeLayout,
    ) -> (ObjectId, u32) {
        if is_dict(byte, form) {
            return self.open_dict(byte, form, offset);
        }
        let start = self.item_slots(offset, count);
        if is_code(byte, form) {
            return self.open_code(byte, form, offset, count, layout, start);
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

    #[inline(always)]
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

    /// Sized containers and code objects got their item range at `open`: one that closes complete has
    /// nothing left to do, so its node is not looked at while no dict is open (any closing then may
    /// be the dict, which moves its items out of the scratch). An incomplete one keeps the items it
    /// has.
    #[inline(always)]
    fn close(&mut self, id: ObjectId, mark: u32, count: u32, complete: bool) {
        if !complete || self.open_dicts > 0 {
            self.close_node(id, mark, count, complete);
        }
    }

    fn register(&mut self, id: ObjectId) {
        self.objects.refs.push(id);
    }

    fn intern(&mut self, id: ObjectId) {
        self.objects.interned.push(id);
    }
}
