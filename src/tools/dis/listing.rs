//! What the disassembly lists: the code objects of a file in pre-order, where each stands, the opcode
//! set the file is read with, and each code object's instructions and tables up to its fault.

use crate::base::error::{Context, Error, ErrorKind, Step};
use crate::bytecode::opcodes::OpcodeSet;
use crate::bytecode::{self, Argument, Bytecode, Handler, Instruction, LineStart, Scratch};
use crate::object::{Code, Object, ObjectId};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

/// A code object and where it stands: the code object whose constant it is, and at which index.
/// Paths are built only for an error ([`path_of`]): stored whole, the paths of code objects nested
/// `d` deep would take `d²` steps.
pub struct Located<'o, 'a> {
    /// The code object.
    pub code: Code<'o, 'a>,
    /// Its parent's place in the list, `None` for the file's top-level code object.
    pub parent: Option<usize>,
    /// Its index in the parent's `co_consts`.
    pub index: u32,
}

/// The code objects under `root`, in pre-order, each once.
pub fn code_objects<'o, 'a>(root: Object<'o, 'a>) -> Vec<Located<'o, 'a>> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut scanned = BTreeSet::new();
    // Last first: each entry is an object, its parent's place and its index there.
    let mut stack: Vec<(Object<'o, 'a>, Option<usize>, u32)> = alloc::vec![(root, None, 0)];
    while let Some((object, parent, index)) = stack.pop() {
        let target = object.resolve();
        let Some(code) = target.as_code() else {
            continue;
        };
        if !seen.insert(target.id()) {
            continue;
        }
        let place = out.len();
        // A co_consts that another code object shares was walked with it: the code objects in it
        // are listed already, under the first.
        let consts = code.get("co_consts").map(Object::resolve);
        let walked = consts.is_some_and(|consts| !scanned.insert(consts.id()));
        let nested = code.consts().into_iter().flatten().enumerate();
        let nested = nested.take(if walked { 0 } else { usize::MAX });
        let nested: Vec<_> = nested
            .filter(|(_, item)| item.as_code().is_some())
            .collect();
        stack.extend(
            nested
                .into_iter()
                .rev()
                .map(|(i, item)| (item, Some(place), i as u32)),
        );
        out.push(Located {
            code,
            parent,
            index,
        });
    }
    out
}

/// The steps from the top-level code object to `codes[at]`: `co_consts[3].co_consts[0]`.
pub fn path_of(codes: &[Located<'_, '_>], at: usize) -> Vec<Step> {
    let mut path = Vec::new();
    let mut next = Some(at);
    while let Some(located) = next.and_then(|at| codes.get(at)) {
        if located.parent.is_none() {
            break;
        }
        path.extend([Step::Index(located.index), Step::Field("co_consts")]);
        next = located.parent;
    }
    path.reverse();
    path
}

/// What is known of one code object before it is written: how many of its instructions decode and
/// where they jump, its line starts and exception table, whether its other tables decode, and the
/// fault that stopped them. The instructions, ranges and positions themselves are decoded again as
/// they are written, never kept: they may be many more than the file's bytes (a location table
/// claims up to eight code units a byte).
#[derive(Default)]
pub(super) struct Listing {
    set: Option<&'static OpcodeSet>,
    /// The instructions before the fault (all of them when there is none).
    pub count: usize,
    /// The offset of the last of them.
    pub last_offset: u32,
    /// Where their jumps go.
    pub targets: BTreeSet<u32>,
    pub line_starts: Vec<LineStart>,
    /// Whether the line ranges decode (they are shown).
    pub lines: bool,
    /// Whether the positions are shown (3.11+, where they decode).
    pub positions: bool,
    pub handlers: Option<Vec<Handler>>,
    pub error: Option<Error>,
    /// The place of the code object listed before whose `co_code` this one's is, where it is not
    /// listed again ([`same_code`]).
    pub shared: Option<usize>,
}

