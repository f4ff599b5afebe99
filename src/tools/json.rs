//! The JSON form: `{"header": ..., "root": NODE, "error": ...}`, as documented in the README.
//!
//! Back-references are written as references, never expanded, and longs past
//! [`DECIMAL_DIGIT_LIMIT`](crate::base::limits::DECIMAL_DIGIT_LIMIT) digits in hexadecimal, so the output
//! is linear in the input whatever the sharing. It is written as it is walked, to any
//! [`core::fmt::Write`]: the writer keeps one cursor per open container, not the document.

use crate::base::error::Error;
use crate::base::number;
use crate::object::walk::{Event, Place, Walk};
use crate::object::{Object, Ref, Value};
use crate::read::header::{Header, Invalidation};
use core::fmt::{self, Write};

/// The most the JSON form writes per input byte, beside a header and an error (a flagged empty dict,
/// two bytes, is the densest: `{"type":"dict","ref":1048575,"items":[]},`).
pub const MAX_CHARS_PER_BYTE: usize = 32;

/// Writes the whole document for a header (if any), a root (if any) and an error (if any).
pub fn write_document(
    out: &mut impl Write,
    header: Option<&Header>,
    root: Option<Object<'_, '_>>,
    error: Option<&Error>,
) -> fmt::Result {
    out.write_str("{\"header\":")?;
    match header {
        Some(header) => write_header(out, header)?,
        None => out.write_str("null")?,
    }
    out.write_str(",\"root\":")?;
    match root {
        Some(root) => write_node(out, root)?,
        None => out.write_str("null")?,
    }
    out.write_str(",\"error\":")?;
    match error {
        Some(error) => write_error(out, error)?,
        None => out.write_str("null")?,
    }
    out.write_char('}')
}

/// Writes the header object.
pub fn write_header(out: &mut impl Write, header: &Header) -> fmt::Result {
    write!(
        out,
        "{{\"magic\":{},\"word\":\"{}\",\"python\":\"{}.{}\",\"implementation\":\"{}\",\"size\":{}",
        header.magic(),
        Hex(&header.word),
        header.python.major,
        header.python.minor,
        header.python.implementation.name(),
        header.size(),
    )?;
    write!(out, ",\"known\":{}", header.entry.is_some())?;
    out.write_str(",\"note\":")?;
    match header.entry {
        Some(entry) => write_str(out, entry.note)?,
        None => out.write_str("null")?,
    }
    match header.flags {
        Some(flags) => write!(out, ",\"flags\":{flags}")?,
        None => out.write_str(",\"flags\":null")?,
    }
    out.write_str(",\"invalidation\":")?;
    write_str(out, header.invalidation.name())?;
    match header.invalidation {
        Invalidation::Timestamp { mtime, source_size } => {
            write!(out, ",\"mtime\":{mtime},\"source_size\":")?;
            match source_size {
                Some(size) => write!(out, "{size}")?,
                None => out.write_str("null")?,
            }
            out.write_str(",\"hash\":null}")
        }
        Invalidation::CheckedHash { hash } | Invalidation::UncheckedHash { hash } => write!(
            out,
            ",\"mtime\":null,\"source_size\":null,\"hash\":\"{}\"}}",
            Hex(&hash)
        ),
    }
}

/// Writes the error object: kind, offset, path and message.
pub fn write_error(out: &mut impl Write, error: &Error) -> fmt::Result {
    out.write_str("{\"kind\":")?;
    write_str(out, error.kind().name())?;
    write!(out, ",\"offset\":{},\"path\":", error.offset())?;
    write_display(out, error.context())?;
    out.write_str(",\"message\":")?;
    write_display(out, error)?;
    out.write_char('}')
}

/// Writes one NODE and everything under it.
pub fn write_node(out: &mut impl Write, root: Object<'_, '_>) -> fmt::Result {
    let mut walk = Walk::new(root);
    while let Some(event) = walk.next() {
        match event {
            Event::Object(object, place) => {
                match place {
                    Place::Root => {}
                    Place::Item(n) => match walk.parent().map(|p| p.type_code()) {
                        Some(crate::format::tag::SLICE) => {
                            let names = [",\"start\":", ",\"stop\":", ",\"step\":"];
                            out.write_str(names.get(n as usize).copied().unwrap_or(","))?;
                        }
                        _ if n > 0 => out.write_char(',')?,
                        _ => {}
                    },
                    Place::Key(0) => out.write_char('[')?,
                    Place::Key(_) => out.write_str("],[")?,
                    Place::Value(_) => out.write_char(',')?,
                    Place::Terminator | Place::Dangling => continue,
                    Place::Field(field, n) => {
                        if n > 0 {
                            out.write_char(',')?;
                        }
                        write_str(out, field.name)?;
                        out.write_char(':')?;
                    }
                }
                if write_head(out, object)? {
                    walk.enter(object);
                }
            }
            Event::Int(field, value, n) => {
                if n > 0 {
                    out.write_char(',')?;
                }
                write_str(out, field.name)?;
                write!(out, ":{value}")?;
            }
            Event::End(object) => out.write_str(match object.value() {
                Value::Dict(pairs) | Value::FrozenDict(pairs) if !pairs.is_empty() => "]]}",
                Value::Code(_) => "}}",
                Value::Slice(_) => "}",
                _ => "]}",
            })?,
        }
    }
    Ok(())
}

