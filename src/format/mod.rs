//! Version data: what the format is in each version, as tables. Magic numbers and which interpreter
//! writes each ([`magic`]), the code-object field lists of every era and implementation ([`layout`]),
//! and the marshal type codes ([`tag`]).
//!
//! Owns: facts, no logic beyond looking them up. May use: `base`. Everything above reads versions
//! through these tables rather than with `if version >= ...` of its own.

pub mod layout;
pub mod magic;
pub mod tag;
