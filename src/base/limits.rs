//! Every limit of the crate, in one place: what an input may claim before a reader refuses it, and what
//! a tool spends at most on one input.

/// The largest input, in bytes (2 GiB - 1): the object table's offsets are 32-bit, and a
/// back-reference's id packs its slot number (at most one slot per two bytes) with two flag bits.
pub const MAX_INPUT: usize = i32::MAX as usize;

/// CPython's `MAX_MARSHAL_STACK_DEPTH`: 2000 levels load, 2001 do not.
pub const DEFAULT_MAX_DEPTH: u32 = 2000;

/// Longs with more 15-bit digits than this (14,280 bits: at most 4,299 decimal digits, under the 4,300
/// that CPython's `str(int)` allows) are written in hexadecimal: decimal conversion is quadratic.
pub const DECIMAL_DIGIT_LIMIT: usize = 952;

/// How deep Dropbox's encrypted code objects may nest. Each level decrypts its body again, inner code
/// objects included, so decrypting costs the input's size times this at worst; real modules nest a few
/// levels.
pub const DROPBOX_CODE_DEPTH: u32 = 64;
