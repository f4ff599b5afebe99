//! The readable forms: a header in words, and decoded objects the way Python's `repr` would show them,
//! indented, with code objects spelled out field by field.
//!
//! Pure formatting of the [`crate::object`] views, for people (the [`crate::tools::json`] form is for
//! machines), written as it is walked to any [`core::fmt::Write`]. Every line costs at most a fixed
//! amount beyond the bytes it shows, so the output is linear in the input: a back-reference is never
//! expanded (a short scalar it stands for is shown as itself, as Python's repr would; anything else as
//! a reference with a preview of at most [`PREVIEW`] characters); indentation stops
//! growing at [`MAX_INDENT`] levels (deeper lines say their depth); names in titles are cut at
//! [`PREVIEW`] characters; longs past the decimal limit are hexadecimal.

use crate::base::number;
use crate::format::magic::HeaderLayout;
use crate::object::walk::{Event, Place, Walk};
use crate::object::{Object, Ref, Value};
use crate::read::header::{Header, Invalidation};
use crate::tools::json::Hex;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

/// Writes a Unix time as `2024-05-01 12:34:56 UTC` (proleptic Gregorian, any year).
pub fn write_timestamp(out: &mut impl Write, seconds: i64) -> fmt::Result {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil, valid for every i64 day count this can produce.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Writes the header in words, one `name: value` line each: the magic and who writes it, the layout
/// and flags, the invalidation mode and what it stores (the mtime as a date).
pub fn write_header(out: &mut impl Write, header: &Header) -> fmt::Result {
    let [b0, b1, b2, b3] = header.word;
    let python = header.python;
    write!(
        out,
        "magic:        {} ({b0:02x} {b1:02x} {b2:02x} {b3:02x}), {} {}.{}",
        header.magic(),
        python.implementation.name(),
        python.major,
        python.minor
    )?;
    match header.entry {
        Some(entry) => writeln!(out, ", {}", entry.note)?,
        None => out.write_str(", unknown magic read as this version\n")?,
    }
    let layout = match header.layout {
        HeaderLayout::Word8 => "Python 1.0-1.2 layout",
        HeaderLayout::Classic8 => "magic and mtime",
        HeaderLayout::WithSize12 => "magic, mtime and source size",
        HeaderLayout::Pep552 => "PEP 552",
    };
    write!(out, "header:       {} bytes, {layout}", header.size())?;
    if let Some(flags) = header.flags {
        write!(out, ", flags {flags:#x}")?;
    }
    out.write_char('\n')?;
    match header.invalidation {
        Invalidation::Timestamp { mtime, source_size } => {
            let what = match source_size {
                Some(_) => "the importer compares the source's mtime and size",
                None => "the importer compares the source's mtime",
            };
            writeln!(out, "invalidation: timestamp ({what})")?;
            out.write_str("source mtime: ")?;
            write_timestamp(out, i64::from(mtime))?;
            writeln!(out, " ({mtime})")?;
            if let Some(size) = source_size {
                writeln!(out, "source size:  {size} bytes")?;
            }
            Ok(())
        }
        Invalidation::CheckedHash { hash } => {
            out.write_str(
                "invalidation: checked-hash (the importer compares a SipHash of the source)\n",
            )?;
            writeln!(out, "source hash:  {}", Hex(&hash))
        }
        Invalidation::UncheckedHash { hash } => {
            out.write_str(
                "invalidation: unchecked-hash (the importer uses it whatever the source)\n",
            )?;
            writeln!(out, "source hash:  {}", Hex(&hash))
        }
    }
}

/// How [`write_object`] lays things out.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Start each line with the absolute byte offset of the object it shows.
    pub offsets: bool,
}

/// Lines longer than this are broken into one item per line.
const WIDTH: usize = 100;
const INDENT: &str = "    ";
/// Lines deeper than this many levels are indented as at this level, and say their depth.
pub const MAX_INDENT: usize = 12;
/// The most [`write_object`] writes per input byte: a one-byte object on a line of its own at the
/// deepest indentation, with its offset.
pub const MAX_CHARS_PER_BYTE: usize = 100;
/// How much of a back-reference's target, or of a name in a title, a line shows at most.
pub const PREVIEW: usize = 40;
/// How deep containers may nest on one line; a bound, so the inline writer may recurse.
const INLINE_LEVELS: u32 = 3;

