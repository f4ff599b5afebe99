//! Disassembly: every code object of a file, in pre-order (a code object, then the code objects among
//! its constants, in order), with its instructions, lines and exception table, as text laid out like
//! `python -m dis` and as JSON (the README documents both).
//!
//! Everything decodable is shown, up to the first fault; the fault comes last. Each code object is
//! shown once, however many constants refer to it, so the output stays linear in the file.

use crate::base::error::{Context, ErrorKind};
use crate::base::error::{Error, Step};
use crate::bytecode::opcodes::OpcodeSet;
use crate::bytecode::{Argument, Bytecode, Instruction};
use crate::object::ObjectId;
use crate::object::{Code, Object, Value};
use crate::read::header::Header;
use crate::tools::dump;
use crate::tools::json;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

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
        let nested = code.consts().into_iter().flatten().enumerate();
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

/// What is known of one code object: its instructions and tables as far as they decode, and the
/// fault that stopped them.
#[derive(Default)]
struct Listing<'o, 'a> {
    instructions: Vec<Instruction<'o, 'a>>,
    line_starts: Vec<crate::bytecode::LineStart>,
    lines: Vec<crate::bytecode::LineRange>,
    positions: Option<Vec<crate::bytecode::Position>>,
    handlers: Option<Vec<crate::bytecode::Handler>>,
    error: Option<Error>,
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
    let verifies = |set| {
        codes
            .iter()
            .all(|located| located.code.verify_as(set).is_ok())
    };
    if others.is_empty() || verifies(own) {
        return Ok(own);
    }
    Ok(others.into_iter().find(|&set| verifies(set)).unwrap_or(own))
}

/// The listing of `codes[at]`.
fn listing<'o, 'a>(
    codes: &[Located<'o, 'a>],
    at: usize,
    set: &Result<&'static OpcodeSet, Error>,
) -> Listing<'o, 'a> {
    let Some(located) = codes.get(at) else {
        return Listing::default();
    };
    let code = &located.code;
    let mut listing = Listing {
        instructions: Vec::new(),
        line_starts: Vec::new(),
        lines: Vec::new(),
        positions: None,
        handlers: None,
        error: None,
    };
    let within = |error: Error| error.within(&path_of(codes, at));
    let set = match set {
        Ok(set) => *set,
        Err(error) => {
            listing.error = Some(within(error.clone()));
            return listing;
        }
    };
    for instruction in code.instructions_as(set) {
        match instruction {
            Ok(instruction) => listing.instructions.push(instruction),
            Err(error) => {
                listing.error = Some(within(error));
                return listing;
            }
        }
    }
    let tables = (|| {
        listing.line_starts = code.line_starts()?;
        listing.lines = code.lines()?;
        if code.exceptiontable().is_some() {
            listing.positions = Some(code.positions()?);
            listing.handlers = Some(code.exception_table()?);
        }
        code.verify_as(set)
    })();
    listing.error = tables.err().map(within);
    listing
}

/// Writes the JSON form: `{"header": HEADER or null, "opcodes": SET or null, "code": [CODE, ...],
/// "error": ERROR or null}`, the code objects in pre-order up to the first fault, `error` the fault
/// (the parse's, `parse_error`, when the file did not parse whole), `opcodes` the name of the opcode
/// set read with ([`reading`]).
/// Returns the bytecode's fault, if there was one.
pub fn write_json(
    out: &mut impl Write,
    header: Option<&Header>,
    root: Option<Object<'_, '_>>,
    parse_error: Option<&Error>,
) -> Result<Option<Error>, fmt::Error> {
    out.write_char('{')?;
    let error = write_json_fields(out, header, root, parse_error)?;
    out.write_char('}')?;
    Ok(error)
}

