//! The JSON form of the disassembly (`pyc dis --json`).

use super::listing::{Listing, Located, code_objects, kind_of, listing, reading, same_code};
use super::values::{JSON_CAP, NAME_CAP, Places, Values, render_json, render_name};
use crate::base::error::Error;
use crate::bytecode::{Argument, Bytecode};
use crate::object::{Code, Object};
use crate::read::header::Header;
use crate::tools::json;
use core::fmt::{self, Write};

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
    let mut values = Values::new(JSON_CAP, render_json);
    let mut names = Values::new(NAME_CAP, render_name);
    let mut places = Places::default();
    for (i, (located, shared)) in codes.iter().zip(same_code(&codes)).enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        let listing = listing(&codes, i, &set, shared);
        write_code_json(out, located, &listing, &mut values, &mut names, &mut places)?;
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
    listing: &Listing,
    values: &mut Values,
    names: &mut Values,
    places: &mut Places,
) -> fmt::Result {
    let code = &located.code;
    out.write_str("{\"name\":")?;
    write_name(out, code.get("co_name"), names)?;
    out.write_str(",\"qualname\":")?;
    write_name(out, code.get("co_qualname"), names)?;
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
    out.write_str(",\"shared_code\":")?;
    match listing.shared {
        Some(first) => write!(out, "{first}")?,
        None => out.write_str("null")?,
    }
    out.write_str(",\"instructions\":[")?;
    for (i, instruction) in listing.instructions(code).enumerate() {
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
        write_argval(out, &instruction.argument, code, values, places)?;
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
    if listing.lines {
        let mut first = true;
        each(out, &mut |each| code.each_line(each), |out, range| {
            if !core::mem::take(&mut first) {
                out.write_char(',')?;
            }
            write!(out, "[{},{},", range.start, range.end)?;
            write_line(out, range.line)?;
            out.write_char(']')
        })?;
    }
    out.write_str("],\"positions\":")?;
    if listing.positions {
        out.write_char('[')?;
        let mut first = true;
        each(out, &mut |each| code.each_position(each), |out, p| {
            if !core::mem::take(&mut first) {
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
            out.write_char(']')
        })?;
        out.write_char(']')?;
    } else {
        out.write_str("null")?;
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

/// A walk over a table: calls its argument with each item, in order.
type Walk<'w, T> = dyn FnMut(&mut dyn FnMut(T)) -> Result<(), Error> + 'w;

/// Writes each item a walk over a table gives (`walk` calls its argument with each), as `write` says;
/// the listing found that the table decodes, so the walk's own error cannot occur.
fn each<T, W: Write>(
    out: &mut W,
    walk: &mut Walk<'_, T>,
    mut write: impl FnMut(&mut W, T) -> fmt::Result,
) -> fmt::Result {
    let mut result = Ok(());
    let _ = walk(&mut |item| {
        if result.is_ok() {
            result = write(out, item);
        }
    });
    result
}

fn write_line(out: &mut impl Write, line: Option<i64>) -> fmt::Result {
    match line {
        Some(line) => write!(out, "{line}"),
        None => out.write_str("null"),
    }
}

/// A name field as a JSON string, cut at [`NAME_CAP`] with `...`; `null` where there is none.
fn write_name(
    out: &mut impl Write,
    object: Option<Object<'_, '_>>,
    names: &mut Values,
) -> fmt::Result {
    let Some(object) = object.filter(|o| o.text().is_some()) else {
        return out.write_str("null");
    };
    match names.render(object, true) {
        (text, true) => json::write_str(out, text),
        (text, false) => json::write_str(out, &alloc::format!("{text}...")),
    }
}

fn write_argval(
    out: &mut impl Write,
    argument: &Argument<'_, '_>,
    code: &Code<'_, '_>,
    values: &mut Values,
    places: &mut Places,
) -> fmt::Result {
    let mut value =
        |out: &mut dyn Write, object: &Object<'_, '_>, name| match values.get(*object, name) {
            Some(text) => out.write_str(text),
            // Too long to repeat at each instruction that names it: where it is instead.
            None => match places.of(code, *object) {
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
