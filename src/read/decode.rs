//! CPython's marshal decoder (PyPy's dialect included): one loop over the input on the shared frame
//! stack, so no input can exhaust the call stack, whatever the configured depth.
//!
//! The decoder checks everything (lengths against the bytes left, references, long digits, UTF-8,
//! code-object field types) and reports what it finds to a [`Sink`]: the object table builds the arena,
//! the validating sink drops everything. On a fault, the open containers are closed as incomplete, so the
//! sink holds everything decoded before it.

use super::sink::{Outcome, Sink};
use super::stack::{Frame, NO_SLOT, Shape, Stack, UNCOUNTED};
use crate::base::error::{ErrorKind, Fault};
use crate::base::reader::Reader;
use crate::base::{number, text};
use crate::format::layout::{CodeLayout, Field, FieldKind, MAX_INTS};
use crate::format::magic::{Dialect, Python};
use crate::format::tag;

/// What the decoder needs to know beyond the bytes.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Config {
    pub max_depth: u32,
    pub python: Python,
    pub layout: CodeLayout,
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

/// The decoder's own words in a frame.
#[derive(Copy, Clone, Debug)]
struct Word {
    /// Offset of the container's type byte.
    start: u32,
    /// The type code, without the flag.
    tag: u8,
    /// For tuples and lists: `ALL_TEXT` while every item so far is text.
    items: Class,
}

/// A finished object on its way to its container: its id, class, and where it started.
#[derive(Copy, Clone)]
struct Done<I> {
    id: I,
    class: Class,
    start: u32,
}

/// What reading one object gives: the object, `None` if it opened a container, or the fault.
type Step<I> = Result<Option<Done<I>>, Fault>;

/// The reader is not among its fields but handed to each step: a reader whose address no call keeps
/// stays in registers in the loop, and each type byte's read waits on one load less.
struct Decoder<'s, S: Sink> {
    layout: CodeLayout,
    /// The layout's object fields: the item slots of each code object.
    code_slots: u32,
    /// The layout's fields, looked up once rather than for every code object.
    fields: &'static [Field],
    dialect: Dialect,
    sink: &'s mut S,
    stack: Stack<S::Id, Word>,
    refs: alloc::vec::Vec<Class>,
    interned: u32,
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
    let word = Word {
        start: start as u32,
        tag: tag::NULL,
        items: 0,
    };
    let root = Frame::new(S::PLACEHOLDER, 0, Shape::Root, word);
    let mut decoder = Decoder {
        layout: cfg.layout,
        code_slots: cfg.layout.object_count(),
        fields: cfg.layout.fields(),
        dialect: cfg.python.dialect(),
        sink,
        stack: Stack::new(root, cfg.max_depth),
        refs: alloc::vec::Vec::with_capacity(data.len() / 64),
        interned: 0,
    };
    let mut r = Reader::new(data, start);
    let run = decoder.run(&mut r);
    decoder.stack.outcome(decoder.sink, run, r.pos())
}

