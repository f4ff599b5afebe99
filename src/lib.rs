//! # pycmarshal
//!
//! A reader of Python's compiled cache files (`.pyc`) and of the *marshal* format inside them, for every
//! Python version, that no input can fool or hurt.
//!
//! - **Zero-copy**: strings, bytes, bytecode and long digits borrow from the input.
//! - **Checked**: every read checks the bytes left first, so a file cut at any byte reports
//!   [`ErrorKind::Truncated`], never a bogus "unknown type code". Every error carries its kind, the
//!   absolute byte offset and what was being read (`co_consts[3]: str payload`).
//! - **Bounded**: no panics, no recursion (the decoder keeps its stack on the heap), memory within a small
//!   multiple of the input whatever lengths it claims.
//! - **Tolerant** when asked: [`Options::parse_pyc_tolerant`] returns everything decoded before a fault,
//!   with the fault.
//!
//! ```
//! // `marshal.dumps((1, "a"))` on CPython 3.11
//! let data = b"\xa9\x02\xe9\x01\x00\x00\x00\xda\x01a";
//! let objects = pycmarshal::parse_marshal(data)?;
//! let root = objects.root().expect("decoded");
//! let items = root.items().expect("a tuple");
//! assert_eq!(items.len(), 2);
//! assert_eq!(items.get(1).and_then(|o| o.to_text()).as_deref(), Some("a"));
//!
//! // The same bytes cut short: a typed, located error.
//! let error = pycmarshal::parse_marshal(&data[..9]).unwrap_err();
//! assert!(error.is_truncated());
//! assert_eq!(error.offset(), 9);
//! assert_eq!(error.to_string(),
//!     "truncated at byte 9 while reading [1]: str payload (needs 1 byte, 0 left)");
//! # Ok::<(), pycmarshal::Error>(())
//! ```
//!
//! The data flows one way: bytes, then [`header`] and the decoder, then the [`object`] table, then tools
//! such as [`json`]. Version differences are data: [`magic`] maps magic numbers to interpreters and
//! layouts, [`code`] lists the code-object fields of each era.
//!
//! Without the default `std` feature the crate is `no_std` + `alloc`.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod check;
pub mod code;
mod decode;
pub mod dropbox;
pub mod dump;
pub mod encode;
mod error;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
#[cfg(feature = "arbitrary")]
pub mod generate;
pub mod graalpy;
pub mod header;
pub mod infer;
pub mod json;
pub mod magic;
#[cfg(feature = "std")]
pub mod normalize;
mod number;
pub mod object;
mod parse;
mod reader;
pub mod rustpython;
mod stack;
mod text;

pub use crate::code::CodeLayout;
pub use crate::error::{Context, Error, ErrorKind, Step};
pub use crate::header::{Header, Invalidation};
pub use crate::magic::{Implementation, Python};
pub use crate::number::{DECIMAL_DIGIT_LIMIT, write_float_repr, write_long};
pub use crate::object::{Code, Object, ObjectId, Objects, Value};
pub use crate::parse::{
    DEFAULT_MAX_DEPTH, MAX_INPUT, Options, Partial, Pyc, parse_marshal, parse_pyc,
};
