//! The marshal decoder: one loop over the input with an explicit stack, so no input can exhaust the call
//! stack, whatever the configured depth.
//!
//! The decoder checks everything (lengths against the bytes left, references, long digits, UTF-8,
//! code-object field types) and reports what it finds to a [`Sink`]: the object table builds the arena,
//! the validating sink drops everything. On a fault, the open containers are closed as incomplete, so the
//! sink holds everything decoded before it.

use crate::code::{CodeLayout, Field, FieldKind, MAX_INTS};
use crate::error::{Error, ErrorKind, Fault, Step};
use crate::magic::{Dialect, Python};
use crate::number;
use crate::parse::MAX_INPUT;
use crate::reader::Reader;
use crate::text;
use alloc::vec::Vec;

/// Type codes, without the FLAG_REF bit.
pub(crate) mod tag {
    pub const NULL: u8 = b'0';
    pub const NONE: u8 = b'N';
    pub const FALSE: u8 = b'F';
    pub const TRUE: u8 = b'T';
    pub const STOPITER: u8 = b'S';
    pub const ELLIPSIS: u8 = b'.';
    pub const INT: u8 = b'i';
    pub const INT64: u8 = b'I';
    pub const LONG: u8 = b'l';
    pub const FLOAT: u8 = b'f';
    pub const BINARY_FLOAT: u8 = b'g';
    pub const COMPLEX: u8 = b'x';
    pub const BINARY_COMPLEX: u8 = b'y';
    pub const STRING: u8 = b's';
    pub const INTERNED: u8 = b't';
    pub const STRINGREF: u8 = b'R';
    pub const UNICODE: u8 = b'u';
    pub const ASCII: u8 = b'a';
    pub const ASCII_INTERNED: u8 = b'A';
    pub const SHORT_ASCII: u8 = b'z';
    pub const SHORT_ASCII_INTERNED: u8 = b'Z';
    pub const TUPLE: u8 = b'(';
    pub const SMALL_TUPLE: u8 = b')';
    pub const LIST: u8 = b'[';
    pub const DICT: u8 = b'{';
    pub const SET: u8 = b'<';
    pub const FROZENSET: u8 = b'>';
    pub const CODE: u8 = b'c';
    pub const OLD_CODE: u8 = b'C';
    pub const REF: u8 = b'r';
    pub const SLICE: u8 = b':';
    pub const FROZENDICT: u8 = b'}';
    /// Set on a type byte to register the object in the reference table (marshal 3+).
    pub const FLAG_REF: u8 = 0x80;
}

/// What the decoder needs to know beyond the bytes.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Config {
    pub max_depth: u32,
    pub python: Python,
    pub layout: CodeLayout,
}

/// Where the decoder reports what it decodes. `Id` names a decoded object to the sink.
///
/// Containers come in two shapes: those whose item count is known when they open (tuples, lists, sets,
/// frozensets, slices, and code objects, whose layout says how many of their fields are objects) get
/// their item slots at `open` and receive items with `item`; dicts receive theirs with `push`.
pub(crate) trait Sink {
    type Id: Copy;
    /// `N F T S .` and NULL: no payload, never registered.
    fn singleton(&mut self, byte: u8) -> Self::Id;
    /// A scalar, with its two payload words (see the object table for their meaning per type).
    fn leaf(&mut self, byte: u8, offset: u32, a: u32, b: u32) -> Self::Id;
    /// An `r` back-reference to slot `index`, already checked (`byte` is `r`, perhaps flagged).
    fn back_ref(&mut self, byte: u8, index: u32) -> Self::Id;
    /// A container, before its items: `count` item slots (a code object's object fields), 0 for dicts.
    /// Returns its id and a mark for `item` and `close`.
    fn open(&mut self, byte: u8, offset: u32, count: u32, layout: CodeLayout) -> (Self::Id, u32);
    /// Item `index` of the sized container or code object opened with `mark`.
    fn item(&mut self, mark: u32, index: u32, id: Self::Id);
    /// The next key or value of the innermost dict; a complete dict's last push is its terminating NULL
    /// (the singleton of the byte as stored).
    fn push(&mut self, id: Self::Id);
    /// The next integer fields of the code object `code`.
    fn code_ints(&mut self, code: Self::Id, values: &[i32]);
    /// The end of a container with `count` items; `complete` is false when a fault cut it short.
    fn close(&mut self, id: Self::Id, mark: u32, count: u32, complete: bool);
    /// The next reference-table slot goes to `id`.
    fn register(&mut self, id: Self::Id);
    /// The next Python 2 interned-string slot goes to `id`.
    fn intern(&mut self, id: Self::Id);
}