/// What a block left open owes at its end: its closing text, and a comma if it is an item.
struct Close {
    text: &'static str,
    comma: bool,
}

/// Writes `root` and everything under it, one line per scalar, reference or short container, blocks
/// for the rest, each line ending in a newline.
pub fn write_object(out: &mut impl Write, root: Object<'_, '_>, layout: Layout) -> fmt::Result {
    let width = digits(root.objects().data().len() as u64);
    let mut lines = Lines { out, layout, width };
    let mut walk = Walk::new(root);
    // One per entered container: what its end writes (code objects write nothing).
    let mut closes: Vec<Option<Close>> = Vec::new();
    // A dict's key written on one line, waiting for its value's line.
    let mut key = String::new();
    let mut key_pending = false;
    let mut scratch = String::new();
    while let Some(event) = walk.next() {
        let depth = walk.depth();
        match event {
            Event::Object(object, place) => {
                let (label, comma) = match place {
                    Place::Root => (Label::None, false),
                    Place::Item(_) => (Label::None, true),
                    Place::Field(field, _) => (Label::Text(field.name), false),
                    Place::Terminator | Place::Dangling => continue,
                    Place::Key(_) => {
                        key.clear();
                        key_pending = write_inline(&mut key, object, WIDTH, INLINE_LEVELS)?;
                        if key_pending {
                            continue;
                        }
                        (Label::Text("key"), false)
                    }
                    Place::Value(_) if key_pending => {
                        key_pending = false;
                        (Label::Key, true)
                    }
                    Place::Value(_) => (Label::Text("value"), true),
                };
                lines.start(object.offset(), depth)?;
                let used = match label {
                    Label::None => 0,
                    Label::Text(text) => {
                        write!(lines.out, "{text}: ")?;
                        text.len() + 2
                    }
                    Label::Key => {
                        write!(lines.out, "{key}: ")?;
                        key.len() + 2
                    }
                };
                let budget = WIDTH.saturating_sub(used + depth.min(MAX_INDENT) * INDENT.len());
                scratch.clear();
                if write_inline(&mut scratch, object, budget.max(40), INLINE_LEVELS)? {
                    lines.out.write_str(&scratch)?;
                    lines.end(comma)?;
                    continue;
                }
                // A scalar too long for a line has a line of its own, whole.
                if object.reference().is_none() {
                    if let Some(true) = write_scalar(lines.out, object, usize::MAX)? {
                        lines.end(comma)?;
                        continue;
                    }
                }
                let close = write_block_head(lines.out, object)?;
                lines.end(false)?;
                walk.enter(object);
                closes.push(close.map(|text| Close { text, comma }));
                if !object.is_complete() {
                    lines.start(None, depth + 1)?;
                    lines.out.write_str("<incomplete>")?;
                    lines.end(false)?;
                }
            }
            Event::Int(field, value, _) => {
                lines.start(None, depth)?;
                if field.name == "co_flags" {
                    write!(lines.out, "{}: {value:#x}", field.name)?;
                } else {
                    write!(lines.out, "{}: {value}", field.name)?;
                }
                lines.end(false)?;
            }
            Event::End(_) => {
                if let Some(Some(close)) = closes.pop() {
                    lines.start(None, depth)?;
                    lines.out.write_str(close.text)?;
                    lines.end(close.comma)?;
                }
            }
        }
    }
    Ok(())
}

/// What stands before an object on its line.
#[derive(Copy, Clone)]
enum Label {
    None,
    Text(&'static str),
    /// The pending dict key.
    Key,
}

/// The line layout: the offset column and the indentation.
struct Lines<'w, W: Write> {
    out: &'w mut W,
    layout: Layout,
    width: usize,
}

impl<W: Write> Lines<'_, W> {
    fn start(&mut self, offset: Option<u64>, depth: usize) -> fmt::Result {
        if self.layout.offsets {
            match offset {
                Some(offset) => write!(self.out, "{offset:>width$}  ", width = self.width)?,
                None => write!(self.out, "{:width$}  ", "", width = self.width)?,
            }
        }
        for _ in 0..depth.min(MAX_INDENT) {
            self.out.write_str(INDENT)?;
        }
        if depth > MAX_INDENT {
            write!(self.out, "[depth {depth}] ")?;
        }
        Ok(())
    }

    fn end(&mut self, comma: bool) -> fmt::Result {
        if comma {
            self.out.write_char(',')?;
        }
        self.out.write_char('\n')
    }
}

