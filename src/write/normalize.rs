//! The normalizing writer: marshal bytes that depend only on the value, not on the interpreter's
//! reference counts at dump time.
//!
//! CPython sets FLAG_REF by reference counts, so one module compiles to different bytes from run to run.
//! Normalized output follows rules that see only the value:
//! - each object is written with the type code CPython's writer picks for its value at the data's
//!   marshal version (`z` for a short ASCII string, `i` for an int that fits 32 bits, `g` for floats...),
//!   keeping whether a string is interned;
//! - identical immutable values (same type code and payload; for tuples, frozensets, slices and code
//!   objects, identical items) are written once and referred back to; mutable containers (lists, dicts,
//!   sets) are never merged, but one that the input shares stays shared;
//! - FLAG_REF is set exactly on the objects a back-reference uses;
//! - set and frozenset items are written in a canonical order: by a 128-bit digest of each item's value
//!   (CPython 3.11+ sorts by marshal bytes; any order that only the value decides makes the bytes
//!   reproducible, and a digest needs no recursion and no copy of shared sub-values). Items that reach
//!   a cycle come last, in the order they came: their digest depends on where the walk entered the
//!   cycle, so sorting them by it would let normalizing the output again reorder them. CPython cannot
//!   load such a set anyway (a list, dict or set is unhashable, and a tuple holding itself has no hash).
//!
//! It works in three passes over the table, each a walk that keeps one cursor per open container: values
//! get classes (equal classes, equal values) and digests, children before parents; a walk in output
//! order finds which classes are referred back to; the same walk writes. What it keeps per object is a
//! fixed-size record indexed by the object's id, and per distinct value its key once, so its memory is
//! linear in the table (the README states the bound; `tests/memory.rs` measures it).

use crate::base::error::{Context, Error, ErrorKind};
use crate::base::text;
use crate::format::layout::{FieldKind, Format};
use crate::format::magic::{Implementation, Python};
use crate::format::tag;
use crate::object::walk::{Event, Walk};
use crate::object::{FieldValue, Object, ObjectId, Objects, Value};
use crate::read::parse::Pyc;
use crate::write::encode::{Encoder, write_header};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::hash::Hasher;
use siphasher::sip128::{Hasher128, SipHasher13};
use std::collections::HashMap;

/// Writes a parsed `.pyc` with its body normalized at the marshal version its Python writes; the
/// header is kept as it is.
pub fn write_pyc(out: &mut Vec<u8>, pyc: &Pyc<'_>) -> Result<(), Error> {
    let version = default_version(&pyc.objects)?;
    write_header(out, &pyc.header);
    normalize_into(&pyc.objects, version, &mut Encoder::new(out))
}

/// Writes parsed marshal data normalized at the marshal version its Python writes.
pub fn write_marshal(out: &mut Vec<u8>, objects: &Objects<'_>) -> Result<(), Error> {
    write_marshal_at(out, objects, default_version(objects)?)
}

/// Parsed marshal data, normalized at marshal `version` (3 to 6): the type codes are the ones CPython
/// picks at that version (`u` and `(` at 3; `z`, `a` and `)` from 4). Slices need 5 and frozendicts 6;
/// versions before 3 have no back-references to merge with.
pub fn write_marshal_at(
    out: &mut Vec<u8>,
    objects: &Objects<'_>,
    version: u8,
) -> Result<(), Error> {
    if !(3..=6).contains(&version) {
        return Err(unsupported("it writes marshal versions 3 to 6 only"));
    }
    normalize_into(objects, version, &mut Encoder::new(out))
}

fn unsupported(what: &'static str) -> Error {
    let context = Context {
        path: Vec::new(),
        what: "normalize",
    };
    Error::new(ErrorKind::Unsupported(what), 0, context)
}

/// Refuses a table read from GraalPy's or RustPython's format: normalizing writes CPython's marshal.
fn check_format(objects: &Objects<'_>) -> Result<(), Error> {
    if objects.format() != Format::Marshal {
        return Err(unsupported(
            "GraalPy's and RustPython's formats are read, not written",
        ));
    }
    Ok(())
}

fn default_version(objects: &Objects<'_>) -> Result<u8, Error> {
    check_format(objects)?;
    marshal_version(objects.python()).ok_or_else(|| {
        unsupported(
            "the data is of Python 3.3 or older, whose marshal has no back-references to normalize",
        )
    })
}

