//! Numbers as Python writes them: text floats in, `repr` of floats out, and longs (15-bit digits, or
//! RustPython's bytes) in decimal.

use super::error::{ErrorKind, Fault};
use super::limits::DECIMAL_DIGIT_LIMIT;
use super::reader::Reader;
use alloc::vec::Vec;
use core::fmt::{self, Write};

/// Parses a text float (`f`, `x`) as CPython's `PyOS_string_to_double` does: decimal or exponent form,
/// `inf`/`infinity`/`nan` in any case, an optional sign, no spaces. CPython hands it the text as a C
/// string, so the text ends at its first NUL, if it has one.
pub(crate) fn parse_float_text(text: &[u8]) -> Option<f64> {
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    core::str::from_utf8(text).ok()?.parse().ok()
}

/// Reads a text float as marshal stores it (a `u8` length, then the text) and checks that it parses.
pub(crate) fn read_float_text(r: &mut Reader<'_>, what: &'static str) -> Result<(), Fault> {
    let n = r.u8("float length")?;
    let at = r.pos();
    let text = r.take(usize::from(n), what)?;
    match parse_float_text(text) {
        Some(_) => Ok(()),
        None => Err(Fault::new(ErrorKind::BadFloatText, at, what)),
    }
}

/// Writes Python's `repr(x)`: the shortest digits that round-trip, in fixed notation when the decimal
/// exponent is in -4..16 (with `.0` for integral values), else `d.ddde+XX`.
pub fn write_float_repr(out: &mut impl Write, x: f64) -> fmt::Result {
    if x.is_nan() {
        return out.write_str("nan");
    }
    if x.is_infinite() {
        return out.write_str(if x < 0.0 { "-inf" } else { "inf" });
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "-1.2345e-7", at most 17 digits and a
    // three-digit exponent.
    let mut sci = Buffer::<32>::new();
    write!(sci, "{x:e}")?;
    let sci = sci.as_str();
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let mut digits = Buffer::<32>::new();
    for c in mantissa.chars().filter(char::is_ascii_digit) {
        digits.write_char(c)?;
    }
    let digits = digits.as_str();
    if negative {
        out.write_char('-')?;
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            let (int, frac) = digits.split_at(int_len.min(digits.len()));
            out.write_str(int)?;
            for _ in digits.len()..int_len {
                out.write_char('0')?;
            }
            out.write_char('.')?;
            out.write_str(if frac.is_empty() { "0" } else { frac })
        } else {
            out.write_str("0.")?;
            for _ in 0..(-exp - 1) {
                out.write_char('0')?;
            }
            out.write_str(digits)
        }
    } else {
        let (first, rest) = digits.split_at(digits.len().min(1));
        out.write_str(if first.is_empty() { "0" } else { first })?;
        if !rest.is_empty() {
            out.write_char('.')?;
            out.write_str(rest)?;
        }
        let sign = if exp < 0 { '-' } else { '+' };
        write!(out, "e{sign}{:02}", exp.unsigned_abs())
    }
}

/// A small text buffer on the stack, for formatting a float without allocating.
struct Buffer<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buffer<N> {
    fn new() -> Self {
        Buffer {
            bytes: [0; N],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl<const N: usize> Write for Buffer<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The 15-bit digits of a marshalled long, least significant first, from their little-endian bytes.
pub(crate) fn long_digits(
    raw: &[u8],
) -> impl DoubleEndedIterator<Item = u16> + ExactSizeIterator + '_ {
    raw.chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]])) // proven: chunks of exactly 2
}

/// Writes the value of a long with `negative` sign and `raw` digits: decimal, or `0x` hexadecimal past
/// [`DECIMAL_DIGIT_LIMIT`] digits (both read back by Python's `int(text, 0)`).
pub fn write_long(out: &mut impl Write, negative: bool, raw: &[u8]) -> fmt::Result {
    write_digits(out, negative, long_digits(raw), 15)
}