/// What the decoder remembers about a value for checking code-object fields, per reference slot too.
type Class = u8;
/// A reference slot that is reserved but not filled yet (code, frozenset, slice under construction).
const RESERVED: Class = 0;
const OTHER: Class = 1;
const BYTES: Class = 2;
const TEXT: Class = 4;
const TUPLE: Class = 8;
const LIST: Class = 16;
/// A tuple or list whose items are all `TEXT`.
const ALL_TEXT: Class = 32;

const NO_SLOT: u32 = u32::MAX;

/// How a container receives its items.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Shape {
    /// Tuples, lists, sets, frozensets, slices: a known count.
    Sized,
    /// Dicts and frozendicts: pairs until a NULL key.
    Dict,
    /// Code objects: a layout's fields.
    Code,
    /// Not a container: where the top-level object goes.
    Root,
}

/// An open container.
struct Frame<I> {
    id: I,
    mark: u32,
    /// Offset of the type byte.
    start: u32,
    /// Items expected (sized containers).
    total: u32,
    /// Items read so far.
    count: u32,
    /// The reference slot to finish when the container closes.
    slot: u32,
    shape: Shape,
    /// The type code, without the flag.
    tag: u8,
    /// For tuples and lists: `ALL_TEXT` while every item so far is text.
    items: Class,
    /// For code objects: the layout's fields, and the index of the one being read.
    field: u8,
    fields: &'static [Field],
}