/// The marshal version CPython writes for `python`, if it has back-references (3.4 and later).
fn marshal_version(python: Python) -> Option<u8> {
    match (python.implementation, python.major, python.minor) {
        (Implementation::GraalPy | Implementation::RustPython, _, _) => None,
        (Implementation::CPython, 3, 14) => Some(5),
        (Implementation::CPython, 3, 15..) => Some(6),
        (_, 3, 4..) | (_, 4.., _) => Some(4),
        _ => None,
    }
}

fn normalize_into(objects: &Objects<'_>, version: u8, e: &mut Encoder<'_>) -> Result<(), Error> {
    check_format(objects)?;
    let Some(root) = objects.root() else {
        return Err(unsupported("nothing was decoded"));
    };
    let values = Values::of(objects, root, version)?;
    let classes = values.next_class as usize;
    let mut referenced = Bits::new(classes);
    values.walk(root, |event| {
        if let Output::Again(class) = event {
            referenced.set(class);
        }
    });
    let mut slots = alloc::vec![u32::MAX; classes];
    let mut next_slot = 0;
    values.walk(root, |event| match event {
        Output::First(object, class) => {
            let mut byte = values.code_of(object);
            if class.is_some_and(|class| referenced.get(class)) {
                byte |= tag::FLAG_REF;
                if let Some(slot) = class.and_then(|class| slots.get_mut(class as usize)) {
                    *slot = next_slot;
                    next_slot += 1;
                }
            }
            e.u8(byte);
            values.payload(object, e);
        }
        Output::Again(class) => {
            e.u8(tag::REF);
            e.i32(slots.get(class as usize).copied().unwrap_or(0) as i32);
        }
        Output::Int(FieldKind::Int16, value) => e.i16(value as i16),
        Output::Int(_, value) => e.i32(value),
    });
    Ok(())
}

/// What the output walk meets, in output order.
enum Output<'o, 'a> {
    /// The first occurrence of a value: its type byte and payload (a container's count), then its
    /// items as further events. Singletons have no class: each occurrence is written as itself.
    First(Object<'o, 'a>, Option<u32>),
    /// A later occurrence of a class: a back-reference.
    Again(u32),
    /// A code object's integer field.
    Int(FieldKind, i32),
}

/// What the first pass learns of each object of the table (back-references excluded: they stand for
/// their targets). Equal classes, equal values: mergeable values share a class, every other object has
/// one of its own.
#[derive(Copy, Clone, Default)]
struct Info {
    /// Only the value decides it, unless `cyclic`.
    digest: [u64; 2],
    class: u32,
    described: bool,
    /// Whether a cycle is reachable from the object: then its digest depends on which object of the
    /// cycle the walk met first, that is, on stream order.
    cyclic: bool,
}

/// A set of class numbers.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(alloc::vec![0; len.div_ceil(64)])
    }

    fn get(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Adds `i`; true if it was there already.
    fn set(&mut self, i: u32) -> bool {
        match self.0.get_mut(i as usize / 64) {
            Some(word) => {
                let bit = 1 << (i % 64);
                let was = *word & bit != 0;
                *word |= bit;
                was
            }
            None => false,
        }
    }
}

struct Values {
    version: u8,
    /// One record per object of the table, by id.
    info: Vec<Info>,
    /// The items of each set and frozenset, in canonical order, by the set's id.
    sorted: HashMap<ObjectId, Vec<ObjectId>>,
    /// Each distinct mergeable value's class, by digest, with where its key is in `keys`: a key is
    /// the value's type code and payload, or its type code, its children's classes and its integer
    /// fields, so equal keys are equal values.
    classes: HashMap<[u64; 2], (u32, usize, usize)>,
    keys: Vec<u8>,
    next_class: u32,
    /// Scratch for the key and payload being built.
    key: Vec<u8>,
    payload: Vec<u8>,
}

