//! The other implementations' formats: GraalPy's and RustPython's own marshal, read into the same
//! object table by their own decoders on the shared frame stack, and Dropbox's encrypted 2.5, decrypted
//! into a plain 2.5 stream before a parse.
//!
//! Owns: each format's type codes and how it encodes its code objects' fields (the fields themselves
//! are in [`crate::format::layout`]). May use: `base`, `format`, `object`, and of `read` the sinks, the
//! frame stack, the header and the options; the entry points (`read::parse`) pick these decoders by the
//! layout table, never the other way round.

pub mod dropbox;
pub mod graalpy;
pub mod rustpython;