/// A finished object on its way to its container: its id, class, and where it started.
#[derive(Copy, Clone)]
struct Done<I> {
    id: I,
    class: Class,
    start: u32,
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

struct Decoder<'a, 's, S: Sink> {
    r: Reader<'a>,
    max_depth: usize,
    layout: CodeLayout,
    /// The layout's object fields: the item slots of each code object.
    code_slots: u32,
    dialect: Dialect,
    sink: &'s mut S,
    /// The innermost open container, kept apart from the others because every object goes to it.
    top: Frame<S::Id>,
    /// The other open containers, outermost first, above a `Root` frame.
    frames: Vec<Frame<S::Id>>,
    /// Items still owed by the open sized containers, and how many of those are open: each owes at
    /// least one byte per item not yet started, which bounds what containers may claim.
    owed: usize,
    sized_open: usize,
    refs: Vec<Class>,
    interned: u32,
    root: Option<S::Id>,
}

/// Decodes one object from `data` at `start` into `sink`.
pub(crate) fn decode<S: Sink>(
    data: &[u8],
    start: usize,
    cfg: Config,
    sink: &mut S,
) -> Outcome<S::Id> {
    if let Some(outcome) = Outcome::too_large(data, start) {
        return outcome;
    }
    let root = Frame {
        id: sink.singleton(tag::NULL),
        mark: 0,
        start: start as u32,
        total: 0,
        count: 0,
        slot: NO_SLOT,
        shape: Shape::Root,
        tag: tag::NULL,
        items: 0,
        field: 0,
        fields: &[],
    };
    let mut decoder = Decoder {
        r: Reader::new(data, start),
        top: root,
        max_depth: cfg.max_depth as usize,
        layout: cfg.layout,
        code_slots: cfg.layout.object_count(),
        dialect: cfg.python.dialect(),
        sink,
        // Compiled code rarely nests deeper than this.
        frames: Vec::with_capacity(32),
        owed: 0,
        sized_open: 0,
        refs: Vec::with_capacity(data.len() / 64),
        interned: 0,
        root: None,
    };
    let error = match decoder.run() {
        Ok(()) => None,
        Err(fault) => Some(decoder.fail(fault)),
    };
    Outcome {
        root: decoder.root,
        end: decoder.r.pos(),
        error,
    }
}

impl<'a, S: Sink> Decoder<'a, '_, S> {
    /// Reads objects and hands each to its container until the top-level one is done.
    fn run(&mut self) -> Result<(), Fault> {
        if self.max_depth == 0 {
            return Err(self.depth_fault());
        }
        let python2 = self.dialect.byte_strings;
        loop {
            let start = self.here();
            let byte = self.r.u8("type code")?;
            if python2 && byte & tag::FLAG_REF != 0 {
                return Err(self.unknown(byte, start));
            }
            let done = match byte & !tag::FLAG_REF {
                tag::REF if !python2 => {
                    let index = self.r.i32("reference")?;
                    let class = usize::try_from(index)
                        .ok()
                        .and_then(|i| self.refs.get(i).copied())
                        .unwrap_or(RESERVED);
                    if class == RESERVED {
                        return Err(self.bad_ref(index));
                    }
                    let id = self.sink.back_ref(byte, index as u32);
                    Done { id, class, start }
                }
                tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED if !python2 => {
                    let (at, bytes) = self.payload(true, "str payload")?;
                    self.leaf(byte, start, at, bytes.len() as u32, TEXT)
                }
                tag::STRING => {
                    let (at, bytes) = self.payload(false, "bytes payload")?;
                    let class = if self.dialect.byte_names {
                        BYTES | TEXT
                    } else {
                        BYTES
                    };
                    self.leaf(byte, start, at, bytes.len() as u32, class)
                }
                tag::NONE | tag::FALSE | tag::TRUE | tag::STOPITER | tag::ELLIPSIS => {
                    let id = self.sink.singleton(byte);
                    let class = OTHER;
                    Done { id, class, start }
                }
                tag::SMALL_TUPLE if !python2 => {
                    let n = u32::from(self.r.u8("size")?);
                    match self.open(byte, start, n, Shape::Sized)? {
                        Some(done) => done,
                        None => continue,
                    }
                }
                tag::TUPLE | tag::LIST | tag::SET | tag::FROZENSET => {
                    let n = self.count()?;
                    match self.open(byte, start, n, Shape::Sized)? {
                        Some(done) => done,
                        None => continue,
                    }
                }
                tag::INT => {
                    let value = self.r.i32("int")?;
                    self.leaf(byte, start, value as u32, 0, OTHER)
                }
                tag::CODE => match self.open(byte, start, 0, Shape::Code)? {
                    Some(done) => done,
                    None => continue,
                },
                // Only Python 1.0-1.2 wrote `C`, with their own fields; CPython 1.3 and later do not
                // know the code. Read elsewhere, it would be a code object that no writer could put back
                // as the version's `c`.
                tag::OLD_CODE if self.layout == CodeLayout::V1_0 => {
                    match self.open(byte, start, 0, Shape::Code)? {
                        Some(done) => done,
                        None => continue,
                    }
                }
                _ => match self.rare(byte, start)? {
                    Some(done) => done,
                    None => continue,
                },
            };
            if self.deliver(done)? {
                return Ok(());
            }
        }
    }

