//! The marshal decoder: one loop over the input with an explicit stack, so no input can exhaust the call
//! stack, whatever the configured depth.
//!
//! The decoder checks everything (lengths against the bytes left, references, long digits, UTF-8,
//! code-object field types) and reports what it finds to a [`Sink`]: the object table builds the arena,
//! the validating sink drops everything. On a fault, the open containers are closed as incomplete, so the
//! sink holds everything decoded before it.

use crate::code::{CodeLayout, FieldKind};
use crate::error::{Error, ErrorKind, Fault, Step};
use crate::magic::Python;
use crate::number;
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
pub(crate) trait Sink {
    type Id: Copy;
    /// `N F T S .` and NULL: no payload, never registered.
    fn singleton(&mut self, byte: u8) -> Self::Id;
    /// A scalar, with its two payload words (see the object table for their meaning per type).
    fn leaf(&mut self, byte: u8, offset: u32, a: u32, b: u32) -> Self::Id;
    /// A container, before its items; returns its id and a mark for `close`.
    fn open(&mut self, byte: u8, offset: u32, layout: CodeLayout) -> (Self::Id, u32);
    /// The next item of the innermost open container.
    fn child(&mut self, id: Self::Id);
    /// The next integer field of the code object `code`.
    fn code_int(&mut self, code: Self::Id, value: i32);
    /// The end of a container; `complete` is false when a fault cut it short.
    fn close(&mut self, id: Self::Id, mark: u32, complete: bool);
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

/// An open container.
struct Frame<I> {
    id: I,
    mark: u32,
    /// Offset of the type byte.
    start: u32,
    /// Items still to read (sequences, slices); unused for dicts and code objects.
    remaining: u32,
    /// Items read so far.
    count: u32,
    /// The reference slot to finish when the container closes.
    slot: u32,
    /// The type code, without the flag.
    tag: u8,
    /// For tuples and lists: `ALL_TEXT` while every item so far is text.
    items: Class,
    /// For code objects: the layout and the index of the field being read.
    layout: CodeLayout,
    field: u8,
}

/// The result of a decode: the top-level object if its first byte was read, where reading stopped, and
/// the fault if there was one.
pub(crate) struct Outcome<I> {
    pub root: Option<I>,
    pub end: usize,
    pub error: Option<Error>,
}

pub(crate) struct Decoder<'a, 's, S: Sink> {
    r: Reader<'a>,
    cfg: Config,
    sink: &'s mut S,
    frames: Vec<Frame<S::Id>>,
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
    if u32::try_from(data.len()).is_err() {
        let error = Fault::new(ErrorKind::InputTooLarge, 0, "input").at(Vec::new());
        return Outcome {
            root: None,
            end: start,
            error: Some(error),
        };
    }
    let mut decoder = Decoder {
        r: Reader::new(data, start),
        cfg,
        sink,
        frames: Vec::new(),
        refs: Vec::new(),
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

/// A decoded object on its way to its container: id, class, and where it started.
type Done<I> = (I, Class, u32);

/// What reading one object, or handing it to its container, did.
enum Event<I> {
    /// An object is complete.
    Done(Done<I>),
    /// A container was opened and awaits its items.
    Opened,
    /// The innermost container has all its items.
    Full,
}

impl<'a, S: Sink> Decoder<'a, '_, S> {
    fn run(&mut self) -> Result<(), Fault> {
        loop {
            let mut event = self.object()?;
            loop {
                let done = match event {
                    Event::Opened => break,
                    Event::Done(done) => done,
                    Event::Full => match self.frames.pop() {
                        Some(frame) => self.finish(frame),
                        None => break, // proven: `Full` is only returned with a frame open
                    },
                };
                if self.frames.is_empty() {
                    self.root = Some(done.0);
                    return Ok(());
                }
                event = self.accept(done)?;
            }
        }
    }

    /// The current offset as a `u32`; `decode` refused inputs that do not fit.
    #[inline]
    fn here(&self) -> u32 {
        self.r.pos() as u32
    }

    /// Reads one object: a scalar is done at once, a container is opened (and full at once when empty),
    /// and a dict's terminator fills its dict.
    #[inline]
    fn object(&mut self) -> Result<Event<S::Id>, Fault> {
        let start = self.here();
        if self.frames.len() >= self.cfg.max_depth as usize {
            return Err(Fault::new(
                ErrorKind::DepthLimit(self.cfg.max_depth),
                self.r.pos(),
                "type code",
            ));
        }
        let byte = self.r.u8("type code")?;
        let dialect = self.cfg.python.dialect();
        let python2 = dialect.byte_strings;
        if python2 && byte & tag::FLAG_REF != 0 {
            return Err(self.unknown(byte, start));
        }
        let flag = byte & tag::FLAG_REF != 0;
        let (id, class) = match byte & !tag::FLAG_REF {
            tag::NULL => return self.null(start),
            tag::NONE | tag::FALSE | tag::TRUE | tag::STOPITER | tag::ELLIPSIS => {
                return Ok(Event::Done((self.sink.singleton(byte), OTHER, start)));
            }
            tag::INT => {
                let value = self.r.i32("int")?;
                (self.sink.leaf(byte, start, value as u32, 0), OTHER)
            }
            tag::INT64 => {
                let value = self.r.i64("int64")?;
                let (lo, hi) = (value as u32, (value >> 32) as u32);
                (self.sink.leaf(byte, start, lo, hi), OTHER)
            }
            tag::LONG => (self.long(byte, start)?, OTHER),
            tag::BINARY_FLOAT => {
                let bits = u64::from_le_bytes(self.r.array("float")?);
                let (lo, hi) = (bits as u32, (bits >> 32) as u32);
                (self.sink.leaf(byte, start, lo, hi), OTHER)
            }
            tag::BINARY_COMPLEX => {
                let at = self.here();
                self.r.take(16, "complex")?;
                (self.sink.leaf(byte, start, at, 16), OTHER)
            }
            tag::FLOAT => {
                let at = self.here();
                self.float_text("float text")?;
                let len = self.here() - at;
                (self.sink.leaf(byte, start, at, len), OTHER)
            }
            tag::COMPLEX => {
                let at = self.here();
                self.float_text("complex real part")?;
                self.float_text("complex imaginary part")?;
                let len = self.here() - at;
                (self.sink.leaf(byte, start, at, len), OTHER)
            }
            tag::STRING => {
                let (at, bytes) = self.payload(false, "bytes")?;
                let class = if dialect.byte_names {
                    BYTES | TEXT
                } else {
                    BYTES
                };
                (self.sink.leaf(byte, start, at, bytes.len() as u32), class)
            }
            tag::INTERNED if python2 => {
                let (at, bytes) = self.payload(false, "str")?;
                let id = self.sink.leaf(byte, start, at, bytes.len() as u32);
                self.sink.intern(id);
                self.interned += 1;
                (id, BYTES | TEXT)
            }
            tag::INTERNED | tag::UNICODE => {
                let (at, bytes) = self.payload(false, "str")?;
                self.utf8(at, bytes)?;
                let class = if python2 { OTHER } else { TEXT };
                (self.sink.leaf(byte, start, at, bytes.len() as u32), class)
            }
            tag::ASCII | tag::ASCII_INTERNED if !python2 => {
                let (at, bytes) = self.payload(false, "str")?;
                (self.sink.leaf(byte, start, at, bytes.len() as u32), TEXT)
            }
            tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED if !python2 => {
                let (at, bytes) = self.payload(true, "str")?;
                (self.sink.leaf(byte, start, at, bytes.len() as u32), TEXT)
            }
            tag::STRINGREF if python2 => {
                let at = self.r.pos();
                let index = self.r.i32("string reference")?;
                if index < 0 || index as u32 >= self.interned {
                    let kind = ErrorKind::InvalidReference(index as u32);
                    return Err(Fault::new(kind, at, "string reference"));
                }
                let id = self.sink.leaf(byte, start, index as u32, 0);
                return Ok(Event::Done((id, BYTES | TEXT, start)));
            }
            tag::REF if !python2 => {
                let at = self.r.pos();
                let index = self.r.i32("reference")?;
                let class = usize::try_from(index)
                    .ok()
                    .and_then(|i| self.refs.get(i).copied())
                    .unwrap_or(RESERVED);
                if class == RESERVED {
                    let kind = ErrorKind::InvalidReference(index as u32);
                    return Err(Fault::new(kind, at, "reference"));
                }
                let id = self.sink.leaf(byte, start, index as u32, 0);
                return Ok(Event::Done((id, class, start)));
            }
            tag::TUPLE | tag::LIST | tag::SET => {
                let n = self.count(false, "size")?;
                return self.open(byte, start, n, CodeLayout::Foreign);
            }
            tag::SMALL_TUPLE if !python2 => {
                let n = self.count(true, "size")?;
                return self.open(byte, start, n, CodeLayout::Foreign);
            }
            tag::FROZENSET => {
                let n = self.count(false, "size")?;
                return self.open(byte, start, n, CodeLayout::Foreign);
            }
            tag::DICT => return self.open(byte, start, u32::MAX, CodeLayout::Foreign),
            tag::FROZENDICT if !python2 => {
                return self.open(byte, start, u32::MAX, CodeLayout::Foreign);
            }
            tag::SLICE if !python2 => return self.open(byte, start, 3, CodeLayout::Foreign),
            tag::CODE | tag::OLD_CODE => {
                let layout = match byte {
                    tag::OLD_CODE => CodeLayout::V1_0,
                    _ => self.cfg.layout,
                };
                if layout == CodeLayout::Foreign {
                    return Err(Fault::new(ErrorKind::ForeignFormat, start as usize, "code"));
                }
                return self.open(byte, start, 0, layout);
            }
            _ => return Err(self.unknown(byte, start)),
        };
        if flag {
            self.refs.push(class);
            self.sink.register(id);
        }
        Ok(Event::Done((id, class, start)))
    }

    #[cold]
    fn unknown(&self, byte: u8, start: u32) -> Fault {
        Fault::new(
            ErrorKind::UnknownTypeCode(byte),
            start as usize,
            "type code",
        )
    }

    /// A NULL ends the dict whose key it stands for; anywhere else it is an error.
    fn null(&mut self, start: u32) -> Result<Event<S::Id>, Fault> {
        match self.frames.last() {
            Some(frame) if is_dict(frame.tag) && frame.count % 2 == 0 => Ok(Event::Full),
            _ => Err(Fault::new(
                ErrorKind::UnexpectedNull,
                start as usize,
                "type code",
            )),
        }
    }

    /// Pushes a container; completes it at once when it is empty.
    fn open(
        &mut self,
        byte: u8,
        start: u32,
        remaining: u32,
        layout: CodeLayout,
    ) -> Result<Event<S::Id>, Fault> {
        let code = byte & !tag::FLAG_REF;
        let (id, mark) = self.sink.open(byte, start, layout);
        let mut slot = NO_SLOT;
        if byte & tag::FLAG_REF != 0 {
            slot = self.refs.len() as u32;
            // Mutable containers (and the empty frozenset) exist before their items and can be referred
            // to from inside; the others only once built, as CPython fills their slot last.
            let early = match code {
                tag::TUPLE | tag::SMALL_TUPLE => TUPLE,
                tag::LIST => LIST,
                tag::DICT | tag::SET => OTHER,
                tag::FROZENSET if remaining == 0 => OTHER,
                _ => RESERVED,
            };
            self.refs.push(early);
            self.sink.register(id);
        }
        self.frames.push(Frame {
            id,
            mark,
            start,
            remaining,
            count: 0,
            slot,
            tag: code,
            items: ALL_TEXT,
            layout,
            field: 0,
        });
        let complete = match code {
            tag::CODE | tag::OLD_CODE => self.code_ints()?,
            tag::DICT | tag::FROZENDICT => false,
            _ => remaining == 0,
        };
        Ok(if complete { Event::Full } else { Event::Opened })
    }

    /// Hands a finished object to the innermost container.
    #[inline]
    fn accept(&mut self, (id, class, start): Done<S::Id>) -> Result<Event<S::Id>, Fault> {
        let Some(frame) = self.frames.last_mut() else {
            return Ok(Event::Opened);
        };
        match frame.tag {
            tag::CODE | tag::OLD_CODE => {
                let fields = frame.layout.fields();
                if let Some(field) = fields.get(frame.field as usize) {
                    if !fits(field.kind, class) {
                        let kind = ErrorKind::WrongFieldType {
                            expected: field.kind.expected(),
                        };
                        return Err(Fault::new(kind, start as usize, "code field"));
                    }
                }
                self.sink.child(id);
                frame.field += 1;
                frame.count += 1;
                Ok(if self.code_ints()? {
                    Event::Full
                } else {
                    Event::Opened
                })
            }
            tag::DICT | tag::FROZENDICT => {
                self.sink.child(id);
                frame.count += 1;
                Ok(Event::Opened)
            }
            _ => {
                if class & TEXT == 0 {
                    frame.items = 0;
                }
                self.sink.child(id);
                frame.count += 1;
                frame.remaining -= 1;
                Ok(if frame.remaining == 0 {
                    Event::Full
                } else {
                    Event::Opened
                })
            }
        }
    }

    /// Reads the integer fields that come next in the innermost code object. Returns true when the code
    /// object has all its fields.
    fn code_ints(&mut self) -> Result<bool, Fault> {
        let Some(frame) = self.frames.last_mut() else {
            return Ok(false);
        };
        let fields = frame.layout.fields();
        while let Some(field) = fields.get(frame.field as usize) {
            let value = match field.kind {
                FieldKind::Int16 => i32::from(self.r.i16("int16")?),
                FieldKind::Int32 => self.r.i32("int32")?,
                _ => return Ok(false),
            };
            self.sink.code_int(frame.id, value);
            frame.field += 1;
        }
        Ok(true)
    }

    /// Ends a container that has all its items.
    fn finish(&mut self, frame: Frame<S::Id>) -> Done<S::Id> {
        self.sink.close(frame.id, frame.mark, true);
        let class = match frame.tag {
            tag::TUPLE | tag::SMALL_TUPLE => TUPLE | frame.items,
            tag::LIST => LIST | frame.items,
            _ => OTHER,
        };
        if let Some(slot) = self.refs.get_mut(frame.slot as usize) {
            *slot = class;
        }
        (frame.id, class, frame.start)
    }

    /// Closes every open container as incomplete, so the sink keeps what was decoded, and builds the
    /// error with the path the stack describes.
    #[cold]
    fn fail(&mut self, fault: Fault) -> Error {
        let path = self.frames.iter().filter_map(step).collect();
        while let Some(frame) = self.frames.pop() {
            self.sink.close(frame.id, frame.mark, false);
            match self.frames.last() {
                Some(_) => self.sink.child(frame.id),
                None => self.root = Some(frame.id),
            }
        }
        fault.at(path)
    }

    /// A size or count: `i32` (or `u8` for the short forms). Negative is an error; more items than
    /// bytes left is a truncation, since every item takes at least one byte.
    #[inline]
    fn count(&mut self, short: bool, what: &'static str) -> Result<u32, Fault> {
        let at = self.r.pos();
        let n = if short {
            i32::from(self.r.u8(what)?)
        } else {
            self.r.i32(what)?
        };
        let n = u32::try_from(n)
            .map_err(|_| Fault::new(ErrorKind::BadLength(i64::from(n)), at, what))?;
        if n as usize > self.r.left() {
            return Err(self.r.short(n as usize, "items"));
        }
        Ok(n)
    }

    /// A length-prefixed payload; returns its offset and bytes.
    #[inline]
    fn payload(&mut self, short: bool, what: &'static str) -> Result<(u32, &'a [u8]), Fault> {
        let at = self.r.pos();
        let n = if short {
            i32::from(self.r.u8("length")?)
        } else {
            self.r.i32("length")?
        };
        let n = u32::try_from(n)
            .map_err(|_| Fault::new(ErrorKind::BadLength(i64::from(n)), at, "length"))?;
        let start = self.here();
        let bytes = self.r.take(n as usize, payload_name(what))?;
        Ok((start, bytes))
    }

    /// Checks that the payload at `at` is UTF-8 (surrogates allowed).
    #[inline]
    fn utf8(&self, at: u32, bytes: &[u8]) -> Result<(), Fault> {
        match text::check_utf8(bytes) {
            Ok(()) => Ok(()),
            Err(bad) => Err(Fault::new(
                ErrorKind::InvalidUtf8,
                at as usize + bad,
                "str payload",
            )),
        }
    }

    /// A text float: `u8` length and ASCII digits.
    fn float_text(&mut self, what: &'static str) -> Result<(), Fault> {
        let n = self.r.u8("float length")?;
        let at = self.r.pos();
        let text = self.r.take(usize::from(n), what)?;
        match number::parse_float_text(text) {
            Some(_) => Ok(()),
            None => Err(Fault::new(ErrorKind::BadFloatText, at, what)),
        }
    }

    /// A long: signed digit count, then that many 15-bit digits, checked as CPython checks them.
    fn long(&mut self, byte: u8, start: u32) -> Result<S::Id, Fault> {
        let at = self.r.pos();
        let n = self.r.i32("long size")?;
        if n == i32::MIN {
            return Err(Fault::new(
                ErrorKind::BadLength(i64::from(n)),
                at,
                "long size",
            ));
        }
        let digits_at = self.here();
        let count = n.unsigned_abs() as usize;
        let digits = self.r.take(count * 2, "long digits")?;
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let digit = u16::from_le_bytes([pair[0], pair[1]]); // proven: chunks of exactly 2
            let offset = digits_at as usize + 2 * i;
            if digit > 0x7fff {
                return Err(Fault::new(
                    ErrorKind::BadLongDigit(digit),
                    offset,
                    "long digits",
                ));
            }
            if digit == 0 && i + 1 == count {
                return Err(Fault::new(
                    ErrorKind::UnnormalizedLong,
                    offset,
                    "long digits",
                ));
            }
        }
        Ok(self.sink.leaf(byte, start, digits_at, n as u32))
    }
}

fn is_dict(code: u8) -> bool {
    matches!(code, tag::DICT | tag::FROZENDICT)
}

/// Whether an object of `class` may stand in a field of `kind`.
fn fits(kind: FieldKind, class: Class) -> bool {
    match kind {
        FieldKind::Int16 | FieldKind::Int32 => false,
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
    match frame.tag {
        tag::CODE | tag::OLD_CODE => frame
            .layout
            .fields()
            .get(frame.field as usize)
            .map(|field| Step::Field(field.name)),
        tag::DICT | tag::FROZENDICT if frame.count % 2 == 0 => Some(Step::Key(frame.count / 2)),
        tag::DICT | tag::FROZENDICT => Some(Step::Value(frame.count / 2)),
        _ => Some(Step::Index(frame.count)),
    }
}

/// `str payload`, `bytes payload`.
fn payload_name(what: &'static str) -> &'static str {
    match what {
        "bytes" => "bytes payload",
        _ => "str payload",
    }
}