/// Writes the opening of a container shown as a block, and returns its closing text (none for a code
/// object, whose fields follow its title).
fn write_block_head(
    out: &mut impl Write,
    object: Object<'_, '_>,
) -> Result<Option<&'static str>, fmt::Error> {
    let (open, close) = match object.value() {
        Value::Code(_) => {
            write_code_title(out, object)?;
            return Ok(None);
        }
        Value::Dict(_) => ("{", "}"),
        Value::FrozenDict(_) => ("frozendict({", "})"),
        Value::Tuple(_) => ("(", ")"),
        Value::List(_) => ("[", "]"),
        Value::Set(_) => ("{", "}"),
        Value::FrozenSet(_) => ("frozenset({", "})"),
        Value::Slice(_) => ("slice(", ")"),
        _ => ("", ""),
    };
    out.write_str(open)?;
    Ok(Some(close))
}

/// `<code object NAME, file 'FILE', line N>`, as much as was read, names cut at [`PREVIEW`].
fn write_code_title(out: &mut impl Write, object: Object<'_, '_>) -> fmt::Result {
    let Some(code) = object.as_code() else {
        return Ok(());
    };
    out.write_str("<code object ")?;
    match code.qualname() {
        Some(name) => write_cut(out, &name)?,
        None => out.write_char('?')?,
    }
    if let Some(file) = code.filename() {
        out.write_str(", file ")?;
        write_text_repr(out, || file.chars().map(u32::from), false, PREVIEW)?;
    }
    if let Some(line) = code.firstlineno() {
        write!(out, ", line {line}")?;
    }
    if !code.is_complete() {
        out.write_str(", incomplete")?;
    }
    out.write_char('>')
}

/// Writes at most [`PREVIEW`] characters of `text`, and `...` when there were more.
fn write_cut(out: &mut impl Write, text: &str) -> fmt::Result {
    let mut chars = text.chars();
    for c in chars.by_ref().take(PREVIEW) {
        out.write_char(c)?;
    }
    if chars.next().is_some() {
        out.write_str("...")?;
    }
    Ok(())
}

fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// Writes `object` on one line if it is a scalar, a reference, or a container (at most `levels` deep) of
/// those that fits in `budget` characters. Returns false (with part of it written) otherwise. Each
/// piece is measured before it is written, so a try costs at most about `budget` characters, whatever
/// the size of what it looks at.
fn write_inline(
    out: &mut String,
    object: Object<'_, '_>,
    budget: usize,
    levels: u32,
) -> Result<bool, fmt::Error> {
    let start = out.len();
    if object.reference().is_some() {
        write_reference(out, object, levels)?;
        return Ok(out.len() - start <= budget);
    }
    if let Some(fits) = write_scalar(out, object, budget)? {
        return Ok(fits && out.len() - start <= budget);
    }
    let Some(levels) = levels.checked_sub(1) else {
        return Ok(false);
    };
    let value = object.value();
    let (open, close, items) = match value {
        Value::Tuple(items) => ("(", ")", items),
        Value::List(items) => ("[", "]", items),
        Value::Set(items) if items.is_empty() => ("set(", ")", items),
        Value::Set(items) => ("{", "}", items),
        Value::FrozenSet(items) if items.is_empty() => ("frozenset(", ")", items),
        Value::FrozenSet(items) => ("frozenset({", "})", items),
        Value::Slice(items) => ("slice(", ")", items),
        Value::Dict(pairs) | Value::FrozenDict(pairs) => {
            let frozen = matches!(value, Value::FrozenDict(_));
            out.write_str(if frozen { "frozendict({" } else { "{" })?;
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                let left = budget.saturating_sub(out.len() - start);
                if !write_inline(out, key, left, levels)? {
                    return Ok(false);
                }
                out.write_str(": ")?;
                let left = budget.saturating_sub(out.len() - start);
                if !write_inline(out, value, left, levels)? || out.len() - start > budget {
                    return Ok(false);
                }
            }
            out.write_str(if frozen { "})" } else { "}" })?;
            return Ok(object.is_complete() && out.len() - start <= budget);
        }
        _ => return Ok(false),
    };
    // Every item takes two characters at least (a character and a separator).
    if items.len().saturating_mul(2) > budget {
        return Ok(false);
    }
    out.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.write_str(", ")?;
        }
        let left = budget.saturating_sub(out.len() - start);
        if !write_inline(out, item, left, levels)? || out.len() - start > budget {
            return Ok(false);
        }
    }
    if items.len() == 1 && open == "(" {
        out.write_char(',')?;
    }
    out.write_str(close)?;
    Ok(object.is_complete() && out.len() - start <= budget)
}