    /// The type codes that are rare in real files, out of the hot loop.
    #[inline(never)]
    fn rare(&mut self, byte: u8, start: u32) -> Result<Option<Done<S::Id>>, Fault> {
        let python2 = self.dialect.byte_strings;
        let done = match byte & !tag::FLAG_REF {
            tag::ASCII | tag::ASCII_INTERNED if !python2 => {
                let (at, bytes) = self.payload(false, "str payload")?;
                self.leaf(byte, start, at, bytes.len() as u32, TEXT)
            }
            tag::INTERNED if python2 => {
                let (at, bytes) = self.payload(false, "str payload")?;
                let done = self.leaf(byte, start, at, bytes.len() as u32, BYTES | TEXT);
                self.sink.intern(done.id);
                self.interned += 1;
                done
            }
            tag::INTERNED | tag::UNICODE => {
                let (at, bytes) = self.payload(false, "str payload")?;
                if let Err(bad) = text::check_utf8(bytes) {
                    let offset = at as usize + bad;
                    return Err(Fault::new(ErrorKind::InvalidUtf8, offset, "str payload"));
                }
                let class = if python2 { OTHER } else { TEXT };
                self.leaf(byte, start, at, bytes.len() as u32, class)
            }
            tag::INT64 => {
                let value = u64::from_le_bytes(self.r.array("int64")?);
                self.leaf(byte, start, value as u32, (value >> 32) as u32, OTHER)
            }
            tag::LONG => self.long(byte, start)?,
            tag::BINARY_FLOAT => {
                let bits = u64::from_le_bytes(self.r.array("float")?);
                self.leaf(byte, start, bits as u32, (bits >> 32) as u32, OTHER)
            }
            tag::BINARY_COMPLEX => {
                let at = self.here();
                self.r.take(16, "complex")?;
                self.leaf(byte, start, at, 16, OTHER)
            }
            tag::FLOAT => {
                let at = self.here();
                number::read_float_text(&mut self.r, "float text")?;
                let len = self.here() - at;
                self.leaf(byte, start, at, len, OTHER)
            }
            tag::COMPLEX => {
                let at = self.here();
                number::read_float_text(&mut self.r, "complex real part")?;
                number::read_float_text(&mut self.r, "complex imaginary part")?;
                let len = self.here() - at;
                self.leaf(byte, start, at, len, OTHER)
            }
            tag::STRINGREF if python2 => {
                let at = self.r.pos();
                let index = self.r.i32("string reference")?;
                if index < 0 || index as u32 >= self.interned {
                    let kind = ErrorKind::InvalidReference(index as u32);
                    return Err(Fault::new(kind, at, "string reference"));
                }
                let id = self.sink.leaf(byte, start, index as u32, 0);
                let class = BYTES | TEXT;
                Done { id, class, start }
            }
            tag::DICT => return self.open(byte, start, 0, Shape::Dict),
            tag::FROZENDICT if !python2 => return self.open(byte, start, 0, Shape::Dict),
            tag::SLICE if !python2 => return self.open(byte, start, 3, Shape::Sized),
            tag::NULL => return self.null(byte, start),
            _ => return Err(self.unknown(byte, start)),
        };
        Ok(Some(done))
    }

    /// The current offset as a `u32`; `decode` refused inputs that do not fit.
    #[inline(always)]
    fn here(&self) -> u32 {
        self.r.pos() as u32
    }

    /// A scalar: its node, and its reference slot if its type byte is flagged.
    #[inline(always)]
    fn leaf(&mut self, byte: u8, start: u32, a: u32, b: u32, class: Class) -> Done<S::Id> {
        let id = self.sink.leaf(byte, start, a, b);
        if byte & tag::FLAG_REF != 0 {
            self.refs.push(class);
            self.sink.register(id);
        }
        Done { id, class, start }
    }

