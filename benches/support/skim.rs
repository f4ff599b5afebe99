//! The step skim: the leanest reader of CPython 3's marshal format with an explicit stack of open
//! containers, as the parser keeps one, that the benches hold the parser and `pyc check` against.

use pycmarshal::format::layout::{Field, FieldKind};

/// A code object's fields as runs: bytes of integer fields to step over, then how many object fields
/// follow. 3.11's layout is `[(20, 8), (4, 2)]`: five integers, eight objects, one integer, two objects.
pub fn runs(fields: &[Field]) -> Vec<(usize, u32)> {
    let mut runs = vec![(0, 0)];
    for field in fields {
        let bytes = match field.kind {
            FieldKind::UInt8 => 1,
            FieldKind::Int16 | FieldKind::UInt16 => 2,
            FieldKind::Int32 | FieldKind::UInt32 => 4,
            _ => 0,
        };
        let last: &mut (usize, u32) = runs.last_mut().unwrap();
        if bytes == 0 {
            last.1 += 1;
        } else if last.1 == 0 {
            last.0 += bytes;
        } else {
            runs.push((bytes, 0));
        }
    }
    runs
}

/// The `run` of a container that is not a code object, and of a dict (ended by a NULL, not counted).
const NO_RUN: usize = usize::MAX;
const DICT: usize = usize::MAX - 1;

/// What a step skim keeps of each object: nothing ([`Nothing`], the step skim), or a table shaped as
/// the parser's ([`Table`]), to show what building such a table costs over the skim.
pub trait Keep {
    /// Names an object in what is kept.
    type Id: Copy;
    /// Ready for a body of `len` bytes.
    fn new(len: usize) -> Self;
    /// An object that takes no node: a singleton or a back-reference.
    fn immediate(&mut self, byte: u8, offset: usize) -> Self::Id;
    /// A scalar with its two payload words.
    fn leaf(&mut self, byte: u8, offset: usize, a: u32, b: u32) -> Self::Id;
    /// A container of `n` items (`u32::MAX` for a dict): its id and its first item slot.
    fn open(&mut self, byte: u8, offset: usize, n: u32) -> (Self::Id, u32);
    /// Item slot `slot` holds `id`.
    fn item(&mut self, slot: u32, id: Self::Id);
    /// `id`, flagged, takes the next reference slot.
    fn register(&mut self, id: Self::Id);
    /// A back-reference to slot `index`: its id, or `None` when no object took that slot. Only called
    /// when [`Keep::CHECKS`].
    fn reference(&mut self, byte: u8, offset: usize, index: u32) -> Option<Self::Id> {
        let _ = index;
        Some(self.immediate(byte, offset))
    }
    /// `None` when a `str` payload (type `u` or `t`) is not UTF-8. Only called when [`Keep::CHECKS`].
    fn text(&mut self, payload: &[u8]) -> Option<()> {
        let _ = payload;
        Some(())
    }
    /// False when nothing is kept: the skim then counts no item slots.
    const KEEPS: bool = true;
    /// True when references and text are checked: the skim then reads their index and payload.
    const CHECKS: bool = false;
}