impl<S: Sink> Decoder<'_, S> {
    /// Reads objects and hands each to its container until the top-level one is done.
    fn run(&mut self, r: &mut Reader<'_>) -> Result<(), Fault> {
        self.stack.check_depth(r)?;
        let python2 = self.dialect.byte_strings;
        loop {
            let start = here(r);
            let byte = r.u8("type code")?;
            if python2 && byte & tag::FLAG_REF != 0 {
                return Err(unknown(byte, start));
            }
            let done = match byte & !tag::FLAG_REF {
                tag::REF if !python2 => self.back_reference(r, byte, start)?,
                tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED if !python2 => {
                    self.short_ascii(r, byte, start)?
                }
                tag::STRING => self.bytes(r, byte, start)?,
                tag::NONE | tag::FALSE | tag::TRUE | tag::STOPITER | tag::ELLIPSIS => {
                    let id = self.sink.singleton(byte, start);
                    let class = OTHER;
                    Done { id, class, start }
                }
                tag::SMALL_TUPLE if !python2 => {
                    let n = u32::from(r.u8("size")?);
                    match self.open(r, byte, start, n, Shape::Sized)? {
                        Some(done) => done,
                        None => continue,
                    }
                }
                tag::TUPLE | tag::LIST | tag::SET | tag::FROZENSET => {
                    let n = self.count(r)?;
                    match self.open(r, byte, start, n, Shape::Sized)? {
                        Some(done) => done,
                        None => continue,
                    }
                }
                tag::INT => {
                    let value = r.i32("int")?;
                    self.leaf(byte, start, value as u32, 0, OTHER)
                }
                tag::CODE => match self.open(r, byte, start, 0, Shape::Code)? {
                    Some(done) => done,
                    None => continue,
                },
                // Only Python 1.0-1.2 wrote `C`, with their own fields; CPython 1.3 and later do not
                // know the code. Read elsewhere, it would be a code object that no writer could put back
                // as the version's `c`.
                tag::OLD_CODE if self.layout == CodeLayout::V1_0 => {
                    match self.open(r, byte, start, 0, Shape::Code)? {
                        Some(done) => done,
                        None => continue,
                    }
                }
                _ => {
                    // The reader goes by value: the hot loop's own is never handed to a call.
                    let (rest, rare) = self.rare(r.clone(), byte, start);
                    *r = rest;
                    match rare? {
                        Some(done) => done,
                        None => continue,
                    }
                }
            };
            if self.deliver(r, done)? {
                return Ok(());
            }
        }
    }

    /// A back-reference (3.4+): the object in a filled slot.
    #[inline(always)]
    fn back_reference(
        &mut self,
        r: &mut Reader<'_>,
        byte: u8,
        start: u32,
    ) -> Result<Done<S::Id>, Fault> {
        let index = r.i32("reference")?;
        let class = usize::try_from(index)
            .ok()
            .and_then(|i| self.refs.get(i).copied())
            .unwrap_or(RESERVED);
        if class == RESERVED {
            return Err(bad_ref(index, r.pos()));
        }
        let id = self.sink.back_ref(byte, start, index as u32);
        Ok(Done { id, class, start })
    }

    /// A bytes object (Python 2's `str`).
    #[inline(always)]
    fn bytes(&mut self, r: &mut Reader<'_>, byte: u8, start: u32) -> Result<Done<S::Id>, Fault> {
        let (at, bytes) = self.payload(r, false, "bytes payload")?;
        let class = if self.dialect.byte_names {
            BYTES | TEXT
        } else {
            BYTES
        };
        Ok(self.leaf(byte, start, at, bytes.len() as u32, class))
    }

    /// A short ASCII string (3.4+), interned or not.
    #[inline(always)]
    fn short_ascii(
        &mut self,
        r: &mut Reader<'_>,
        byte: u8,
        start: u32,
    ) -> Result<Done<S::Id>, Fault> {
        let (at, bytes) = self.payload(r, true, "str payload")?;
        Ok(self.leaf(byte, start, at, bytes.len() as u32, TEXT))
    }

    /// The items of a tuple just opened (3.4+), read here while they are short strings,
    /// back-references or bytes, as names tuples are (nearly half of a compiled stdlib's objects are
    /// back-references), without the main loop's dispatch and delivery for each. The tuple when it is done; `None` at the first
    /// other item, which the main loop reads.
    fn names<'a>(&mut self, mut r: Reader<'a>) -> (Reader<'a>, Step<S::Id>) {
        let done = self.names_in(&mut r);
        (r, done)
    }

    /// [`Decoder::names`] on its own copy of the reader.
    #[inline(always)]
    fn names_in(&mut self, r: &mut Reader<'_>) -> Step<S::Id> {
        while let Some(done) = self.common_leaf(r)? {
            if self.sized_item(&done) {
                return Ok(self.finish());
            }
        }
        Ok(None)
    }

    /// The next object when it is one of the leaves the loops of [`Decoder::names`] and
    /// [`Decoder::code_fields`] read (3.4+): a back-reference, a short string or a bytes object;
    /// `None`, nothing read, for anything else (or the end of the input: the main loop reports it).
    #[inline(always)]
    fn common_leaf(&mut self, r: &mut Reader<'_>) -> Result<Option<Done<S::Id>>, Fault> {
        let start = here(r);
        let Some(byte) = r.peek() else {
            return Ok(None);
        };
        let done = match byte & !tag::FLAG_REF {
            tag::REF => {
                r.u8("type code")?;
                self.back_reference(r, byte, start)?
            }
            tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED => {
                r.u8("type code")?;
                self.short_ascii(r, byte, start)?
            }
            tag::STRING => {
                r.u8("type code")?;
                self.bytes(r, byte, start)?
            }
            _ => return Ok(None),
        };
        Ok(Some(done))
    }

    /// Hands `done` to the innermost container, a sized one. True when that fills it.
    #[inline(always)]
    fn sized_item(&mut self, done: &Done<S::Id>) -> bool {
        let frame = self.stack.top_mut();
        self.sink.item(frame.mark, frame.count, done.id);
        frame.count += 1;
        if done.class & TEXT == 0 {
            frame.word.items = 0;
        }
        let full = frame.count >= frame.total;
        self.stack.paid(1);
        full
    }

    /// The type codes that are rare in real files, out of the hot loop.
    #[inline(never)]
    fn rare<'a>(&mut self, mut r: Reader<'a>, byte: u8, start: u32) -> (Reader<'a>, Step<S::Id>) {
        let done = self.rare_in(&mut r, byte, start);
        (r, done)
    }

    /// [`Decoder::rare`] on its own copy of the reader.
    #[inline(always)]
    fn rare_in(&mut self, r: &mut Reader<'_>, byte: u8, start: u32) -> Step<S::Id> {
        let python2 = self.dialect.byte_strings;
        let done = match byte & !tag::FLAG_REF {
            tag::ASCII | tag::ASCII_INTERNED if !python2 => {
                let (at, bytes) = self.payload(r, false, "str payload")?;
                self.leaf(byte, start, at, bytes.len() as u32, TEXT)
            }
            tag::INTERNED if python2 => {
                let (at, bytes) = self.payload(r, false, "str payload")?;
                let done = self.leaf(byte, start, at, bytes.len() as u32, BYTES | TEXT);
                self.sink.intern(done.id);
                self.interned += 1;
                done
            }
            tag::INTERNED | tag::UNICODE => {
                let (at, bytes) = self.payload(r, false, "str payload")?;
                if let Err(bad) = text::check_utf8(bytes) {
                    let offset = at as usize + bad;
                    return Err(Fault::new(ErrorKind::InvalidUtf8, offset, "str payload"));
                }
                let class = if python2 { OTHER } else { TEXT };
                self.leaf(byte, start, at, bytes.len() as u32, class)
            }
            tag::INT64 => {
                let value = u64::from_le_bytes(r.array("int64")?);
                self.leaf(byte, start, value as u32, (value >> 32) as u32, OTHER)
            }
            tag::LONG => self.long(r, byte, start)?,
            tag::BINARY_FLOAT => {
                let bits = u64::from_le_bytes(r.array("float")?);
                self.leaf(byte, start, bits as u32, (bits >> 32) as u32, OTHER)
            }
            tag::BINARY_COMPLEX => {
                let at = here(r);
                r.take(16, "complex")?;
                self.leaf(byte, start, at, 16, OTHER)
            }
            tag::FLOAT => {
                let at = here(r);
                number::read_float_text(r, "float text")?;
                let len = here(r) - at;
                self.leaf(byte, start, at, len, OTHER)
            }
            tag::COMPLEX => {
                let at = here(r);
                number::read_float_text(r, "complex real part")?;
                number::read_float_text(r, "complex imaginary part")?;
                let len = here(r) - at;
                self.leaf(byte, start, at, len, OTHER)
            }
            tag::STRINGREF if python2 => {
                let at = r.pos();
                let index = r.i32("string reference")?;
                if index < 0 || index as u32 >= self.interned {
                    let kind = ErrorKind::InvalidReference(index as u32);
                    return Err(Fault::new(kind, at, "string reference"));
                }
                let id = self.sink.back_ref(byte, start, index as u32);
                let class = BYTES | TEXT;
                Done { id, class, start }
            }
            tag::DICT => return self.open(r, byte, start, 0, Shape::Dict),
            tag::FROZENDICT if !python2 => return self.open(r, byte, start, 0, Shape::Dict),
            tag::SLICE if !python2 => return self.open(r, byte, start, 3, Shape::Sized),
            tag::NULL => return self.null(byte, start),
            _ => return Err(unknown(byte, start)),
        };
        Ok(Some(done))
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
    fn deliver(&mut self, r: &mut Reader<'_>, mut done: Done<S::Id>) -> Result<bool, Fault> {
        loop {
            let frame = self.stack.top_mut();
            match frame.shape {
                Shape::Sized => {
                    if !self.sized_item(&done) {
                        return Ok(false);
                    }
                }
                Shape::Dict => {
                    self.sink.push(done.id);
                    frame.count += 1;
                    return Ok(false);
                }
                Shape::Code => {
                    if !self.code_field(r, done)? {
                        return Ok(false);
                    }
                }
                Shape::Root => {
                    self.stack.root = Some(done.id);
                    return Ok(true);
                }
            }
            match self.finish() {
                Some(container) => done = container,
                None => return Ok(false), // proven: a frame was open above the root
            }
        }
    }

    /// A NULL ends the dict whose key it stands for; anywhere else it is an error. The terminator goes
    /// to the sink as the dict's last item: CPython accepts it with FLAG_REF set (and registers
    /// nothing), so a byte-exact writer must know which byte ended the dict.
    fn null(&mut self, byte: u8, start: u32) -> Result<Option<Done<S::Id>>, Fault> {
        let frame = self.stack.top();
        if frame.shape == Shape::Dict && frame.count % 2 == 0 {
            let terminator = self.sink.singleton(byte, start);
            self.sink.push(terminator);
            return Ok(self.finish());
        }
        Err(Fault::new(
            ErrorKind::UnexpectedNull,
            start as usize,
            "type code",
        ))
    }

    /// Opens a container; one with nothing to read is finished at once.
    #[inline(always)]
    fn open(
        &mut self,
        r: &mut Reader<'_>,
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
            self.stack.claim(total, 1, r)?;
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
        let word = Word {
            start,
            tag: code,
            items: ALL_TEXT,
        };
        let mut frame = Frame::new(id, mark, shape, word);
        // A dict is counted by its NULL, never full before it.
        frame.total = if shape == Shape::Dict {
            UNCOUNTED
        } else {
            total
        };
        frame.slot = slot;
        frame.fields = if layout == self.layout {
            self.fields
        } else {
            layout.fields()
        };
        self.stack.open(frame);
        let full = match shape {
            Shape::Sized => total == 0,
            Shape::Dict | Shape::Root => false,
            Shape::Code => {
                let (rest, full) = self.code_ints(r.clone());
                *r = rest;
                full?
            }
        };
        if full {
            return Ok(self.finish());
        }
        self.stack.check_nesting(r)?;
        if shape == Shape::Code {
            let (rest, full) = self.code_fields(r.clone());
            *r = rest;
            if full? {
                return Ok(self.finish());
            }
        } else if matches!(code, tag::TUPLE | tag::SMALL_TUPLE) && !self.dialect.byte_strings {
            let (rest, done) = self.names(r.clone());
            *r = rest;
            return done;
        }
        Ok(None)
    }

    /// Hands a finished object to the innermost code object. Returns true when it has all its fields.
    fn code_field(&mut self, r: &mut Reader<'_>, done: Done<S::Id>) -> Result<bool, Fault> {
        self.accept_field(done)?;
        let (rest, full) = self.code_fields(r.clone());
        *r = rest;
        full
    }

    /// Gives the innermost code object its next field, `done`, if it fits.
    #[inline(always)]
    fn accept_field(&mut self, done: Done<S::Id>) -> Result<(), Fault> {
        let kind = self.stack.top().next_field().map(|field| field.kind);
        self.accept_as(kind, done)
    }

    /// [`Decoder::accept_field`] when the next field's kind is known.
    #[inline(always)]
    fn accept_as(&mut self, kind: Option<FieldKind>, done: Done<S::Id>) -> Result<(), Fault> {
        if let Some(kind) = kind {
            if !fits(kind, done.class) {
                let kind = ErrorKind::WrongFieldType {
                    expected: kind.expected(),
                };
                return Err(Fault::new(kind, done.start as usize, "code field"));
            }
        }
        let frame = self.stack.top_mut();
        self.sink.item(frame.mark, frame.count, done.id);
        frame.field += 1;
        frame.count += 1;
        Ok(())
    }

    /// Reads the innermost code object's next fields here, from its layout, while they are integers,
    /// bytes, short strings or back-references (3.4+), without the main loop's dispatch and delivery
    /// for each; stops at a container, which the main loop reads. Returns true when the code object
    /// has all its fields.
    fn code_fields<'a>(&mut self, mut r: Reader<'a>) -> (Reader<'a>, Result<bool, Fault>) {
        let full = self.code_fields_in(&mut r);
        (r, full)
    }

    /// [`Decoder::code_fields`] on its own copy of the reader.
    #[inline(always)]
    fn code_fields_in(&mut self, r: &mut Reader<'_>) -> Result<bool, Fault> {
        loop {
            let kind = match self.stack.top().next_field() {
                None => return Ok(true),
                Some(next) if next.kind.is_int() => {
                    let (rest, full) = self.code_ints(r.clone());
                    *r = rest;
                    if full? {
                        return Ok(true);
                    }
                    continue;
                }
                Some(_) if self.dialect.byte_strings => return Ok(false),
                Some(next) => next.kind,
            };
            let Some(done) = self.common_leaf(r)? else {
                return Ok(false);
            };
            self.accept_as(Some(kind), done)?;
        }
    }

    /// Reads the integer fields that come next in the innermost code object, and hands them to the sink
    /// together (those read before a fault too). Returns true when the code object has all its fields.
    /// The reader goes by value, as to [`Decoder::rare`].
    fn code_ints<'a>(&mut self, mut r: Reader<'a>) -> (Reader<'a>, Result<bool, Fault>) {
        let full = self.code_ints_in(&mut r);
        (r, full)
    }

    /// [`Decoder::code_ints`] on its own copy of the reader.
    #[inline(always)]
    fn code_ints_in(&mut self, r: &mut Reader<'_>) -> Result<bool, Fault> {
        let frame = self.stack.top_mut();
        let mut values = [0; MAX_INTS];
        let mut n = 0;
        let mut result = Ok(true);
        for field in frame
            .fields
            .get(usize::from(frame.field)..)
            .unwrap_or_default()
        {
            let value = match field.kind {
                FieldKind::Int16 => r.i16("int16").map(i32::from),
                FieldKind::Int32 => r.i32("int32"),
                _ => {
                    result = Ok(false);
                    break;
                }
            };
            // A layout has at most MAX_INTS integer fields (a test in `layout` checks).
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
    #[inline(always)]
    fn finish(&mut self) -> Option<Done<S::Id>> {
        let frame = self.stack.finish(self.sink)?;
        let class = match frame.word.tag {
            tag::TUPLE | tag::SMALL_TUPLE => TUPLE | frame.word.items,
            tag::LIST => LIST | frame.word.items,
            _ => OTHER,
        };
        if let Some(slot) = self.refs.get_mut(frame.slot as usize) {
            *slot = class;
        }
        Some(Done {
            id: frame.id,
            class,
            start: frame.word.start,
        })
    }

    /// An `i32` item count. Negative is an error; `open` checks it against the bytes left.
    #[inline(always)]
    fn count(&mut self, r: &mut Reader<'_>) -> Result<u32, Fault> {
        let n = r.i32("size")?;
        u32::try_from(n).map_err(|_| {
            let kind = ErrorKind::BadLength(i64::from(n));
            Fault::new(kind, r.pos() - 4, "size")
        })
    }

    /// A length-prefixed payload (`u8` length for the short forms); returns its offset and bytes.
    #[inline(always)]
    fn payload<'a>(
        &mut self,
        r: &mut Reader<'a>,
        short: bool,
        what: &'static str,
    ) -> Result<(u32, &'a [u8]), Fault> {
        let n = if short {
            usize::from(r.u8("length")?)
        } else {
            let n = r.i32("length")?;
            usize::try_from(n).map_err(|_| {
                Fault::new(ErrorKind::BadLength(i64::from(n)), r.pos() - 4, "length")
            })?
        };
        let at = here(r);
        Ok((at, r.take(n, what)?))
    }

    /// A long: signed digit count, then that many 15-bit digits, checked as CPython checks them.
    fn long(&mut self, r: &mut Reader<'_>, byte: u8, start: u32) -> Result<Done<S::Id>, Fault> {
        let at = r.pos();
        let n = r.i32("long size")?;
        if n == i32::MIN {
            let kind = ErrorKind::BadLength(i64::from(n));
            return Err(Fault::new(kind, at, "long size"));
        }
        let digits_at = here(r);
        let count = n.unsigned_abs() as usize;
        let digits = r.take(count * 2, "long digits")?;
        if let Err((i, kind)) = number::check_long_digits(digits) {
            return Err(Fault::new(kind, digits_at as usize + 2 * i, "long digits"));
        }
        Ok(self.leaf(byte, start, digits_at, n as u32, OTHER))
    }
}