impl Listing {
    /// The instructions of `code` before the fault, decoded again.
    pub fn instructions<'o, 'a>(
        &self,
        code: &Code<'o, 'a>,
    ) -> impl Iterator<Item = Instruction<'o, 'a>> + use<'o, 'a> {
        let decoded = self.set.map(|set| code.instructions_as(set));
        decoded
            .into_iter()
            .flatten()
            .take(self.count)
            .map_while(Result::ok)
    }
}

/// The opcode set to read every code object of a file with (`codes`, not empty): the magic's own,
/// unless it fails where the set of another implementation that writes the same magic (PyPy 3.8
/// builds write CPython 3.8's) decodes the whole file. An error where the file's bytecode is not
/// CPython's or PyPy's.
pub fn reading(codes: &[Located<'_, '_>]) -> Result<&'static OpcodeSet, Error> {
    let Some(first) = codes.first() else {
        let why = "the file holds no code object";
        let context = Context {
            path: Vec::new(),
            what: "disassemble",
        };
        return Err(Error::new(ErrorKind::Unsupported(why), 0, context));
    };
    let own = first.code.opcodes()?;
    let others = first.code.other_opcodes();
    let verifies = |set| verify_each(codes, set).is_ok();
    if others.is_empty() || verifies(own) {
        return Ok(own);
    }
    Ok(others.into_iter().find(|&set| verifies(set)).unwrap_or(own))
}

/// For each of `codes`, `None` where it is listed whole, or the place of the code object listed before
/// whose `co_code` it shares, where it is not. Marshal writes an object that several fields share
/// once, and a reference at each other use: CPython's own files share the `co_code` of functions whose
/// bytecode is the same (3.10's `_weakrefset` does). Those are listed whole while the bytecode listed
/// stays within the file's size, which code objects that hold their own `co_code`, or share a short
/// one, never pass; a crafted file that shares a long one among thousands would otherwise make the
/// output the square of the file.
pub(super) fn same_code(codes: &[Located<'_, '_>]) -> Vec<Option<usize>> {
    let mut budget = codes
        .first()
        .map_or(0, |first| first.code.objects().data().len());
    let mut first = BTreeMap::new();
    codes
        .iter()
        .enumerate()
        .map(|(at, located)| {
            let id = located.code.get("co_code")?.resolve().id();
            let len = located.code.bytecode().map_or(0, <[u8]>::len);
            let place = *first.entry(id).or_insert(at);
            match budget.checked_sub(len) {
                Some(left) if place != at => {
                    budget = left;
                    None
                }
                _ if place != at => Some(place),
                left => {
                    budget = left.unwrap_or(0);
                    None
                }
            }
        })
        .collect()
}

/// The listing of `codes[at]`.
pub(super) fn listing(
    codes: &[Located<'_, '_>],
    at: usize,
    set: &Result<&'static OpcodeSet, Error>,
    shared: Option<usize>,
) -> Listing {
    let Some(located) = codes.get(at) else {
        return Listing::default();
    };
    if shared.is_some() {
        return Listing {
            shared,
            ..Listing::default()
        };
    }
    let code = &located.code;
    let mut listing = Listing::default();
    let within = |error: Error| error.within(&path_of(codes, at));
    let set = match set {
        Ok(set) => *set,
        Err(error) => {
            listing.error = Some(within(error.clone()));
            return listing;
        }
    };
    listing.set = Some(set);
    for instruction in code.instructions_as(set) {
        match instruction {
            Ok(instruction) => {
                listing.count += 1;
                listing.last_offset = instruction.offset;
                if let Argument::Jump(target) = instruction.argument {
                    listing.targets.insert(target);
                }
            }
            Err(error) => {
                listing.error = Some(within(error));
                return listing;
            }
        }
    }
    let tables = (|| {
        // The ranges and positions decode the same entries as the line starts.
        listing.line_starts = code.line_starts()?;
        listing.lines = true;
        if code.exceptiontable().is_some() {
            listing.positions = true;
            listing.handlers = Some(code.exception_table()?);
        }
        code.verify_as(set)
    })();
    listing.error = tables.err().map(within);
    listing
}

