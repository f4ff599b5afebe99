//! Dropbox's Python 2.5 (magic 62135): CPython 2.5's marshal with every code object encrypted, and a
//! decryption that needs no secret.
//!
//! This module owns the encryption. The facts, from the decryptor published by Hagen Fritsch (as xdis
//! carries it, `xdis/dropbox/decrypt25.py`) and checked on the sample file:
//!
//! - The header is CPython's 8 bytes (magic, mtime). Every code object is its type byte `c`, two i32s
//!   (a seed and the length of the code object's body), then the body encrypted with XXTEA, zero-padded
//!   to a multiple of 16 bytes. The body is what CPython 2.5 writes after `c` (the 2.3 layout); the code
//!   objects among its constants are encrypted again, inside it.
//! - The key comes from the seed and the length alone (a xorshift-and-LCG generator), so anyone can
//!   decrypt: the file carries everything.
//! - The opcodes of `co_code` are permuted (Dropbox's own numbering); decrypting does not change them.
//!
//! [`decrypt`] turns such a file into a plain CPython 2.5 stream: the same header, each code object
//! without its seed, length and padding, decrypted. [`OPTIONS`] reads the result; offsets in what it
//! reads are offsets in the decrypted data, while [`decrypt`]'s own errors give offsets in the file.

use crate::base::error::{Error, ErrorKind, Fault, Step};
use crate::base::limits::{DEFAULT_MAX_DEPTH, DROPBOX_CODE_DEPTH};
use crate::format::layout::CodeLayout;
use crate::format::magic::Implementation;
use crate::read::header;
use crate::read::options::Options;
use alloc::vec::Vec;

/// How to read what [`decrypt`] returns: its code objects have the 2.3 layout.
pub const OPTIONS: Options = Options::new().code_layout(CodeLayout::V2_3);

/// The fields of a 2.5 code object's body that are objects, in order, after its four i32s; the first
/// line (an i32) comes before the last.
const OBJECT_FIELDS: [&str; 9] = [
    "co_code",
    "co_consts",
    "co_names",
    "co_varnames",
    "co_freevars",
    "co_cellvars",
    "co_filename",
    "co_name",
    "co_lnotab",
];

/// Decrypts a Dropbox `.pyc` file into a CPython 2.5 `.pyc` stream of the same header (so the same
/// magic, 62135): every code object's body decrypted in place of its seed, length, ciphertext and
/// padding. Read the result with [`OPTIONS`].
///
/// Every read checks the bytes left, so a file cut anywhere gives [`ErrorKind::Truncated`]; a body that
/// does not end where its length says, or whose padding is not zero (a wrong key), gives
/// [`ErrorKind::TrailingBytes`]. Only the structure needed to find the code objects is checked here; the
/// parse of the result checks the rest.
pub fn decrypt(data: &[u8]) -> Result<Vec<u8>, Error> {
    let header = header::parse(data, None)?;
    if header.python.implementation != Implementation::Dropbox {
        let fault = Fault::new(ErrorKind::BadValue, 0, "magic (not Dropbox's)");
        return Err(fault.at(Vec::new()));
    }
    let mut plain = data.to_vec();
    let mut walk = Walk {
        data: &mut plain,
        pos: header.size(),
        limits: Vec::new(),
        stack: Vec::new(),
        holes: Vec::new(),
    };
    if let Err(fault) = walk.run() {
        return Err(walk.fail(fault));
    }
    if walk.pos < data.len() {
        let kind = ErrorKind::TrailingBytes((data.len() - walk.pos) as u64);
        return Err(Fault::new(kind, walk.pos, "end").at(Vec::new()));
    }
    let holes = core::mem::take(&mut walk.holes);
    let mut out = Vec::with_capacity(plain.len());
    let mut at = 0;
    for (from, to) in holes {
        out.extend_from_slice(plain.get(at..from).unwrap_or_default());
        at = to;
    }
    out.extend_from_slice(plain.get(at..).unwrap_or_default());
    Ok(out)
}

/// An open container of the walk.
#[derive(Copy, Clone, Debug)]
enum Open {
    /// A tuple, list, set or frozenset: items read so far, and how many it has.
    Items { read: u32, total: u32 },
    /// A dict: values read so far (keys and values), until a NULL key.
    Dict { read: u32 },
    /// A code object: objects read so far, where its body ends and where its padding ends.
    Code {
        read: u8,
        body_end: usize,
        pad_end: usize,
    },
}