/// Both keep what they keep: the step skim keeping a table and checking, as a parse must.
impl<A: Keep, B: Keep> Keep for (A, B) {
    type Id = (A::Id, B::Id);
    const KEEPS: bool = A::KEEPS || B::KEEPS;
    const CHECKS: bool = A::CHECKS || B::CHECKS;
    fn new(len: usize) -> Self {
        (A::new(len), B::new(len))
    }
    #[inline(always)]
    fn immediate(&mut self, byte: u8, offset: usize) -> Self::Id {
        (
            self.0.immediate(byte, offset),
            self.1.immediate(byte, offset),
        )
    }
    #[inline(always)]
    fn leaf(&mut self, byte: u8, offset: usize, a: u32, b: u32) -> Self::Id {
        (
            self.0.leaf(byte, offset, a, b),
            self.1.leaf(byte, offset, a, b),
        )
    }
    /// The first slot is the first's: only one of the two may keep items.
    #[inline(always)]
    fn open(&mut self, byte: u8, offset: usize, n: u32) -> (Self::Id, u32) {
        let ((a, slot), (b, _)) = (self.0.open(byte, offset, n), self.1.open(byte, offset, n));
        ((a, b), slot)
    }
    #[inline(always)]
    fn item(&mut self, slot: u32, id: Self::Id) {
        self.0.item(slot, id.0);
        self.1.item(slot, id.1);
    }
    #[inline(always)]
    fn register(&mut self, id: Self::Id) {
        self.0.register(id.0);
        self.1.register(id.1);
    }
    #[inline(always)]
    fn reference(&mut self, byte: u8, offset: usize, index: u32) -> Option<Self::Id> {
        let a = self.0.reference(byte, offset, index)?;
        Some((a, self.1.reference(byte, offset, index)?))
    }
    #[inline(always)]
    fn text(&mut self, payload: &[u8]) -> Option<()> {
        self.0.text(payload)?;
        self.1.text(payload)
    }
}

/// The step skim keeps nothing.
pub struct Nothing;

impl Keep for Nothing {
    type Id = ();
    const KEEPS: bool = false;
    fn new(_: usize) -> Self {
        Nothing
    }
    fn immediate(&mut self, _: u8, _: usize) {}
    fn leaf(&mut self, _: u8, _: usize, _: u32, _: u32) {}
    fn open(&mut self, _: u8, _: usize, _: u32) -> ((), u32) {
        ((), 0)
    }
    fn item(&mut self, _: u32, _: ()) {}
    fn register(&mut self, _: ()) {}
}

/// The least table of the parser's shape: a 16-byte node (offset, two payload words, type byte) per
/// object but singletons and back-references, whose 8-byte ids hold all of them; an 8-byte id per
/// item slot, a container's slots reserved when it opens; an id per flagged object. Vectors are
/// reserved as the parser's are. It keeps less than the parser (no code-object integers or records,
/// no dict items, nothing for the tolerant parse), so the parser cannot build its table for less.
pub struct Table {
    nodes: Vec<[u32; 4]>,
    items: Vec<u64>,
    refs: Vec<u64>,
}

impl Keep for Table {
    type Id = u64;
    fn new(len: usize) -> Self {
        Table {
            nodes: Vec::with_capacity(len / 32),
            items: Vec::with_capacity(len / 16),
            refs: Vec::with_capacity(len / 64),
        }
    }
    #[inline(always)]
    fn immediate(&mut self, byte: u8, offset: usize) -> u64 {
        1 << 63 | u64::from(byte) << 32 | offset as u64
    }
    #[inline(always)]
    fn leaf(&mut self, byte: u8, offset: usize, a: u32, b: u32) -> u64 {
        self.nodes.push([offset as u32, a, b, u32::from(byte)]);
        self.nodes.len() as u64 - 1
    }
    #[inline(always)]
    fn open(&mut self, byte: u8, offset: usize, n: u32) -> (u64, u32) {
        let start = self.items.len();
        if n != u32::MAX {
            self.items.resize(start + n as usize, u64::MAX);
        }
        (self.leaf(byte, offset, start as u32, n), start as u32)
    }
    #[inline(always)]
    fn item(&mut self, slot: u32, id: u64) {
        if let Some(item) = self.items.get_mut(slot as usize) {
            *item = id;
        }
    }
    #[inline(always)]
    fn register(&mut self, id: u64) {
        self.refs.push(id);
    }
}

/// The least checking that a validator cannot leave out, as CPython refuses what it checks:
/// - **back-references** to a slot no object took. A byte per flagged object, its class (string,
///   bytes, tuple, other), since a code object's fields are checked by class through references too;
///   each reference looked up. Items gather their classes, so that the lookups are used;
/// - **UTF-8** of `str` payloads (surrogates allowed, as CPython writes them).
///
/// It checks less than the validator (no field types, no slots reserved while their object is read,
/// no depth, no long digits): a validator could only beat it by checking these more cheaply than this.
pub struct Checks {
    classes: Vec<u8>,
    seen: u8,
}