/// [`write_json`]'s members without the braces, for a caller that adds its own (`pyc dis` puts the
/// file's `path` first).
pub fn write_json_fields(
    out: &mut impl Write,
    header: Option<&Header>,
    root: Option<Object<'_, '_>>,
    parse_error: Option<&Error>,
) -> Result<Option<Error>, fmt::Error> {
    out.write_str("\"header\":")?;
    match header {
        Some(header) => json::write_header(out, header)?,
        None => out.write_str("null")?,
    }
    let codes = root.map(code_objects).unwrap_or_default();
    let set = reading(&codes);
    out.write_str(",\"opcodes\":")?;
    match &set {
        Ok(set) if !codes.is_empty() => json::write_str(out, set.name)?,
        _ => out.write_str("null")?,
    }
    out.write_str(",\"code\":[")?;
    let mut error = None;
    for (i, located) in codes.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        let listing = listing(&codes, i, &set);
        write_code_json(out, located, &listing)?;
        if listing.error.is_some() {
            error = listing.error;
            break;
        }
    }
    out.write_str("],\"error\":")?;
    match parse_error.or(error.as_ref()) {
        Some(error) => json::write_error(out, error)?,
        None => out.write_str("null")?,
    }
    Ok(error)
}

fn write_code_json(
    out: &mut impl Write,
    located: &Located<'_, '_>,
    listing: &Listing<'_, '_>,
) -> fmt::Result {
    let code = &located.code;
    out.write_str("{\"name\":")?;
    write_text_or_null(out, code.get("co_name"))?;
    out.write_str(",\"qualname\":")?;
    write_text_or_null(out, code.get("co_qualname"))?;
    out.write_str(",\"parent\":")?;
    match located.parent {
        Some(parent) => write!(out, "{parent},\"const\":{}", located.index)?,
        None => out.write_str("null,\"const\":null")?,
    }
    out.write_str(",\"firstlineno\":")?;
    match code.firstlineno() {
        Some(line) => write!(out, "{line}")?,
        None => out.write_str("null")?,
    }
    out.write_str(",\"instructions\":[")?;
    let mut values = Values::new(code, JSON_CAP, render_json);
    for (i, instruction) in listing.instructions.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(
            out,
            "{{\"offset\":{},\"opname\":\"{}\",\"opcode\":{},\"size\":{},\"arg\":",
            instruction.offset, instruction.name, instruction.opcode, instruction.size
        )?;
        match instruction.arg {
            Some(arg) => write!(out, "{arg}")?,
            None => out.write_str("null")?,
        }
        out.write_str(",\"argkind\":")?;
        match kind_of(&instruction.argument) {
            Some(kind) => write!(out, "\"{kind}\"")?,
            None => out.write_str("null")?,
        }
        out.write_str(",\"argval\":")?;
        write_argval(out, &instruction.argument, &mut values)?;
        out.write_char('}')?;
    }
    out.write_str("],\"line_starts\":[")?;
    for (i, start) in listing.line_starts.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(out, "[{},", start.offset)?;
        write_line(out, start.line)?;
        out.write_char(']')?;
    }
    out.write_str("],\"lines\":[")?;
    for (i, range) in listing.lines.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(out, "[{},{},", range.start, range.end)?;
        write_line(out, range.line)?;
        out.write_char(']')?;
    }
    out.write_str("],\"positions\":")?;
    match &listing.positions {
        Some(positions) => {
            out.write_char('[')?;
            for (i, p) in positions.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                out.write_char('[')?;
                for (j, part) in [p.line, p.end_line, p.column, p.end_column]
                    .into_iter()
                    .enumerate()
                {
                    if j > 0 {
                        out.write_char(',')?;
                    }
                    write_line(out, part)?;
                }
                out.write_char(']')?;
            }
            out.write_char(']')?;
        }
        None => out.write_str("null")?,
    }
    out.write_str(",\"exception_table\":")?;
    match &listing.handlers {
        Some(handlers) => {
            out.write_char('[')?;
            for (i, h) in handlers.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                write!(
                    out,
                    "{{\"start\":{},\"end\":{},\"target\":{},\"depth\":{},\"lasti\":{}}}",
                    h.start, h.end, h.target, h.depth, h.lasti
                )?;
            }
            out.write_char(']')?;
        }
        None => out.write_str("null")?,
    }
    out.write_char('}')
}

fn write_line(out: &mut impl Write, line: Option<i64>) -> fmt::Result {
    match line {
        Some(line) => write!(out, "{line}"),
        None => out.write_str("null"),
    }
}

