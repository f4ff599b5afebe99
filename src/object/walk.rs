//! A depth-first walk over objects in stream order, for every writer (the encoder, the normalizer, the
//! JSON form, the dump): it keeps one cursor per container it was asked to enter, never one entry per
//! item, so its memory is the nesting it goes through, not the size of what it walks.
//!
//! The walk never follows a back-reference by itself: the caller decides, at each object, whether to
//! [`Walk::enter`] it (the normalizer enters what a reference stands for; the others never do), which
//! keeps every walk linear in the table.

use super::table::ObjectId;
use super::view::{FieldValue, Fields, Object, Value};
use crate::format::layout::Field;
use crate::format::tag;
use alloc::vec::Vec;

/// Where a part stands in its container.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The top-level object.
    Root,
    /// Item `n` of a tuple, list, set, frozenset or slice.
    Item(u32),
    /// The key of a dict's pair `n`.
    Key(u32),
    /// The value of a dict's pair `n`.
    Value(u32),
    /// The NULL that ended a dict.
    Terminator,
    /// A key whose value a fault cut off (tolerant parses).
    Dangling,
    /// A code object's field, and its place among the fields read.
    Field(&'static Field, u32),
}

/// What the walk meets next.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Event<'o, 'a> {
    /// An object, where it stands. Call [`Walk::enter`] to walk its parts next.
    Object(Object<'o, 'a>, Place),
    /// A code object's integer field.
    Int(&'static Field, i32, u32),
    /// The end of the parts of an object entered with [`Walk::enter`].
    End(Object<'o, 'a>),
}

/// The parts of one entered container, and how far the walk is through them.
struct Cursor<'o, 'a> {
    object: Object<'o, 'a>,
    parts: Parts<'o, 'a>,
    next: u32,
}

enum Parts<'o, 'a> {
    /// Items in the order given (stream order, or the normalizer's canonical order for sets).
    Items(&'o [ObjectId], Shape),
    /// A code object's fields: the layout's, as far as they were read.
    Code(Fields<'o, 'a>),
    /// Nothing (a scalar entered anyway).
    None,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Shape {
    Sequence,
    Dict,
}

/// The walk: the top-level object, then whatever the caller enters.
pub(crate) struct Walk<'o, 'a> {
    root: Option<Object<'o, 'a>>,
    stack: Vec<Cursor<'o, 'a>>,
}

impl<'o, 'a> Walk<'o, 'a> {
    /// A walk that meets `root` first.
    pub fn new(root: Object<'o, 'a>) -> Walk<'o, 'a> {
        Walk {
            root: Some(root),
            stack: Vec::new(),
        }
    }

    /// How many entered containers are open: the nesting of what [`Walk::next`] returns next.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// The innermost entered container: the one [`Walk::next`]'s next part belongs to.
    pub fn parent(&self) -> Option<Object<'o, 'a>> {
        self.stack.last().map(|cursor| cursor.object)
    }

    /// Walks the parts of `object` next, in stream order: a container's items (a dict's keys and
    /// values, then its terminating NULL), a code object's fields.
    pub fn enter(&mut self, object: Object<'o, 'a>) {
        let parts = match object.value() {
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items)
            | Value::Slice(items) => Parts::Items(items.ids(), Shape::Sequence),
            Value::Dict(pairs) | Value::FrozenDict(pairs) => {
                Parts::Items(pairs.items().ids(), Shape::Dict)
            }
            Value::Code(code) => Parts::Code(code.fields()),
            _ => Parts::None,
        };
        self.stack.push(Cursor {
            object,
            parts,
            next: 0,
        });
    }

    /// Walks the items of a sequence `object` next, in the order `ids` gives (the normalizer's order
    /// for set items).
    #[cfg(feature = "std")]
    pub fn enter_as(&mut self, object: Object<'o, 'a>, ids: &'o [ObjectId]) {
        self.stack.push(Cursor {
            object,
            parts: Parts::Items(ids, Shape::Sequence),
            next: 0,
        });
    }

    /// The next event, `None` once the walk is over.
    pub fn next(&mut self) -> Option<Event<'o, 'a>> {
        if let Some(root) = self.root.take() {
            return Some(Event::Object(root, Place::Root));
        }
        let cursor = self.stack.last_mut()?;
        let at = cursor.next;
        let objects = cursor.object.objects();
        let event = match &mut cursor.parts {
            Parts::Items(ids, shape) => ids.get(at as usize).map(|&id| {
                let object = objects.object(id);
                // A complete dict's items end with the NULL that ended it (a NULL key ends a dict, so
                // no other key is one).
                let place = match shape {
                    Shape::Sequence => Place::Item(at),
                    Shape::Dict if object.type_code() == tag::NULL => Place::Terminator,
                    Shape::Dict if at % 2 == 0 && at as usize + 1 == ids.len() => Place::Dangling,
                    Shape::Dict if at % 2 == 0 => Place::Key(at / 2),
                    Shape::Dict => Place::Value(at / 2),
                };
                Event::Object(object, place)
            }),
            Parts::Code(fields) => fields.next().map(|(field, value)| match value {
                FieldValue::Int(value) => Event::Int(field, value, at),
                FieldValue::Object(object) => Event::Object(object, Place::Field(field, at)),
            }),
            Parts::None => None,
        };
        match event {
            Some(event) => {
                cursor.next += 1;
                Some(event)
            }
            None => {
                let done = self.stack.pop()?;
                Some(Event::End(done.object))
            }
        }
    }
}