/// A type byte's class, for [`Checks`].
const fn class_of(byte: u8) -> u8 {
    match byte & 0x7f {
        b'z' | b'Z' | b'a' | b'A' | b'u' | b't' => 1,
        b's' => 2,
        b')' | b'(' => 4,
        _ => 8,
    }
}

impl Keep for Checks {
    type Id = u8;
    const KEEPS: bool = false;
    const CHECKS: bool = true;
    fn new(len: usize) -> Self {
        Checks {
            classes: Vec::with_capacity(len / 64),
            seen: 0,
        }
    }
    #[inline(always)]
    fn immediate(&mut self, byte: u8, _: usize) -> u8 {
        class_of(byte)
    }
    #[inline(always)]
    fn leaf(&mut self, byte: u8, _: usize, _: u32, _: u32) -> u8 {
        class_of(byte)
    }
    #[inline(always)]
    fn open(&mut self, byte: u8, _: usize, _: u32) -> (u8, u32) {
        (class_of(byte), 0)
    }
    #[inline(always)]
    fn item(&mut self, _: u32, id: u8) {
        self.seen |= id;
    }
    #[inline(always)]
    fn register(&mut self, id: u8) {
        self.classes.push(id);
    }
    #[inline(always)]
    fn reference(&mut self, _: u8, _: usize, index: u32) -> Option<u8> {
        self.classes.get(index as usize).copied()
    }
    #[inline(always)]
    fn text(&mut self, payload: &[u8]) -> Option<()> {
        match std::str::from_utf8(payload) {
            Ok(_) => Some(()),
            Err(_) => utf8_with_surrogates(payload),
        }
    }
}

/// `Some` if `payload` is UTF-8 once its surrogates (`ED A0-BF xx`, which CPython writes with
/// `surrogatepass`) are mapped to the code points below them.
#[cold]
fn utf8_with_surrogates(payload: &[u8]) -> Option<()> {
    let mut mapped = payload.to_vec();
    for i in 1..mapped.len() {
        if mapped[i - 1] == 0xed && mapped[i] & 0xe0 == 0xa0 {
            mapped[i] &= !0x20;
        }
    }
    std::str::from_utf8(&mapped).ok().map(drop)
}

impl Drop for Checks {
    /// The classes gathered are used, so that no lookup is optimized away.
    fn drop(&mut self) {
        std::hint::black_box(self.seen);
    }
}