impl Values {
    /// Classes and digests of everything under `root`, children before parents.
    fn of(objects: &Objects<'_>, root: Object<'_, '_>, version: u8) -> Result<Values, Error> {
        let mut values = Values {
            version,
            info: alloc::vec![Info::default(); objects.len()],
            sorted: HashMap::new(),
            classes: HashMap::new(),
            keys: Vec::new(),
            next_class: SINGLETON_CODES.len() as u32,
            key: Vec::new(),
            payload: Vec::new(),
        };
        let mut walk = Walk::new(root);
        while let Some(event) = walk.next() {
            match event {
                Event::Object(object, _)
                    if object.reference().is_some() || is_singleton(object) => {}
                Event::Object(object, _) => {
                    if !object.is_complete() {
                        let offset = object.offset().unwrap_or(0);
                        let context = Context {
                            path: Vec::new(),
                            what: "object to normalize",
                        };
                        return Err(Error::new(ErrorKind::Incomplete, offset, context));
                    }
                    let too_new = match object.type_code() {
                        tag::SLICE => version < 5,
                        tag::FROZENDICT => version < 6,
                        _ => false,
                    };
                    if too_new {
                        return Err(unsupported(
                            "a slice or frozendict cannot be written at a marshal version before theirs",
                        ));
                    }
                    if is_container(object.type_code()) {
                        walk.enter(object);
                    } else {
                        values.describe(object);
                    }
                }
                Event::End(object) => values.describe(object),
                Event::Int(..) => {}
            }
        }
        Ok(values)
    }

    /// What is known of the object `id` (a node: singletons have none, and back-references stand
    /// for theirs).
    fn info(&self, id: ObjectId) -> Option<&Info> {
        self.info.get(id.index()?).filter(|info| info.described)
    }

    /// The class and digest of `object`, whose children are all described, but for back-references to
    /// containers still open around it: a cycle.
    fn describe(&mut self, object: Object<'_, '_>) {
        let code = self.code_of(object);
        let mut key = core::mem::take(&mut self.key);
        key.clear();
        key.push(code);
        let mut hasher = SipHasher13::new();
        hasher.write_u8(code);
        let mut mergeable = !matches!(code, tag::LIST | tag::DICT | tag::SET);
        let mut cyclic = false;
        if !is_container(code) {
            let mut payload = core::mem::take(&mut self.payload);
            payload.clear();
            self.payload(object, &mut Encoder::new(&mut payload));
            key.extend_from_slice(&payload);
            hasher.write(&payload);
            self.payload = payload;
        } else {
            // Each child's class and digest, in stream order; a set's sorted first, whose items are
            // kept in that order for the writing walk.
            let sort = matches!(code, tag::SET | tag::FROZENSET);
            let mut parts: Vec<(u32, [u64; 2], bool, ObjectId)> = Vec::new();
            let count = child_count(object);
            key.extend(count.to_le_bytes());
            hasher.write_u32(count);
            for_each_child(object, |child| {
                let target = child.resolve();
                let (class, digest, reaches_cycle) = match self.info(target.id()) {
                    Some(info) => (info.class, info.digest, info.cyclic),
                    None if is_singleton(target) => {
                        let (class, digest) = singleton_class(target.type_code());
                        (class, digest, false)
                    }
                    // A back-reference to a container still open: a cycle, which only identity can
                    // describe.
                    None => {
                        mergeable = false;
                        (self.unique_class(), [0; 2], true)
                    }
                };
                cyclic |= reaches_cycle;
                if sort {
                    parts.push((class, digest, reaches_cycle, child.id()));
                } else {
                    // Only a value that may be merged needs its key.
                    if mergeable {
                        key.extend(class.to_le_bytes());
                    }
                    hasher.write_u64(digest[0]);
                    hasher.write_u64(digest[1]);
                }
            });
            if sort {
                // The sort is stable: items that reach a cycle keep their order, after the others.
                parts.sort_by_key(|&(_, digest, cyclic, _)| {
                    (cyclic, if cyclic { [0; 2] } else { digest })
                });
                for &(class, digest, _, _) in &parts {
                    key.extend(class.to_le_bytes());
                    hasher.write_u64(digest[0]);
                    hasher.write_u64(digest[1]);
                }
                let items = parts.iter().map(|&(_, _, _, child)| child).collect();
                self.sorted.insert(object.id(), items);
            }
            if let Some(code) = object.as_code() {
                for (_, value) in code.fields() {
                    if let FieldValue::Int(value) = value {
                        key.extend(value.to_le_bytes());
                        hasher.write_i32(value);
                    }
                }
            }
        }
        let hash = hasher.finish128();
        let digest = [hash.h1, hash.h2];
        let class = if mergeable {
            self.class_of(digest, &key)
        } else {
            self.unique_class()
        };
        self.key = key;
        if let Some(info) = object.id().index().and_then(|i| self.info.get_mut(i)) {
            *info = Info {
                digest,
                class,
                described: true,
                cyclic,
            };
        }
    }

