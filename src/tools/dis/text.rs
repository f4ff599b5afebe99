//! The disassembly as text, laid out like `python -m dis`.

use super::listing::{Listing, Located, code_objects, listing, reading, same_code};
use super::values::{TEXT_CAP, TITLE_CAP, Values, render_name, render_text};
use crate::base::error::Error;
use crate::bytecode::{Argument, Bytecode};
use crate::object::{Code, Object};
use core::fmt::{self, Write};

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
    let mut values = Values::new(TEXT_CAP, render_text);
    let mut titles = Values::new(TITLE_CAP, render_name);
    for (i, (located, shared)) in codes.iter().zip(same_code(&codes)).enumerate() {
        let listing = listing(&codes, i, &set, shared);
        if i > 0 {
            out.write_char('\n')?;
        }
        write_code_text(out, located, &listing, &mut values, &mut titles)?;
        if let Some(first) = shared.and_then(|at| codes.get(at)) {
            out.write_str("  (its co_code is that of ")?;
            write_code_name(out, &first.code, &mut titles)?;
            out.write_str(", listed above)\n")?;
        }
        if let Some(error) = listing.error {
            return Ok(Some(error));
        }
    }
    Ok(None)
}

fn write_code_title(out: &mut impl Write, code: &Code<'_, '_>, titles: &mut Values) -> fmt::Result {
    out.write_str("Disassembly of ")?;
    write_code_name(out, code, titles)?;
    out.write_str(":\n")
}

/// `<code object NAME, file "FILE", line N>`, as `repr` shows a code object.
fn write_code_name(out: &mut impl Write, code: &Code<'_, '_>, titles: &mut Values) -> fmt::Result {
    out.write_str("<code object ")?;
    let name = code.get("co_qualname").or_else(|| code.get("co_name"));
    write_shown(out, name, titles)?;
    if let Some(file) = code.get("co_filename") {
        out.write_str(", file \"")?;
        write_shown(out, Some(file), titles)?;
        out.write_char('"')?;
    }
    if let Some(line) = code.firstlineno() {
        write!(out, ", line {line}")?;
    }
    out.write_char('>')
}

/// A name as a title shows it, cut with `...`.
fn write_shown(
    out: &mut impl Write,
    object: Option<Object<'_, '_>>,
    titles: &mut Values,
) -> fmt::Result {
    let Some(object) = object else {
        return out.write_char('?');
    };
    let (text, whole) = titles.render(object, true);
    out.write_str(text)?;
    if !whole {
        out.write_str("...")?;
    }
    Ok(())
}

fn write_code_text(
    out: &mut impl Write,
    located: &Located<'_, '_>,
    listing: &Listing,
    values: &mut Values,
    titles: &mut Values,
) -> fmt::Result {
    write_code_title(out, &located.code, titles)?;
    let targets = &listing.targets;
    let mut starts = listing.line_starts.iter().peekable();
    let last_offset = listing.last_offset;
    let offset_width = digits(u64::from(last_offset)).max(4);
    let line_width = listing
        .line_starts
        .iter()
        .filter_map(|s| s.line)
        .map(|l| digits(l.unsigned_abs()) + usize::from(l < 0))
        .max()
        .unwrap_or(1)
        .max(3);
    for (i, instruction) in listing.instructions(&located.code).enumerate() {
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
                write_argrepr(out, &instruction.argument, values)?;
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
    values: &mut Values,
) -> fmt::Result {
    let mut value = |out: &mut dyn Write, object: &Object<'_, '_>, name| {
        let (text, whole) = values.render(*object, name);
        let first = text.lines().next().unwrap_or_default();
        out.write_str(first)?;
        // proven: `first` is a prefix of `text`
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