/// The argument's kind, as the JSON form names it.
pub(super) fn kind_of(argument: &Argument<'_, '_>) -> Option<&'static str> {
    match argument {
        Argument::Const(_) => Some("const"),
        Argument::Name(_) => Some("name"),
        Argument::Local(_) | Argument::Locals(..) => Some("local"),
        Argument::Free(_) => Some("free"),
        Argument::Jump(_) => Some("jump"),
        Argument::Compare(_) => Some("compare"),
        Argument::BinaryOp(_) => Some("binary-op"),
        Argument::Intrinsic(_) => Some("intrinsic"),
        _ => None,
    }
}

/// Every code object under `root` verified ([`Bytecode::verify`]) as the file's [`reading`] reads
/// them: the first fault with the magic's own opcode set, located from the root, unless another
/// implementation's set for the magic decodes the whole file.
pub fn verify_all(root: Object<'_, '_>) -> Result<(), Error> {
    let codes = code_objects(root);
    let Some(first) = codes.first() else {
        return Ok(());
    };
    let Err(error) = verify_each(&codes, first.code.opcodes()?) else {
        return Ok(());
    };
    if first
        .code
        .other_opcodes()
        .into_iter()
        .any(|set| verify_each(&codes, set).is_ok())
    {
        return Ok(());
    }
    Err(error)
}

/// Every one of `codes` verified with `set`, those that verify alike once, and within a budget: the
/// bytes of code, line tables and exception tables verified stay within the file's size. A file whose
/// code objects hold their own, or share short ones (as CPython's do), never reaches it; one that
/// shares a long `co_code` or table among many code objects with tables of different lengths would
/// otherwise cost the square of its size, and is refused with a typed error instead.
fn verify_each(codes: &[Located<'_, '_>], set: &'static OpcodeSet) -> Result<(), Error> {
    let Some(first) = codes.first() else {
        return Ok(());
    };
    let mut budget = first.code.objects().data().len();
    let mut verified = BTreeSet::new();
    let mut scratch = Scratch::default();
    for (at, located) in codes.iter().enumerate() {
        let key = verified_alike(&located.code);
        if verified.contains(&key) {
            continue;
        }
        let len = walked_by_verify(&located.code);
        budget = match budget.checked_sub(len) {
            Some(left) => left,
            None => {
                let why = "its code objects share bytecode or tables more often than a file of its \
                           size holds of its own";
                let context = Context {
                    path: path_of(codes, at),
                    what: "verify the bytecode",
                };
                return Err(Error::new(ErrorKind::Unsupported(why), 0, context));
            }
        };
        bytecode::verify_code(&located.code, set, &mut scratch)
            .map_err(|error| error.within(&path_of(codes, at)))?;
        verified.insert(key);
    }
    Ok(())
}

/// The bytes verifying `code` walks: its code, line table and exception table.
fn walked_by_verify(code: &Code<'_, '_>) -> usize {
    let len = |field| {
        code.get(field)
            .and_then(Object::as_bytes)
            .map_or(0, <[u8]>::len)
    };
    ["co_code", "co_lnotab", "co_linetable", "co_exceptiontable"]
        .into_iter()
        .map(len)
        .fold(0, usize::saturating_add)
}

/// What a code object's verification depends on: the objects its `co_code`, line table and exception
/// table are, and the lengths of the tables its arguments index (an argument is checked against a
/// table's length, never its items). Code objects that agree on all of it verify alike, and those
/// that share their fields (marshal writes a shared object once, a reference at each use) do: a
/// `co_code` that a thousand code objects share is verified once, not a thousand times.
type Alike = ([Option<ObjectId>; 4], [Option<usize>; 6]);

fn verified_alike(code: &Code<'_, '_>) -> Alike {
    let object = |field| code.get(field).map(|o| o.resolve().id());
    let len = |field| code.get(field).and_then(Object::items).map(|i| i.len());
    (
        [
            object("co_code"),
            object("co_lnotab"),
            object("co_linetable"),
            object("co_exceptiontable"),
        ],
        [
            len("co_consts"),
            len("co_names"),
            len("co_varnames"),
            len("co_localsplusnames"),
            len("co_cellvars"),
            len("co_freevars"),
        ],
    )
}
