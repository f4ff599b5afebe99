//! The decoded objects: one table (arena) per parse, and typed, borrowing views over it.
//!
//! Every object read from the input is a 16-byte node addressed by an [`ObjectId`], back-references and
//! singletons included, so each has its offset; containers list their items in one shared id array, so
//! shared and cyclic references (a list that contains itself is valid marshal data) cost nothing special
//! and are never expanded. Payloads (strings, bytes, bytecode, long digits) are not copied: the views
//! slice them from the input. The table keeps what a byte-exact writer needs: each object's type byte
//! with its FLAG_REF bit, the exact type code (`z` versus `a`, `i` versus `l`), and where
//! back-references stand.
//!
//! Owns: the table and its views ([`Object`], [`Value`], [`Code`], ...). May use: `base`, `format`.
//! The readers fill the table (`read::build`); everything above only looks at it.

mod table;
mod view;
pub(crate) mod walk;

pub(crate) use self::table::{CodeRecord, Form, Node};
pub use self::table::{ObjectId, Objects};
pub use self::view::{
    Code, FieldValue, Fields, Items, ItemsIter, Long, Object, Pairs, Ref, Str, Value,
};
