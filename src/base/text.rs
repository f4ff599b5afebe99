//! String payloads as Python sees them: UTF-8 with lone surrogates (CPython decodes `u` and `t` with
//! `surrogatepass`), Latin-1 for the `a`/`z` kinds (CPython does not check that they are ASCII), and
//! GraalPy's UTF-32LE.

/// Checks UTF-8 that may encode surrogates (U+D800-U+DFFF). On failure, the offset of the first byte of
/// the first bad sequence.
pub(crate) fn check_utf8(bytes: &[u8]) -> Result<(), usize> {
    match core::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let mut at = e.valid_up_to();
            while let Some(rest) = bytes.get(at..).filter(|rest| !rest.is_empty()) {
                match decode_one(rest) {
                    Some((_, len)) => at += len,
                    None => return Err(at),
                }
            }
            Ok(())
        }
    }
}

/// Decodes the first code point of `bytes` (surrogates allowed): the code point and its length.
fn decode_one(bytes: &[u8]) -> Option<(u32, usize)> {
    let (&b0, rest) = bytes.split_first()?;
    let cont = |i: usize| rest.get(i).copied().filter(|b| b & 0xc0 == 0x80);
    let (len, first_range) = match b0 {
        0x00..=0x7f => return Some((u32::from(b0), 1)),
        0xc2..=0xdf => (2, 0x80..=0xbf),
        0xe0 => (3, 0xa0..=0xbf),
        0xe1..=0xef => (3, 0x80..=0xbf),
        0xf0 => (4, 0x90..=0xbf),
        0xf1..=0xf3 => (4, 0x80..=0xbf),
        0xf4 => (4, 0x80..=0x8f),
        _ => return None,
    };
    let b1 = cont(0).filter(|b| first_range.contains(b))?;
    let mut cp = u32::from(b0) & (0x7f >> len);
    cp = (cp << 6) | u32::from(b1 & 0x3f);
    for i in 1..len - 1 {
        cp = (cp << 6) | u32::from(cont(i)? & 0x3f);
    }
    Some((cp, len))
}

/// The code points of a payload already checked by [`check_utf8`] (or any bytes: a bad byte reads as
/// U+FFFD). Surrogates come out as themselves.
pub(crate) fn utf8_code_points(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut at = 0;
    core::iter::from_fn(move || {
        let rest = bytes.get(at..).filter(|rest| !rest.is_empty())?;
        let (cp, len) = decode_one(rest).unwrap_or((0xfffd, 1));
        at += len;
        Some(cp)
    })
}

/// Appends `cp` in UTF-8, surrogates included (as CPython's `surrogatepass` writes them).
/// Only the writers that build strings need it (normalizing and generating).
#[cfg(any(feature = "std", feature = "arbitrary", test))]
pub(crate) fn push_utf8(out: &mut alloc::vec::Vec<u8>, cp: u32) {
    let cont = |shift: u32| 0x80 | ((cp >> shift) & 0x3f) as u8;
    match cp {
        0..=0x7f => out.push(cp as u8),
        0x80..=0x7ff => out.extend([0xc0 | (cp >> 6) as u8, cont(0)]),
        0x800..=0xffff => out.extend([0xe0 | (cp >> 12) as u8, cont(6), cont(0)]),
        _ => out.extend([0xf0 | ((cp >> 18) & 0x07) as u8, cont(12), cont(6), cont(0)]),
    }
}

/// Checks UTF-32LE as GraalPy writes strings with lone surrogates: whole 4-byte units, each a code
/// point up to U+10FFFF (surrogates allowed). On failure, the offset of the first bad unit.
pub(crate) fn check_utf32(bytes: &[u8]) -> Result<(), usize> {
    let units = bytes.chunks_exact(4);
    if !units.remainder().is_empty() {
        return Err(bytes.len() - units.remainder().len());
    }
    match utf32_units(bytes).position(|cp| cp > 0x10_ffff) {
        Some(i) => Err(4 * i),
        None => Ok(()),
    }
}

/// The code points of a UTF-32LE payload already checked by [`check_utf32`] (a code point out of range
/// reads as U+FFFD).
pub(crate) fn utf32_code_points(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    utf32_units(bytes).map(|cp| if cp > 0x10_ffff { 0xfffd } else { cp })
}

fn utf32_units(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks_exact(4).map(|unit| {
        unit.iter()
            .rev()
            .fold(0, |acc, &b| (acc << 8) | u32::from(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn lone_surrogates_are_accepted_as_surrogatepass_does() {
        assert_eq!(check_utf8(b"a\xed\xa0\x80b"), Ok(()));
        let cps: Vec<u32> = utf8_code_points(b"a\xed\xa0\x80\xed\xb0\x80").collect();
        assert_eq!(cps, [0x61, 0xd800, 0xdc00]);
    }

    #[test]
    fn overlong_truncated_and_out_of_range_sequences_are_rejected_at_their_first_byte() {
        assert_eq!(check_utf8(b"ab\xc0\x80"), Err(2));
        assert_eq!(check_utf8(b"\xe0\x80\x80"), Err(0));
        assert_eq!(check_utf8(b"x\xe2\x82"), Err(1));
        assert_eq!(check_utf8(b"\xf4\x90\x80\x80"), Err(0));
        assert_eq!(check_utf8(b"\xff"), Err(0));
    }

    #[test]
    fn encoding_and_decoding_agree_on_every_kind_of_code_point() {
        for cp in [
            0, 0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0xd800, 0xdfff, 0xffff, 0x10000, 0x10ffff,
        ] {
            let mut bytes = Vec::new();
            push_utf8(&mut bytes, cp);
            assert_eq!(check_utf8(&bytes), Ok(()));
            assert_eq!(utf8_code_points(&bytes).collect::<Vec<_>>(), [cp]);
        }
    }

    #[test]
    fn utf32_is_whole_units_up_to_u10ffff() {
        assert_eq!(check_utf32(b"a\0\0\0\0\xd8\0\0"), Ok(()));
        assert_eq!(
            utf32_code_points(b"a\0\0\0\0\xd8\0\0").collect::<Vec<_>>(),
            [0x61, 0xd800]
        );
        assert_eq!(check_utf32(b"a\0\0\0\0\0\x11\0"), Err(4));
        assert_eq!(check_utf32(b"a\0\0\0\0"), Err(4));
    }

    #[test]
    fn four_byte_sequences_decode() {
        let cps: Vec<u32> = utf8_code_points("é€😀".as_bytes()).collect();
        assert_eq!(cps, [0xe9, 0x20ac, 0x1f600]);
    }
}
