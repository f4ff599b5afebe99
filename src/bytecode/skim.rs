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
/// magic's own opcode set, within a budget: the bytes of code and tables verified stay within the
/// file's size (code objects may share them; the parse's way verifies those alike once).
pub(crate) fn verifies(options: &Options, data: &[u8]) -> bool {
    let Ok(header) = header::parse(data, options.python) else {
        return false;
    };
    let mut verifier = Verifier {
        data,
        magic: header.magic(),
        python: header.python,
        set: None,
        layout: None,
        refs: Vec::with_capacity(data.len() / 64),
        interned: Vec::new(),
        fields: Vec::new(),
        open: Vec::new(),
        scratch: Scratch::default(),
        budget: data.len(),
        failed: false,
    };
    options.validate_body(data, &header, &mut verifier).is_ok()
        && verifier.set.is_some()
        && !verifier.failed
}

/// What the verifier remembers of an object: a bytes object's (or Python 2 `str`'s) payload, its
/// offset and length; a tuple's, list's, set's, frozenset's or slice's length, beside [`Seen::ITEMS`];
/// nothing of the rest ([`Seen::OTHER`]). Two words, no tag: what the decoder carries for every
/// object stays small.
#[derive(Copy, Clone, PartialEq, Eq)]
struct Seen {
    at: u32,
    len: u32,
}

impl Seen {
    /// The `at` of a sequence (no payload starts there: the input is at most `MAX_INPUT` bytes).
    const ITEMS: u32 = u32::MAX - 1;
    const OTHER: Seen = Seen {
        at: u32::MAX,
        len: 0,
    };

    fn items(len: u32) -> Seen {
        Seen {
            at: Seen::ITEMS,
            len,
        }
    }

    /// The payload of a bytes object in `data`, with its absolute offset.
    fn bytes(self, data: &[u8]) -> Option<(&[u8], u64)> {
        if self.at >= Seen::ITEMS {
            return None;
        }
        let (at, len) = (self.at as usize, self.len as usize);
        Some((data.get(at..at.checked_add(len)?)?, u64::from(self.at)))
    }

    /// A sequence's length.
    fn len_of_items(self) -> Option<usize> {
        (self.at == Seen::ITEMS).then_some(self.len as usize)
    }
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
    magic: u16,
    /// The version the body is read as (the reading the magic chose), and its opcode set: `None`
    /// for bytecode this crate does not decode.
    python: Python,
    set: Option<&'static OpcodeSet>,
    /// The layout of the file's code objects and its slots, known at the first one.
    layout: Option<(CodeLayout, Slots)>,
    refs: Vec<Seen>,
    interned: Vec<Seen>,
    /// The fields of the open code objects, innermost last.
    fields: Vec<Seen>,
    open: Vec<Open>,
    scratch: Scratch,
    /// Bytes of code and tables that may still be verified.
    budget: usize,
    /// A code object did not verify, or the budget ran out.
    failed: bool,
}

impl Verifier<'_> {
    /// Verifies the innermost open code object, which has just closed whole.
    fn verify_closing(&mut self, open: &Open) -> bool {
        let (Some(set), python) = (self.set, self.python) else {
            return false;
        };
        let Some((_, slots)) = self.layout else {
            return false;
        };
        let data = self.data;
        let fields = self.fields.get(open.fields..).unwrap_or_default();
        let field = |slot: Option<usize>| slot.and_then(|i| fields.get(i)).copied();
        let bytes = |seen: Option<Seen>| seen?.bytes(data);
        let items = |slot| field(slot)?.len_of_items();
        let Some((code, base)) = bytes(field(slots.code)) else {
            return false;
        };
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
        // What verifying walks: the code and both tables, which code objects may share.
        let walked = code
            .len()
            .saturating_add(lines.as_ref().map_or(0, |t| t.bytes.len()))
            .saturating_add(handlers.map_or(0, |(table, _)| table.len()));
        let Some(left) = self.budget.checked_sub(walked) else {
            return false;
        };
        self.budget = left;
        let walk = Walk::new(set, code, base, tables);
        verify::verify(walk, lines, handlers, &mut self.scratch).is_ok()
    }
}

impl Sink for Verifier<'_> {
    type Id = Seen;
    const PLACEHOLDER: Seen = Seen::OTHER;

    fn singleton(&mut self, _: u8, _: u32) -> Seen {
        Seen::OTHER
    }

    fn back_ref(&mut self, byte: u8, _: u32, slot: u32) -> Seen {
        let table = match byte & !tag::FLAG_REF {
            tag::STRINGREF => &self.interned,
            _ => &self.refs,
        };
        table.get(slot as usize).copied().unwrap_or(Seen::OTHER)
    }

    fn leaf(&mut self, byte: u8, _: u32, a: u32, b: u32) -> Seen {
        match byte & !tag::FLAG_REF {
            tag::STRING => Seen { at: a, len: b },
            tag::INTERNED if self.python.dialect().byte_strings => Seen { at: a, len: b },
            _ => Seen::OTHER,
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
                    .resize(self.fields.len() + count as usize, Seen::OTHER);
                self.open.push(open);
                (Seen::OTHER, self.open.len() as u32 - 1)
            }
            tag::TUPLE | tag::SMALL_TUPLE | tag::LIST | tag::SET | tag::FROZENSET | tag::SLICE => {
                (Seen::items(count), NOT_CODE)
            }
            _ => (Seen::OTHER, NOT_CODE),
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

    fn read_as_python(&mut self, python: Python) {
        self.python = python;
        self.set = opcodes::for_file(python, Some(self.magic));
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
        Seen::OTHER
    }

    fn open_as(&mut self, _: u8, _: Form, _: u32, _: u32, _: CodeLayout) -> (Seen, u32) {
        self.failed = true;
        (Seen::OTHER, NOT_CODE)
    }
}
