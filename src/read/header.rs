//! The `.pyc` header: magic, then a modification time, a source size, PEP 552 flags or a source hash,
//! laid out as the magic dictates.

use crate::base::error::{Error, ErrorKind, Fault};
use crate::format::magic::{self, HeaderLayout, MagicEntry, Python};
use alloc::vec::Vec;
use nom::Parser;
use nom::number::streaming::{le_u32, le_u64};

/// How an importer decides whether the cache is current.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// Compare the source's modification time (and, from 3.3, its size) with the stored ones.
    Timestamp {
        /// The source's mtime when the file was written, in seconds, low 32 bits.
        mtime: u32,
        /// The source's size, low 32 bits (3.3 and later).
        source_size: Option<u32>,
    },
    /// PEP 552, flags 3: compare a keyed SipHash of the source bytes with `hash`.
    CheckedHash {
        /// The stored hash, as stored (little-endian u64).
        hash: [u8; 8],
    },
    /// PEP 552, flags 1: the hash is stored but importers do not check it.
    UncheckedHash {
        /// The stored hash.
        hash: [u8; 8],
    },
}

impl Invalidation {
    /// `timestamp`, `checked-hash` or `unchecked-hash`.
    pub fn name(&self) -> &'static str {
        match self {
            Invalidation::Timestamp { .. } => "timestamp",
            Invalidation::CheckedHash { .. } => "checked-hash",
            Invalidation::UncheckedHash { .. } => "unchecked-hash",
        }
    }
}

/// A parsed `.pyc` header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The first four bytes as stored.
    pub word: [u8; 4],
    /// The table entry of the magic, or `None` when it is unknown and the caller named the version.
    pub entry: Option<&'static MagicEntry>,
    /// The version the body is read as: the magic's, or the caller's override.
    pub python: Python,
    /// The header's layout, hence its size.
    pub layout: HeaderLayout,
    /// The PEP 552 flags word (3.7 and later).
    pub flags: Option<u32>,
    /// How the file is invalidated, with the stored values.
    pub invalidation: Invalidation,
}

impl Header {
    /// The header that `python`'s final release writes, for a new file: its release magic and layout,
    /// and `invalidation`. `None` when the version has no known release magic, or cannot hold the
    /// invalidation (hashes need the PEP 552 layout of 3.7+; the source size needs 3.3+).
    pub fn new(python: Python, invalidation: Invalidation) -> Option<Header> {
        let entry = magic::release_of(python)?;
        let fits = match (entry.header, invalidation) {
            (HeaderLayout::Pep552, Invalidation::Timestamp { source_size, .. })
            | (HeaderLayout::WithSize12, Invalidation::Timestamp { source_size, .. }) => {
                source_size.is_some()
            }
            (HeaderLayout::Pep552, _) => true,
            (_, Invalidation::Timestamp { source_size, .. }) => source_size.is_none(),
            _ => false,
        };
        let flags = match invalidation {
            Invalidation::Timestamp { .. } => 0,
            Invalidation::UncheckedHash { .. } => 1,
            Invalidation::CheckedHash { .. } => 3,
        };
        fits.then(|| Header {
            word: magic::word_of(entry),
            entry: Some(entry),
            python,
            layout: entry.header,
            flags: (entry.header == HeaderLayout::Pep552).then_some(flags),
            invalidation,
        })
    }

    /// The 16-bit magic number (for 1.0-1.2, the low half of the magic word).
    pub fn magic(&self) -> u16 {
        let [lo, hi, ..] = self.word;
        u16::from_le_bytes([lo, hi])
    }

    /// The header's size in bytes; the marshalled code object starts here.
    pub fn size(&self) -> usize {
        self.layout.size()
    }
}

/// The header layout a version's release writes, for files whose magic is unknown.
fn layout_of(python: Python) -> HeaderLayout {
    if let Some(entry) = magic::release_of(python) {
        return entry.header;
    }
    match (python.major, python.minor) {
        (0..=1, 0..=2) => HeaderLayout::Word8,
        (0..=2, _) | (3, 0..=2) => HeaderLayout::Classic8,
        (3, 3..=6) => HeaderLayout::WithSize12,
        _ => HeaderLayout::Pep552,
    }
}

/// Parses the header at the start of `data`. With `python`, an unknown magic is read as that version's
/// header instead of being an error, and a known one is read as that version too.
pub fn parse(data: &[u8], python: Option<Python>) -> Result<Header, Error> {
    parse_fields(&mut Fields { data, pos: 0 }, python).map_err(|fault| fault.at(Vec::new()))
}

/// The header's fields, read in order with nom's streaming parsers, whose `Incomplete` answer is a
/// truncation.
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn read<T>(
        &mut self,
        size: usize,
        what: &'static str,
        mut parser: impl Parser<&'a [u8], Output = T, Error = ()>,
    ) -> Result<T, Fault> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        match parser.parse(rest) {
            Ok((after, value)) => {
                self.pos += rest.len() - after.len();
                Ok(value)
            }
            Err(_) => {
                let left = rest.len() as u64;
                let kind = ErrorKind::Truncated {
                    needed: size as u64,
                    left,
                };
                Err(Fault::new(kind, self.pos, what))
            }
        }
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Fault> {
        self.read(4, what, le_u32)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, Fault> {
        self.read(8, what, le_u64)
    }
}

fn parse_fields(r: &mut Fields<'_>, python: Option<Python>) -> Result<Header, Fault> {
    let start = r.pos;
    let word = r.u32("magic")?.to_le_bytes();
    let entry = magic::lookup(word);
    let (python, layout) = match (entry, python) {
        (_, Some(python)) => (python, layout_of(python)),
        (Some(entry), None) => (entry.python, entry.header),
        (None, None) if word == [0; 4] => {
            return Err(Fault::new(ErrorKind::PlaceholderMagic, start, "magic"));
        }
        (None, None) => {
            let value = u32::from_le_bytes(word);
            return Err(Fault::new(ErrorKind::UnknownMagic(value), start, "magic"));
        }
    };
    let (flags, invalidation) = match layout {
        HeaderLayout::Word8 | HeaderLayout::Classic8 => {
            let mtime = r.u32("mtime")?;
            let source_size = None;
            (None, Invalidation::Timestamp { mtime, source_size })
        }
        HeaderLayout::WithSize12 => {
            let mtime = r.u32("mtime")?;
            let source_size = Some(r.u32("source size")?);
            (None, Invalidation::Timestamp { mtime, source_size })
        }
        HeaderLayout::Pep552 => {
            let at = r.pos;
            let flags = r.u32("flags")?;
            if flags & !0b11 != 0 {
                return Err(Fault::new(ErrorKind::BadFlags(flags), at, "flags"));
            }
            let invalidation = if flags & 1 == 0 {
                let mtime = r.u32("mtime")?;
                let source_size = Some(r.u32("source size")?);
                Invalidation::Timestamp { mtime, source_size }
            } else {
                let hash = r.u64("source hash")?.to_le_bytes();
                if flags & 2 != 0 {
                    Invalidation::CheckedHash { hash }
                } else {
                    Invalidation::UncheckedHash { hash }
                }
            };
            (Some(flags), invalidation)
        }
    };
    Ok(Header {
        word,
        entry,
        python,
        layout,
        flags,
        invalidation,
    })
}
