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
//! It works in three passes over the table, each with its own stack: values get classes (equal classes,
//! equal values) and digests; a walk in output order finds which objects are referred back to; the same
//! walk writes.

use crate::code::{FieldKind, Format};
use crate::decode::tag;
use crate::encode::{Encoder, write_header};
use crate::error::{Context, Error, ErrorKind};
use crate::magic::{Implementation, Python};
use crate::object::{FieldValue, Object, ObjectId, Objects, Part, Value};
use crate::parse::Pyc;
use crate::text;
use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::hash::Hasher;
use siphasher::sip128::{Hasher128, SipHasher13};
use std::collections::{HashMap, HashSet};

/// A parsed `.pyc` with its body normalized at the marshal version its Python writes; the header is
/// kept as it is.
pub fn normalize_pyc(pyc: &Pyc<'_>) -> Result<Vec<u8>, Error> {
    let mut e = Encoder::default();
    write_header(&pyc.header, &mut e);
    let version = default_version(&pyc.objects)?;
    normalize_into(&pyc.objects, version, &mut e)?;
    Ok(e.out)
}

/// Parsed marshal data, normalized at the marshal version its Python writes.
pub fn normalize_marshal(objects: &Objects<'_>) -> Result<Vec<u8>, Error> {
    normalize_marshal_at(objects, default_version(objects)?)
}

/// Parsed marshal data, normalized at marshal `version` (3 to 6): the type codes are the ones CPython
/// picks at that version (`u` and `(` at 3; `z`, `a` and `)` from 4). Slices need 5 and frozendicts 6;
/// versions before 3 have no back-references to merge with.
pub fn normalize_marshal_at(objects: &Objects<'_>, version: u8) -> Result<Vec<u8>, Error> {
    if !(3..=6).contains(&version) {
        return Err(unsupported("marshal versions other than 3 to 6"));
    }
    let mut e = Encoder::default();
    normalize_into(objects, version, &mut e)?;
    Ok(e.out)
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
        return Err(unsupported("GraalPy's or RustPython's format"));
    }
    Ok(())
}

fn default_version(objects: &Objects<'_>) -> Result<u8, Error> {
    check_format(objects)?;
    marshal_version(objects.python())
        .ok_or_else(|| unsupported("data without back-references (before Python 3.4)"))
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

fn normalize_into(objects: &Objects<'_>, version: u8, e: &mut Encoder) -> Result<(), Error> {
    check_format(objects)?;
    let Some(root) = objects.root() else {
        return Err(unsupported("an empty table"));
    };
    let values = Values::of(root, version)?;
    let mut referenced = HashSet::new();
    values.walk(root, |event| {
        if let Event::Again(target) = event {
            referenced.insert(target);
        }
    });
    let mut slots: HashMap<Target, u32> = HashMap::new();
    values.walk(root, |event| match event {
        Event::First(object, target) => {
            let mut byte = values.code_of(object);
            if referenced.contains(&target) {
                byte |= tag::FLAG_REF;
                slots.insert(target, slots.len() as u32);
            }
            e.u8(byte);
            values.payload(object, e);
        }
        Event::Again(target) => {
            e.u8(tag::REF);
            e.i32(slots.get(&target).copied().unwrap_or(0) as i32);
        }
        Event::Byte(byte) => e.u8(byte),
        Event::Int(FieldKind::Int16, value) => e.i16(value as i16),
        Event::Int(_, value) => e.i32(value),
    });
    Ok(())
}

/// What an occurrence stands for: one class of equal immutable values, or one object by identity.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Target {
    Class(u32),
    Object(ObjectId),
}

/// What the output walk meets, in output order.
enum Event<'o, 'a> {
    /// The first occurrence of a target: its type byte and payload (a container's count), then its
    /// items as further events.
    First(Object<'o, 'a>, Target),
    /// A later occurrence: a back-reference.
    Again(Target),
    /// A dict's terminating NULL.
    Byte(u8),
    /// A code object's integer field.
    Int(FieldKind, i32),
}

/// What the first pass learns of each object of the table (back-references excluded: they stand for
/// their targets).
#[derive(Copy, Clone)]
struct Info {
    class: u32,
    /// Only the value decides it, unless `cyclic`.
    digest: u128,
    mergeable: bool,
    /// Whether a cycle is reachable from the object: then its digest depends on which object of the
    /// cycle the walk met first, that is, on stream order.
    cyclic: bool,
}

struct Values<'o, 'a> {
    version: u8,
    info: HashMap<ObjectId, Info>,
    /// The items of each set and frozenset, in canonical order.
    sorted: HashMap<ObjectId, Vec<Object<'o, 'a>>>,
    /// Class numbers: one per distinct mergeable value, and one per object that only its identity
    /// describes (mutable, or part of a cycle).
    classes: BTreeMap<Vec<u8>, u32>,
    next_class: u32,
}