/// A walk over the marshal data that decrypts each code object's body when it meets it, so that the
/// code objects inside it are met in turn; nothing else is decoded.
struct Walk<'p> {
    data: &'p mut [u8],
    pos: usize,
    /// The ends of the bodies being walked, innermost last: reads stop there.
    limits: Vec<usize>,
    stack: Vec<Open>,
    /// The byte ranges to drop, in order: each code object's seed and length, and its padding.
    holes: Vec<(usize, usize)>,
}

impl Walk<'_> {
    /// Where reads stop.
    fn limit(&self) -> usize {
        self.limits.last().copied().unwrap_or(self.data.len())
    }

    /// Skips `n` bytes, checking they are there.
    fn skip(&mut self, n: usize, what: &'static str) -> Result<usize, Fault> {
        let at = self.pos;
        let left = self.limit().saturating_sub(at);
        if n > left {
            let kind = ErrorKind::Truncated {
                needed: n as u64,
                left: left as u64,
            };
            return Err(Fault::new(kind, at, what));
        }
        self.pos += n;
        Ok(at)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, Fault> {
        let at = self.skip(1, what)?;
        Ok(self.data.get(at).copied().unwrap_or(0)) // proven: skip checked the byte is there
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, Fault> {
        let at = self.skip(4, what)?;
        let word = self
            .data
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok());
        Ok(word.map_or(0, i32::from_le_bytes)) // proven: skip checked the bytes are there
    }

    /// An i32 length or count; negative is an error.
    fn size(&mut self, what: &'static str) -> Result<usize, Fault> {
        let n = self.i32(what)?;
        usize::try_from(n).map_err(|_| {
            let kind = ErrorKind::BadLength(i64::from(n));
            Fault::new(kind, self.pos - 4, what)
        })
    }

    fn push(&mut self, open: Open) -> Result<(), Fault> {
        if self.stack.len() >= DEFAULT_MAX_DEPTH as usize {
            let kind = ErrorKind::DepthLimit(DEFAULT_MAX_DEPTH);
            return Err(Fault::new(kind, self.pos, "type code"));
        }
        self.stack.push(open);
        Ok(())
    }

    /// Walks the top-level object.
    fn run(&mut self) -> Result<(), Fault> {
        let mut root_read = false;
        loop {
            // Whether the next object is a dict key, which may be the NULL that ends the dict.
            let mut key = false;
            match self.stack.last_mut() {
                None if root_read => return Ok(()),
                None => root_read = true,
                Some(Open::Items { read, total }) if read == total => {
                    self.stack.pop();
                    continue;
                }
                Some(Open::Items { read, .. }) => *read += 1,
                Some(Open::Dict { read }) => {
                    key = *read % 2 == 0;
                    *read += 1;
                }
                Some(&mut Open::Code {
                    read,
                    body_end,
                    pad_end,
                }) if usize::from(read) == OBJECT_FIELDS.len() => {
                    self.end_code(body_end, pad_end)?;
                    continue;
                }
                Some(Open::Code { read, .. }) => {
                    *read += 1;
                    if usize::from(*read) == OBJECT_FIELDS.len() {
                        self.skip(4, "co_firstlineno")?;
                    }
                }
            }
            self.object(key)?;
        }
    }

    /// Walks one object's type byte and payload; a container's items come next.
    fn object(&mut self, key: bool) -> Result<(), Fault> {
        let at = self.pos;
        match self.u8("type code")? {
            b'0' if key => {
                self.stack.pop();
            }
            b'0' | b'N' | b'F' | b'T' | b'S' | b'.' => {}
            b'i' | b'R' => {
                self.skip(4, "int")?;
            }
            b'I' | b'g' => {
                self.skip(8, "number")?;
            }
            b'y' => {
                self.skip(16, "complex")?;
            }
            b'l' => {
                let n = self.i32("long size")?;
                let digits = (n.unsigned_abs() as usize).saturating_mul(2);
                self.skip(digits, "long digits")?;
            }
            b'f' => {
                let n = self.u8("float length")?;
                self.skip(usize::from(n), "float text")?;
            }
            b'x' => {
                for what in ["complex real part", "complex imaginary part"] {
                    let n = self.u8("float length")?;
                    self.skip(usize::from(n), what)?;
                }
            }
            b's' | b't' | b'u' => {
                let n = self.size("length")?;
                self.skip(n, "payload")?;
            }
            b'(' | b'[' | b'<' | b'>' => {
                let total = self.size("size")? as u32;
                self.push(Open::Items { read: 0, total })?;
            }
            b'{' => self.push(Open::Dict { read: 0 })?,
            b'c' => self.start_code(at)?,
            byte => {
                let kind = ErrorKind::UnknownTypeCode(byte);
                return Err(Fault::new(kind, at, "type code"));
            }
        }
        Ok(())
    }

    /// A code object at `at`: decrypts its body in place and walks into it.
    fn start_code(&mut self, at: usize) -> Result<(), Fault> {
        if self.limits.len() >= DROPBOX_CODE_DEPTH as usize {
            let kind = ErrorKind::DepthLimit(DROPBOX_CODE_DEPTH);
            return Err(Fault::new(kind, at, "code"));
        }
        let seed = self.i32("seed")? as u32;
        let length_at = self.pos;
        let length = self.i32("body length")?;
        let Some(length) = usize::try_from(length).ok().filter(|&n| n > 0) else {
            let kind = ErrorKind::BadLength(i64::from(length));
            return Err(Fault::new(kind, length_at, "body length"));
        };
        let body = self.pos;
        let padded = (length + 15) & !15;
        self.skip(padded, "encrypted body")?;
        self.pos = body;
        let words = self.data.get_mut(body..body + padded).unwrap_or_default();
        decipher(words, key(seed, length as u32));
        self.holes.push((at + 1, body));
        let (body_end, pad_end) = (body + length, body + padded);
        self.push(Open::Code {
            read: 0,
            body_end,
            pad_end,
        })?;
        self.limits.push(body_end);
        self.skip(16, "integer fields")?;
        Ok(())
    }

    /// The end of a code object's body: it must be where its length says, and the padding zero.
    fn end_code(&mut self, body_end: usize, pad_end: usize) -> Result<(), Fault> {
        if self.pos < body_end {
            let kind = ErrorKind::TrailingBytes((body_end - self.pos) as u64);
            return Err(Fault::new(kind, self.pos, "code object end"));
        }
        let padding = self.data.get(body_end..pad_end).unwrap_or_default();
        if let Some(i) = padding.iter().position(|&b| b != 0) {
            let kind = ErrorKind::TrailingBytes((pad_end - body_end - i) as u64);
            return Err(Fault::new(kind, body_end + i, "padding"));
        }
        self.stack.pop();
        self.limits.pop();
        self.holes.push((body_end, pad_end));
        self.pos = pad_end;
        Ok(())
    }

    /// The error, with the path the stack describes.
    fn fail(&self, fault: Fault) -> Error {
        let path = self
            .stack
            .iter()
            .filter_map(|open| match *open {
                Open::Items { read, .. } => Some(Step::Index(read.saturating_sub(1))),
                Open::Dict { read } if read % 2 == 1 => Some(Step::Key(read / 2)),
                Open::Dict { read } => Some(Step::Value(read.saturating_sub(1) / 2)),
                Open::Code { read, .. } => {
                    let field = usize::from(read).saturating_sub(1);
                    OBJECT_FIELDS.get(field).map(|&name| Step::Field(name))
                }
            })
            .collect();
        fault.at(path)
    }
}