fn write_text_or_null(out: &mut impl Write, object: Option<Object<'_, '_>>) -> fmt::Result {
    match object.and_then(Object::text) {
        Some(text) => json::write_str(out, &text),
        None => out.write_str("null"),
    }
}

/// The argument's kind, as the JSON form names it.
fn kind_of(argument: &Argument<'_, '_>) -> Option<&'static str> {
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

fn write_argval(
    out: &mut impl Write,
    argument: &Argument<'_, '_>,
    values: &mut Values<'_, '_, '_>,
) -> fmt::Result {
    let mut value =
        |out: &mut dyn Write, object: &Object<'_, '_>, name| match values.get(*object, name) {
            Some(text) => out.write_str(text),
            // Too long to repeat at each instruction that names it: where it is instead.
            None => match values.place_of(*object) {
                Some((table, index)) => write!(out, "{{\"table\":\"{table}\",\"index\":{index}}}"),
                None => out.write_str("null"),
            },
        };
    match argument {
        Argument::None => out.write_str("null"),
        Argument::Number(n) | Argument::Jump(n) => write!(out, "{n}"),
        Argument::Const(object) => value(out, object, false),
        Argument::Name(object) | Argument::Local(object) | Argument::Free(object) => {
            value(out, object, true)
        }
        Argument::Locals(first, second) => {
            out.write_char('[')?;
            value(out, first, true)?;
            out.write_char(',')?;
            value(out, second, true)?;
            out.write_char(']')
        }
        Argument::Compare(symbol) | Argument::BinaryOp(symbol) | Argument::Intrinsic(symbol) => {
            json::write_str(out, symbol)
        }
    }
}

/// The most characters an argument's value takes in the JSON form, and in the text's `(...)`: past
/// them the JSON names the value's place (`{"table": "co_consts", "index": 3}`) and the text cuts it.
/// Many instructions may name one large constant: the output stays linear in the file.
const JSON_CAP: usize = 1024;
const TEXT_CAP: usize = 60;

/// The values of the objects a code object's instructions name, each rendered once and at most to a
/// cap (a long integer's decimal digits, a long string's escapes are worked out once per code object).
struct Values<'c, 'o, 'a> {
    code: &'c Code<'o, 'a>,
    cap: usize,
    render: Render,
    /// By object and whether it is shown as a name: the text, and whether it is whole.
    rendered: BTreeMap<(ObjectId, bool), (String, bool)>,
}

/// Renders an object into a capped buffer, as a name (`true`) or a constant.
type Render = fn(&mut Capped<'_>, Object<'_, '_>, bool) -> fmt::Result;

impl<'c, 'o, 'a> Values<'c, 'o, 'a> {
    fn new(code: &'c Code<'o, 'a>, cap: usize, render: Render) -> Self {
        Values {
            code,
            cap,
            render,
            rendered: BTreeMap::new(),
        }
    }

    /// The object's rendering, as a name or a constant, and whether it is whole (not cut at the
    /// cap).
    fn render(&mut self, object: Object<'_, '_>, name: bool) -> (&str, bool) {
        let (cap, render) = (self.cap, self.render);
        let (text, whole) = self.rendered.entry((object.id(), name)).or_insert_with(|| {
            let mut text = String::new();
            let mut capped = Capped {
                text: &mut text,
                left: cap,
            };
            let whole = render(&mut capped, object, name).is_ok();
            (text, whole)
        });
        (text.as_str(), *whole)
    }

    /// The object's whole rendering, or `None` where it passes the cap.
    fn get(&mut self, object: Object<'_, '_>, name: bool) -> Option<&str> {
        match self.render(object, name) {
            (text, true) => Some(text),
            _ => None,
        }
    }

    /// The field and index of the code object's table that holds `object`.
    fn place_of(&self, object: Object<'_, '_>) -> Option<(&'static str, usize)> {
        const TABLES: [&str; 6] = [
            "co_consts",
            "co_names",
            "co_varnames",
            "co_localsplusnames",
            "co_cellvars",
            "co_freevars",
        ];
        TABLES.into_iter().find_map(|table| {
            let items = self.code.get(table)?.items()?;
            let index = items.ids().iter().position(|&id| id == object.id())?;
            Some((table, index))
        })
    }
}

/// A writer that takes at most `left` more bytes, then fails, ending the rendering.
struct Capped<'s> {
    text: &'s mut String,
    left: usize,
}