/// A back-reference: a scalar it stands for whose repr fits in [`PREVIEW`] characters as that repr, as
/// Python shows it; anything else as `<ref N: PREVIEW>`, the preview the target's inline form when that
/// fits in [`PREVIEW`] characters, else its type (and a code object's name). Never more than about
/// [`PREVIEW`] characters, whatever it refers to.
fn write_reference(out: &mut String, object: Object<'_, '_>, levels: u32) -> fmt::Result {
    let (Some(Ref::Object(index)) | Some(Ref::InternedString(index))) = object.reference() else {
        return Ok(());
    };
    let target = object.resolve();
    let mark = out.len();
    let scalar = target.reference().is_none() && write_scalar(out, target, PREVIEW)? == Some(true);
    if scalar && out.len() - mark <= PREVIEW {
        return Ok(());
    }
    out.truncate(mark);
    write!(out, "<ref {index}: ")?;
    let mark = out.len();
    let shown = target.reference().is_none()
        && levels > 0
        && write_inline(out, target, PREVIEW, levels.min(1))?;
    if !shown {
        out.truncate(mark);
        match target.value() {
            Value::Code(code) => {
                out.write_str("code ")?;
                write_cut(out, code.qualname().as_deref().unwrap_or("?"))?;
            }
            other => out.write_str(other.type_name())?,
        }
    }
    out.write_char('>')
}

/// Writes a scalar's repr if it fits in `budget` (`Some(false)`, with part of it written, if it does
/// not); `None`, writing nothing, for a container or code object. Strings, bytes and longs are measured
/// before they are written.
fn write_scalar(
    out: &mut impl Write,
    object: Object<'_, '_>,
    budget: usize,
) -> Result<Option<bool>, fmt::Error> {
    let byte_strings = object.objects().python().dialect().byte_strings;
    let value = object.value();
    // The fewest characters the repr takes: a quote or digit per stored character or digit.
    let least = match value {
        Value::Bytes(bytes) => bytes.len(),
        Value::Str(s) => s.raw().len() / 4,
        Value::Long(long) => long.digits().len() * usize::from(long.digit_bits()) * 3 / 10,
        _ => 0,
    };
    if least > budget {
        return Ok(Some(false));
    }
    match value {
        Value::Null => out.write_str("<NULL>")?,
        Value::None => out.write_str("None")?,
        Value::True => out.write_str("True")?,
        Value::False => out.write_str("False")?,
        Value::StopIteration => out.write_str("<class 'StopIteration'>")?,
        Value::Ellipsis => out.write_str("Ellipsis")?,
        Value::Int(v) => write!(out, "{v}")?,
        Value::Long(long) => write!(out, "{long}")?,
        Value::Float(x) => number::write_float_repr(out, x)?,
        Value::Complex { real, imag } => write_complex(out, real, imag)?,
        Value::Bytes(bytes) => {
            if !byte_strings {
                out.write_char('b')?;
            }
            write_text_repr(
                out,
                || bytes.iter().map(|&b| u32::from(b)),
                true,
                usize::MAX,
            )?;
        }
        Value::Str(s) => {
            if byte_strings {
                out.write_char('u')?;
            }
            write_text_repr(out, || s.code_points(), false, usize::MAX)?;
        }
        _ => return Ok(None),
    }
    Ok(Some(true))
}

/// Python's `repr(complex)`: `1j`, `(1.5-2j)`, `(-0+1j)`; parts without a `.0`.
fn write_complex(out: &mut impl Write, real: f64, imag: f64) -> fmt::Result {
    let part = |x: f64| {
        let mut text = String::new();
        let _ = number::write_float_repr(&mut text, x);
        if let Some(integral) = text.strip_suffix(".0") {
            let len = integral.len();
            text.truncate(len);
        }
        text
    };
    let imag_text = part(imag);
    if real == 0.0 && real.is_sign_positive() {
        return write!(out, "{imag_text}j");
    }
    let sign = if imag_text.starts_with('-') { "" } else { "+" };
    write!(out, "({}{sign}{imag_text}j)", part(real))
}