impl<'o, 'a> Values<'o, 'a> {
    /// Classes and digests of everything under `root`, children before parents (an iterative
    /// post-order walk over the items each container holds itself, in stream order).
    fn of(root: Object<'o, 'a>, version: u8) -> Result<Values<'o, 'a>, Error> {
        let mut values = Values {
            version,
            info: HashMap::new(),
            sorted: HashMap::new(),
            classes: BTreeMap::new(),
            next_class: 0,
        };
        let mut stack = vec![(root, false)];
        while let Some((object, expanded)) = stack.pop() {
            if is_back_reference(object) || values.info.contains_key(&object.id()) {
                continue;
            }
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
                    "a slice or frozendict at a version before theirs",
                ));
            }
            let children = children(object);
            if !expanded {
                stack.push((object, true));
                stack.extend(children.iter().rev().map(|&child| (child, false)));
                continue;
            }
            let info = values.describe(object, &children);
            values.info.insert(object.id(), info);
        }
        Ok(values)
    }

    /// The class and digest of `object`, whose children are all described, but for back-references to
    /// containers still open around it: a cycle.
    fn describe(&mut self, object: Object<'o, 'a>, children: &[Object<'o, 'a>]) -> Info {
        let code = self.code_of(object);
        let mut key = vec![code];
        let mut hasher = SipHasher13::new();
        hasher.write_u8(code);
        let mut mergeable = !matches!(code, tag::LIST | tag::DICT | tag::SET);
        let mut cyclic = false;
        if children.is_empty() && !is_container(code) {
            let mut e = Encoder::default();
            self.payload(object, &mut e);
            key.extend_from_slice(&e.out);
            hasher.write(&e.out);
        } else {
            // Each child's class, digest, whether it reaches a cycle, and the child.
            let mut parts: Vec<(u32, u128, bool, Object<'o, 'a>)> = children
                .iter()
                .map(|&child| match self.info.get(&child.resolve().id()) {
                    Some(info) => (info.class, info.digest, info.cyclic, child),
                    // A back-reference to a container still open: a cycle, which only identity can
                    // describe.
                    None => {
                        mergeable = false;
                        (self.unique_class(), 0, true, child)
                    }
                })
                .collect();
            cyclic = parts.iter().any(|&(_, _, cyclic, _)| cyclic);
            if matches!(code, tag::SET | tag::FROZENSET) {
                // The sort is stable: items that reach a cycle keep their order, after the others.
                parts.sort_by_key(|&(_, digest, cyclic, _)| {
                    (cyclic, if cyclic { 0 } else { digest })
                });
                let items = parts.iter().map(|&(_, _, _, child)| child).collect();
                self.sorted.insert(object.id(), items);
            }
            key.extend((parts.len() as u32).to_le_bytes());
            hasher.write_u32(parts.len() as u32);
            for (class, digest, _, _) in parts {
                key.extend(class.to_le_bytes());
                hasher.write_u128(digest);
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
        let digest = hasher.finish128().as_u128();
        let class = match self.classes.get(&key) {
            Some(&class) if mergeable => class,
            _ if mergeable => {
                let class = self.unique_class();
                self.classes.insert(key, class);
                class
            }
            _ => self.unique_class(),
        };
        Info {
            class,
            digest,
            mergeable,
            cyclic,
        }
    }

    fn unique_class(&mut self) -> u32 {
        self.next_class += 1;
        self.next_class
    }

    /// Walks the output: each object in pre-order, items in canonical order, every occurrence after
    /// the first of a target as a back-reference.
    fn walk(&self, root: Object<'o, 'a>, mut visit: impl FnMut(Event<'o, 'a>)) {
        let mut seen: HashSet<Target> = HashSet::new();
        let mut stack = vec![Part::Object(root)];
        while let Some(part) = stack.pop() {
            let object = match part {
                Part::Object(object) => object.resolve(),
                // A plain NULL ends every dict, whatever flag the input's terminator had.
                Part::Byte(_) => {
                    visit(Event::Byte(tag::NULL));
                    continue;
                }
                Part::Int(kind, value) => {
                    visit(Event::Int(kind, value));
                    continue;
                }
            };
            if is_singleton(object) {
                visit(Event::First(object, Target::Object(object.id())));
                continue;
            }
            let target = match self.info.get(&object.id()) {
                Some(info) if info.mergeable => Target::Class(info.class),
                _ => Target::Object(object.id()),
            };
            if !seen.insert(target) {
                visit(Event::Again(target));
                continue;
            }
            visit(Event::First(object, target));
            match object.value() {
                Value::Set(_) | Value::FrozenSet(_) => {
                    let items = self.sorted.get(&object.id()).into_iter().flatten();
                    stack.extend(items.rev().map(|&item| Part::Object(item)));
                }
                _ => object.push_parts(&mut stack),
            }
        }
    }

    /// The type code CPython's writer picks for the value (without FLAG_REF).
    fn code_of(&self, object: Object<'o, 'a>) -> u8 {
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
    fn payload(&self, object: Object<'o, 'a>, e: &mut Encoder) {
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
fn write_int(value: i64, e: &mut Encoder) {
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

fn is_back_reference(object: Object<'_, '_>) -> bool {
    matches!(object.type_code(), tag::REF | tag::STRINGREF)
}

fn is_singleton(object: Object<'_, '_>) -> bool {
    object.offset().is_none() && !is_back_reference(object)
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
            | tag::SLICE
            | tag::FROZENDICT
    )
}

/// The objects a container holds itself, in stream order (back-references among them unresolved).
fn children<'o, 'a>(object: Object<'o, 'a>) -> Vec<Object<'o, 'a>> {
    match object.value() {
        Value::Tuple(items)
        | Value::List(items)
        | Value::Set(items)
        | Value::FrozenSet(items)
        | Value::Slice(items) => items.iter().collect(),
        Value::Dict(pairs) | Value::FrozenDict(pairs) => {
            pairs.iter().flat_map(|(key, value)| [key, value]).collect()
        }
        Value::Code(code) => code
            .fields()
            .filter_map(|(_, value)| match value {
                FieldValue::Object(object) => Some(object),
                FieldValue::Int(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