impl Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.left = self.left.checked_sub(s.len()).ok_or(fmt::Error)?;
        self.text.push_str(s);
        Ok(())
    }
}

/// A value in the JSON form: a constant as a NODE (a code object as `{"type": "code", "name"}`), a
/// name as a string.
fn render_json(out: &mut Capped<'_>, object: Object<'_, '_>, name: bool) -> fmt::Result {
    // A string's JSON is at least as long as its bytes: no need to decode a long one.
    if object.resolve().payload().len() > out.left {
        return Err(fmt::Error);
    }
    match object.resolve().value() {
        Value::Code(code) => {
            out.write_str("{\"type\":\"code\",\"name\":")?;
            write_text_or_null(out, code.get("co_name"))?;
            out.write_char('}')
        }
        _ if name => write_text_or_null(out, Some(object)),
        _ => json::write_node(out, object),
    }
}

/// A value as the text shows it: a name as it is, a constant as its dump begins.
fn render_text(out: &mut Capped<'_>, object: Object<'_, '_>, name: bool) -> fmt::Result {
    match object.resolve().value() {
        Value::Code(code) => {
            let name = code.qualname();
            write!(out, "<code object {}>", name.as_deref().unwrap_or("?"))
        }
        _ if name => {
            // Decoded only when short enough to show (a code point takes at most four bytes).
            let payload = object.resolve().payload();
            let shown = payload.len() <= out.left.saturating_mul(4);
            match object.text().filter(|_| shown) {
                Some(text) => write_cut(out, &text),
                None => Err(fmt::Error),
            }
        }
        _ => dump::write_object(out, object, dump::Layout::default()),
    }
}

/// As much of `text` as the cap takes, on a character boundary.
fn write_cut(out: &mut Capped<'_>, text: &str) -> fmt::Result {
    let mut end = text.len().min(out.left);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.write_str(&text[..end])?;
    if end < text.len() {
        Err(fmt::Error)
    } else {
        Ok(())
    }
}

/// Writes the disassembly as text, laid out like `python -m dis`: each code object's title, then a
/// line per instruction (the source line where one begins, `>>` on a jump's target, the offset, the
/// name, the argument and what it stands for), then its exception table; the fault last.
pub fn write_text(out: &mut impl Write, root: Object<'_, '_>) -> Result<Option<Error>, fmt::Error> {
    let codes = code_objects(root);
    let set = reading(&codes);
    if let (Ok(set), Some(Ok(own))) = (&set, codes.first().map(|l| l.code.opcodes())) {
        if set.name != own.name {
            writeln!(
                out,
                "# read as {}: the magic is {}'s, whose opcodes do not decode it\n",
                set.name, own.name
            )?;
        }
    }
    for (i, located) in codes.iter().enumerate() {
        let listing = listing(&codes, i, &set);
        if i > 0 {
            out.write_char('\n')?;
        }
        write_code_text(out, located, &listing)?;
        if let Some(error) = listing.error {
            return Ok(Some(error));
        }
    }
    Ok(None)
}

fn write_code_title(out: &mut impl Write, code: &Code<'_, '_>) -> fmt::Result {
    out.write_str("Disassembly of <code object ")?;
    out.write_str(code.qualname().as_deref().unwrap_or("?"))?;
    if let Some(file) = code.filename() {
        write!(out, ", file \"{file}\"")?;
    }
    if let Some(line) = code.firstlineno() {
        write!(out, ", line {line}")?;
    }
    out.write_str(">:\n")
}