/// Python's quoting of a str or bytes repr: single quotes unless the text has a `'` and no `"`;
/// backslash escapes for the quote, backslash, tab, newline, carriage return and for what Python does
/// not print: for bytes, everything outside printable ASCII; for str, controls, lone surrogates and
/// the common invisible characters. At most `limit` code points are shown; the rest as `...`.
fn write_text_repr<I: Iterator<Item = u32>>(
    out: &mut impl Write,
    code_points: impl Fn() -> I,
    bytes: bool,
    limit: usize,
) -> fmt::Result {
    let (mut single, mut double) = (false, false);
    for cp in code_points() {
        single |= cp == u32::from('\'');
        double |= cp == u32::from('"');
    }
    let quote = if single && !double { '"' } else { '\'' };
    out.write_char(quote)?;
    for (i, cp) in code_points().enumerate() {
        if i == limit {
            out.write_str("...")?;
            break;
        }
        match char::from_u32(cp) {
            Some(c) if c == quote || c == '\\' => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            Some('\t') => out.write_str("\\t")?,
            Some('\n') => out.write_str("\\n")?,
            Some('\r') => out.write_str("\\r")?,
            Some(c)
                if if bytes {
                    c.is_ascii() && !c.is_ascii_control()
                } else {
                    is_printable(c)
                } =>
            {
                out.write_char(c)?
            }
            _ => match cp {
                0..=0xff => write!(out, "\\x{cp:02x}")?,
                0x100..=0xffff => write!(out, "\\u{cp:04x}")?,
                _ => write!(out, "\\U{cp:08x}")?,
            },
        }
    }
    out.write_char(quote)
}

/// Close to Python's `str.isprintable`: no controls, separators other than space, format characters or
/// private-use characters. (Unassigned code points, which Python also escapes, are printed.)
fn is_printable(c: char) -> bool {
    let cp = u32::from(c);
    !(c.is_control()
        || matches!(
            cp,
            0xa0 | 0xad
                | 0x600..=0x605
                | 0x61c
                | 0x6dd
                | 0x70f
                | 0x1680
                | 0x180e
                | 0x2000..=0x200f
                | 0x2028..=0x202f
                | 0x205f..=0x206f
                | 0x3000
                | 0xe000..=0xf8ff
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0xf0000..
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_civil_utc_dates() {
        let cases = [
            (0, "1970-01-01 00:00:00 UTC"),
            (1_714_566_896, "2024-05-01 12:34:56 UTC"),
            (951_782_400, "2000-02-29 00:00:00 UTC"),
            (-1, "1969-12-31 23:59:59 UTC"),
            (4_294_967_295, "2106-02-07 06:28:15 UTC"),
        ];
        for (seconds, text) in cases {
            let mut out = String::new();
            write_timestamp(&mut out, seconds).unwrap();
            assert_eq!(out, text);
        }
        let mut out = String::new();
        write_timestamp(&mut out, i64::MIN).unwrap();
        assert!(out.ends_with("UTC"));
    }

    #[test]
    fn complex_parts_drop_their_point_zero_like_python() {
        let cases = [
            (0.0, 1.0, "1j"),
            (1.5, -2.0, "(1.5-2j)"),
            (-0.0, 1.0, "(-0+1j)"),
            (1.0, f64::INFINITY, "(1+infj)"),
        ];
        for (real, imag, text) in cases {
            let mut out = String::new();
            write_complex(&mut out, real, imag).unwrap();
            assert_eq!(out, text);
        }
    }

    #[test]
    fn text_reprs_choose_quotes_and_escapes_like_python() {
        let cases = [
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("both ' \"", "'both \\' \"'"),
            ("tab\tnl\n\u{1}", "'tab\\tnl\\n\\x01'"),
            ("é中\u{2028}", "'é中\\u2028'"),
        ];
        for (text, repr) in cases {
            let mut out = String::new();
            write_text_repr(&mut out, || text.chars().map(u32::from), false, usize::MAX).unwrap();
            assert_eq!(out, repr);
        }
    }
}