    /// Hands a finished object to its container, and each container this fills to its own. True when
    /// the top-level object is done.
    #[inline(always)]
    fn deliver(&mut self, mut done: Done<S::Id>) -> Result<bool, Fault> {
        loop {
            let frame = &mut self.top;
            match frame.shape {
                Shape::Sized => {
                    self.sink.item(frame.mark, frame.count, done.id);
                    frame.count += 1;
                    self.owed -= 1;
                    if done.class & TEXT == 0 {
                        frame.items = 0;
                    }
                    if frame.count < frame.total {
                        return Ok(false);
                    }
                }
                Shape::Dict => {
                    self.sink.push(done.id);
                    frame.count += 1;
                    return Ok(false);
                }
                Shape::Code => {
                    if !self.code_field(done)? {
                        return Ok(false);
                    }
                }
                Shape::Root => {
                    self.root = Some(done.id);
                    return Ok(true);
                }
            }
            match self.finish() {
                Some(container) => done = container,
                None => return Ok(false), // proven: a frame was open above
            }
        }
    }

    #[cold]
    fn unknown(&self, byte: u8, start: u32) -> Fault {
        Fault::new(
            ErrorKind::UnknownTypeCode(byte),
            start as usize,
            "type code",
        )
    }

    #[cold]
    fn bad_ref(&self, index: i32) -> Fault {
        let kind = ErrorKind::InvalidReference(index as u32);
        Fault::new(kind, self.r.pos() - 4, "reference")
    }

    /// Nesting too deep, at the type byte that would go one level deeper.
    #[cold]
    fn depth_fault(&self) -> Fault {
        let kind = ErrorKind::DepthLimit(self.max_depth as u32);
        Fault::new(kind, self.r.pos(), "type code")
    }

    /// A NULL ends the dict whose key it stands for; anywhere else it is an error. The terminator goes
    /// to the sink as the dict's last item: CPython accepts it with FLAG_REF set (and registers
    /// nothing), so a byte-exact writer must know which byte ended the dict.
    fn null(&mut self, byte: u8, start: u32) -> Result<Option<Done<S::Id>>, Fault> {
        match &self.top {
            frame if frame.shape == Shape::Dict && frame.count % 2 == 0 => {
                let terminator = self.sink.singleton(byte);
                self.sink.push(terminator);
                Ok(self.finish())
            }
            _ => Err(Fault::new(
                ErrorKind::UnexpectedNull,
                start as usize,
                "type code",
            )),
        }
    }

    /// Opens a container; an empty one is finished at once.
    ///
    /// The depth limit is checked here rather than for every object: the items of a container at the
    /// limit would be one level too deep, and CPython counts the level of each object, leaves included.
    #[inline(always)]
    fn open(
        &mut self,
        byte: u8,
        start: u32,
        total: u32,
        shape: Shape,
    ) -> Result<Option<Done<S::Id>>, Fault> {
        let code = byte & !tag::FLAG_REF;
        let layout = match code {
            tag::OLD_CODE => CodeLayout::V1_0,
            tag::CODE if self.layout == CodeLayout::Foreign => {
                let kind = ErrorKind::ForeignFormat;
                return Err(Fault::new(kind, start as usize, "code"));
            }
            _ => self.layout,
        };
        if shape == Shape::Sized {
            // Each open sized container is reading one item now; the others it owes, and the new
            // container's items, each need at least a byte.
            let needed = total as usize + self.owed.saturating_sub(self.sized_open);
            if needed > self.r.left() {
                return Err(self.r.short(needed, "items"));
            }
            self.owed += total as usize;
            self.sized_open += 1;
        }
        let slots = match shape {
            Shape::Code => self.code_slots,
            _ => total,
        };
        let (id, mark) = self.sink.open(byte, start, slots, layout);
        let mut slot = NO_SLOT;
        if byte & tag::FLAG_REF != 0 {
            slot = self.refs.len() as u32;
            // Mutable containers (and the empty frozenset) exist before their items and can be referred
            // to from inside; the others only once built, as CPython fills their slot last.
            let early = match code {
                tag::TUPLE | tag::SMALL_TUPLE => TUPLE,
                tag::LIST => LIST,
                tag::DICT | tag::SET => OTHER,
                tag::FROZENSET if total == 0 => OTHER,
                _ => RESERVED,
            };
            self.refs.push(early);
            self.sink.register(id);
        }
        let parent = core::mem::replace(
            &mut self.top,
            Frame {
                id,
                mark,
                start,
                total,
                count: 0,
                slot,
                shape,
                tag: code,
                items: ALL_TEXT,
                field: 0,
                fields: layout.fields(),
            },
        );
        self.frames.push(parent);
        let full = match shape {
            Shape::Sized => total == 0,
            Shape::Dict | Shape::Root => false,
            Shape::Code => self.code_ints()?,
        };
        if full {
            return Ok(self.finish());
        }
        if self.frames.len() >= self.max_depth {
            return Err(self.depth_fault());
        }
        Ok(None)
    }