fn write_code_text(
    out: &mut impl Write,
    located: &Located<'_, '_>,
    listing: &Listing<'_, '_>,
) -> fmt::Result {
    write_code_title(out, &located.code)?;
    let mut values = Values::new(&located.code, TEXT_CAP, render_text);
    let targets: BTreeSet<u32> = listing
        .instructions
        .iter()
        .filter_map(|i| match i.argument {
            Argument::Jump(target) => Some(target),
            _ => None,
        })
        .collect();
    let mut starts = listing.line_starts.iter().peekable();
    let last_offset = listing.instructions.last().map_or(0, |i| i.offset);
    let offset_width = digits(u64::from(last_offset)).max(4);
    let line_width = listing
        .line_starts
        .iter()
        .filter_map(|s| s.line)
        .map(|l| digits(l.unsigned_abs()) + usize::from(l < 0))
        .max()
        .unwrap_or(1)
        .max(3);
    for (i, instruction) in listing.instructions.iter().enumerate() {
        let mut line = None;
        while let Some(start) = starts.peek() {
            if start.offset > instruction.offset {
                break;
            }
            if start.offset == instruction.offset {
                line = Some(start.line);
            }
            starts.next();
        }
        if line.is_some() && i > 0 {
            out.write_char('\n')?;
        }
        match line {
            Some(Some(line)) => write!(out, "{line:>line_width$}")?,
            Some(None) => write!(out, "{:>line_width$}", "--")?,
            None => write!(out, "{:line_width$}", "")?,
        }
        let marker = if targets.contains(&instruction.offset) {
            ">>"
        } else {
            "  "
        };
        write!(out, "  {marker} {:>offset_width$} ", instruction.offset)?;
        match instruction.arg {
            Some(arg) => {
                write!(out, "{:<20} {arg:>5}", instruction.name)?;
                write_argrepr(out, &instruction.argument, &mut values)?;
            }
            None => out.write_str(instruction.name)?,
        }
        out.write_char('\n')?;
    }
    if let Some(handlers) = listing.handlers.as_ref().filter(|h| !h.is_empty()) {
        out.write_str("ExceptionTable:\n")?;
        for h in handlers {
            write!(
                out,
                "  {} to {} -> {} [{}]",
                h.start, h.end, h.target, h.depth
            )?;
            if h.lasti {
                out.write_str(" lasti")?;
            }
            out.write_char('\n')?;
        }
    }
    Ok(())
}

/// ` (what the argument stands for)`, as `dis` prints it after the argument: a constant as its dump
/// begins, cut with `...`.
fn write_argrepr(
    out: &mut impl Write,
    argument: &Argument<'_, '_>,
    values: &mut Values<'_, '_, '_>,
) -> fmt::Result {
    let mut value = |out: &mut dyn Write, object: &Object<'_, '_>, name| {
        let (text, whole) = values.render(*object, name);
        let first = text.lines().next().unwrap_or_default();
        out.write_str(first)?;
        if !whole || !text[first.len()..].trim().is_empty() {
            out.write_str("...")?;
        }
        Ok(())
    };
    if matches!(argument, Argument::None | Argument::Number(_)) {
        return Ok(());
    }
    out.write_str(" (")?;
    match argument {
        Argument::Const(object) => value(out, object, false)?,
        Argument::Name(object) | Argument::Local(object) | Argument::Free(object) => {
            value(out, object, true)?
        }
        Argument::Locals(first, second) => {
            value(out, first, true)?;
            out.write_str(", ")?;
            value(out, second, true)?;
        }
        Argument::Jump(target) => write!(out, "to {target}")?,
        Argument::Compare(symbol) | Argument::BinaryOp(symbol) | Argument::Intrinsic(symbol) => {
            out.write_str(symbol)?
        }
        Argument::None | Argument::Number(_) => {}
    }
    out.write_char(')')
}

fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// Every code object under `root` verified ([`Bytecode::verify`]) as the file's [`reading`] reads
/// them: the first fault with the magic's own opcode set, located from the root, unless another
/// implementation's set for the magic decodes the whole file.
pub fn verify_all(root: Object<'_, '_>) -> Result<(), Error> {
    let codes = code_objects(root);
    let Some(first) = codes.first() else {
        return Ok(());
    };
    let check = |set| {
        codes.iter().enumerate().try_for_each(|(at, located)| {
            located
                .code
                .verify_as(set)
                .map_err(|error| error.within(&path_of(&codes, at)))
        })
    };
    let Err(error) = check(first.code.opcodes()?) else {
        return Ok(());
    };
    if first
        .code
        .other_opcodes()
        .into_iter()
        .any(|set| check(set).is_ok())
    {
        return Ok(());
    }
    Err(error)
}
