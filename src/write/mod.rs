//! Writing: marshal bytes and `.pyc` files from the object table, byte for byte as read ([`encode`]) or
//! normalized so that they depend only on the value ([`normalize`]).
//!
//! Owns: the encoder and both writers. May use: `base`, `format`, `object`, `read` (for [`Pyc`] and
//! the header).
//!
//! [`Pyc`]: crate::Pyc

pub mod encode;
#[cfg(feature = "std")]
pub mod normalize;
