//! The JSON form: `{"header": ..., "root": NODE, "error": ...}`, as documented in the README.
//!
//! Back-references are written as references, never expanded, so the output stays linear in the input
//! whatever the sharing; the writer keeps its own stack, so no nesting can exhaust the call stack.

use crate::error::Error;
use crate::header::{Header, Invalidation};
use crate::number;
use crate::object::{FieldValue, Object, Value};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

/// The whole document for a header (if any), a root (if any) and an error (if any).
pub fn document(
    header: Option<&Header>,
    root: Option<Object<'_, '_>>,
    error: Option<&Error>,
) -> String {
    let mut out = String::new();
    out.push_str("{\"header\":");
    match header {
        Some(header) => write_header(&mut out, header),
        None => out.push_str("null"),
    }
    out.push_str(",\"root\":");
    match root {
        Some(root) => write_node(&mut out, root),
        None => out.push_str("null"),
    }
    out.push_str(",\"error\":");
    match error {
        Some(error) => write_error(&mut out, error),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

/// Appends the header object.
pub fn write_header(out: &mut String, header: &Header) {
    let _ = write!(
        out,
        "{{\"magic\":{},\"word\":\"{}\",\"python\":\"{}.{}\",\"implementation\":\"{}\",\"size\":{}",
        header.magic(),
        Hex(&header.word),
        header.python.major,
        header.python.minor,
        header.python.implementation.name(),
        header.size(),
    );
    out.push_str(",\"known\":");
    out.push_str(if header.entry.is_some() {
        "true"
    } else {
        "false"
    });
    out.push_str(",\"note\":");
    match header.entry {
        Some(entry) => write_str(out, entry.note),
        None => out.push_str("null"),
    }
    out.push_str(",\"flags\":");
    match header.flags {
        Some(flags) => {
            let _ = write!(out, "{flags}");
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"invalidation\":");
    write_str(out, header.invalidation.name());
    match header.invalidation {
        Invalidation::Timestamp { mtime, source_size } => {
            let _ = write!(out, ",\"mtime\":{mtime},\"source_size\":");
            match source_size {
                Some(size) => {
                    let _ = write!(out, "{size}");
                }
                None => out.push_str("null"),
            }
            out.push_str(",\"hash\":null}");
        }
        Invalidation::CheckedHash { hash } | Invalidation::UncheckedHash { hash } => {
            let _ = write!(
                out,
                ",\"mtime\":null,\"source_size\":null,\"hash\":\"{}\"}}",
                Hex(&hash)
            );
        }
    }
}

/// Appends the error object: kind, offset, path and message.
pub fn write_error(out: &mut String, error: &Error) {
    out.push_str("{\"kind\":");
    write_str(out, error.kind().name());
    let _ = write!(out, ",\"offset\":{},\"path\":", error.offset());
    write_str(out, &alloc::format!("{}", error.context()));
    out.push_str(",\"message\":");
    write_str(out, &alloc::format!("{error}"));
    out.push('}');
}

/// Work left for the writer, last first.
enum Task<'o, 'a> {
    Node(Object<'o, 'a>),
    Raw(&'static str),
    Key(&'static str),
    Int(i32),
}

/// Appends one NODE, iteratively.
pub fn write_node(out: &mut String, root: Object<'_, '_>) {
    let mut stack = vec![Task::Node(root)];
    while let Some(task) = stack.pop() {
        match task {
            Task::Raw(text) => out.push_str(text),
            Task::Key(name) => {
                write_str(out, name);
                out.push(':');
            }
            Task::Int(value) => {
                let _ = write!(out, "{value}");
            }
            Task::Node(object) => write_head(out, object, &mut stack),
        }
    }
}

/// Writes a node's opening and scalar members, and queues its children and its closing.
fn write_head<'o, 'a>(out: &mut String, object: Object<'o, 'a>, stack: &mut Vec<Task<'o, 'a>>) {
    let value = object.value();
    out.push_str("{\"type\":\"");
    out.push_str(value.type_name());
    out.push('"');
    if let Some(index) = object.ref_index() {
        let _ = write!(out, ",\"ref\":{index}");
    }
    if let Some(index) = object.interned_index() {
        let _ = write!(out, ",\"interned\":{index}");
    }
    if !object.is_complete() {
        out.push_str(",\"incomplete\":true");
    }
    match value {
        Value::Int(v) => {
            let _ = write!(out, ",\"value\":\"{v}\"");
        }
        Value::Long(long) => {
            out.push_str(",\"value\":\"");
            let _ = write!(out, "{long}");
            out.push('"');
        }
        Value::Float(x) => {
            out.push_str(",\"value\":\"");
            number::write_float_repr(out, x);
            out.push('"');
        }
        Value::Complex { real, imag } => {
            out.push_str(",\"real\":\"");
            number::write_float_repr(out, real);
            out.push_str("\",\"imag\":\"");
            number::write_float_repr(out, imag);
            out.push('"');
        }
        Value::Bytes(bytes) => {
            let _ = write!(out, ",\"hex\":\"{}\"", Hex(bytes));
        }
        Value::Str(s) => {
            out.push_str(",\"value\":");
            write_code_points(out, s.code_points());
        }
        Value::Ref(index) | Value::StringRef(index) => {
            let _ = write!(out, ",\"index\":{index}");
        }
        Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
            out.push_str(",\"items\":[");
            stack.push(Task::Raw("]}"));
            push_separated(stack, items.iter().rev().map(Task::Node));
            return;
        }
        Value::Slice(items) => {
            stack.push(Task::Raw("}"));
            let names = [",\"start\":", ",\"stop\":", ",\"step\":"];
            for (name, item) in names.into_iter().zip(items.iter()).rev() {
                stack.push(Task::Node(item));
                stack.push(Task::Raw(name));
            }
            return;
        }
        Value::Dict(pairs) | Value::FrozenDict(pairs) => {
            out.push_str(",\"items\":[");
            stack.push(Task::Raw("]}"));
            let mut first = true;
            for (key, value) in pairs.iter().rev() {
                if !first {
                    stack.push(Task::Raw(","));
                }
                first = false;
                stack.push(Task::Raw("]"));
                stack.push(Task::Node(value));
                stack.push(Task::Raw(","));
                stack.push(Task::Node(key));
                stack.push(Task::Raw("["));
            }
            return;
        }
        Value::Code(code) => {
            out.push_str(",\"fields\":{");
            stack.push(Task::Raw("}}"));
            let fields: Vec<_> = code.fields().collect();
            let mut first = true;
            for (field, value) in fields.into_iter().rev() {
                if !first {
                    stack.push(Task::Raw(","));
                }
                first = false;
                stack.push(match value {
                    FieldValue::Int(v) => Task::Int(v),
                    FieldValue::Object(object) => Task::Node(object),
                });
                stack.push(Task::Key(field.name));
            }
            return;
        }
        Value::Null
        | Value::None
        | Value::True
        | Value::False
        | Value::StopIteration
        | Value::Ellipsis => {}
    }
    out.push('}');
}

/// Pushes `tasks` (already reversed) with commas between them.
fn push_separated<'o, 'a>(
    stack: &mut Vec<Task<'o, 'a>>,
    tasks: impl Iterator<Item = Task<'o, 'a>>,
) {
    let mut first = true;
    for task in tasks {
        if !first {
            stack.push(Task::Raw(","));
        }
        first = false;
        stack.push(task);
    }
}

/// Appends a JSON string.
pub fn write_str(out: &mut String, text: &str) {
    write_code_points(out, text.chars().map(u32::from));
}

/// Appends a JSON string of code points; quotes, backslashes, controls and surrogates are escaped.
fn write_code_points(out: &mut String, code_points: impl Iterator<Item = u32>) {
    out.push('"');
    for cp in code_points {
        match char::from_u32(cp) {
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some(c) if u32::from(c) >= 0x20 && c != '\u{7f}' => out.push(c),
            _ => {
                let _ = write!(out, "\\u{cp:04x}");
            }
        }
    }
    out.push('"');
}

/// Bytes in lowercase hexadecimal, for `{}`: a chunk at a time, not a formatter call per byte, since
/// bytecode makes up much of what the JSON form writes.
pub(crate) struct Hex<'b>(pub(crate) &'b [u8]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 128];
        for chunk in self.0.chunks(buf.len() / 2) {
            for (pair, &byte) in buf.chunks_exact_mut(2).zip(chunk) {
                // proven: a nibble is below 16
                pair.copy_from_slice(&[
                    DIGITS[usize::from(byte >> 4)],
                    DIGITS[usize::from(byte & 15)],
                ]);
            }
            let digits = buf.get(..2 * chunk.len()).unwrap_or_default();
            f.write_str(core::str::from_utf8(digits).unwrap_or_default())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn hex_is_two_lowercase_digits_a_byte_across_chunk_boundaries() {
        let bytes: Vec<u8> = (0..=255).chain(0..=255).collect();
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 512] {
            let expected: String = bytes[..len].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(format!("{}", Hex(&bytes[..len])), expected, "{len} bytes");
        }
    }
}
