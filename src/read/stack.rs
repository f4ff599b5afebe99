//! The explicit stack of open containers that every decoder shares (CPython's marshal and the other
//! implementations' formats): which container the next value goes to, when a container is full, how much
//! the open containers may still claim, the depth limit, and, on a fault, closing everything as
//! incomplete and naming the path. Keeping it on the heap means no input can exhaust the call stack,
//! whatever the configured depth.
//!
//! Each format's decoder adds its own words to a frame (`K`: what it reads next in the container, which
//! reference class to record) and its own delivery rules; the stack carries them untouched.

use super::sink::{Outcome, Sink};
use crate::base::error::{Error, ErrorKind, Fault, Step};
use crate::base::reader::Reader;
use crate::format::layout::Field;
use alloc::vec::Vec;

/// A frame without a reference slot.
pub(crate) const NO_SLOT: u32 = u32::MAX;
/// The `total` of a dict ended by a NULL key rather than counted.
pub(crate) const UNCOUNTED: u32 = u32::MAX;

/// How a container receives its values.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Where the top-level value goes.
    Root,
    /// A known number of items.
    Sized,
    /// Keys and values, `total` pairs or until the format ends it.
    Dict,
    /// The fields of a code object; the format reads the integer ones itself.
    Code,
}

/// An open container.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Frame<I, K> {
    pub id: I,
    pub mark: u32,
    /// Sized: items expected. Dict: pairs expected, or [`UNCOUNTED`].
    pub total: u32,
    /// Values received (keys and values both count in a dict; fields in a code object).
    pub count: u32,
    /// The format's reference slot to fill when it closes, or [`NO_SLOT`].
    pub slot: u32,
    pub shape: Shape,
    /// Sized: the fewest bytes one item takes.
    pub min: u8,
    /// Code: the index of the field being read in `fields`.
    pub field: u8,
    /// Code: the layout's fields.
    pub fields: &'static [Field],
    /// The format's own words.
    pub word: K,
}

impl<I, K> Frame<I, K> {
    /// A frame of `shape` for the container `id`, with nothing read yet.
    pub fn new(id: I, mark: u32, shape: Shape, word: K) -> Frame<I, K> {
        Frame {
            id,
            mark,
            total: 0,
            count: 0,
            slot: NO_SLOT,
            shape,
            min: 1,
            field: 0,
            fields: &[],
            word,
        }
    }

    /// True when it has all it holds; a dict of [`UNCOUNTED`] pairs never is.
    pub fn is_full(&self) -> bool {
        match self.shape {
            Shape::Root => false,
            Shape::Sized => self.count >= self.total,
            Shape::Dict => self.total != UNCOUNTED && self.count / 2 >= self.total,
            Shape::Code => usize::from(self.field) >= self.fields.len(),
        }
    }

    /// The code field being read, if any.
    pub fn next_field(&self) -> Option<&'static Field> {
        self.fields.get(usize::from(self.field))
    }

    /// The path step it contributes: the item or field being read in it.
    fn step(&self) -> Option<Step> {
        match self.shape {
            Shape::Root => None,
            Shape::Sized => Some(Step::Index(self.count)),
            Shape::Dict if self.count % 2 == 0 => Some(Step::Key(self.count / 2)),
            Shape::Dict => Some(Step::Value(self.count / 2)),
            Shape::Code => self.next_field().map(|f| Step::Field(f.name)),
        }
    }
}

/// Nesting deeper than `max_depth`, at `pos`: the type byte that would go one level deeper. It takes
/// values, not the reader, so that the decoder's reader stays in registers.
#[cold]
fn depth_fault(max_depth: usize, pos: usize) -> Fault {
    let kind = ErrorKind::DepthLimit(max_depth as u32);
    Fault::new(kind, pos, "type code")
}

/// The open containers, innermost apart (every value goes to it, so it is kept out of the vector).
pub(crate) struct Stack<I, K> {
    top: Frame<I, K>,
    /// The others, outermost (the root) first.
    below: Vec<Frame<I, K>>,
    max_depth: usize,
    /// Bytes the open sized containers still need at least: each item not read yet takes `min`.
    owed: u64,
    /// Of those, the items being read now (one in each open sized container, the new container's
    /// own): they are the new container, or hold it.
    reading: u64,
    /// The top-level value, once delivered.
    pub root: Option<I>,
}

impl<I: Copy, K: Copy> Stack<I, K> {
    /// A stack holding only the root frame.
    pub fn new(root: Frame<I, K>, max_depth: u32) -> Stack<I, K> {
        Stack {
            top: root,
            // Compiled code rarely nests deeper than this.
            below: Vec::with_capacity(32),
            max_depth: max_depth as usize,
            owed: 0,
            reading: 0,
            root: None,
        }
    }

    /// The innermost container.
    #[inline(always)]
    pub fn top(&self) -> &Frame<I, K> {
        &self.top
    }

    /// The innermost container, to count what it received.
    #[inline(always)]
    pub fn top_mut(&mut self) -> &mut Frame<I, K> {
        &mut self.top
    }

    /// A fault if no value may be read at all (a depth limit of 0).
    pub fn check_depth(&self, r: &Reader<'_>) -> Result<(), Fault> {
        if self.max_depth == 0 {
            return Err(depth_fault(self.max_depth, r.pos()));
        }
        Ok(())
    }