/// Writes a node's opening and scalar members. True when it is a container whose parts come next (the
/// caller enters it); a scalar or reference is written whole.
fn write_head(out: &mut impl Write, object: Object<'_, '_>) -> Result<bool, fmt::Error> {
    match object.reference() {
        Some(Ref::Object(index)) => {
            write!(out, "{{\"type\":\"ref\",\"index\":{index}}}")?;
            return Ok(false);
        }
        Some(Ref::InternedString(index)) => {
            write!(out, "{{\"type\":\"stringref\",\"index\":{index}}}")?;
            return Ok(false);
        }
        None => {}
    }
    let value = object.value();
    write!(out, "{{\"type\":\"{}\"", value.type_name())?;
    if let Some(index) = object.ref_index() {
        write!(out, ",\"ref\":{index}")?;
    }
    if let Some(index) = object.interned_index() {
        write!(out, ",\"interned\":{index}")?;
    }
    if !object.is_complete() {
        out.write_str(",\"incomplete\":true")?;
    }
    match value {
        Value::Int(v) => write!(out, ",\"value\":\"{v}\"")?,
        Value::Long(long) => write!(out, ",\"value\":\"{long}\"")?,
        Value::Float(x) => {
            out.write_str(",\"value\":\"")?;
            number::write_float_repr(out, x)?;
            out.write_char('"')?;
        }
        Value::Complex { real, imag } => {
            out.write_str(",\"real\":\"")?;
            number::write_float_repr(out, real)?;
            out.write_str("\",\"imag\":\"")?;
            number::write_float_repr(out, imag)?;
            out.write_char('"')?;
        }
        Value::Bytes(bytes) => write!(out, ",\"hex\":\"{}\"", Hex(bytes))?,
        Value::Str(s) => {
            out.write_str(",\"value\":")?;
            write_code_points(out, s.code_points())?;
        }
        Value::Tuple(_)
        | Value::List(_)
        | Value::Set(_)
        | Value::FrozenSet(_)
        | Value::Dict(_)
        | Value::FrozenDict(_) => {
            out.write_str(",\"items\":[")?;
            return Ok(true);
        }
        Value::Code(_) => {
            out.write_str(",\"fields\":{")?;
            return Ok(true);
        }
        Value::Slice(_) => return Ok(true),
        Value::Null
        | Value::None
        | Value::True
        | Value::False
        | Value::StopIteration
        | Value::Ellipsis => {}
    }
    out.write_char('}')?;
    Ok(false)
}

/// Writes a JSON string.
pub fn write_str(out: &mut impl Write, text: &str) -> fmt::Result {
    write_code_points(out, text.chars().map(u32::from))
}

/// Writes a value's `Display` as a JSON string, without building the text first.
fn write_display(out: &mut impl Write, value: &impl fmt::Display) -> fmt::Result {
    /// Escapes what passes through it.
    struct Escaped<'w, W: Write>(&'w mut W);
    impl<W: Write> Write for Escaped<'_, W> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            write_escaped(self.0, s.chars().map(u32::from))
        }
    }
    out.write_char('"')?;
    write!(Escaped(out), "{value}")?;
    out.write_char('"')
}

/// Writes a JSON string of code points; quotes, backslashes, controls and surrogates are escaped.
fn write_code_points(out: &mut impl Write, code_points: impl Iterator<Item = u32>) -> fmt::Result {
    out.write_char('"')?;
    write_escaped(out, code_points)?;
    out.write_char('"')
}

fn write_escaped(out: &mut impl Write, code_points: impl Iterator<Item = u32>) -> fmt::Result {
    for cp in code_points {
        match char::from_u32(cp) {
            Some('"') => out.write_str("\\\"")?,
            Some('\\') => out.write_str("\\\\")?,
            Some('\n') => out.write_str("\\n")?,
            Some('\r') => out.write_str("\\r")?,
            Some('\t') => out.write_str("\\t")?,
            Some(c) if u32::from(c) >= 0x20 && c != '\u{7f}' => out.write_char(c)?,
            _ => write!(out, "\\u{cp:04x}")?,
        }
    }
    Ok(())
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
    use alloc::string::String;
    use alloc::vec::Vec;

    #[test]
    fn hex_is_two_lowercase_digits_a_byte_across_chunk_boundaries() {
        let bytes: Vec<u8> = (0..=255).chain(0..=255).collect();
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 512] {
            let expected: String = bytes[..len].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(format!("{}", Hex(&bytes[..len])), expected, "{len} bytes");
        }
    }
}
