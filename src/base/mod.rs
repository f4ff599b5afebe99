//! Primitives, the bottom layer: the one error type, the limits, the byte reader, and how Python spells
//! text and numbers.
//!
//! Owns: [`Error`](error::Error) and its kinds, every limit as a plain constant ([`limits`]), the
//! bounds-checked cursor every reader reads through, UTF-8/UTF-32 and float/long text conversion.
//! May use: `core` and `alloc` only; nothing else in the crate.

pub mod error;
pub mod limits;
pub mod number;
pub(crate) mod reader;
pub(crate) mod text;