/// The skim with an explicit stack of open containers, as the parser keeps one: step over every object
/// (its type byte, its length, its payload), count each open container's items down, and step over a
/// code object's integer fields. It checks nothing but the bounds, and keeps what `K` keeps. Returns
/// where the object ends.
pub fn step_skim<K: Keep>(body: &[u8], runs: &[(usize, u32)]) -> Option<usize> {
    /// An open container: its id, items left in it (or in its current run of code fields), its next
    /// item slot, and for a code object the index of its next run.
    struct Open<I> {
        id: I,
        left: u32,
        slot: u32,
        run: usize,
    }
    /// What a type byte starts: a scalar, with its id, or a container to open, with its item slots,
    /// the items to read before its first run ends, and its run.
    enum Read<I> {
        Scalar(I),
        Container((u32, u32, usize)),
    }
    let int = |at: usize| Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?));
    let mut keep = K::new(body.len());
    let code_slots: u32 = runs.iter().map(|run| run.1).sum();
    // The innermost container apart, so that counting an item touches no memory; one item with no
    // run stands for the top level.
    let root = keep.immediate(0, 0);
    let mut top = Open {
        id: root,
        left: 1,
        slot: u32::MAX,
        run: NO_RUN,
    };
    let mut stack = Vec::with_capacity(64);
    let mut at = 0;
    loop {
        let start = at;
        let flagged = *body.get(at)?;
        let byte = flagged & 0x7f;
        at += 1;
        let leaf = |keep: &mut K, a: u32, b: u32| keep.leaf(flagged, start, a, b);
        let read = match byte {
            b'N' | b'T' | b'F' | b'S' | b'.' => Read::Scalar(keep.immediate(flagged, start)),
            // A dict's end: the dict is done.
            b'0' if top.run == DICT => {
                let id = top.id;
                top = stack.pop()?;
                Read::Scalar(id)
            }
            b'r' if K::CHECKS => {
                at += 4;
                Read::Scalar(keep.reference(flagged, start, int(at - 4)?)?)
            }
            b'r' => {
                at += 4;
                Read::Scalar(keep.immediate(flagged, start))
            }
            b'i' => {
                at += 4;
                Read::Scalar(leaf(&mut keep, int(at - 4)?, 0))
            }
            b'g' | b'I' => {
                at += 8;
                Read::Scalar(leaf(&mut keep, int(at - 8)?, int(at - 4)?))
            }
            b'y' => {
                at += 16;
                Read::Scalar(leaf(&mut keep, start as u32 + 1, 16))
            }
            b'z' | b'Z' => {
                let len = *body.get(at)?;
                at += 1 + usize::from(len);
                Read::Scalar(leaf(&mut keep, start as u32 + 2, u32::from(len)))
            }
            b'u' | b't' if K::CHECKS => {
                let len = int(at)?;
                let payload = body.get(at + 4..(at + 4).checked_add(len as usize)?)?;
                keep.text(payload)?;
                at += 4 + payload.len();
                Read::Scalar(leaf(&mut keep, start as u32 + 5, len))
            }
            b's' | b'u' | b'a' | b'A' | b't' => {
                let len = int(at)?;
                at += 4 + len as usize;
                Read::Scalar(leaf(&mut keep, start as u32 + 5, len))
            }
            b'l' => {
                let digits = int(at)?;
                at += 4 + 2 * (digits as i32).unsigned_abs() as usize;
                Read::Scalar(leaf(&mut keep, start as u32 + 5, digits))
            }
            b')' => {
                at += 1;
                let left = u32::from(*body.get(at - 1)?);
                Read::Container((left, left, NO_RUN))
            }
            b'(' | b'[' | b'<' | b'>' => {
                at += 4;
                let left = int(at - 4)?;
                Read::Container((left, left, NO_RUN))
            }
            b'{' => Read::Container((u32::MAX, u32::MAX, DICT)),
            b'c' => {
                let &(ints, left) = runs.first()?;
                at += ints;
                Read::Container((code_slots, left, 1))
            }
            _ => return None,
        };
        let (id, opened) = match read {
            Read::Scalar(id) => (id, None),
            Read::Container((slots, left, run)) => {
                let (id, slot) = keep.open(flagged, start, slots);
                (
                    id,
                    Some(Open {
                        id,
                        left,
                        slot,
                        run,
                    }),
                )
            }
        };
        if flagged & 0x80 != 0 {
            keep.register(id);
        }
        let mut done = id;
        if let Some(open) = opened {
            if open.left > 0 {
                stack.push(core::mem::replace(&mut top, open));
                continue;
            }
        }
        // An object is done: count it in its container, and close those it fills.
        loop {
            keep.item(top.slot, done);
            if K::KEEPS {
                top.slot = top.slot.wrapping_add(1);
            }
            top.left -= 1;
            // A code object's next run of fields, after the integers before it.
            while top.left == 0 {
                let Some(&(ints, left)) = runs.get(top.run) else {
                    break;
                };
                at += ints;
                top.run += 1;
                top.left = left;
            }
            if top.left > 0 {
                break;
            }
            done = top.id;
            match stack.pop() {
                Some(parent) => top = parent,
                None => return (at <= body.len()).then_some(at),
            }
        }
    }
}