    /// Hands a finished object to the innermost code object. Returns true when it has all its fields.
    fn code_field(&mut self, done: Done<S::Id>) -> Result<bool, Fault> {
        let frame = &mut self.top;
        if let Some(field) = frame.fields.get(usize::from(frame.field)) {
            if !fits(field.kind, done.class) {
                let kind = ErrorKind::WrongFieldType {
                    expected: field.kind.expected(),
                };
                return Err(Fault::new(kind, done.start as usize, "code field"));
            }
        }
        self.sink.item(frame.mark, frame.count, done.id);
        frame.field += 1;
        frame.count += 1;
        match frame.fields.get(usize::from(frame.field)) {
            None => Ok(true),
            Some(next) if !next.kind.is_int() => Ok(false),
            Some(_) => self.code_ints(),
        }
    }

    /// Reads the integer fields that come next in the innermost code object, and hands them to the sink
    /// together (those read before a fault too). Returns true when the code object has all its fields.
    fn code_ints(&mut self) -> Result<bool, Fault> {
        let frame = &mut self.top;
        let mut values = [0; MAX_INTS];
        let mut n = 0;
        let mut result = Ok(true);
        for field in frame
            .fields
            .get(usize::from(frame.field)..)
            .unwrap_or_default()
        {
            let value = match field.kind {
                FieldKind::Int16 => self.r.i16("int16").map(i32::from),
                FieldKind::Int32 => self.r.i32("int32"),
                _ => {
                    result = Ok(false);
                    break;
                }
            };
            // A layout has at most MAX_INTS integer fields (a test in `code` checks).
            match (value, values.get_mut(n)) {
                (Ok(value), Some(slot)) => *slot = value,
                (Ok(_), None) => {}
                (Err(fault), _) => {
                    result = Err(fault);
                    break;
                }
            }
            n += 1;
        }
        frame.field += n as u8;
        self.sink
            .code_ints(frame.id, values.get(..n).unwrap_or_default());
        result
    }

    /// Closes the innermost container, which has all its items; its parent becomes the innermost.
    /// `None` if no container is open.
    fn finish(&mut self) -> Option<Done<S::Id>> {
        let parent = self.frames.pop()?;
        let frame = core::mem::replace(&mut self.top, parent);
        if frame.shape == Shape::Sized {
            self.sized_open -= 1;
        }
        self.sink.close(frame.id, frame.mark, frame.count, true);
        let class = match frame.tag {
            tag::TUPLE | tag::SMALL_TUPLE => TUPLE | frame.items,
            tag::LIST => LIST | frame.items,
            _ => OTHER,
        };
        if let Some(slot) = self.refs.get_mut(frame.slot as usize) {
            *slot = class;
        }
        Some(Done {
            id: frame.id,
            class,
            start: frame.start,
        })
    }

    /// Closes every open container as incomplete, so the sink keeps what was decoded, and builds the
    /// error with the path the stack describes.
    #[cold]
    fn fail(&mut self, fault: Fault) -> Error {
        let path = self
            .frames
            .iter()
            .chain([&self.top])
            .filter_map(step)
            .collect();
        while let Some(parent) = self.frames.pop() {
            let frame = core::mem::replace(&mut self.top, parent);
            self.sink.close(frame.id, frame.mark, frame.count, false);
            let parent = &mut self.top;
            match parent.shape {
                Shape::Sized | Shape::Code => {
                    self.sink.item(parent.mark, parent.count, frame.id);
                    parent.count += 1;
                }
                Shape::Dict => self.sink.push(frame.id),
                Shape::Root => self.root = Some(frame.id),
            }
        }
        fault.at(path)
    }