    /// The class of a mergeable value with this digest and key: the class of the equal value seen
    /// before, or a new one. Two different keys with one digest (never seen) are told apart by their
    /// keys, and the later one keeps a class of its own.
    fn class_of(&mut self, digest: [u64; 2], key: &[u8]) -> u32 {
        if let Some(&(class, start, len)) = self.classes.get(&digest) {
            let known = self.keys.get(start..start + len);
            return if known == Some(key) {
                class
            } else {
                self.unique_class()
            };
        }
        let class = self.unique_class();
        let start = self.keys.len();
        self.keys.extend_from_slice(key);
        self.classes.insert(digest, (class, start, key.len()));
        class
    }

    fn unique_class(&mut self) -> u32 {
        self.next_class += 1;
        self.next_class - 1
    }

    /// Walks the output: each object in pre-order, items in canonical order, every occurrence after
    /// the first of a class as a back-reference.
    fn walk<'o, 'a>(&'o self, root: Object<'o, 'a>, mut visit: impl FnMut(Output<'o, 'a>)) {
        let mut seen = Bits::new(self.next_class as usize);
        let mut walk = Walk::new(root);
        while let Some(event) = walk.next() {
            let object = match event {
                Event::Object(object, _) => object.resolve(),
                Event::Int(field, value, _) => {
                    visit(Output::Int(field.kind, value));
                    continue;
                }
                Event::End(_) => continue,
            };
            if is_singleton(object) {
                visit(Output::First(object, None));
                continue;
            }
            let Some(info) = self.info(object.id()) else {
                continue; // proven: every object under the root was described
            };
            if seen.set(info.class) {
                visit(Output::Again(info.class));
                continue;
            }
            visit(Output::First(object, Some(info.class)));
            match self.sorted.get(&object.id()) {
                Some(items) => walk.enter_as(object, items),
                None if is_container(object.type_code()) => walk.enter(object),
                None => {}
            }
        }
    }

    /// The type code CPython's writer picks for the value (without FLAG_REF).
    fn code_of(&self, object: Object<'_, '_>) -> u8 {
        let code = object.type_code();
        match object.value() {
            Value::Int(value) => int_code(value),
            Value::Long(long) => long.to_i64().map_or(tag::LONG, int_code),
            Value::Float(_) => tag::BINARY_FLOAT,
            Value::Complex { .. } => tag::BINARY_COMPLEX,
            Value::Str(s) => {
                let interned = matches!(
                    code,
                    tag::INTERNED | tag::ASCII_INTERNED | tag::SHORT_ASCII_INTERNED
                );
                let ascii = s.code_points().all(|cp| cp < 0x80);
                match (ascii && self.version >= 4, s.raw().len() < 256, interned) {
                    (true, true, true) => tag::SHORT_ASCII_INTERNED,
                    (true, true, false) => tag::SHORT_ASCII,
                    (true, false, true) => tag::ASCII_INTERNED,
                    (true, false, false) => tag::ASCII,
                    (false, _, true) => tag::INTERNED,
                    (false, _, false) => tag::UNICODE,
                }
            }
            Value::Tuple(items) if self.version >= 4 && items.len() < 256 => tag::SMALL_TUPLE,
            Value::Tuple(_) => tag::TUPLE,
            Value::Code(_) => tag::CODE,
            _ => code,
        }
    }

    /// Writes what follows the type byte: a scalar's payload, a sized container's count.
    fn payload(&self, object: Object<'_, '_>, e: &mut Encoder<'_>) {
        let code = self.code_of(object);
        match object.value() {
            Value::Int(value) => write_int(value, e),
            Value::Long(long) => match long.to_i64() {
                Some(value) => write_int(value, e),
                None => {
                    let count = (long.raw.len() / 2) as i32;
                    e.i32(if long.negative { -count } else { count });
                    e.bytes(long.raw);
                }
            },
            Value::Float(value) => e.f64(value),
            Value::Complex { real, imag } => {
                e.f64(real);
                e.f64(imag);
            }
            Value::Bytes(bytes) => e.sized(false, bytes),
            Value::Str(s) => {
                let payload: Cow<'_, [u8]> = match code {
                    tag::UNICODE | tag::INTERNED if s.is_latin1() => {
                        let mut utf8 = Vec::new();
                        s.code_points()
                            .for_each(|cp| text::push_utf8(&mut utf8, cp));
                        Cow::Owned(utf8)
                    }
                    _ => Cow::Borrowed(s.raw()),
                };
                let short = matches!(code, tag::SHORT_ASCII | tag::SHORT_ASCII_INTERNED);
                e.sized(short, &payload);
            }
            Value::Tuple(items) if code == tag::SMALL_TUPLE => e.u8(items.len() as u8),
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => e.i32(items.len() as i32),
            _ => {}
        }
    }
}