/// One step of the key schedule: a xorshift of `b` added to an LCG step of `a`.
fn rng(a: u32, b: u32) -> u32 {
    let b = (b << 13) ^ b;
    let c = b ^ (b >> 17);
    let c = c ^ (c << 5);
    a.wrapping_mul(69069)
        .wrapping_add(c)
        .wrapping_add(0x6611_cb3b)
}

/// The XXTEA key of a code object, from its seed and body length.
fn key(seed: u32, length: u32) -> [u32; 4] {
    let ka = rng(seed, length);
    let kb = rng(ka, seed);
    let kc = rng(kb, ka);
    let kd = rng(kc, kb);
    let ke = rng(kd, kc);
    [kb, kc, kd, ke]
}

/// XXTEA ("corrected block TEA") decryption in place of little-endian 32-bit words; `data` is a
/// multiple of 16 bytes long (a multiple of 4 would do).
fn decipher(data: &mut [u8], key: [u32; 4]) {
    const DELTA: u32 = 0x9e37_79b9;
    let mut words: Vec<u32> = data
        .chunks_exact(4)
        .map(|w| w.iter().rev().fold(0, |acc, &b| (acc << 8) | u32::from(b)))
        .collect();
    let n = words.len();
    if n < 2 {
        return;
    }
    let at = |p: usize| p % n;
    let rounds = 6 + 52 / n as u32;
    let mut sum = rounds.wrapping_mul(DELTA);
    let mut y = words.first().copied().unwrap_or(0);
    while sum != 0 {
        let e = (sum >> 2) & 3;
        for p in (0..n).rev() {
            let z = words.get(at(p + n - 1)).copied().unwrap_or(0);
            let k = key.get(((p as u32 & 3) ^ e) as usize).copied().unwrap_or(0);
            let mx = (((z >> 5) ^ (y << 2)).wrapping_add((y >> 3) ^ (z << 4)))
                ^ ((sum ^ y).wrapping_add(k ^ z));
            if let Some(word) = words.get_mut(p) {
                *word = word.wrapping_sub(mx);
                y = *word;
            }
        }
        sum = sum.wrapping_sub(DELTA);
    }
    for (chunk, word) in data.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XXTEA encryption, the inverse of [`decipher`], to test it.
    fn encipher(data: &mut [u8], key: [u32; 4]) {
        const DELTA: u32 = 0x9e37_79b9;
        let mut v: Vec<u32> = data
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let n = v.len();
        let mut sum = 0u32;
        let mut z = v[n - 1];
        for _ in 0..6 + 52 / n {
            sum = sum.wrapping_add(DELTA);
            let e = (sum >> 2) & 3;
            for p in 0..n {
                let y = v[(p + 1) % n];
                let k = key[((p as u32 & 3) ^ e) as usize];
                let mx = (((z >> 5) ^ (y << 2)).wrapping_add((y >> 3) ^ (z << 4)))
                    ^ ((sum ^ y).wrapping_add(k ^ z));
                v[p] = v[p].wrapping_add(mx);
                z = v[p];
            }
        }
        for (chunk, word) in data.chunks_exact_mut(4).zip(v) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
    }

    #[test]
    fn decipher_undoes_xxtea() {
        let key = key(0x02fa_2290, 6918);
        let plain: Vec<u8> = (0..64u8).collect();
        let mut data = plain.clone();
        encipher(&mut data, key);
        assert_ne!(data, plain);
        decipher(&mut data, key);
        assert_eq!(data, plain);
    }

    /// A Dropbox file whose code objects nest `depth` deep, each body its integers and the next one.
    fn nested_code(depth: usize) -> Vec<u8> {
        let mut object = b"N".to_vec();
        for seed in 0..depth as u32 {
            let mut body = [0u8; 16].to_vec();
            body.extend(&object);
            let length = body.len() as u32;
            body.resize(body.len().next_multiple_of(16), 0);
            encipher(&mut body, key(seed, length));
            object = b"c".to_vec();
            object.extend(seed.to_le_bytes());
            object.extend(length.to_le_bytes());
            object.extend(body);
        }
        let mut file = b"\xb7\xf2\r\n\0\0\0\0".to_vec();
        file.extend(object);
        file
    }

    #[test]
    fn code_objects_nest_at_most_max_code_depth_deep_so_decrypting_stays_linear() {
        let deepest = DROPBOX_CODE_DEPTH as usize;
        let error = decrypt(&nested_code(deepest + 1)).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::DepthLimit(DROPBOX_CODE_DEPTH));
        assert_eq!(error.offset(), 8 + 9 * deepest as u64 + 16 * deepest as u64);
        // One level less decrypts all the way down, to the `N` where co_consts should follow.
        let error = decrypt(&nested_code(deepest)).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::Truncated { needed: 1, left: 0 });
    }

    #[test]
    fn the_key_depends_on_seed_and_length() {
        assert_ne!(key(1, 16), key(2, 16));
        assert_ne!(key(1, 16), key(1, 32));
    }
}
