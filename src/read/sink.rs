//! Where the decoders report what they decode: the [`Sink`] trait, its extension for the other
//! implementations' formats ([`Forms`]), the validating sink that keeps nothing ([`Discard`]), and what
//! every decoder returns ([`Outcome`]). The table-building sink is [`crate::read::build::Builder`].

use crate::base::error::{Error, ErrorKind, Fault};
use crate::base::limits::MAX_INPUT;
use crate::format::layout::{CodeLayout, Format};
use crate::format::magic::Python;
use crate::object::Form;
use alloc::vec::Vec;

/// Where a decoder reports what it decodes. `Id` names a decoded object to the sink.
///
/// Containers come in two shapes: those whose item count is known when they open (tuples, lists, sets,
/// frozensets, slices, and code objects, whose layout says how many of their fields are objects) get
/// their item slots at `open` and receive items with `item`; dicts receive theirs with `push`.
pub(crate) trait Sink {
    type Id: Copy;
    /// The id of no object: where the decoder's root frame points before the top-level object is read.
    const PLACEHOLDER: Self::Id;
    /// `N F T S .` or a dict's NULL, at `offset`: no payload, never registered.
    fn singleton(&mut self, byte: u8, offset: u32) -> Self::Id;
    /// A back-reference at `offset` (`r`, perhaps flagged, or Python 2's `R`) to `slot`, already
    /// checked.
    fn back_ref(&mut self, byte: u8, offset: u32, slot: u32) -> Self::Id;
    /// A scalar, with its two payload words (see the object table for their meaning per type).
    fn leaf(&mut self, byte: u8, offset: u32, a: u32, b: u32) -> Self::Id;
    /// A container, before its items: `count` item slots (a code object's object fields), 0 for dicts.
    /// Returns its id and a mark for `item` and `close`.
    fn open(&mut self, byte: u8, offset: u32, count: u32, layout: CodeLayout) -> (Self::Id, u32);
    /// Item `index` of the sized container or code object opened with `mark`.
    fn item(&mut self, mark: u32, index: u32, id: Self::Id);
    /// The next key or value of the innermost dict; a complete dict's last push is its terminating NULL.
    fn push(&mut self, id: Self::Id);
    /// The next integer fields of the code object `code`.
    fn code_ints(&mut self, code: Self::Id, values: &[i32]);
    /// The end of a container with `count` items; `complete` is false when a fault cut it short.
    fn close(&mut self, id: Self::Id, mark: u32, count: u32, complete: bool);
    /// The next reference-table slot goes to `id`.
    fn register(&mut self, id: Self::Id);
    /// The next Python 2 interned-string slot goes to `id`.
    fn intern(&mut self, id: Self::Id);
    /// The body is read as `python`'s (before anything else): the reading the header's magic chose.
    fn read_as_python(&mut self, python: Python) {
        let _ = python;
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

/// The validating sink: the decoder checks everything, nothing is kept.
pub(crate) struct Discard;

impl Sink for Discard {
    type Id = ();
    const PLACEHOLDER: () = ();
    fn singleton(&mut self, _: u8, _: u32) {}
    fn back_ref(&mut self, _: u8, _: u32, _: u32) {}
    fn leaf(&mut self, _: u8, _: u32, _: u32, _: u32) {}
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

impl Forms for Discard {
    fn leaf_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: u32) {}
    fn open_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: CodeLayout) -> ((), u32) {
        ((), 0)
    }
}

/// The result of a decode: the top-level object if its first byte was read, where reading stopped, and
/// the fault if there was one.
pub(crate) struct Outcome<I> {
    pub root: Option<I>,
    pub end: usize,
    pub error: Option<Error>,
}

impl<I> Outcome<I> {
    /// What every decoder returns for input longer than [`MAX_INPUT`], before reading a byte.
    pub(crate) fn too_large(data: &[u8], start: usize) -> Option<Self> {
        (data.len() > MAX_INPUT).then(|| Outcome {
            root: None,
            end: start,
            error: Some(Fault::new(ErrorKind::InputTooLarge, 0, "input").at(Vec::new())),
        })
    }
}
