//! The bytecode verified while the marshal skim reads the file: `pyc check --deep` at the cost of a
//! skim and one walk over each `co_code`, without building the object table.
//!
//! The decoder reports every object to a [`Sink`]; this one remembers, of each, only what a code
//! object's verification asks of its fields (a bytes object's payload, a tuple's length), keeps the
//! fields of the code objects still open, and verifies each as it closes, with the same verifier
//! [`Bytecode::verify`](super::Bytecode::verify) runs on the object view. It answers yes or no: where
//! the answer is no (a fault, or bytecode that other readings of the magic may decode), the caller
//! parses and verifies the file the exact way, for the located error.

use super::instructions::{Tables, Walk};
use super::lines::Table;
use super::opcodes::{self, OpcodeSet};
use super::verify::{self, Scratch};
use crate::format::layout::{CodeLayout, LineTable};
use crate::format::magic::Python;
use crate::format::tag;
use crate::object::Form;
use crate::read::header;
use crate::read::options::Options;
use crate::read::sink::{Forms, Sink};
use alloc::vec::Vec;

/// True when `data` parses strictly as a `.pyc` file and every code object in it verifies with its
/// magic's own opcode set, within a budget of bytecode verified no larger than the file.
pub(crate) fn verifies(options: &Options, data: &[u8]) -> bool {
    let Ok(header) = header::parse(data, options.python) else {
        return false;
    };
    let Some(set) = opcodes::for_file(header.python, Some(header.magic())) else {
        return false;
    };
    let mut verifier = Verifier {
        data,
        python: header.python,
        set,
        layout: None,
        refs: Vec::with_capacity(data.len() / 64),
        interned: Vec::new(),
        fields: Vec::new(),
        open: Vec::new(),
        scratch: Scratch::default(),
        budget: data.len(),
        failed: false,
    };
    options.validate_body(data, &header, &mut verifier).is_ok() && !verifier.failed
}

/// What the verifier remembers of an object.
#[derive(Copy, Clone)]
enum Seen {
    Other,
    /// A bytes object (or a Python 2 `str`): its payload's offset and length.
    Bytes {
        at: u32,
        len: u32,
    },
    /// A tuple, list, set, frozenset or slice: its length.
    Items(u32),
}

/// The mark of a container that is not a code object.
const NOT_CODE: u32 = u32::MAX;

/// Where a layout keeps the fields verification reads: positions among its object fields, and among
/// its integer fields for the first line.
#[derive(Copy, Clone)]
struct Slots {
    code: Option<usize>,
    consts: Option<usize>,
    names: Option<usize>,
    varnames: Option<usize>,
    localsplusnames: Option<usize>,
    cellvars: Option<usize>,
    freevars: Option<usize>,
    /// `co_lnotab` or, where the layout has none, `co_linetable`, with its name.
    lines: Option<(usize, &'static str)>,
    exceptions: Option<usize>,
    first_line: Option<usize>,
}

impl Slots {
    fn of(layout: CodeLayout) -> Slots {
        let at = |name| layout.object_position(name);
        let lines = at("co_lnotab")
            .map(|i| (i, "co_lnotab"))
            .or_else(|| at("co_linetable").map(|i| (i, "co_linetable")));
        Slots {
            code: at("co_code"),
            consts: at("co_consts"),
            names: at("co_names"),
            varnames: at("co_varnames"),
            localsplusnames: at("co_localsplusnames"),
            cellvars: at("co_cellvars"),
            freevars: at("co_freevars"),
            lines,
            exceptions: at("co_exceptiontable"),
            first_line: layout.int_position("co_firstlineno"),
        }
    }
}

/// A code object being read: where its fields start in [`Verifier::fields`], how many integer fields
/// have come, and its first line.
struct Open {
    fields: usize,
    ints: usize,
    first_line: i32,
}

struct Verifier<'a> {
    data: &'a [u8],
    python: Python,
    set: &'static OpcodeSet,
    /// The layout of the file's code objects and its slots, known at the first one.
    layout: Option<(CodeLayout, Slots)>,
    refs: Vec<Seen>,
    interned: Vec<Seen>,
    /// The fields of the open code objects, innermost last.
    fields: Vec<Seen>,
    open: Vec<Open>,
    scratch: Scratch,
    /// Bytes of bytecode that may still be verified.
    budget: usize,
    /// A code object did not verify, or the budget ran out.
    failed: bool,
}