    /// An `i32` item count. Negative is an error; `open` checks it against the bytes left.
    #[inline(always)]
    fn count(&mut self) -> Result<u32, Fault> {
        let n = self.r.i32("size")?;
        u32::try_from(n).map_err(|_| {
            let kind = ErrorKind::BadLength(i64::from(n));
            Fault::new(kind, self.r.pos() - 4, "size")
        })
    }

    /// A length-prefixed payload (`u8` length for the short forms); returns its offset and bytes.
    #[inline(always)]
    fn payload(&mut self, short: bool, what: &'static str) -> Result<(u32, &'a [u8]), Fault> {
        let n = if short {
            usize::from(self.r.u8("length")?)
        } else {
            let n = self.r.i32("length")?;
            usize::try_from(n).map_err(|_| {
                Fault::new(
                    ErrorKind::BadLength(i64::from(n)),
                    self.r.pos() - 4,
                    "length",
                )
            })?
        };
        let at = self.here();
        Ok((at, self.r.take(n, what)?))
    }

    /// A long: signed digit count, then that many 15-bit digits, checked as CPython checks them.
    fn long(&mut self, byte: u8, start: u32) -> Result<Done<S::Id>, Fault> {
        let at = self.r.pos();
        let n = self.r.i32("long size")?;
        if n == i32::MIN {
            let kind = ErrorKind::BadLength(i64::from(n));
            return Err(Fault::new(kind, at, "long size"));
        }
        let digits_at = self.here();
        let count = n.unsigned_abs() as usize;
        let digits = self.r.take(count * 2, "long digits")?;
        for (i, digit) in number::long_digits(digits).enumerate() {
            let offset = digits_at as usize + 2 * i;
            if digit > 0x7fff {
                let kind = ErrorKind::BadLongDigit(digit);
                return Err(Fault::new(kind, offset, "long digits"));
            }
            if digit == 0 && i + 1 == count {
                let kind = ErrorKind::UnnormalizedLong;
                return Err(Fault::new(kind, offset, "long digits"));
            }
        }
        Ok(self.leaf(byte, start, digits_at, n as u32, OTHER))
    }
}

/// Whether an object of `class` may stand in a field of `kind`.
fn fits(kind: FieldKind, class: Class) -> bool {
    match kind {
        FieldKind::Int16 | FieldKind::Int32 => false,
        // Only the other implementations' layouts have these; their readers check their own fields.
        FieldKind::UInt8 | FieldKind::UInt16 | FieldKind::UInt32 | FieldKind::Dict => false,
        FieldKind::Bytes => class & BYTES != 0,
        FieldKind::Text => class & TEXT != 0,
        FieldKind::Tuple => class & TUPLE != 0,
        FieldKind::Names => class & TUPLE != 0 && class & ALL_TEXT != 0,
        FieldKind::Sequence => class & (TUPLE | LIST) != 0,
        FieldKind::SequenceOfNames => class & (TUPLE | LIST) != 0 && class & ALL_TEXT != 0,
    }
}

/// The path step an open container contributes: the item or field being read in it.
fn step<I>(frame: &Frame<I>) -> Option<Step> {
    match frame.shape {
        Shape::Code => frame
            .fields
            .get(usize::from(frame.field))
            .map(|field| Step::Field(field.name)),
        Shape::Dict if frame.count % 2 == 0 => Some(Step::Key(frame.count / 2)),
        Shape::Dict => Some(Step::Value(frame.count / 2)),
        Shape::Sized => Some(Step::Index(frame.count)),
        Shape::Root => None,
    }
}
