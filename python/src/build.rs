//! Python objects from a parse, as `marshal.loads` builds them: every back-reference is the object it
//! refers to (the same Python object, not a copy), and cycles through lists and dicts are real cycles.
//!
//! The walk keeps its own stack (a file may nest 2,000 levels, and a Python thread's stack may be
//! small), and visits the objects in stream order, as marshal reads them, so the object a reference
//! names is always built or being built. Only objects that carry FLAG_REF (or, in Python 2, interned
//! strings) can be referred to, so only those are remembered.
//!
//! marshal creates every container before its items. A list, dict or set can be created empty and
//! filled, so a reference to one that is still being filled gets it, as in marshal. A tuple, frozenset,
//! slice or code object can only be created from its finished items (CPython fills a tuple in place
//! through its C internals; safe PyO3 cannot, and neither can the limited API this wheel is built
//! for). A reference to a tuple still being built, from inside it, is therefore resolved in two steps
//! where a list or dict stands in between (`t = ([t],)`): the list or dict gets a placeholder, and the
//! tuple once built. Where only immutable objects stand in between (a tuple that holds itself), there is
//! no way to build it, and the load fails with an `unsupported` error at the reference. The decoder
//! already refuses references to a frozenset, slice or code object being read, as CPython does.

use crate::code;
use pycmarshal::base::error::{Context, Step};
use pycmarshal::format::tag;
use pycmarshal::object::{FieldValue, Items, Long};
use pycmarshal::{Error, ErrorKind, Object, ObjectId, Value};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyComplex, PyDict, PyFloat, PyFrozenSet, PyList, PySet, PyString, PyTuple,
};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

/// Why a load failed: the data (an error of the library, or one found building the objects), or
/// Python itself (memory, an interrupt, or a set item or dict key that is not hashable, which
/// `marshal.loads` refuses with the same `TypeError`).
pub enum Failure {
    /// The data cannot be built: where, and why.
    Data(Error),
    /// Python raised this.
    Python(PyErr),
}

impl From<PyErr> for Failure {
    fn from(error: PyErr) -> Failure {
        Failure::Python(error)
    }
}

