//! Reading: the header, the decoders and the entry points that build the object table.
//!
//! Owns: [`header`] parsing, the sinks a decoder reports to (`sink`: the trait and the validating sink;
//! `build`: the table-building sink), the frame stack every decoder shares (`stack`), CPython's marshal
//! decoder (`decode`), the other implementations' formats ([`dialect`]), and the entry points
//! ([`Options`](options::Options) and its `parse_*` methods, in [`parse`]).
//! May use: `base`, `format`, `object`.
//!
//! Inside, imports go one way: `header`, `sink`, `build`, `stack` and `options` at the bottom; the
//! decoders (`decode`, `dialect/graalpy`, `dialect/rustpython`) on them; `parse` on the decoders, which
//! it picks by the layout table's [`Format`](crate::format::layout::CodeLayout); `dialect/dropbox`
//! (a decryption before a parse) on `header` and `options`.

mod build;
mod decode;
pub mod dialect;
pub mod header;
pub mod options;
pub mod parse;
pub(crate) mod sink;
mod stack;
