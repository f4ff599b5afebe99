//! The marshal type codes, as CPython's `marshal.c` names them, without the FLAG_REF bit (which is here
//! too). [`Object::type_code`](crate::Object::type_code) returns one of these. The other
//! implementations' own codes live with their readers.

/// NULL: ends a dict; nowhere else in CPython's marshal.
pub const NULL: u8 = b'0';
/// `None`.
pub const NONE: u8 = b'N';
/// `False`.
pub const FALSE: u8 = b'F';
/// `True`.
pub const TRUE: u8 = b'T';
/// `StopIteration`.
pub const STOPITER: u8 = b'S';
/// `...`.
pub const ELLIPSIS: u8 = b'.';
/// A 32-bit int.
pub const INT: u8 = b'i';
/// A 64-bit int (only old 64-bit writers).
pub const INT64: u8 = b'I';
/// A long: a signed count of 15-bit digits, then the digits.
pub const LONG: u8 = b'l';
/// A float as text (marshal 0 and 1).
pub const FLOAT: u8 = b'f';
/// A float as 8 bytes (marshal 2+).
pub const BINARY_FLOAT: u8 = b'g';
/// A complex as two texts.
pub const COMPLEX: u8 = b'x';
/// A complex as 16 bytes.
pub const BINARY_COMPLEX: u8 = b'y';
/// Bytes in Python 3; a byte `str` in Python 1 and 2.
pub const STRING: u8 = b's';
/// An interned string: `str` in Python 3, a byte `str` that feeds the `R` table in Python 1 and 2.
pub const INTERNED: u8 = b't';
/// Python 2: a reference to the n-th interned string.
pub const STRINGREF: u8 = b'R';
/// A `str` of UTF-8 (Python 3), a `unicode` (Python 2).
pub const UNICODE: u8 = b'u';
/// A Latin-1 `str` with an i32 length (marshal 4+).
pub const ASCII: u8 = b'a';
/// [`ASCII`], interned.
pub const ASCII_INTERNED: u8 = b'A';
/// A Latin-1 `str` with a u8 length (marshal 4+).
pub const SHORT_ASCII: u8 = b'z';
/// [`SHORT_ASCII`], interned.
pub const SHORT_ASCII_INTERNED: u8 = b'Z';
/// A tuple with an i32 count.
pub const TUPLE: u8 = b'(';
/// A tuple with a u8 count (marshal 4+).
pub const SMALL_TUPLE: u8 = b')';
/// A list.
pub const LIST: u8 = b'[';
/// A dict: keys and values until a NULL key.
pub const DICT: u8 = b'{';
/// A set.
pub const SET: u8 = b'<';
/// A frozenset.
pub const FROZENSET: u8 = b'>';
/// A code object.
pub const CODE: u8 = b'c';
/// A code object of Python 1.0-1.2.
pub const OLD_CODE: u8 = b'C';
/// A back-reference to the n-th flagged object (marshal 3+).
pub const REF: u8 = b'r';
/// A slice (marshal 5+).
pub const SLICE: u8 = b':';
/// A frozendict (marshal 6).
pub const FROZENDICT: u8 = b'}';
/// Set on a type byte to register the object in the reference table (marshal 3+).
pub const FLAG_REF: u8 = 0x80;