    /// Checks that a sized container of `total` items, each `min` bytes at least, leaves `min` bytes for
    /// each of its items and for each item still owed by the open ones, so that what containers claim
    /// stays within the input. Call it before the sink allocates the items.
    #[inline(always)]
    pub fn claim(&self, total: u32, min: u8, r: &Reader<'_>) -> Result<(), Fault> {
        let own = u64::from(total) * u64::from(min);
        let needed = own + self.owed.saturating_sub(self.reading);
        if needed > r.left() as u64 {
            return Err(r.short(usize::try_from(needed).unwrap_or(usize::MAX), "items"));
        }
        Ok(())
    }

    /// Makes `frame` the innermost container (a sized one after [`Stack::claim`]). Call
    /// [`Stack::check_nesting`] once the container's own header is read.
    #[inline(always)]
    pub fn open(&mut self, frame: Frame<I, K>) {
        if frame.shape == Shape::Sized {
            self.owed += u64::from(frame.total) * u64::from(frame.min);
            self.reading += u64::from(frame.min);
        }
        self.below.push(core::mem::replace(&mut self.top, frame));
    }

    /// Refuses nesting deeper than the limit, as CPython counts it: the items of a container at the
    /// limit would be too deep, so only a full one may stand there (an empty tuple, say; not a dict
    /// ended by a NULL, which is an item). The offset is the next read's: the type byte that would go
    /// one level deeper.
    #[inline(always)]
    pub fn check_nesting(&self, r: &Reader<'_>) -> Result<(), Fault> {
        // The depth first: it is nearly always within the limit, and fullness dispatches on the shape.
        if self.below.len() >= self.max_depth && !self.top.is_full() {
            return Err(depth_fault(self.max_depth, r.pos()));
        }
        Ok(())
    }

    /// True when the innermost container has all it holds.
    pub fn is_full(&self) -> bool {
        self.top.is_full()
    }

    /// An item of the innermost sized container arrived: it owes `min` bytes less.
    #[inline(always)]
    pub fn paid(&mut self, min: u8) {
        self.owed = self.owed.saturating_sub(u64::from(min));
    }

    /// Closes the innermost container, which has all it holds; its parent becomes the innermost.
    /// Returns it, or `None` if only the root is left.
    #[inline(always)]
    pub fn finish<S: Sink<Id = I>>(&mut self, sink: &mut S) -> Option<Frame<I, K>> {
        let parent = self.below.pop()?;
        let frame = core::mem::replace(&mut self.top, parent);
        if frame.shape == Shape::Sized {
            self.reading = self.reading.saturating_sub(u64::from(frame.min));
        }
        sink.close(frame.id, frame.mark, frame.count, true);
        Some(frame)
    }

    /// Hands a finished value to the innermost container, as the other formats deliver (CPython's
    /// decoder checks code fields on the way, so it delivers itself). True when it was the top-level
    /// value.
    pub fn deliver<S: Sink<Id = I>>(&mut self, sink: &mut S, id: I) -> bool {
        let frame = &mut self.top;
        match frame.shape {
            Shape::Root => {
                self.root = Some(id);
                return true;
            }
            Shape::Sized => {
                sink.item(frame.mark, frame.count, id);
                self.owed = self.owed.saturating_sub(u64::from(frame.min));
            }
            Shape::Dict => sink.push(id),
            Shape::Code => {
                sink.item(frame.mark, frame.count, id);
                frame.field += 1;
            }
        }
        frame.count += 1;
        false
    }

    /// Gives the innermost code object its next field, an integer.
    pub fn code_int<S: Sink<Id = I>>(&mut self, sink: &mut S, value: i32) {
        sink.code_ints(self.top.id, &[value]);
        self.top.field += 1;
    }

    /// What a decode that ran to `end` returns: the top-level object, and the fault, if `run` ended
    /// with one, as [`Stack::fail`] locates it (the containers left open closed, partly filled).
    pub fn outcome<S: Sink<Id = I>>(
        mut self,
        sink: &mut S,
        run: Result<(), Fault>,
        end: usize,
    ) -> Outcome<I> {
        let error = run.err().map(|fault| self.fail(sink, fault));
        Outcome {
            root: self.root,
            end,
            error,
        }
    }

    /// Closes every open container as incomplete, so the sink keeps what was decoded, and builds the
    /// error with the path the stack describes.
    #[cold]
    pub fn fail<S: Sink<Id = I>>(&mut self, sink: &mut S, fault: Fault) -> Error {
        let path = self
            .below
            .iter()
            .chain([&self.top])
            .filter_map(Frame::step)
            .collect();
        while let Some(parent) = self.below.pop() {
            let frame = core::mem::replace(&mut self.top, parent);
            sink.close(frame.id, frame.mark, frame.count, false);
            let parent = &mut self.top;
            match parent.shape {
                Shape::Sized | Shape::Code => {
                    sink.item(parent.mark, parent.count, frame.id);
                    parent.count += 1;
                }
                Shape::Dict => sink.push(frame.id),
                Shape::Root => self.root = Some(frame.id),
            }
        }
        fault.at(path)
    }
}