/// Writes the value of an integer of `digits` of `bits` bits each (15 for marshal's longs, 8 for
/// RustPython's bytes), least significant first, as [`write_long`] does.
pub(crate) fn write_digits(
    out: &mut impl Write,
    negative: bool,
    digits: impl DoubleEndedIterator<Item = u16> + ExactSizeIterator,
    bits: u32,
) -> fmt::Result {
    if negative && digits.len() > 0 {
        out.write_char('-')?;
    }
    let mask = (1u32 << bits) - 1;
    if digits.len() * bits as usize > DECIMAL_DIGIT_LIMIT * 15 {
        return write_hex(out, digits, bits, mask);
    }
    // Base 10^9 limbs, least significant first. The digits go in most significant first, in chunks of
    // up to 30 bits, so that a limb times 2^30 plus a carry fits a u64.
    const BASE: u64 = 1_000_000_000;
    let per_chunk = (30 / bits).max(1);
    let mut limbs: Vec<u64> = Vec::new();
    let mut digits = digits.rev().peekable();
    while digits.peek().is_some() {
        let (mut chunk, mut width) = (0u64, 0u32);
        for digit in digits.by_ref().take(per_chunk as usize) {
            chunk = (chunk << bits) | u64::from(u32::from(digit) & mask);
            width += bits;
        }
        let mut carry = chunk;
        for limb in limbs.iter_mut() {
            let v = (*limb << width) | carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    match limbs.split_last() {
        None => out.write_char('0'),
        Some((top, rest)) => {
            write!(out, "{top}")?;
            for limb in rest.iter().rev() {
                write!(out, "{limb:09}")?;
            }
            Ok(())
        }
    }
}

fn write_hex(
    out: &mut impl Write,
    digits: impl ExactSizeIterator<Item = u16>,
    bits: u32,
    mask: u32,
) -> fmt::Result {
    // Nibbles, least significant first, from the bit stream of the digits.
    let mut nibbles: Vec<u8> = Vec::with_capacity(digits.len() * bits as usize / 4 + 1);
    let (mut acc, mut held) = (0u32, 0u32);
    for digit in digits {
        acc |= (u32::from(digit) & mask) << held;
        held += bits;
        while held >= 4 {
            nibbles.push((acc & 0xf) as u8);
            acc >>= 4;
            held -= 4;
        }
    }
    nibbles.push(acc as u8);
    while nibbles.len() > 1 && nibbles.last() == Some(&0) {
        nibbles.pop();
    }
    out.write_str("0x")?;
    for nibble in nibbles.iter().rev() {
        out.write_char(char::from_digit(u32::from(*nibble), 16).unwrap_or('0'))?;
    }
    Ok(())
}

/// Checks the 15-bit digits of a marshal long as CPython does: each below 0x8000, the most significant
/// non-zero. On failure, the index of the bad digit and what is wrong with it.
pub(crate) fn check_long_digits(raw: &[u8]) -> Result<(), (usize, ErrorKind)> {
    let count = raw.len() / 2;
    for (i, digit) in long_digits(raw).enumerate() {
        if digit > 0x7fff {
            return Err((i, ErrorKind::BadLongDigit(digit)));
        }
        if digit == 0 && i + 1 == count {
            return Err((i, ErrorKind::UnnormalizedLong));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use alloc::string::String;

    fn repr(x: f64) -> String {
        let mut s = String::new();
        write_float_repr(&mut s, x).unwrap();
        s
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
        ];
        for (x, want) in cases {
            assert_eq!(repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn text_floats_parse_as_cpython_reads_them() {
        assert_eq!(parse_float_text(b"0.10000000000000001"), Some(0.1));
        assert_eq!(parse_float_text(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float_text(b"1e+16"), Some(1e16));
        assert!(parse_float_text(b"nan").is_some_and(f64::is_nan));
        for bad in [
            &b""[..],
            b" 1",
            b"1.#INF",
            b"--1",
            b"0x10",
            b"1,5",
            b"\xff",
            b"\x001.5",
        ] {
            assert_eq!(parse_float_text(bad), None, "{bad:?}");
        }
        // C strings: the text ends at a NUL.
        assert_eq!(parse_float_text(b"1.5\x00junk\xff"), Some(1.5));
    }

    fn long(negative: bool, digits: &[u16]) -> String {
        let raw: Vec<u8> = digits.iter().flat_map(|d| d.to_le_bytes()).collect();
        let mut s = String::new();
        write_long(&mut s, negative, &raw).unwrap();
        s
    }

    #[test]
    fn longs_print_in_decimal() {
        assert_eq!(long(false, &[]), "0");
        assert_eq!(long(false, &[5]), "5");
        assert_eq!(long(true, &[0, 1]), "-32768");
        // 2**64 = digits 0, 0, 0, 0, 16 (15-bit)
        assert_eq!(long(false, &[0, 0, 0, 0, 16]), "18446744073709551616");
        assert_eq!(long(false, &[0x7fff; 3]), "35184372088831");
    }

    #[test]
    fn byte_digits_print_as_their_value() {
        let text = |negative, bytes: &[u8]| {
            let mut s = String::new();
            write_digits(&mut s, negative, bytes.iter().map(|&b| u16::from(b)), 8).unwrap();
            s
        };
        assert_eq!(text(false, &[]), "0");
        assert_eq!(text(true, &[0x01, 0x02]), "-513");
        assert_eq!(
            text(false, &[0, 0, 0, 0, 0, 0, 0, 0, 1]),
            "18446744073709551616"
        );
        let mut huge = alloc::vec![0u8; DECIMAL_DIGIT_LIMIT * 2];
        huge.push(0x10);
        assert!(text(false, &huge).starts_with("0x10000"));
    }

    #[test]
    fn long_digits_are_checked_as_cpython_checks_them() {
        assert_eq!(check_long_digits(&[1, 0, 2, 0]), Ok(()));
        assert_eq!(
            check_long_digits(&[0, 0x80, 1, 0]),
            Err((0, ErrorKind::BadLongDigit(0x8000)))
        );
        assert_eq!(
            check_long_digits(&[1, 0, 0, 0]),
            Err((1, ErrorKind::UnnormalizedLong))
        );
    }

    #[test]
    fn huge_longs_print_in_hexadecimal() {
        let mut digits = alloc::vec![0u16; DECIMAL_DIGIT_LIMIT];
        digits.push(1);
        let text = long(true, &digits);
        let zeros = DECIMAL_DIGIT_LIMIT * 15 / 4;
        assert_eq!(text.len(), "-0x".len() + 1 + zeros);
        assert!(text.starts_with("-0x1000"));
    }
}