impl Verifier<'_> {
    /// Verifies the innermost open code object, which has just closed whole.
    fn verify_closing(&mut self, open: &Open) -> bool {
        let (set, python) = (self.set, self.python);
        let Some((_, slots)) = self.layout else {
            return false;
        };
        let data = self.data;
        let fields = self.fields.get(open.fields..).unwrap_or_default();
        let field = |slot: Option<usize>| slot.and_then(|i| fields.get(i)).copied();
        let bytes = |seen: Option<Seen>| match seen {
            Some(Seen::Bytes { at, len }) => {
                let bytes = data.get(at as usize..at as usize + len as usize)?;
                Some((bytes, u64::from(at)))
            }
            _ => None,
        };
        let items = |slot| match field(slot) {
            Some(Seen::Items(len)) => Some(len as usize),
            _ => None,
        };
        let Some((code, base)) = bytes(field(slots.code)) else {
            return false;
        };
        let Some(left) = self.budget.checked_sub(code.len()) else {
            return false;
        };
        self.budget = left;
        let tables = Tables {
            consts: items(slots.consts),
            names: items(slots.names),
            locals: items(slots.localsplusnames).or(items(slots.varnames)),
            cells: [items(slots.cellvars), items(slots.freevars)],
        };
        let lines = slots.lines.and_then(|(slot, name)| {
            let (bytes, base) = bytes(field(Some(slot)))?;
            Some(Table {
                format: python.line_table(),
                field: name,
                python,
                bytes,
                base,
                first_line: i64::from(open.first_line),
                code_len: code.len() as u32,
            })
        });
        let lines = lines.filter(|t| t.format != LineTable::Missing);
        let handlers = slots
            .exceptions
            .map(|slot| bytes(field(Some(slot))).unwrap_or_default());
        let walk = Walk::new(set, code, base, tables);
        verify::verify(walk, lines, handlers, &mut self.scratch).is_ok()
    }
}

impl Sink for Verifier<'_> {
    type Id = Seen;
    const PLACEHOLDER: Seen = Seen::Other;

    fn singleton(&mut self, _: u8, _: u32) -> Seen {
        Seen::Other
    }

    fn back_ref(&mut self, byte: u8, _: u32, slot: u32) -> Seen {
        let table = match byte & !tag::FLAG_REF {
            tag::STRINGREF => &self.interned,
            _ => &self.refs,
        };
        table.get(slot as usize).copied().unwrap_or(Seen::Other)
    }

    fn leaf(&mut self, byte: u8, _: u32, a: u32, b: u32) -> Seen {
        match byte & !tag::FLAG_REF {
            tag::STRING => Seen::Bytes { at: a, len: b },
            tag::INTERNED if self.python.dialect().byte_strings => Seen::Bytes { at: a, len: b },
            _ => Seen::Other,
        }
    }

    fn open(&mut self, byte: u8, _: u32, count: u32, layout: CodeLayout) -> (Seen, u32) {
        match byte & !tag::FLAG_REF {
            tag::CODE | tag::OLD_CODE => {
                if self.layout.is_none_or(|(known, _)| known != layout) {
                    self.layout = Some((layout, Slots::of(layout)));
                }
                let open = Open {
                    fields: self.fields.len(),
                    ints: 0,
                    first_line: 0,
                };
                self.fields
                    .resize(self.fields.len() + count as usize, Seen::Other);
                self.open.push(open);
                (Seen::Other, self.open.len() as u32 - 1)
            }
            tag::TUPLE | tag::SMALL_TUPLE | tag::LIST | tag::SET | tag::FROZENSET | tag::SLICE => {
                (Seen::Items(count), NOT_CODE)
            }
            _ => (Seen::Other, NOT_CODE),
        }
    }

    fn item(&mut self, mark: u32, index: u32, id: Seen) {
        if mark == NOT_CODE {
            return;
        }
        let at = self.open.get(mark as usize).map(|open| open.fields);
        if let Some(slot) = at.and_then(|at| self.fields.get_mut(at + index as usize)) {
            *slot = id;
        }
    }

    fn push(&mut self, _: Seen) {}

    fn code_ints(&mut self, _: Seen, values: &[i32]) {
        let first_line = self.layout.and_then(|(_, slots)| slots.first_line);
        if let Some(open) = self.open.last_mut() {
            for &value in values {
                if Some(open.ints) == first_line {
                    open.first_line = value;
                }
                open.ints += 1;
            }
        }
    }

    fn close(&mut self, _: Seen, mark: u32, _: u32, complete: bool) {
        if mark == NOT_CODE {
            return;
        }
        let Some(open) = self.open.pop() else {
            return;
        };
        if complete && !self.failed && !self.verify_closing(&open) {
            self.failed = true;
        }
        self.fields.truncate(open.fields);
    }

    fn register(&mut self, id: Seen) {
        self.refs.push(id);
    }

    fn intern(&mut self, id: Seen) {
        self.interned.push(id);
    }
}

/// Only CPython's decoder, whose forms are the type codes', reaches this sink.
impl Forms for Verifier<'_> {
    fn leaf_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: u32) -> Seen {
        self.failed = true;
        Seen::Other
    }

    fn open_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: CodeLayout) -> (Seen, u32) {
        self.failed = true;
        (Seen::Other, NOT_CODE)
    }
}
