//! Numbers as Python writes them: text floats in, `repr` of floats out, and longs (15-bit digits, or
//! RustPython's bytes) in decimal.

use crate::error::{ErrorKind, Fault};
use crate::reader::Reader;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Parses a text float (`f`, `x`) as CPython's `PyOS_string_to_double` does: the whole text, decimal or
/// exponent form, `inf`/`infinity`/`nan` in any case, an optional sign, no spaces.
pub(crate) fn parse_float_text(text: &[u8]) -> Option<f64> {
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

/// Appends Python's `repr(x)`: the shortest digits that round-trip, in fixed notation when the decimal
/// exponent is in -4..16 (with `.0` for integral values), else `d.ddde+XX`.
pub fn write_float_repr(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x < 0.0 { "-inf" } else { "inf" });
        return;
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "-1.2345e-7".
    let mut sci = String::new();
    let _ = write!(sci, "{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            for i in 0..int_len {
                out.push(char::from(*digits.get(i).unwrap_or(&b'0')));
            }
            out.push('.');
            match digits.get(int_len..) {
                Some(frac) if !frac.is_empty() => {
                    frac.iter().for_each(|&d| out.push(char::from(d)))
                }
                _ => out.push('0'),
            }
        } else {
            out.push_str("0.");
            (0..(-exp - 1)).for_each(|_| out.push('0'));
            digits.iter().for_each(|&d| out.push(char::from(d)));
        }
    } else {
        let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
        out.push(char::from(*first));
        if !rest.is_empty() {
            out.push('.');
            rest.iter().for_each(|&d| out.push(char::from(d)));
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.unsigned_abs());
    }
}

/// Longs with more 15-bit digits than this are written in hexadecimal: decimal conversion is quadratic
/// (CPython limits `str(int)` for the same reason).
pub const DECIMAL_DIGIT_LIMIT: usize = 4096;

/// The 15-bit digits of a marshalled long, least significant first, from their little-endian bytes.
pub(crate) fn long_digits(
    raw: &[u8],
) -> impl DoubleEndedIterator<Item = u16> + ExactSizeIterator + '_ {
    raw.chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]])) // proven: chunks of exactly 2
}

/// Appends the value of a long with `negative` sign and `raw` digits: decimal, or `0x` hexadecimal past
/// [`DECIMAL_DIGIT_LIMIT`] digits (both read back by Python's `int(text, 0)`).
pub fn write_long(out: &mut String, negative: bool, raw: &[u8]) {
    write_digits(out, negative, long_digits(raw), 15);
}

/// Appends the value of an integer of `digits` of `bits` bits each (15 for marshal's longs, 8 for
/// RustPython's bytes), least significant first, as [`write_long`] does.
pub(crate) fn write_digits(
    out: &mut String,
    negative: bool,
    digits: impl DoubleEndedIterator<Item = u16> + ExactSizeIterator,
    bits: u32,
) {
    if negative && digits.len() > 0 {
        out.push('-');
    }
    let mask = (1u32 << bits) - 1;
    if digits.len() * bits as usize > DECIMAL_DIGIT_LIMIT * 15 {
        write_hex(out, digits, bits, mask);
        return;
    }
    // Base 10^9 limbs, least significant first: multiply by 2^bits and add, most significant digit
    // first.
    const BASE: u64 = 1_000_000_000;
    let mut limbs: Vec<u32> = Vec::new();
    for digit in digits.rev() {
        let mut carry = u64::from(u32::from(digit) & mask);
        for limb in limbs.iter_mut() {
            let v = (u64::from(*limb) << bits) | carry;
            *limb = (v % BASE) as u32;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }
    match limbs.split_last() {
        None => out.push('0'),
        Some((top, rest)) => {
            let _ = write!(out, "{top}");
            for limb in rest.iter().rev() {
                let _ = write!(out, "{limb:09}");
            }
        }
    }
}

fn write_hex(out: &mut String, digits: impl ExactSizeIterator<Item = u16>, bits: u32, mask: u32) {
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
    out.push_str("0x");
    for nibble in nibbles.iter().rev() {
        out.push(char::from_digit(u32::from(*nibble), 16).unwrap_or('0'));
    }
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

    fn repr(x: f64) -> String {
        let mut s = String::new();
        write_float_repr(&mut s, x);
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
        for bad in [&b""[..], b" 1", b"1.#INF", b"--1", b"0x10", b"1,5", b"\xff"] {
            assert_eq!(parse_float_text(bad), None, "{bad:?}");
        }
    }

    fn long(negative: bool, digits: &[u16]) -> String {
        let raw: Vec<u8> = digits.iter().flat_map(|d| d.to_le_bytes()).collect();
        let mut s = String::new();
        write_long(&mut s, negative, &raw);
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
            write_digits(&mut s, negative, bytes.iter().map(|&b| u16::from(b)), 8);
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