/// What a container under construction is, and what it gathers until it is built.
enum Kind<'py, 'o, 'a> {
    /// Immutable: built from its items once they are all there.
    Tuple,
    FrozenSet,
    Slice,
    FrozenDict,
    Code(pycmarshal::Code<'o, 'a>),
    /// Mutable: created first, filled as its items come.
    List(Bound<'py, PyList>),
    Set(Bound<'py, PySet>),
    Dict(Bound<'py, PyDict>),
}

/// One container being built: its id, its children left, and what it has of them.
struct Frame<'py, 'o, 'a> {
    object: Object<'o, 'a>,
    kind: Kind<'py, 'o, 'a>,
    children: Children<'o, 'a>,
    /// The finished items of an immutable container; a dict's key waiting for its value.
    gathered: Vec<Bound<'py, PyAny>>,
    /// The names of a code object's fields, beside `gathered`.
    names: Vec<&'static str>,
    /// How many children were visited.
    index: u32,
    /// True when a reference may name it: it is remembered once built.
    referable: bool,
}

/// A container's children, in stream order.
enum Children<'o, 'a> {
    /// Items of a tuple, list, set, frozenset or slice; the keys and values of a dict in turn, as many
    /// as `left` says (the dict's NULL terminator, and a key a fault cut from its value, left out).
    Items {
        items: pycmarshal::object::ItemsIter<'o, 'a>,
        left: usize,
    },
    /// A code object's fields.
    Fields(pycmarshal::object::Fields<'o, 'a>),
}

/// A child: an object to build, or a code object's integer field, built at once.
enum Child<'o, 'a> {
    Object(&'static str, Object<'o, 'a>),
    Int(&'static str, i32),
}

impl<'o, 'a> Children<'o, 'a> {
    fn items(items: Items<'o, 'a>) -> Children<'o, 'a> {
        let left = items.len();
        Children::Items {
            items: items.iter(),
            left,
        }
    }

    fn next(&mut self) -> Option<Child<'o, 'a>> {
        match self {
            Children::Items { items, left } => {
                *left = left.checked_sub(1)?;
                items.next().map(|object| Child::Object("", object))
            }
            Children::Fields(fields) => fields.next().map(|(field, value)| match value {
                FieldValue::Int(n) => Child::Int(field.name, n),
                FieldValue::Object(object) => Child::Object(field.name, object),
            }),
        }
    }
}

/// What visiting an object gave.
enum Visit<'py> {
    /// The object, built.
    Built(Bound<'py, PyAny>),
    /// A container, pushed on the stack to be built from its children.
    Opened,
    /// A reference to a tuple still being built.
    Open(ObjectId),
}

/// Where a placeholder stands, to be replaced by a tuple once it is built.
enum Slot<'py> {
    Item(Bound<'py, PyList>, usize),
    Value(Bound<'py, PyDict>, Bound<'py, PyAny>),
}

/// The builder of one parse's objects.
pub struct Builder<'py> {
    py: Python<'py>,
    /// Objects a reference may name, by id: built, or (lists, dicts, sets) being filled.
    memo: HashMap<ObjectId, Bound<'py, PyAny>, Ids>,
    /// Referable tuples being built.
    open: HashSet<ObjectId, Ids>,
    /// Placeholders waiting for a tuple being built.
    waiting: HashMap<ObjectId, Vec<Slot<'py>>, Ids>,
    /// Python objects the builder needs: `sys.intern`, `int.from_bytes`, `slice`, `StopIteration`,
    /// and what stands for a frozendict.
    intern: Bound<'py, PyAny>,
    int_from_bytes: Bound<'py, PyAny>,
    slice: Bound<'py, PyAny>,
    stop_iteration: Bound<'py, PyAny>,
    frozendict: Bound<'py, PyAny>,
    code: code::Maker,
}

impl<'py> Builder<'py> {
    /// A builder for objects of one parse.
    pub fn new(py: Python<'py>) -> PyResult<Builder<'py>> {
        let builtins = py.import("builtins")?;
        // A frozendict (marshal 6, Python 3.15) is the builtin where Python has one, else a read-only
        // view of a dict.
        let frozendict = match builtins.getattr("frozendict") {
            Ok(frozendict) => frozendict,
            Err(_) => py.import("types")?.getattr("MappingProxyType")?,
        };
        Ok(Builder {
            py,
            memo: HashMap::default(),
            open: HashSet::default(),
            waiting: HashMap::default(),
            intern: py.import("sys")?.getattr("intern")?,
            int_from_bytes: builtins.getattr("int")?.getattr("from_bytes")?,
            slice: builtins.getattr("slice")?,
            stop_iteration: builtins.getattr("StopIteration")?,
            frozendict,
            code: code::Maker::default(),
        })
    }

    /// The Python object `root` stands for, and everything under it.
    pub fn build(&mut self, root: Object<'_, '_>) -> Result<Bound<'py, PyAny>, Failure> {
        // Every object a reference may name is remembered: room for all of them at once.
        let referable = root.objects().refs().len() + root.objects().interned().len();
        self.memo.reserve(referable);
        let mut stack: Vec<Frame<'py, '_, '_>> = Vec::new();
        let mut built = match self.visit(root, &mut stack)? {
            Visit::Built(object) => Some(object),
            Visit::Opened => None,
            Visit::Open(_) => return Err(self.cycle(root, &stack)),
        };
        loop {
            let Some(frame) = stack.last_mut() else {
                let kind = "nothing to build";
                return built.ok_or_else(|| Failure::Data(unsupported(root, &[], kind, "root")));
            };
            if let Some(object) = built.take() {
                self.accept(frame, object)?;
            }
            let Some(child) = frame.children.next() else {
                let Some(frame) = stack.pop() else {
                    continue;
                };
                built = Some(self.finish(frame)?);
                continue;
            };
            frame.index += 1;
            let (name, object) = match child {
                Child::Int(name, value) => {
                    frame.names.push(name);
                    frame.gathered.push(int(self.py, i64::from(value)));
                    continue;
                }
                Child::Object(name, object) => (name, object),
            };
            if let Kind::Code(_) = frame.kind {
                frame.names.push(name);
            }
            match self.visit(object, &mut stack)? {
                Visit::Built(object) => built = Some(object),
                Visit::Opened => {}
                Visit::Open(id) => self.defer(&mut stack, object, id)?,
            }
        }
    }

    /// Builds a scalar at once, or opens a container on the stack.
    fn visit<'o, 'a>(
        &mut self,
        object: Object<'o, 'a>,
        stack: &mut Vec<Frame<'py, 'o, 'a>>,
    ) -> Result<Visit<'py>, Failure> {
        let target = object.resolve();
        let id = target.id();
        // Each object of the table stands in one place: only a back-reference can find it built.
        if object.reference().is_some() {
            if let Some(built) = self.memo.get(&id) {
                return Ok(Visit::Built(built.clone()));
            }
            if self.open.contains(&id) {
                return Ok(Visit::Open(id));
            }
        }
        let referable = target.has_ref_flag() || target.interned_index().is_some();
        let py = self.py;
        let (kind, children) = match target.value() {
            Value::Tuple(items) => (Kind::Tuple, Children::items(items)),
            Value::FrozenSet(items) => (Kind::FrozenSet, Children::items(items)),
            Value::Slice(items) => (Kind::Slice, Children::items(items)),
            Value::List(items) => (Kind::List(PyList::empty(py)), Children::items(items)),
            Value::Set(items) => (Kind::Set(PySet::empty(py)?), Children::items(items)),
            Value::Dict(pairs) => (Kind::Dict(PyDict::new(py)), pairs_of(pairs)),
            Value::FrozenDict(pairs) => (Kind::FrozenDict, pairs_of(pairs)),
            Value::Code(code) => (Kind::Code(code), Children::Fields(code.fields())),
            value => {
                let built = self.scalar(target, value)?;
                if referable {
                    self.memo.insert(id, built.clone());
                }
                return Ok(Visit::Built(built));
            }
        };
        match &kind {
            Kind::List(created) if referable => self.memo.insert(id, created.clone().into_any()),
            Kind::Set(created) if referable => self.memo.insert(id, created.clone().into_any()),
            Kind::Dict(created) if referable => self.memo.insert(id, created.clone().into_any()),
            _ if referable => {
                self.open.insert(id);
                None
            }
            _ => None,
        };
        stack.push(Frame {
            object: target,
            kind,
            children,
            gathered: Vec::new(),
            names: Vec::new(),
            index: 0,
            referable,
        });
        Ok(Visit::Opened)
    }

    /// A finished child into its container.
    fn accept(&self, frame: &mut Frame<'py, '_, '_>, object: Bound<'py, PyAny>) -> PyResult<()> {
        match &frame.kind {
            Kind::List(list) => list.append(object),
            Kind::Set(set) => set.add(object),
            Kind::Dict(dict) => match frame.gathered.pop() {
                Some(key) => dict.set_item(key, object),
                None => {
                    frame.gathered.push(object);
                    Ok(())
                }
            },
            _ => {
                frame.gathered.push(object);
                Ok(())
            }
        }
    }

    /// A reference to the tuple `id`, still being built, from the container on top of the stack: a
    /// placeholder where the container can be filled in later (a list's item, a dict's value), else the
    /// error that it cannot be built.
    fn defer(
        &mut self,
        stack: &mut [Frame<'py, '_, '_>],
        reference: Object<'_, '_>,
        id: ObjectId,
    ) -> Result<(), Failure> {
        let slot = match stack.last_mut() {
            Some(Frame {
                kind: Kind::List(list),
                ..
            }) => {
                list.append(self.py.None())?;
                Slot::Item(list.clone(), list.len() - 1)
            }
            Some(Frame {
                kind: Kind::Dict(dict),
                gathered,
                ..
            }) if !gathered.is_empty() => {
                let Some(key) = gathered.pop() else {
                    return Err(self.cycle(reference, stack));
                };
                dict.set_item(&key, self.py.None())?;
                Slot::Value(dict.clone(), key)
            }
            _ => return Err(self.cycle(reference, stack)),
        };
        self.waiting.entry(id).or_default().push(slot);
        Ok(())
    }

    /// The error for a reference to a tuple that only immutable objects separate from it.
    fn cycle(&self, reference: Object<'_, '_>, stack: &[Frame<'py, '_, '_>]) -> Failure {
        let kind = "a tuple that holds itself with no list or dict in between, which only C code can build";
        Failure::Data(unsupported(reference, stack, kind, "reference"))
    }

    /// The container, from its children.
    fn finish(&mut self, frame: Frame<'py, '_, '_>) -> Result<Bound<'py, PyAny>, Failure> {
        let py = self.py;
        let Frame {
            object,
            kind,
            gathered,
            names,
            referable,
            ..
        } = frame;
        let built = match kind {
            Kind::Tuple => PyTuple::new(py, gathered)?.into_any(),
            Kind::FrozenSet => PyFrozenSet::new(py, &gathered)?.into_any(),
            Kind::Slice => {
                let mut parts = gathered.into_iter();
                let mut part = || parts.next().unwrap_or_else(|| py.None().into_bound(py));
                self.slice.call1((part(), part(), part()))?
            }
            Kind::FrozenDict => {
                let dict = PyDict::new(py);
                let mut items = gathered.into_iter();
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    dict.set_item(key, value)?;
                }
                self.frozendict.call1((dict,))?
            }
            Kind::Code(code) => {
                let fields = names.into_iter().zip(gathered);
                self.code.make(py, code, fields)?.into_any()
            }
            Kind::List(list) => list.into_any(),
            Kind::Set(set) => set.into_any(),
            Kind::Dict(dict) => dict.into_any(),
        };
        let id = object.id();
        if referable && self.open.remove(&id) {
            self.memo.insert(id, built.clone());
            for slot in self.waiting.remove(&id).unwrap_or_default() {
                match slot {
                    Slot::Item(list, index) => list.set_item(index, &built)?,
                    Slot::Value(dict, key) => dict.set_item(key, &built)?,
                }
            }
        }
        Ok(built)
    }

    /// A value that is not a container.
    fn scalar(
        &self,
        object: Object<'_, '_>,
        value: Value<'_, '_>,
    ) -> Result<Bound<'py, PyAny>, Failure> {
        let py = self.py;
        Ok(match value {
            Value::None => py.None().into_bound(py),
            Value::True => PyBool::new(py, true).to_owned().into_any(),
            Value::False => PyBool::new(py, false).to_owned().into_any(),
            Value::Ellipsis => py.Ellipsis().into_bound(py),
            Value::StopIteration => self.stop_iteration.clone(),
            Value::Int(n) => int(py, n),
            Value::Long(long) => self.long(&long)?,
            Value::Float(x) => PyFloat::new(py, x).into_any(),
            Value::Complex { real, imag } => PyComplex::from_doubles(py, real, imag).into_any(),
            Value::Bytes(bytes) => PyBytes::new(py, bytes).into_any(),
            Value::Str(text) => {
                let interned = matches!(
                    object.type_code(),
                    tag::INTERNED | tag::ASCII_INTERNED | tag::SHORT_ASCII_INTERNED
                );
                match text.as_str() {
                    Some(text) if interned => PyString::intern(py, text).into_any(),
                    Some(text) => PyString::new(py, text).into_any(),
                    None => {
                        // Lone surrogates (or Latin-1 past ASCII, or GraalPy's UTF-32): the code
                        // points as UTF-32, which Python decodes surrogates and all.
                        let wide: Vec<u8> = text.code_points().flat_map(u32::to_le_bytes).collect();
                        let wide = PyBytes::new(py, &wide);
                        let decoded = PyString::from_encoded_object(
                            &wide,
                            Some(c"utf-32-le"),
                            Some(c"surrogatepass"),
                        )?
                        .into_any();
                        match interned {
                            true => self.intern.call1((decoded,))?,
                            false => decoded,
                        }
                    }
                }
            }
            _ => {
                let kind = "a NULL where a value is needed";
                return Err(Failure::Data(unsupported(object, &[], kind, "value")));
            }
        })
    }

    /// A long of any size: at once when it fits 64 bits, else from its magnitude's bytes.
    fn long(&self, long: &Long<'_>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(n) = long.to_i64() {
            return Ok(int(self.py, n));
        }
        let bits = u32::from(long.digit_bits());
        let mut bytes = Vec::with_capacity(long.digits().len() * 2);
        let (mut acc, mut held) = (0u32, 0u32);
        for digit in long.digits() {
            acc |= u32::from(digit) << held;
            held += bits;
            while held >= 8 {
                bytes.push(acc as u8);
                acc >>= 8;
                held -= 8;
            }
        }
        bytes.push(acc as u8);
        let magnitude = self
            .int_from_bytes
            .call1((PyBytes::new(self.py, &bytes), "little"))?;
        match long.negative {
            true => magnitude.neg(),
            false => Ok(magnitude),
        }
    }
}

/// Hashes object ids, which are distinct 64-bit words already, with one multiplication: a set of
/// the objects a file refers to is looked up once per reference, and SipHash would cost more than the
/// rest of the lookup.
#[derive(Clone, Copy, Default)]
struct Ids;

impl BuildHasher for Ids {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A Python int.
fn int(py: Python<'_>, n: i64) -> Bound<'_, PyAny> {
    n.into_pyobject(py)
        .unwrap_or_else(|never| match never {})
        .into_any()
}

/// A dict's keys and values, in turn: its complete pairs.
fn pairs_of<'o, 'a>(pairs: pycmarshal::object::Pairs<'o, 'a>) -> Children<'o, 'a> {
    Children::Items {
        items: pairs.items().iter(),
        left: pairs.len() * 2,
    }
}

/// An `unsupported` error at `object`, saying `kind`, while reading `what` at the path the stack gives.
fn unsupported(
    object: Object<'_, '_>,
    stack: &[Frame<'_, '_, '_>],
    kind: &'static str,
    what: &'static str,
) -> Error {
    let path = stack
        .iter()
        .map(|frame| {
            let i = frame.index.saturating_sub(1);
            match (&frame.kind, frame.names.last()) {
                (Kind::Code(_), Some(name)) => Step::Field(name),
                (Kind::Dict(_) | Kind::FrozenDict, _) if i % 2 == 0 => Step::Key(i / 2),
                (Kind::Dict(_) | Kind::FrozenDict, _) => Step::Value(i / 2),
                _ => Step::Index(i),
            }
        })
        .collect();
    let kind = ErrorKind::Unsupported(kind);
    Error::new(kind, object.offset().unwrap_or(0), Context { path, what })
}
