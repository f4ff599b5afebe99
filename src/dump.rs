//! The readable forms: a header in words, and decoded objects the way Python's `repr` would show them,
//! indented, with code objects spelled out field by field.
//!
//! Pure formatting of the [`crate::object`] views, for people (the [`crate::json`] form is for machines).
//! Like the JSON writer it keeps its own stack, so no nesting can exhaust the call stack, and it never
//! expands a back-reference to a container, so the output stays linear in the input.

use crate::header::{Header, Invalidation};
use crate::magic::HeaderLayout;
use crate::number;
use crate::object::{FieldValue, Object, Value};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

/// Appends a Unix time as `2024-05-01 12:34:56 UTC` (proleptic Gregorian, any year).
pub fn write_timestamp(out: &mut String, seconds: i64) {
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
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
}

/// Appends the header in words, one `name: value` line each: the magic and who writes it, the layout
/// and flags, the invalidation mode and what it stores (the mtime as a date).
pub fn write_header(out: &mut String, header: &Header) {
    let [b0, b1, b2, b3] = header.word;
    let python = header.python;
    let _ = write!(
        out,
        "magic:        {} ({b0:02x} {b1:02x} {b2:02x} {b3:02x}), {} {}.{}",
        header.magic(),
        python.implementation.name(),
        python.major,
        python.minor
    );
    match header.entry {
        Some(entry) => {
            let _ = writeln!(out, ", {}", entry.note);
        }
        None => out.push_str(", unknown magic read as this version\n"),
    }
    let layout = match header.layout {
        HeaderLayout::Word8 => "Python 1.0-1.2 layout",
        HeaderLayout::Classic8 => "magic and mtime",
        HeaderLayout::WithSize12 => "magic, mtime and source size",
        HeaderLayout::Pep552 => "PEP 552",
    };
    let _ = write!(out, "header:       {} bytes, {layout}", header.size());
    if let Some(flags) = header.flags {
        let _ = write!(out, ", flags {flags:#x}");
    }
    out.push('\n');
    match header.invalidation {
        Invalidation::Timestamp { mtime, source_size } => {
            let what = match source_size {
                Some(_) => "the importer compares the source's mtime and size",
                None => "the importer compares the source's mtime",
            };
            let _ = writeln!(out, "invalidation: timestamp ({what})");
            out.push_str("source mtime: ");
            write_timestamp(out, i64::from(mtime));
            let _ = writeln!(out, " ({mtime})");
            if let Some(size) = source_size {
                let _ = writeln!(out, "source size:  {size} bytes");
            }
        }
        Invalidation::CheckedHash { hash } => {
            out.push_str(
                "invalidation: checked-hash (the importer compares a SipHash of the source)\n",
            );
            write_hash(out, &hash);
        }
        Invalidation::UncheckedHash { hash } => {
            out.push_str(
                "invalidation: unchecked-hash (the importer uses it whatever the source)\n",
            );
            write_hash(out, &hash);
        }
    }
}