/// The current offset as a `u32`; `decode` refused inputs that do not fit.
#[inline(always)]
fn here(r: &Reader<'_>) -> u32 {
    r.pos() as u32
}

// The cold paths take values, not the decoder: a reader whose address no call takes stays in registers.

#[cold]
fn unknown(byte: u8, start: u32) -> Fault {
    Fault::new(
        ErrorKind::UnknownTypeCode(byte),
        start as usize,
        "type code",
    )
}

/// A back-reference to `index`, read before `pos`, that names no filled slot.
#[cold]
fn bad_ref(index: i32, pos: usize) -> Fault {
    let kind = ErrorKind::InvalidReference(index as u32);
    Fault::new(kind, pos - 4, "reference")
}

/// Whether an object of `class` may stand in a field of `kind`: it has one of the classes the field
/// accepts, and all it requires. Each kind's pair is a constant, so the check is a table lookup and two
/// masks, with no branch on the kind.
fn fits(kind: FieldKind, class: Class) -> bool {
    let (any, all) = match kind {
        FieldKind::Int16 | FieldKind::Int32 => (0, 0),
        // Only the other implementations' layouts have these; their readers check their own fields.
        FieldKind::UInt8 | FieldKind::UInt16 | FieldKind::UInt32 | FieldKind::Dict => (0, 0),
        FieldKind::Bytes => (BYTES, 0),
        FieldKind::Text => (TEXT, 0),
        FieldKind::Tuple => (TUPLE, 0),
        FieldKind::Names => (TUPLE, ALL_TEXT),
        FieldKind::Sequence => (TUPLE | LIST, 0),
        FieldKind::SequenceOfNames => (TUPLE | LIST, ALL_TEXT),
    };
    (class & any != 0) & (class & all == all)
}
