//! Disassembly: every code object of a file, in pre-order (a code object, then the code objects among
//! its constants, in order), with its instructions, lines and exception table, as text laid out like
//! `python -m dis` ([`write_text`]) and as JSON ([`write_json`]); the README documents both.
//!
//! Everything decodable is shown, up to the first fault; the fault comes last. Each code object is
//! shown once, however many constants refer to it, and each value once per file and cut at a cap
//! (`values.rs`), so the output stays linear in the file.

mod json;
mod listing;
mod text;
mod values;

pub use self::json::{write_json, write_json_fields};
pub use self::listing::{Located, code_objects, path_of, reading, verify_all};
pub use self::text::write_text;