fn write_hash(out: &mut String, hash: &[u8; 8]) {
    out.push_str("source hash:  ");
    hash.iter().for_each(|b| {
        let _ = write!(out, "{b:02x}");
    });
    out.push('\n');
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

/// What stands before an object on its line.
#[derive(Clone)]
enum Label {
    None,
    Field(&'static str),
    Key(String),
}

/// Work left for the writer, last first.
enum Task<'o, 'a> {
    /// An object on its own line (or block), then a comma when it is an item.
    Node {
        object: Object<'o, 'a>,
        depth: usize,
        label: Label,
        comma: bool,
    },
    /// An integer field of a code object.
    Int {
        name: &'static str,
        value: i32,
        depth: usize,
    },
    /// A line of its own: a closing bracket, or a note.
    Line {
        text: &'static str,
        depth: usize,
        comma: bool,
    },
}

/// Appends `root` and everything under it, one line per scalar or short container, blocks for the
/// rest, each line ending in a newline.
pub fn write_object(out: &mut String, root: Object<'_, '_>, layout: Layout) {
    let width = digits(root.objects().data().len() as u64);
    let mut stack = vec![Task::Node {
        object: root,
        depth: 0,
        label: Label::None,
        comma: false,
    }];
    while let Some(task) = stack.pop() {
        match task {
            Task::Line { text, depth, comma } => {
                start_line(out, layout, width, None, depth);
                out.push_str(text);
                end_line(out, comma);
            }
            Task::Int { name, value, depth } => {
                start_line(out, layout, width, None, depth);
                let _ = if name == "co_flags" {
                    write!(out, "{name}: {value:#x}")
                } else {
                    write!(out, "{name}: {value}")
                };
                end_line(out, false);
            }
            Task::Node {
                object,
                depth,
                label,
                comma,
            } => {
                start_line(out, layout, width, object.offset(), depth);
                let mark = out.len();
                match &label {
                    Label::None => {}
                    Label::Field(name) => {
                        out.push_str(name);
                        out.push_str(": ");
                    }
                    Label::Key(key) => {
                        out.push_str(key);
                        out.push_str(": ");
                    }
                }
                let budget = WIDTH.saturating_sub(out.len() - mark + depth * INDENT.len());
                write_node(out, object, depth, comma, budget.max(40), &mut stack);
            }
        }
    }
}

/// Writes the head of a node (all of it when it fits on the line) and queues the rest.
fn write_node<'o, 'a>(
    out: &mut String,
    object: Object<'o, 'a>,
    depth: usize,
    comma: bool,
    budget: usize,
    stack: &mut Vec<Task<'o, 'a>>,
) {
    let mark = out.len();
    if write_inline(out, object, budget, INLINE_LEVELS) {
        end_line(out, comma);
        return;
    }
    out.truncate(mark);
    let value = object.value();
    let inner = depth + 1;
    let (open, close, items) = match value {
        Value::Code(code) => {
            write_code_title(out, object);
            end_line(out, false);
            let fields: Vec<_> = code.fields().collect();
            push_incomplete(stack, object, inner);
            for (field, value) in fields.into_iter().rev() {
                stack.push(match value {
                    FieldValue::Int(value) => Task::Int {
                        name: field.name,
                        value,
                        depth: inner,
                    },
                    FieldValue::Object(object) => Task::Node {
                        object,
                        depth: inner,
                        label: Label::Field(field.name),
                        comma: false,
                    },
                });
            }
            return;
        }
        Value::Dict(pairs) | Value::FrozenDict(pairs) => {
            let (open, close) = match value {
                Value::Dict(_) => ("{", "}"),
                _ => ("frozendict({", "})"),
            };
            open_block(out, stack, object, (open, close), depth, comma);
            for (key, value) in pairs.iter().rev() {
                let mut text = String::new();
                if write_inline(&mut text, key, WIDTH, INLINE_LEVELS) {
                    stack.push(Task::Node {
                        object: value,
                        depth: inner,
                        label: Label::Key(text),
                        comma: true,
                    });
                } else {
                    stack.push(Task::Node {
                        object: value,
                        depth: inner,
                        label: Label::Field("value"),
                        comma: true,
                    });
                    stack.push(Task::Node {
                        object: key,
                        depth: inner,
                        label: Label::Field("key"),
                        comma: false,
                    });
                }
            }
            return;
        }
        Value::Tuple(items) => ("(", ")", items),
        Value::List(items) => ("[", "]", items),
        Value::Set(items) => ("{", "}", items),
        Value::FrozenSet(items) => ("frozenset({", "})", items),
        Value::Slice(items) => ("slice(", ")", items),
        // A back-reference to a container too long for one line: named, not expanded.
        _ => {
            write_scalar(out, object);
            end_line(out, comma);
            return;
        }
    };
    open_block(out, stack, object, (open, close), depth, comma);
    for item in items.iter().rev() {
        stack.push(Task::Node {
            object: item,
            depth: inner,
            label: Label::None,
            comma: true,
        });
    }
}

/// Opens a container's block: its opening text on this line, its closing text queued at `depth`, and
/// a marker first inside when a fault cut it short.
fn open_block<'o, 'a>(
    out: &mut String,
    stack: &mut Vec<Task<'o, 'a>>,
    object: Object<'o, 'a>,
    (open, close): (&str, &'static str),
    depth: usize,
    comma: bool,
) {
    out.push_str(open);
    end_line(out, false);
    stack.push(Task::Line {
        text: close,
        depth,
        comma,
    });
    push_incomplete(stack, object, depth + 1);
}

fn push_incomplete<'o, 'a>(stack: &mut Vec<Task<'o, 'a>>, object: Object<'o, 'a>, depth: usize) {
    if !object.is_complete() {
        stack.push(Task::Line {
            text: "<incomplete>",
            depth,
            comma: false,
        });
    }
}

/// `<code object NAME, file 'FILE', line N>`, as much as was read.
fn write_code_title(out: &mut String, object: Object<'_, '_>) {
    let Some(code) = object.as_code() else {
        return;
    };
    out.push_str("<code object ");
    out.push_str(code.qualname().as_deref().unwrap_or("?"));
    if let Some(file) = code.filename() {
        out.push_str(", file ");
        write_text_repr(out, || file.chars().map(u32::from), false);
    }
    if let Some(line) = code.firstlineno() {
        let _ = write!(out, ", line {line}");
    }
    if !code.is_complete() {
        out.push_str(", incomplete");
    }
    out.push('>');
}

fn start_line(out: &mut String, layout: Layout, width: usize, offset: Option<u64>, depth: usize) {
    if layout.offsets {
        match offset {
            Some(offset) => {
                let _ = write!(out, "{offset:>width$}  ");
            }
            None => out.extend(core::iter::repeat_n(' ', width + 2)),
        }
    }
    (0..depth).for_each(|_| out.push_str(INDENT));
}

fn end_line(out: &mut String, comma: bool) {
    if comma {
        out.push(',');
    }
    out.push('\n');
}

fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// How deep containers may nest on one line; a bound, so the inline writer may recurse.
const INLINE_LEVELS: u32 = 3;

/// Writes `object` on one line if it is a scalar, a reference, or a container (at most `levels` deep) of
/// those that fits in `budget` characters. Returns false (with part of it written) otherwise.
fn write_inline(out: &mut String, object: Object<'_, '_>, budget: usize, levels: u32) -> bool {
    let start = out.len();
    let target = object.resolve();
    // A back-reference standing on its own (a field, an item of a block) to a short container reads as
    // the container. Inside a line it stays `<ref N: type>`, so a container that holds itself does not
    // look nested.
    if levels == INLINE_LEVELS
        && target.id() != object.id()
        && write_inline(out, target, budget, levels)
    {
        return true;
    }
    out.truncate(start);
    if write_scalar(out, object) {
        return true;
    }
    let Some(levels) = levels.checked_sub(1) else {
        return false;
    };
    let (open, close, items) = match object.value() {
        Value::Tuple(items) => ("(", ")", items),
        Value::List(items) => ("[", "]", items),
        Value::Set(items) if items.is_empty() => ("set(", ")", items),
        Value::Set(items) => ("{", "}", items),
        Value::FrozenSet(items) if items.is_empty() => ("frozenset(", ")", items),
        Value::FrozenSet(items) => ("frozenset({", "})", items),
        Value::Slice(items) => ("slice(", ")", items),
        Value::Dict(pairs) | Value::FrozenDict(pairs) => {
            let frozen = matches!(object.value(), Value::FrozenDict(_));
            out.push_str(if frozen { "frozendict({" } else { "{" });
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !write_inline(out, key, budget, levels) {
                    return false;
                }
                out.push_str(": ");
                if !write_inline(out, value, budget, levels) || out.len() - start > budget {
                    return false;
                }
            }
            out.push_str(if frozen { "})" } else { "}" });
            return object.is_complete() && out.len() - start <= budget;
        }
        _ => return false,
    };
    out.push_str(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if !write_inline(out, item, budget, levels) || out.len() - start > budget {
            return false;
        }
    }
    if items.len() == 1 && open == "(" {
        out.push(',');
    }
    out.push_str(close);
    object.is_complete() && out.len() - start <= budget
}

/// Writes a scalar's repr, or a back-reference (to a scalar: its repr; to a container: `<ref N: type>`).
/// Returns false, writing nothing, for a container or code object.
fn write_scalar(out: &mut String, object: Object<'_, '_>) -> bool {
    let value = object.value();
    if let Value::Ref(index) | Value::StringRef(index) = value {
        let target = object.resolve();
        if target.id() != object.id() && write_scalar(out, target) {
            return true;
        }
        let what = match target.value() {
            Value::Code(code) => code.qualname().map(|name| alloc::format!("code {name}")),
            Value::Ref(_) | Value::StringRef(_) => Some(String::from("invalid")),
            other => Some(String::from(other.type_name())),
        };
        let _ = write!(out, "<ref {index}: {}>", what.as_deref().unwrap_or("code"));
        return true;
    }
    let byte_strings = object.objects().python().dialect().byte_strings;
    match value {
        Value::Null => out.push_str("<NULL>"),
        Value::None => out.push_str("None"),
        Value::True => out.push_str("True"),
        Value::False => out.push_str("False"),
        Value::StopIteration => out.push_str("<class 'StopIteration'>"),
        Value::Ellipsis => out.push_str("Ellipsis"),
        Value::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Long(long) => {
            let _ = write!(out, "{long}");
        }
        Value::Float(x) => number::write_float_repr(out, x),
        Value::Complex { real, imag } => write_complex(out, real, imag),
        Value::Bytes(bytes) => {
            if !byte_strings {
                out.push('b');
            }
            write_text_repr(out, || bytes.iter().map(|&b| u32::from(b)), true);
        }
        Value::Str(s) => {
            if byte_strings {
                out.push('u');
            }
            write_text_repr(out, || s.code_points(), false);
        }
        _ => return false,
    }
    true
}

/// Python's `repr(complex)`: `1j`, `(1.5-2j)`, `(-0+1j)`; parts without a `.0`.
fn write_complex(out: &mut String, real: f64, imag: f64) {
    let part = |x: f64| {
        let mut text = String::new();
        number::write_float_repr(&mut text, x);
        if let Some(integral) = text.strip_suffix(".0") {
            let len = integral.len();
            text.truncate(len);
        }
        text
    };
    let imag_text = part(imag);
    if real == 0.0 && real.is_sign_positive() {
        let _ = write!(out, "{imag_text}j");
        return;
    }
    let sign = if imag_text.starts_with('-') { "" } else { "+" };
    let _ = write!(out, "({}{sign}{imag_text}j)", part(real));
}

/// Python's quoting of a str or bytes repr: single quotes unless the text has a `'` and no `"`;
/// backslash escapes for the quote, backslash, tab, newline, carriage return and for what Python does
/// not print: for bytes, everything outside printable ASCII; for str, controls, lone surrogates and
/// the common invisible characters.
fn write_text_repr<I: Iterator<Item = u32>>(
    out: &mut String,
    code_points: impl Fn() -> I,
    bytes: bool,
) {
    let (mut single, mut double) = (false, false);
    for cp in code_points() {
        single |= cp == u32::from('\'');
        double |= cp == u32::from('"');
    }
    let quote = if single && !double { '"' } else { '\'' };
    out.push(quote);
    for cp in code_points() {
        match char::from_u32(cp) {
            Some(c) if c == quote || c == '\\' => {
                out.push('\\');
                out.push(c);
            }
            Some('\t') => out.push_str("\\t"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some(c)
                if if bytes {
                    c.is_ascii() && !c.is_ascii_control()
                } else {
                    is_printable(c)
                } =>
            {
                out.push(c)
            }
            _ => {
                let _ = match cp {
                    0..=0xff => write!(out, "\\x{cp:02x}"),
                    0x100..=0xffff => write!(out, "\\u{cp:04x}"),
                    _ => write!(out, "\\U{cp:08x}"),
                };
            }
        }
    }
    out.push(quote);
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
            write_timestamp(&mut out, seconds);
            assert_eq!(out, text);
        }
        let mut out = String::new();
        write_timestamp(&mut out, i64::MIN);
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
            write_complex(&mut out, real, imag);
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
            write_text_repr(&mut out, || text.chars().map(u32::from), false);
            assert_eq!(out, repr);
        }
    }
}