/// `i` when the value fits 32 bits, else `l`.
fn int_code(value: i64) -> u8 {
    if i32::try_from(value).is_ok() {
        tag::INT
    } else {
        tag::LONG
    }
}

/// An int as CPython writes it: `i` and the value, or `l` and 15-bit digits.
fn write_int(value: i64, e: &mut Encoder<'_>) {
    if let Ok(small) = i32::try_from(value) {
        e.i32(small);
        return;
    }
    let mut magnitude = value.unsigned_abs();
    let mut digits = Vec::new();
    while magnitude > 0 {
        digits.push((magnitude & 0x7fff) as u16);
        magnitude >>= 15;
    }
    let count = digits.len() as i32;
    e.i32(if value < 0 { -count } else { count });
    digits.iter().for_each(|&digit| e.i16(digit as i16));
}

/// The type codes of the singletons, whose index is their class.
const SINGLETON_CODES: [u8; 6] = [
    tag::NULL,
    tag::NONE,
    tag::FALSE,
    tag::TRUE,
    tag::STOPITER,
    tag::ELLIPSIS,
];

/// A singleton's class (its place in [`SINGLETON_CODES`]) and digest (of its type code, as a scalar
/// without payload is digested).
fn singleton_class(code: u8) -> (u32, [u64; 2]) {
    let class = SINGLETON_CODES.iter().position(|&c| c == code).unwrap_or(0) as u32;
    let mut hasher = SipHasher13::new();
    hasher.write_u8(code);
    let hash = hasher.finish128();
    (class, [hash.h1, hash.h2])
}

/// `None`, `True`, `False`, `StopIteration`, `...` and NULL (a dict's terminator, which is written as a
/// plain NULL whatever flag the input's had): written as themselves at every occurrence.
fn is_singleton(object: Object<'_, '_>) -> bool {
    matches!(
        object.type_code(),
        tag::NULL | tag::NONE | tag::FALSE | tag::TRUE | tag::STOPITER | tag::ELLIPSIS
    )
}

fn is_container(code: u8) -> bool {
    matches!(
        code,
        tag::TUPLE
            | tag::SMALL_TUPLE
            | tag::LIST
            | tag::DICT
            | tag::SET
            | tag::FROZENSET
            | tag::CODE
            | tag::OLD_CODE
            | tag::SLICE
            | tag::FROZENDICT
    )
}

/// How many objects [`for_each_child`] visits.
fn child_count(object: Object<'_, '_>) -> u32 {
    let count = match object.value() {
        Value::Tuple(items)
        | Value::List(items)
        | Value::Set(items)
        | Value::FrozenSet(items)
        | Value::Slice(items) => items.len(),
        Value::Dict(pairs) | Value::FrozenDict(pairs) => 2 * pairs.len(),
        Value::Code(code) => code
            .fields()
            .filter(|(_, value)| matches!(value, FieldValue::Object(_)))
            .count(),
        _ => 0,
    };
    count as u32
}

/// Calls `visit` with each object a container holds itself, in stream order (back-references among them
/// unresolved; a dict's terminator left out).
fn for_each_child<'o, 'a>(object: Object<'o, 'a>, mut visit: impl FnMut(Object<'o, 'a>)) {
    match object.value() {
        Value::Tuple(items)
        | Value::List(items)
        | Value::Set(items)
        | Value::FrozenSet(items)
        | Value::Slice(items) => items.iter().for_each(visit),
        Value::Dict(pairs) | Value::FrozenDict(pairs) => {
            for (key, value) in pairs.iter() {
                visit(key);
                visit(value);
            }
        }
        Value::Code(code) => {
            for (_, value) in code.fields() {
                if let FieldValue::Object(object) = value {
                    visit(object);
                }
            }
        }
        _ => {}
    }
}
