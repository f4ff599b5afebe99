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
//! assert_eq!(items.get(1).and_then(|o| o.text()).as_deref(), Some("a"));
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
//! ## The layers
//!
//! The data flows one way, and the modules are laid out that way, each importing only from those
//! before it:
//!
//! 1. [`base`]: the error type, the limits, the byte reader, text and numbers;
//! 2. [`format`]: version data as tables (magic numbers, code-object layouts, type codes);
//! 3. [`object`]: the object table and its borrowing views;
//! 4. [`read`]: the header, the decoders (CPython's, and the other implementations' in
//!    [`read::dialect`]) and the entry points;
//! 5. [`bytecode`]: instructions, line numbers, positions and exception tables of code objects;
//! 6. [`write`](mod@write): byte-exact and normalizing writers;
//! 7. [`tools`]: the JSON form, the readable dump, version inference, cache-tree checks, disassembly;
//! 8. [`cli`] (feature `cli`), the `pyc` command: a thin shell over the tools; `fuzzing` (feature
//!    `arbitrary`) apart.
//!
//! Version differences are data: [`format::magic`] maps magic numbers to interpreters and layouts,
//! [`format::layout`] lists the code-object fields of each era.
//!
//! Without the default `std` feature the crate is `no_std` + `alloc`.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod base;
pub mod bytecode;
#[cfg(feature = "cli")]
pub mod cli;
pub mod format;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod object;
pub mod read;
pub mod tools;
pub mod write;

/// The README's examples, compiled and run as doc tests so that they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

pub use crate::base::error::{Context, Error, ErrorKind, Step};
pub use crate::base::limits::{DEFAULT_MAX_DEPTH, MAX_INPUT};
pub use crate::bytecode::Bytecode;
pub use crate::format::layout::CodeLayout;
pub use crate::format::magic::{Implementation, Python};
pub use crate::object::{Code, Object, ObjectId, Objects, Value};
pub use crate::read::header::{Header, Invalidation};
pub use crate::read::options::Options;
pub use crate::read::parse::{Partial, Pyc, parse_marshal, parse_pyc};
